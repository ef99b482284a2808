"""Every table the migrations manage, gathered in one MetaData."""

from sqlmodel import SQLModel

import db.models
import db.official_receipts  # noqa: F401
import ledger.receipt_tables
import ledger.tables  # noqa: F401
from db import reconciliation_models  # noqa: F401

target_metadata = SQLModel.metadata
