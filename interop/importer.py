"""The import of damp and mould data model documents that Homesafe exported, into an empty store.

``homesafe import damp-and-mould investigation.json [work_order.json]`` moves a Homesafe record
through the sector's standard: to a new installation, or back after a migration. The registry
(homes, tenancies) is imported first, as for any installation; the store must hold no case and no
work order yet, because cases and work orders keep their ids (notes and letters name them).

How it rebuilds the record (the reading of "import"): each case's life is **replayed through
compliance's own service functions** at the times it happened, so clocks, breaches and the
alternative-accommodation duty come from the same rules that made them, not copied: the
awarenesses (``homesafe_case.awareness``: the opening report or finding and any that joined),
the steps of the timeline (``investigation_status_history`` with ``homesafe_event``), "safety work
cannot be met" (on the escalation) and all reasonable endeavours and excuses (on the clocks),
each recorded at its own recorded time, with the scheduler's sweep run before every step (as in
production, where it runs every minute) and once more at the document's ``generated_at``. Work
orders, their visits, contractors and verification are restored as rows: their effect on the case
is already in the case's timeline. Other systems' references are restored where their entity is
in the store.

Documents must validate against the component schemas and carry Homesafe's ``homesafe_*``
properties; a document from another system (without them) is refused with that reason. The import
validates everything before it writes, and writes all or nothing (the caller's transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from compliance import service as compliance
from compliance.lifecycle import EventRefused
from compliance.models import Evidence
from compliance.schemas import EventIn
from compliance.service import Engine
from interop import data_model, repository
from interop.models import ExternalReference
from registry import repository as registry
from repairs.models import Contractor, Visit, WorkOrder

IMPORT_ACTOR = "import"
WITHHELD = "(withheld from the export)"  # a note the rules need but a non-personal export omits
_NOTE_NEEDED = {
    "supplementary_steps_taken",
    "further_investigation_opened",
    "emergency_duty_ceased",
}


class ImportRefused(Exception):
    """The documents cannot be imported; ``errors`` says every reason (nothing was written)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s); nothing imported")
        self.errors = errors


@dataclass(frozen=True)
class ImportSummary:
    cases: int
    work_orders: int
    references: int

    def __str__(self) -> str:
        return (
            f"{self.cases} case(s), {self.work_orders} work order(s), "
            f"{self.references} reference(s)"
        )


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _need(at: str | None) -> datetime:
    value = _at(at)
    if value is None:
        raise ImportRefused(["a time Homesafe needs is missing from the document"])
    return value


def _component(document: Any) -> str | None:
    if isinstance(document, dict):
        meta = document.get("homesafe")
        if isinstance(meta, dict) and meta.get("component") in data_model.COMPONENTS:
            return str(meta["component"])
        if "hazard_report" in document:
            return "investigation"
        if "work_order" in document:
            return "work_order"
    return None


def _check(
    session: Session, documents: Sequence[Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    errors: list[str] = []
    by_component: dict[str, Any] = {}
    for index, document in enumerate(documents, start=1):
        component = _component(document)
        if component is None:
            errors.append(f"document {index}: neither an investigation nor a work_order component")
            continue
        if component in by_component:
            errors.append(f"document {index}: a second {component} document")
            continue
        problems = data_model.errors(component, document)
        errors.extend(f"{component}: {problem}" for problem in problems[:50])
        by_component[component] = document
    investigation = by_component.get("investigation")
    if investigation is None:
        errors.append("an investigation document is needed (work orders belong to its cases)")
    if errors:
        raise ImportRefused(errors)
    assert investigation is not None
    if not repository.store_is_empty(session):
        errors.append("the store already has cases or work orders: the import fills an empty one")
    known_homes = registry.home_ids(session)
    case_ids = set()
    for report in investigation["hazard_report"]:
        case = report.get("homesafe_case")
        if not isinstance(case, dict):
            errors.append(
                f"hazard_report {report.get('hazard_report_reference')}: no homesafe_case "
                "(documents from other systems cannot be imported yet)"
            )
            continue
        case_ids.add(case["id"])
        if case["home_id"] not in known_homes:
            errors.append(f"case {case['id']}: home {case['home_id']} is not in the registry")
        ref = case.get("tenancy_ref")
        if ref and registry.get_tenancy(session, ref) is None:
            errors.append(f"case {case['id']}: tenancy {ref} is not in the registry")
    orders = by_component.get("work_order")
    if orders is not None:
        for order in orders["work_order"]:
            extra = order.get("homesafe_work_order")
            if not isinstance(extra, dict):
                errors.append(f"work_order {order['work_order_id']}: no homesafe_work_order")
            elif extra["case_id"] not in case_ids:
                errors.append(
                    f"work_order {order['work_order_id']}: its case {extra['case_id']} is not "
                    "in the investigation document"
                )
    if errors:
        raise ImportRefused(errors)
    return investigation, orders


@dataclass(frozen=True)
class _Step:
    recorded_at: datetime
    order: int
    kind: str
    data: dict[str, Any]


def _steps(
    report: dict[str, Any],
    history: list[dict[str, Any]],
    investigations: list[dict[str, Any]],
    escalation: list[dict[str, Any]],
) -> list[_Step]:
    case = report["homesafe_case"]
    steps: list[_Step] = []
    for index, evidence in enumerate(case.get("awareness", [])):
        steps.append(
            _Step(
                _need(evidence["recorded_at"]),
                len(steps),
                "awareness",
                evidence | {"first": index == 0},
            )
        )
    findings = [
        i.get("homesafe_investigation", {})
        for i in investigations
        if i.get("homesafe_investigation")
    ]
    concluded = 0
    for entry in history:
        event = entry["homesafe_event"]
        data = dict(event)
        if event["type"] == "investigation_concluded":
            data["investigation"] = findings[concluded] if concluded < len(findings) else {}
            concluded += 1
        steps.append(_Step(_need(event["recorded_at"]), len(steps), "event", data))
    for row in escalation:
        unmet = row.get("homesafe_cannot_be_met")
        if unmet:
            steps.append(_Step(_need(unmet["at"]), len(steps), "cannot_be_met", unmet))
    for clock in case.get("clocks", []):
        if clock.get("reasonable_endeavours_at"):
            steps.append(
                _Step(_need(clock["reasonable_endeavours_at"]), len(steps), "endeavours", clock)
            )
        if clock.get("excused_at"):
            steps.append(_Step(_need(clock["excused_at"]), len(steps), "excuse", clock))
    return sorted(steps, key=lambda s: (s.recorded_at, s.order))


def _awareness(session: Session, case: dict[str, Any], step: _Step, engine: Engine) -> None:
    data = step.data
    figures = dict(data.get("figures") or {})
    if data["kind"] == "report":
        aware_at = _at(figures.get("reported_at")) or step.recorded_at
        category = "emergency" if figures.get("emergency") else "potential"
        actor = IMPORT_ACTOR
    else:
        aware_at = step.recorded_at
        starts = {
            c["started_at"] for c in case.get("clocks", []) if c["kind"] == "emergency_action"
        }
        emergency = data["first"] and case.get("category") == "emergency" and not starts
        category = "emergency" if emergency or data["recorded_at"] in starts else "potential"
        actor = "detector"
    evidence = Evidence(
        kind=data["kind"],
        recorded_at=step.recorded_at,
        source=data["source"],
        description=data.get("description"),
        sensor=data.get("sensor"),
        room=data.get("room"),
        rule=data.get("rule"),
        rule_version=data.get("rule_version"),
        window_start=_at(data.get("window_start")),
        window_end=_at(data.get("window_end")),
        figures=figures,
    )
    compliance.open_or_join_case(
        session,
        home_id=case["home_id"],
        hazard=case["hazard"],
        category=category,
        source=data["source"],
        aware_at=aware_at,
        evidence=evidence,
        actor=actor,
        now=step.recorded_at,
        engine=engine,
        case_id=case["id"] if data["first"] else None,
    )


def _event(session: Session, case_id: int, step: _Step, engine: Engine) -> None:
    data = step.data
    details = dict(data.get("details") or {})
    found = data.get("investigation") or {}
    note = data.get("note")
    if note is None and (
        data["type"] in _NOTE_NEEDED
        or (
            data["type"] in ("closed", "closure_requested") and details.get("reason") == "duplicate"
        )
    ):
        note = WITHHELD
    fields: dict[str, Any] = {
        "type": data["type"],
        "at": data["at"],
        "note": note,
        "outcome": details.get("outcome"),
        "method": details.get("method"),
        "reason": details.get("reason"),
        "investigation_type": details.get("investigation_type"),
        "investigator": details.get("investigator"),
        "investigator_role": details.get("investigator_role"),
        "evidence": details.get("evidence"),
        "supplementary_work_needed": details.get("supplementary_work_needed"),
    }
    if data["type"] == "investigation_concluded":
        fields["findings"] = found.get("findings")
        fields["safety_work"] = _plan_in(found.get("safety_plan"))
        fields["supplementary_work"] = _plan_in(found.get("supplementary_plan"))
    try:
        event = EventIn.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        raise ImportRefused(
            [f"case {case_id}: step {data['type']}: {exc.errors()[0]['msg']}"]
        ) from None
    compliance.record_event(
        session,
        case_id=case_id,
        event=event,
        actor=data["actor"],
        now=step.recorded_at,
        engine=engine,
    )


def _plan_in(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    if not plan or not plan.get("what"):
        return None
    return {k: v for k, v in plan.items() if v is not None}


def _replay_case(
    session: Session,
    report: dict[str, Any],
    history: list[dict[str, Any]],
    investigations: list[dict[str, Any]],
    escalation: list[dict[str, Any]],
    engine: Engine,
) -> None:
    case = report["homesafe_case"]
    case_id = case["id"]
    for step in _steps(report, history, investigations, escalation):
        compliance.breach_due_clocks(session, now=step.recorded_at, actor="scheduler")
        try:
            if step.kind == "awareness":
                _awareness(session, case, step, engine)
            elif step.kind == "event":
                _event(session, case_id, step, engine)
            elif step.kind == "cannot_be_met":
                compliance.safety_work_cannot_be_met(
                    session,
                    case_id=case_id,
                    reason=step.data["reason"] or WITHHELD,
                    actor=step.data["by"],
                    now=step.recorded_at,
                    engine=engine,
                )
            elif step.kind == "endeavours":
                compliance.record_reasonable_steps(
                    session,
                    case_id=case_id,
                    kind=step.data["kind"],
                    steps=step.data["reasonable_endeavours"],
                    actor=step.data.get("reasonable_endeavours_by") or IMPORT_ACTOR,
                    now=step.recorded_at,
                )
            elif step.kind == "excuse":
                steps = step.data.get("reasonable_endeavours") or ""
                reason = step.data.get("excuse_reason") or ""
                note = reason.removeprefix(steps).removeprefix(" — accepted: ") or None
                compliance.excuse_breach(
                    session,
                    case_id=case_id,
                    kind=step.data["kind"],
                    actor=step.data.get("excused_by") or IMPORT_ACTOR,
                    now=step.recorded_at,
                    note=note,
                )
        except (EventRefused, compliance.InvalidInput, compliance.HomeNotFound) as exc:
            reason = getattr(exc, "reason", str(exc))
            raise ImportRefused(
                [
                    f"case {case_id}: the {step.kind} recorded {step.recorded_at.isoformat()} was refused: {reason}"
                ]
            ) from None
    if case.get("assigned_to"):
        stored = repository_case(session, case_id)
        stored.assigned_to = case["assigned_to"]


def repository_case(session: Session, case_id: int) -> Any:
    from compliance import repository as cases

    return cases.get_case(session, case_id)


def _restore_work_orders(session: Session, document: dict[str, Any]) -> int:
    for contractor in document["contractor_organisation"]:
        session.add(
            Contractor(
                id=int(contractor["contractor_organisation_id"]),
                name=contractor["name"],
                kind=contractor.get("homesafe_kind") or "contractor",
                created_at=min(_need(o["date_raised"]) for o in document["work_order"]),
            )
        )
    session.flush()
    for order in document["work_order"]:
        extra = order["homesafe_work_order"]
        row = WorkOrder(
            id=extra["id"],
            case_id=extra["case_id"],
            home_id=order["address_id"],
            hazard=extra["hazard"],
            kind=extra["kind"],
            contractor_id=int(order["contractor_organisation_id"]),
            priority=extra["priority"],
            description=order.get("description_of_work"),
            reported_at=_need(extra["reported_at"]),
            raised_at=_need(extra["raised_at"]),
            target_at=_need(extra["target_at"]),
            status=extra["status"],
            dispatched_at=_at(extra.get("dispatched_at")),
            completed_at=_at(extra.get("completed_at")),
            work_done=extra.get("work_done"),
            satisfaction_score=extra.get("satisfaction_score"),
            satisfaction_at=_at(extra.get("satisfaction_at")),
            verification=extra["verification"],
            verify_until=_at(extra.get("verify_until")),
            verified_at=_at(extra.get("verified_at")),
            recurred_at=_at(extra.get("recurred_at")),
            flagged=bool(extra.get("flagged")),
            raised_by=extra["raised_by"],
        )
        session.add(row)
        session.flush()
        for visit in extra.get("visits", []):
            session.add(
                Visit(
                    id=visit["id"],
                    work_order_id=row.id,
                    booked_for=_at(visit.get("booked_for")),
                    at=_at(visit.get("at")),
                    outcome=visit["outcome"],
                    method=visit.get("method"),
                    reason=visit.get("reason"),
                    recorded_at=_need(visit["recorded_at"]),
                    actor=visit["actor"],
                )
            )
    session.flush()
    return len(document["work_order"])


def _restore_references(
    session: Session, investigation: dict[str, Any], orders: dict[str, Any] | None, now: datetime
) -> int:
    count = 0
    seen: set[tuple[str, str, str]] = set()

    def add(
        entity_type: str, entity_id: str, allocated_by: str, value: str, description: str | None
    ) -> None:
        nonlocal count
        key = (entity_type, allocated_by, value)
        if key in seen or not repository.entity_exists(
            session, entity_type=entity_type, entity_id=entity_id
        ):
            return
        seen.add(key)
        session.add(
            ExternalReference(
                entity_type=entity_type,
                entity_id=entity_id,
                allocated_by=allocated_by,
                value=value,
                description=description,
                created_at=now,
                created_by=IMPORT_ACTOR,
            )
        )
        count += 1

    for row in investigation["reference"]:
        entity = row.get("homesafe_entity")
        if row["allocated_by"] != "Homesafe" and isinstance(entity, dict):
            add(
                entity["type"], entity["id"], row["allocated_by"], row["id"], row.get("description")
            )
    for order in (orders or {}).get("work_order", []):
        for ref in order["homesafe_work_order"].get("references", []):
            add(
                "work_order",
                order["work_order_id"],
                ref["allocated_by"],
                ref["value"],
                ref.get("description"),
            )
    session.flush()
    return count


def import_documents(
    session: Session, *, documents: Sequence[Any], engine: Engine, now: datetime
) -> ImportSummary:
    """Import an investigation document (and optionally a work_order one) into an empty store:
    check everything, then replay each case and restore the work orders (all or nothing)."""
    investigation, orders = _check(session, documents)
    history_by_case: dict[str, list[dict[str, Any]]] = {}
    for entry in investigation["investigation_status_history"]:
        history_by_case.setdefault(
            entry["investigation_status_history_id"].split("-")[0], []
        ).append(entry)
    investigations_by_case: dict[int, list[dict[str, Any]]] = {}
    for row in investigation["investigation"]:
        investigations_by_case.setdefault(row["hazard_report_id"], []).append(row)
    escalations_by_case: dict[str, list[dict[str, Any]]] = {}
    for row in investigation["escalation"]:
        escalations_by_case.setdefault(row["escalation_reference"].split("-")[2], []).append(row)
    for report in sorted(investigation["hazard_report"], key=lambda r: r["homesafe_case"]["id"]):
        case_id = report["homesafe_case"]["id"]
        _replay_case(
            session,
            report,
            history_by_case.get(str(case_id), []),
            investigations_by_case.get(case_id, []),
            escalations_by_case.get(str(case_id), []),
            engine,
        )
    generated = _at((investigation.get("homesafe") or {}).get("generated_at"))
    if generated is not None:
        compliance.breach_due_clocks(session, now=generated, actor="scheduler")
    work_orders = _restore_work_orders(session, orders) if orders is not None else 0
    references = _restore_references(session, investigation, orders, now)
    repository.advance_sequences(session)
    return ImportSummary(len(investigation["hazard_report"]), work_orders, references)
