"""Log lines as JSON objects (one a line, for a log shipper) or as text, chosen by
JINLIN_LOG_FORMAT. A record's `fields` (extra={"fields": {...}}) become the JSON
object's keys, or key=value pairs in text."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(payload, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if not fields:
            return line
        pairs = " ".join(f"{k}={_text(v)}" for k, v in fields.items() if v is not None)
        head, _, rest = line.partition("\n")  # a traceback stays below the line
        return f"{head} {pairs}" + (f"\n{rest}" if rest else "")


def _text(value) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if text and " " not in text and "=" not in text else orjson.dumps(text).decode()


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure_logging(fmt: str, level: int = logging.INFO) -> None:
    """The root logger writes to stderr in `fmt`. uvicorn's own loggers are left as
    `jinlin serve` configured them (uvicorn_log_config), its access log off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def uvicorn_log_config(fmt: str) -> dict:
    """For uvicorn.run(log_config=…): its own lines (start, stop, workers) in `fmt`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"jinlin": {"()": f"ops.logs.{type(formatter(fmt)).__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "jinlin",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": "INFO"}
            for name in ("uvicorn", "uvicorn.error")
        },
    }
