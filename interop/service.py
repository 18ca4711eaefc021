"""Interop use cases: the data-model exports, external references, work-order updates, TSM.

Services take keyword-only arguments and never commit: the request or command owns the
transaction. Changes to cases and work orders go through compliance's and repairs' own service
functions, so clocks, RP02 and verification follow exactly as from the pages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from compliance import audit
from compliance.rules import OutOfScope, rule_set_for
from compliance.service import OUT_OF_SCOPE, Engine
from interop import enums, repository, tsm
from interop.export import Notice, Period, Records, investigation_document, work_order_document
from interop.models import ExternalReference
from interop.schemas import ReferenceIn, UpdateError, UpdatesResult, WorkOrderUpdateIn
from registry.clock import to_rfc3339
from repairs import service as repairs
from repairs.models import WorkOrder
from repairs.performance import rp02
from repairs.schemas import VisitIn
from repairs.service import all_job_facts

COMPONENTS = ("investigation", "work_order")


class ReferenceNotFound(LookupError):
    """No such entity or reference (the API answers 404)."""


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
        cannot_be_met=repository.cannot_be_met(session, case_ids),
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


# --- TSM RP02 ----------------------------------------------------------------------------------------


def tsm_rp02(
    session: Session, *, year: str, engine: Engine
) -> tuple[tsm.FinancialYear, list[tsm.Rp02Row]]:
    """RP02 for a financial year (April to March): repairs completed in it within target,
    emergency and non-emergency, with numerators and denominators."""
    try:
        period = tsm.financial_year(year, engine.calendar.timezone)
    except ValueError as exc:
        raise InteropRefused(str(exc)) from None
    shares = rp02(all_job_facts(session), start=period.start, end=period.end)
    emergency, other = shares["emergency"], shares["non_emergency"]
    return period, tsm.rows(
        (emergency.numerator, emergency.denominator), (other.numerator, other.denominator)
    )


def tsm_csv(session: Session, *, year: str, engine: Engine) -> str:
    period, figures = tsm_rp02(session, year=year, engine=engine)
    return tsm.to_csv(figures, period)


# --- external references -----------------------------------------------------------------------------


def reference_path(entity_type: str, entity_id: str) -> str:
    """Where the referenced entity is in this API."""
    return {
        "case": f"/api/v1/cases/{entity_id}",
        "work_order": f"/api/v1/work-orders/{entity_id}",
        "home": f"/api/v1/homes/{entity_id}/telemetry",
        "tenancy": f"/api/v1/references?entity_type=tenancy&entity_id={entity_id}",
    }[entity_type]


def _printable(value: str, name: str) -> str:
    value = value.strip()
    if not value or not value.isprintable():
        raise InteropRefused(f"{name} must be printable text")
    return value


def add_reference(
    session: Session, *, reference: ReferenceIn, actor: str, now: datetime
) -> ExternalReference:
    """Attach another system's reference to a case, home, tenancy or work order (the same one
    again is no change); a value a system gave to another entity of the type is refused."""
    allocated_by = _printable(reference.allocated_by, "allocated_by")
    value = _printable(reference.value, "value")
    entity_id = reference.entity_id.strip()
    if not repository.entity_exists(
        session, entity_type=reference.entity_type, entity_id=entity_id
    ):
        raise ReferenceNotFound(f"no {reference.entity_type.replace('_', ' ')} {entity_id!r}")
    existing = repository.reference_named(
        session, entity_type=reference.entity_type, allocated_by=allocated_by, value=value
    )
    if existing is not None:
        if existing.entity_id == entity_id:
            return existing
        raise InteropRefused(
            f"{allocated_by} reference {value!r} already names {reference.entity_type.replace('_', ' ')} "
            f"{existing.entity_id}"
        )
    row = ExternalReference(
        entity_type=reference.entity_type,
        entity_id=entity_id,
        allocated_by=allocated_by,
        value=value,
        description=reference.description,
        created_at=now,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        at=now,
        actor=actor,
        action="reference.added",
        entity_type=reference.entity_type,
        entity_id=entity_id,
        before=None,
        after={"allocated_by": allocated_by, "value": value, "description": reference.description},
    )
    return row


def remove_reference(session: Session, *, reference_id: int, actor: str, now: datetime) -> None:
    row = session.get(ExternalReference, reference_id)
    if row is None:
        raise ReferenceNotFound(f"no reference {reference_id}")
    audit.append(
        session,
        at=now,
        actor=actor,
        action="reference.removed",
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        before={"allocated_by": row.allocated_by, "value": row.value},
        after=None,
    )
    session.delete(row)
    session.flush()


def find_references(session: Session, **filters: Any) -> Sequence[ExternalReference]:
    """References by system, value, entity type or entity id (each optional)."""
    return repository.find_references(session, **filters)


# --- work-order updates from other systems -------------------------------------------------------------

UPDATE_COLUMNS = ("reference", "status", "at")
OPTIONAL_UPDATE_COLUMNS = (
    "allocated_by",
    "booked_for",
    "method",
    "reason",
    "work_done",
    "satisfaction",
)
_STATUS_WORDS = ("booked", "dispatched", "completed", "no_access", "follow_on")


class UpdatesRefused(Exception):
    """A batch of work-order updates refused whole; ``errors`` names every bad line."""

    def __init__(self, errors: list[UpdateError]) -> None:
        super().__init__(f"{len(errors)} bad update(s); nothing applied")
        self.errors = errors


def _status(text: str) -> str:
    word = text.strip().lower().replace(" ", "_").replace("-", "_")
    if word in _STATUS_WORDS:
        return word
    for code, status in enums.STATUS_FOR_WORK_STATUS.items():
        if text.strip().lower() == code.lower() and status in _STATUS_WORDS:
            return status
    raise ValueError(
        f"status {text!r}: one of {', '.join(_STATUS_WORDS)} (or Scheduled, InProgress, Complete, "
        "Delayed, OnHold); raising and cancelling are done in Homesafe"
    )


def _check_update(
    update: WorkOrderUpdateIn, order: WorkOrder, state: dict[str, Any], now: datetime
) -> str:
    status = _status(update.status)
    if state["closed"]:
        raise ValueError(f"work order {order.id} is {state['closed']}")
    if update.at > now + timedelta(minutes=5):
        raise ValueError(f"at {to_rfc3339(update.at)} is in the future")
    if update.at < order.reported_at:
        raise ValueError(
            f"at {to_rfc3339(update.at)} is before the hazard was reported ({to_rfc3339(order.reported_at)})"
        )
    if status == "booked":
        if update.booked_for is None:
            raise ValueError("booked needs booked_for (the appointment)")
    elif status in ("completed", "no_access", "follow_on"):
        try:
            VisitIn(
                outcome=status,  # type: ignore[arg-type]
                at=update.at,
                method=update.method,
                reason=update.reason,
                work_done=update.work_done,
            )
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    if update.satisfaction is not None and status != "completed":
        raise ValueError("a satisfaction score comes with the completed update")
    if status == "completed":
        state["closed"] = "completed"
    return status


def validate_updates(
    session: Session,
    *,
    allocated_by: str,
    updates: Sequence[tuple[int, WorkOrderUpdateIn]],
    now: datetime,
    known_errors: Sequence[UpdateError] = (),
) -> list[tuple[int, WorkOrderUpdateIn, WorkOrder, str]]:
    """Every update checked against the work order it names (and the batch's earlier updates)
    before anything is written; raises UpdatesRefused naming every bad line (with the lines
    that did not even parse, ``known_errors``)."""
    errors: list[UpdateError] = list(known_errors)
    found = repository.entities_referenced(
        session,
        entity_type="work_order",
        allocated_by=allocated_by,
        values=[u.reference for _, u in updates],
    )
    states: dict[int, dict[str, Any]] = {}
    out: list[tuple[int, WorkOrderUpdateIn, WorkOrder, str]] = []
    for line, update in updates:
        entity = found.get(update.reference)
        order = session.get(WorkOrder, int(entity)) if entity is not None else None
        if order is None:
            errors.append(
                UpdateError(
                    line=line,
                    reason=f"no work order carries {allocated_by} reference {update.reference!r}",
                )
            )
            continue
        state = states.setdefault(
            order.id,
            {"closed": order.status if order.status in ("completed", "cancelled") else None},
        )
        try:
            status = _check_update(update, order, state, now)
        except ValueError as exc:
            errors.append(UpdateError(line=line, reason=str(exc)))
            continue
        out.append((line, update, order, status))
    if errors:
        raise UpdatesRefused(sorted(errors, key=lambda e: e.line))
    return out


def apply_updates(
    session: Session,
    *,
    allocated_by: str,
    updates: Sequence[tuple[int, WorkOrderUpdateIn]],
    actor: str,
    now: datetime,
    engine: Engine,
    known_errors: Sequence[UpdateError] = (),
) -> UpdatesResult:
    """Validate the batch whole, then apply each update through repairs' service functions (so
    the case's clocks, RP02 and verification follow as from the pages)."""
    checked = validate_updates(
        session, allocated_by=allocated_by, updates=updates, now=now, known_errors=known_errors
    )
    touched: list[int] = []
    for _line, update, order, status in checked:
        if status == "booked":
            assert update.booked_for is not None
            repairs.book_visit(
                session, work_order_id=order.id, booked_for=update.booked_for, actor=actor, now=now
            )
        elif status == "dispatched":
            repairs.dispatch(
                session, work_order_id=order.id, at=update.at, actor=actor, now=now, engine=engine
            )
        else:
            repairs.record_visit(
                session,
                work_order_id=order.id,
                visit=VisitIn(
                    outcome=status,  # type: ignore[arg-type]
                    at=update.at,
                    method=update.method,
                    reason=update.reason,
                    work_done=update.work_done,
                ),
                actor=actor,
                now=now,
                engine=engine,
            )
            if update.satisfaction is not None:
                repairs.record_satisfaction(
                    session,
                    work_order_id=order.id,
                    score=update.satisfaction,
                    at=update.at,
                    actor=actor,
                    now=now,
                )
        if order.id not in touched:
            touched.append(order.id)
    return UpdatesResult(applied=len(checked), work_orders=touched)


def parse_updates_csv(
    text: str, *, allocated_by: str | None
) -> tuple[str, list[tuple[int, WorkOrderUpdateIn]], list[UpdateError]]:
    """The updates of a CSV file (UTF-8, header row): ``reference, status, at`` and optionally
    ``allocated_by, booked_for, method, reason, work_done, satisfaction``; every bad line
    reported: a bad file raises UpdatesRefused, bad lines come back with the good ones so
    ``apply_updates`` reports them all together. The system is the ``allocated_by`` column's
    (one per file) or the one given."""
    errors: list[UpdateError] = []
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in UPDATE_COLUMNS if name not in header]
    if missing:
        raise UpdatesRefused(
            [UpdateError(line=1, reason=f"header lacks column(s): {', '.join(missing)}")]
        )
    unknown = [n for n in header if n not in UPDATE_COLUMNS + OPTIONAL_UPDATE_COLUMNS]
    if unknown:
        raise UpdatesRefused(
            [UpdateError(line=1, reason=f"unknown column(s): {', '.join(unknown)}")]
        )
    reader.fieldnames = header
    systems: set[str] = set()
    out: list[tuple[int, WorkOrderUpdateIn]] = []
    for record in reader:
        if None in record:
            errors.append(
                UpdateError(line=reader.line_num, reason="more fields than the header has")
            )
            continue
        values = {k: (v or "").strip() for k, v in record.items()}
        if not any(values.values()):
            continue
        if values.get("allocated_by"):
            systems.add(values["allocated_by"])
        try:
            update = WorkOrderUpdateIn.model_validate(
                {k: v for k, v in values.items() if v != "" and k != "allocated_by"}
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            errors.append(UpdateError(line=reader.line_num, reason=f"{where}: {first['msg']}"))
            continue
        out.append((reader.line_num, update))
    system = allocated_by
    fatal: list[UpdateError] = []
    if systems:
        if len(systems) > 1 or (allocated_by is not None and systems != {allocated_by}):
            names = sorted(systems | ({allocated_by} if allocated_by else set()))
            fatal.append(
                UpdateError(line=1, reason=f"one system per file: found {', '.join(names)}")
            )
        system = next(iter(sorted(systems)))
    if system is None:
        fatal.append(
            UpdateError(
                line=1,
                reason="say which system's references these are (allocated_by column or --allocated-by)",
            )
        )
    if not out and not errors:
        fatal.append(UpdateError(line=1, reason="no updates in the file"))
    if fatal:
        raise UpdatesRefused(fatal + errors)
    assert system is not None
    return system, out, errors


def period_bounds(start: str, end: str, timezone: str) -> tuple[datetime, datetime]:
    """``--from``/``--to`` as the API reads them: a date is a whole local day (``to`` included),
    an instant needs an offset."""

    def bound(value: str, *, last: bool) -> datetime:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if last:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InteropRefused(f"{value!r} is not a date or RFC 3339 time") from None
        if at.tzinfo is None:
            raise InteropRefused(f"{value!r} needs an offset")
        return at

    begin, finish = bound(start, last=False), bound(end, last=True)
    if finish <= begin:
        raise InteropRefused("`to` must be after `from`")
    return begin, finish
