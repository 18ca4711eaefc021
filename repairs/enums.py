"""The repairs room's vocabularies, declared once (docs/architecture.md, "One enums module per
room"): the schemas take the Literals, the rules and pages the tuples."""

from __future__ import annotations

from typing import Literal, get_args

WorkKind = Literal["safety", "supplementary"]
PriorityKey = Literal["emergency", "urgent", "routine"]
ContractorKind = Literal["contractor", "in_house"]
VisitOutcome = Literal["completed", "no_access", "follow_on"]
AccessMethod = Literal["phone", "letter", "email", "text", "visit", "card", "other"]
WorkOrderStatus = Literal[
    "raised", "booked", "dispatched", "no_access", "follow_on", "completed", "cancelled"
]
Verification = Literal["not_started", "watching", "healthy", "recurred"]

WORK_KINDS: tuple[str, ...] = get_args(WorkKind)
PRIORITY_KEYS: tuple[str, ...] = get_args(PriorityKey)
CONTRACTOR_KINDS: tuple[str, ...] = get_args(ContractorKind)
VISIT_OUTCOMES: tuple[str, ...] = get_args(VisitOutcome)
ACCESS_METHODS: tuple[str, ...] = get_args(AccessMethod)
WORK_ORDER_STATUSES: tuple[str, ...] = get_args(WorkOrderStatus)
VERIFICATIONS: tuple[str, ...] = get_args(Verification)
