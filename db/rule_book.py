"""Applying the ledger's rule book (ledger/sql/*.sql) to a database.

The files are the source: migration 0006 applies them first, and every `jinlin
migrate` applies them again after the migrations (each statement is CREATE OR
REPLACE), so a reviewed change to a file reaches every database with the next deploy.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Connection

RULE_BOOK = Path(__file__).resolve().parent.parent / "ledger" / "sql"
# A statement ends with ';' at the end of a line outside any $$ … $$ body.
_DOLLAR = re.compile(r"\$\$")


def rule_book_files() -> list[Path]:
    return sorted(RULE_BOOK.glob("*.sql"))


def statements(sql: str) -> list[str]:
    """The file's statements, split on ';' at line ends outside dollar-quoted bodies."""
    found, current, quoted = [], [], False
    for line in sql.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current.append(line)
        quoted ^= len(_DOLLAR.findall(line)) % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            found.append("\n".join(current))
            current = []
    if "".join(current).strip():
        raise ValueError("the rule book ends inside a statement")
    return found


def apply_rule_book(connection: Connection) -> None:
    """Run every statement of the rule book on a (synchronous) connection."""
    for path in rule_book_files():
        for statement in statements(path.read_text(encoding="utf-8")):
            connection.exec_driver_sql(statement)
