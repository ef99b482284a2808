"""Every mutation: one `input`, a payload with `errors`. A payload with errors wrote
nothing. One module per domain declares its inputs, payloads and mutations; base.py
maps input to command, runs the use case in a unit of work and maps its refusals."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.mutations.base import run
from schema.mutations.cash import CashMutations
from schema.mutations.disbursements import DisbursementMutations, DisbursementPayload
from schema.mutations.donations import DonationMutations
from schema.mutations.funds import FundMutations
from schema.mutations.journal import JournalMutations
from schema.mutations.partners import PartnerMutations
from schema.mutations.places import PlaceMutations
from schema.mutations.reconciliation import ReconciliationMutations
from schema.mutations.sign_in import SignInMutations

__all__ = ["DisbursementPayload", "Mutation", "run"]  # payloads other modules share

# In the order the contract lists them.
Mutation = merge_types(
    "Mutation",
    (
        SignInMutations,
        PlaceMutations,
        PartnerMutations,
        FundMutations,
        DonationMutations,
        CashMutations,
        DisbursementMutations,
        JournalMutations,
        ReconciliationMutations,
    ),
)
