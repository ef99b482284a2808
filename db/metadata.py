"""Every table the migrations manage, gathered in one MetaData."""

from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables)
import ledger.receipt_tables
import ledger.tables  # noqa: F401
from db import reconciliation_models  # noqa: F401

target_metadata = SQLModel.metadata
