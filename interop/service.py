"""Interop use cases: the data-model exports, external references, work-order updates, TSM.

Services take keyword-only arguments and never commit: the request or command owns the
transaction. Changes to cases and work orders go through compliance's and repairs' own service
functions, so clocks, RP02 and verification follow exactly as from the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from compliance.rules import OutOfScope, rule_set_for
from compliance.service import OUT_OF_SCOPE, Engine
from interop import enums, repository
from interop.export import Notice, Period, Records, investigation_document, work_order_document

COMPONENTS = ("investigation", "work_order")


class InteropRefused(ValueError):
    """A request that cannot be done as asked; ``reason`` says why (the API answers 422)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def notify_messages(_session: Session, *, case_ids: Sequence[int]) -> list[Notice]:
    """SEAM for notify/: the messages sent to tenants on these cases (letters, emails, texts,
    with their type and method), for the investigation component's ``notification`` table.

    Returns nothing until notify/ lands; then it reads notify's delivery log (one ``Notice``
    per message delivered, typed with ``interop.enums.NOTIFICATION_TYPES`` and
    ``NOTIFICATION_METHODS``). The written summaries recorded as ``summary_sent`` events are
    exported already, from the case's own timeline.
    """
    del case_ids
    return []


def _records(session: Session, *, start: datetime, end: datetime, work_orders: bool) -> Records:
    cases = repository.cases_in_period(session, start=start, end=end)
    case_ids = [c.id for c in cases]
    orders = repository.work_orders_of(session, case_ids) if work_orders else []
    entities = (
        [("case", str(c.id)) for c in cases]
        + [("home", c.home_id) for c in cases]
        + [("tenancy", c.tenancy_ref) for c in cases if c.tenancy_ref]
        + [("work_order", str(o.id)) for o in orders]
    )
    return Records(
        cases=cases,
        homes=repository.homes(session, [c.home_id for c in cases]),
        tenancies=repository.tenancies(session, [c.tenancy_ref for c in cases if c.tenancy_ref]),
        references=repository.references_of(session, entities),
        work_orders=orders,
        cannot_be_met=repository.cannot_be_met_at(session, case_ids),
        notices=notify_messages(session, case_ids=case_ids),
    )


def export_damp_and_mould(
    session: Session,
    *,
    component: str,
    start: datetime,
    end: datetime,
    now: datetime,
    engine: Engine,
    personal: bool,
) -> dict[str, Any]:
    """One component of the damp and mould data model for the cases open at any time in
    [start, end), each shown whole as it stands ``now``."""
    if component not in COMPONENTS:
        raise InteropRefused(f"component {component!r}: one of {', '.join(COMPONENTS)}")
    if end <= start:
        raise InteropRefused("`to` must be after `from`")
    try:
        rule_set = rule_set_for(end, engine.calendar.timezone, engine.rule_sets)
    except OutOfScope:
        rule_set = OUT_OF_SCOPE
    period = Period(
        start=start,
        end=end,
        now=now,
        timezone=engine.calendar.timezone,
        personal=personal,
        rule_set=rule_set,
    )
    records = _records(session, start=start, end=end, work_orders=component == "work_order")
    if component == "investigation":
        return investigation_document(records, period)
    return work_order_document(records, period)


__all__ = ["COMPONENTS", "InteropRefused", "enums", "export_damp_and_mould", "notify_messages"]
