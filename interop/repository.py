"""Every interop query: the cases and work orders an export covers, and external references."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from compliance.models import AuditEntry, Case
from interop.models import ExternalReference
from registry.models import Home, Tenancy
from repairs.models import WorkOrder


@dataclass(frozen=True)
class CannotBeMet:
    at: datetime
    by: str
    reason: str


def cases_in_period(session: Session, *, start: datetime, end: datetime) -> Sequence[Case]:
    """Cases open at any time in [start, end): aware before ``end``, not closed before ``start``."""
    return session.scalars(
        select(Case)
        .where(Case.aware_at < end, or_(Case.closed_at.is_(None), Case.closed_at >= start))
        .order_by(Case.id)
    ).all()


def work_orders_of(session: Session, case_ids: Sequence[int]) -> Sequence[WorkOrder]:
    if not case_ids:
        return []
    return session.scalars(
        select(WorkOrder).where(WorkOrder.case_id.in_(case_ids)).order_by(WorkOrder.id)
    ).all()


def homes(session: Session, home_ids: Iterable[str]) -> dict[str, Home]:
    ids = sorted(set(home_ids))
    if not ids:
        return {}
    return {h.home_id: h for h in session.scalars(select(Home).where(Home.home_id.in_(ids)))}


def tenancies(session: Session, refs: Iterable[str]) -> dict[str, Tenancy]:
    wanted = sorted(set(refs))
    if not wanted:
        return {}
    return {
        t.tenancy_ref: t
        for t in session.scalars(select(Tenancy).where(Tenancy.tenancy_ref.in_(wanted)))
    }


def cannot_be_met(session: Session, case_ids: Sequence[int]) -> dict[int, CannotBeMet]:
    """When each case was last recorded as 'safety work cannot be met', by whom and why (the
    step lives in the audit log)."""
    if not case_ids:
        return {}
    rows = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity_type == "case",
            AuditEntry.action == "case.safety_work_cannot_be_met",
            AuditEntry.entity_id.in_([str(i) for i in case_ids]),
        )
        .order_by(AuditEntry.id)
    ).all()
    return {
        int(row.entity_id): CannotBeMet(
            row.at, row.actor, str((row.after or {}).get("reason") or "")
        )
        for row in rows
    }


# --- external references ----------------------------------------------------------------------------


def references_of(
    session: Session, entities: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[ExternalReference]]:
    """The references each (entity_type, entity_id) carries, oldest first."""
    wanted = set(entities)
    out: dict[tuple[str, str], list[ExternalReference]] = {}
    if not wanted:
        return out
    types = sorted({t for t, _ in wanted})
    ids = sorted({i for _, i in wanted})
    rows = session.scalars(
        select(ExternalReference)
        .where(ExternalReference.entity_type.in_(types), ExternalReference.entity_id.in_(ids))
        .order_by(ExternalReference.id)
    ).all()
    for row in rows:
        key = (row.entity_type, row.entity_id)
        if key in wanted:
            out.setdefault(key, []).append(row)
    return out


def find_references(
    session: Session,
    *,
    allocated_by: str | None = None,
    value: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[ExternalReference]:
    query = select(ExternalReference)
    if allocated_by is not None:
        query = query.where(ExternalReference.allocated_by == allocated_by)
    if value is not None:
        query = query.where(ExternalReference.value == value)
    if entity_type is not None:
        query = query.where(ExternalReference.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(ExternalReference.entity_id == entity_id)
    return session.scalars(query.order_by(ExternalReference.id).limit(limit).offset(offset)).all()


def reference_named(
    session: Session, *, entity_type: str, allocated_by: str, value: str
) -> ExternalReference | None:
    return session.scalars(
        select(ExternalReference).where(
            ExternalReference.entity_type == entity_type,
            ExternalReference.allocated_by == allocated_by,
            ExternalReference.value == value,
        )
    ).first()


def entities_referenced(
    session: Session, *, entity_type: str, allocated_by: str, values: Sequence[str]
) -> dict[str, str]:
    """value -> entity id, for the values this system allocated to entities of this type."""
    if not values:
        return {}
    return {
        value: entity
        for value, entity in session.execute(
            select(ExternalReference.value, ExternalReference.entity_id).where(
                ExternalReference.entity_type == entity_type,
                ExternalReference.allocated_by == allocated_by,
                ExternalReference.value.in_(sorted(set(values))),
            )
        )
    }


def entity_ids_with_reference(
    session: Session, *, entity_type: str, allocated_by: str | None, value: str | None
) -> Sequence[str]:
    """Ids of the entities of a type carrying a matching reference (a list filter)."""
    query = select(ExternalReference.entity_id).where(ExternalReference.entity_type == entity_type)
    if allocated_by is not None:
        query = query.where(ExternalReference.allocated_by == allocated_by)
    if value is not None:
        query = query.where(ExternalReference.value == value)
    return session.scalars(query.distinct()).all()


def entity_exists(session: Session, *, entity_type: str, entity_id: str) -> bool:
    if entity_type == "case":
        return entity_id.isdigit() and session.get(Case, int(entity_id)) is not None
    if entity_type == "work_order":
        return entity_id.isdigit() and session.get(WorkOrder, int(entity_id)) is not None
    if entity_type == "home":
        return session.get(Home, entity_id) is not None
    if entity_type == "tenancy":
        return session.get(Tenancy, entity_id) is not None
    return False


# --- the import into an empty store -----------------------------------------------------------------


def store_is_empty(session: Session) -> bool:
    """No case, work order or contractor yet (the import restores ids, so it needs an empty store)."""
    return not any(
        session.scalar(select(func.count()).select_from(table)) for table in (Case, WorkOrder)
    )


def advance_sequences(session: Session) -> None:
    """After rows were inserted with their ids, PostgreSQL's sequences must move past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("case", "work_order", "contractor"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        )
