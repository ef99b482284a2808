"""The operations settings, and the text form of a request's log line."""

from __future__ import annotations

import logging

import pytest

from config import ConfigError, load_settings
from ops.logs import TextFormatter

BASE = {"JINLIN_SECRET_KEY": "k" * 40, "JINLIN_DATABASE_URL": "postgresql://db/jinlin"}


def test_defaults():
    s = load_settings(BASE)
    assert (s.log_format, s.metrics_token, s.db_pooler, s.listen_database_url) == (
        "text",
        None,
        None,
        None,
    )


def test_operations_settings_are_read():
    s = load_settings(
        {
            **BASE,
            "JINLIN_LOG_FORMAT": "JSON",
            "JINLIN_METRICS_TOKEN": "t0ken",
            "JINLIN_DB_POOLER": "pgbouncer",
            "JINLIN_LISTEN_DATABASE_URL": "postgresql://direct/jinlin",
            "JINLIN_READ_DATABASE_URL": "postgresql://replica/jinlin",
            "JINLIN_READ_MAX_LAG": "2.5",
        }
    )
    assert s.log_format == "json" and s.metrics_token == "t0ken" and s.db_pooler == "pgbouncer"
    assert s.listen_database_url == "postgresql+asyncpg://direct/jinlin"
    assert s.read_database_url == "postgresql+asyncpg://replica/jinlin"
    assert s.read_max_lag_seconds == 2.5
    assert load_settings(BASE).read_max_lag_seconds == 30.0


@pytest.mark.parametrize(
    "name,value",
    [
        ("JINLIN_LOG_FORMAT", "xml"),
        ("JINLIN_DB_POOLER", "pgpool"),
        ("JINLIN_LISTEN_DATABASE_URL", "mysql://x/y"),
        ("JINLIN_READ_DATABASE_URL", "sqlite:///replica.db"),
        ("JINLIN_READ_MAX_LAG", "0"),
        ("JINLIN_READ_MAX_LAG", "soon"),
    ],
)
def test_bad_values_are_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({**BASE, name: value})


def test_text_line_quotes_what_has_spaces():
    record = logging.LogRecord("jinlin.request", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"operation": "query fundByCode", "viewer_id": None, "status": 200}
    line = TextFormatter().format(record)
    assert line.endswith('request operation="query fundByCode" status=200')
