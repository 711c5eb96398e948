"""Concurrency caps and invocation budgets (denial of wallet).

Sits between the node's invocation path (``Node.invoke_spec``) and the
supervisor: every invocation, whatever its trigger, is admitted here first.
``ledger`` counts invocations and compute time per function and per app in
fixed UTC windows (kept in the state store, shared by nodes that share it);
``slots`` caps how many invocations of one app run at once on this node.
"""

from __future__ import annotations

from ramparts.budget.ledger import Caller, Ledger, Refusal, Ticket
from ramparts.budget.slots import AppSlots
from ramparts.budget.windows import FIELDS, Windows

__all__ = ["FIELDS", "AppSlots", "Caller", "Ledger", "Refusal", "Ticket", "Windows"]
