"""Homesafe's record in the shape of the damp and mould data model: pure mapping, no I/O.

``investigation_document`` and ``work_order_document`` turn the rows an export covers into one
JSON object per component (``interop.data_model``). The readings of the model made here (what each
entity is in Homesafe, how each code list is filled) are listed in docs/api.md ("Interop"); the
main ones:

- **A case is a hazard report.** The model's hazard report carries the response's status
  (Open, Under Review, Made Safe, Closed), whether emergency action was taken, when the home was
  made safe and whether further work is due: that is a Homesafe case (its first awareness gives
  the date, reporter and description). Later reports and findings that joined it stay evidence.
- **Investigations** are the case's concluded investigations, plus the one pending while an
  investigation clock runs. ``sla_breach_flag`` is the investigation's clock breached.
- **Notifications** are the written summaries sent (type *Result*), and whatever notify/ records
  (``notify_messages`` below is the seam). **Escalations** are alternative accommodation (due,
  offered, accepted, declined, moved, returned) and closing over an outstanding duty (a
  *Senior Review*: the second person's approval).
- **Status history** is the case's timeline, each step the investigation status it enters.
- Ids the model types as integers and Homesafe keys by text (tenancies, investigators,
  investigations) are numbered in the document, in case order; cross-document links (a work
  order's investigation) use references, which are stable. ``tenancy_id``/``work_order_id`` 0
  means none (the schema requires an integer).
- Personal data (report texts, notes, the tenant's name and contacts) only when ``personal``;
  special-category data (households, alert codes) never.
- Homesafe's own detail that the model has no field for travels in ``homesafe_*`` properties, so
  ``interop.importer`` can rebuild the record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from compliance.models import Case, CaseEvent, Clock, Investigation
from compliance.rules import HAZARD_BY_KEY, RuleSet
from interop import enums
from interop.models import ExternalReference
from interop.repository import CannotBeMet
from registry.clock import to_rfc3339
from registry.models import Home, Tenancy
from repairs.models import WorkOrder
from repairs.rules import priority as priority_rule

HOMESAFE = "Homesafe"  # the system that allocates Homesafe's own references
SAFETY_KINDS = ("emergency_action", "safety_work")
FOUND = ("emergency", "significant")


def case_reference(case_id: int) -> str:
    return f"HS-CASE-{case_id}"


def investigation_reference(case_id: int, number: int) -> str:
    return f"HS-CASE-{case_id}-INV-{number}"


@dataclass(frozen=True)
class Notice:
    """A message sent to the tenant, as notify/ will report it (the seam's row)."""

    case_id: int
    sent_at: datetime
    notification_type: str  # one of enums.NOTIFICATION_TYPES
    method: str  # one of enums.NOTIFICATION_METHODS
    summary: str | None = None
    work_order_id: int | None = None


@dataclass
class Records:
    """Everything an export covers, loaded by ``interop.service``."""

    cases: Sequence[Case]
    homes: Mapping[str, Home]
    tenancies: Mapping[str, Tenancy]
    references: Mapping[tuple[str, str], list[ExternalReference]] = field(default_factory=dict)
    work_orders: Sequence[WorkOrder] = ()
    cannot_be_met: Mapping[int, CannotBeMet] = field(default_factory=dict)
    notices: Sequence[Notice] = ()


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    now: datetime
    timezone: str
    personal: bool
    rule_set: RuleSet  # the Awaab's Law rule set in force at the period's end


def _day(at: datetime | None, tz: str) -> str | None:
    return at.astimezone(ZoneInfo(tz)).date().isoformat() if at is not None else None


def _t(at: datetime | None) -> str | None:
    return to_rfc3339(at) if at is not None else None


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _plan(data: dict[str, Any] | None) -> dict[str, Any] | None:
    return dict(data) if data else None


# --- the investigation component ----------------------------------------------------------------


class _Numbers:
    """Document-local integer ids for things Homesafe keys by text, in order of first use."""

    def __init__(self) -> None:
        self._ids: dict[Any, int] = {}

    def __call__(self, key: Any) -> int:
        return self._ids.setdefault(key, len(self._ids) + 1)

    def items(self) -> list[tuple[Any, int]]:
        return list(self._ids.items())


def _first_awareness(case: Case) -> Any:
    for evidence in case.evidence:
        if evidence.kind in ("report", "sensor_finding"):
            return evidence
    return case.evidence[0] if case.evidence else None


def _booked_between(
    events: Sequence[CaseEvent], after: datetime | None, by: datetime
) -> date | None:
    booked = [
        e.at for e in events if e.type == "investigation_booked" and (after is None or e.at > after)
    ]
    booked = [at for at in booked if at <= by]
    return max(booked).date() if booked else None


def _report_status(case: Case) -> str:
    if case.status == "closed":
        return "Closed"
    if case.stage in ("made_safe", "no_work_due"):
        return "Made Safe"
    if case.investigations or case.stage in (
        "investigation_booked",
        "access_failed",
        "safety_work_due",
        "safety_work_started",
    ):
        return "Under Review"
    return "Open"


def _made_safe_at(clocks: Sequence[Clock]) -> datetime | None:
    safety = [c for c in clocks if c.kind in SAFETY_KINDS]
    if not safety or any(c.met_at is None for c in safety):
        return None
    done = [c.met_at for c in safety if c.ended == "done" and c.met_at is not None]
    return max(done) if done else None


def _clock_json(clock: Clock) -> dict[str, Any]:
    return _drop_none(
        {
            "kind": clock.kind,
            "duty": clock.duty,
            "started_at": _t(clock.started_at),
            "due_at": _t(clock.due_at),
            "met_at": _t(clock.met_at),
            "status": clock.status,
            "ended": clock.ended,
            "investigation_type": clock.investigation_type,
            "reasonable_endeavours": clock.reasonable_steps,
            "reasonable_endeavours_by": clock.reasonable_steps_by,
            "reasonable_endeavours_at": _t(clock.reasonable_steps_at),
            "excused_by": clock.excused_by,
            "excused_at": _t(clock.excused_at),
            "excuse_reason": clock.excuse_reason,
        }
    )


def _investigation_clocks(case: Case, concluded: datetime) -> list[Clock]:
    return [
        c
        for c in case.clocks
        if c.kind in ("investigate", "emergency_action")
        and c.met_at == concluded
        and c.started_at <= concluded
    ]


def _pending_clocks(case: Case) -> list[Clock]:
    last = case.investigations[-1].concluded_at if case.investigations else None
    return [
        c
        for c in case.clocks
        if c.met_at is None
        and (
            c.kind == "investigate"
            or (c.kind == "emergency_action" and (last is None or c.started_at > last))
        )
    ]


def _event_json(event: CaseEvent, personal: bool) -> dict[str, Any]:
    details = dict(event.details or {})
    if not personal:
        details.pop("evidence", None)
    return _drop_none(
        {
            "type": event.type,
            "at": _t(event.at),
            "recorded_at": _t(event.recorded_at),
            "actor": event.actor,
            "note": event.note if personal else None,
            "details": details or None,
        }
    )


def investigation_document(records: Records, period: Period) -> dict[str, Any]:
    """The investigation component: hazard reports, investigations and their hazards, status
    history, notifications and escalations, with the code lists and the tenancies."""
    tz = period.timezone
    tenancy_ids = _Numbers()
    investigator_ids = _Numbers()
    investigation_ids = _Numbers()
    hazard_types: dict[str, dict[str, Any]] = {}
    reports: list[dict[str, Any]] = []
    investigations: list[dict[str, Any]] = []
    hazards: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    escalations: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    references: dict[tuple[str, str], dict[str, Any]] = {}
    systems = sorted(
        {HOMESAFE} | {r.allocated_by for refs in records.references.values() for r in refs}
    )

    def reference(value: str, by: str, what: str, entity: tuple[str, str]) -> None:
        references.setdefault(
            (value, by),
            {
                "id": value,
                "allocated_by_code": systems.index(by) + 1,
                "allocated_by_description": (
                    "Homesafe (hazard cases and Awaab's Law clocks)" if by == HOMESAFE else by
                ),
                "description": what,
                "allocated_by": by,
                "homesafe_entity": {"type": entity[0], "id": entity[1]},
            },
        )

    notices_by_case: dict[int, list[Notice]] = {}
    for notice in records.notices:
        notices_by_case.setdefault(notice.case_id, []).append(notice)

    for case in records.cases:
        home = records.homes.get(case.home_id)
        uprn = (home.uprn if home else None) or ""
        tenancy = records.tenancies.get(case.tenancy_ref or "")
        tenancy_id = tenancy_ids(tenancy.tenancy_ref) if tenancy else 0
        hazard = HAZARD_BY_KEY.get(case.hazard)
        hazard_type_id = hazard.number_2005 if hazard else 0
        if hazard is not None and case.hazard not in hazard_types:
            rating = "High" if period.rule_set.covers(case.hazard, "significant") else "Medium"
            hazard_types[case.hazard] = {
                "hazard_type_id": hazard.number_2005,
                "hazard_type": hazard.name_2005,
                "health_risk_rating_id": enums.code_id(enums.HEALTH_RISK_RATINGS, rating),
                "category": hazard.group_2005,
                "homesafe_hazard": case.hazard,
            }
        first = _first_awareness(case)
        ref = case_reference(case.id)
        reference(ref, HOMESAFE, f"case {case.id}", ("case", str(case.id)))
        for kind, key in (
            ("case", str(case.id)),
            ("home", case.home_id),
            ("tenancy", case.tenancy_ref or ""),
        ):
            for external in records.references.get((kind, key), []):
                reference(
                    external.value,
                    external.allocated_by,
                    external.description or f"{kind} {key}",
                    (kind, key),
                )
        clocks = list(case.clocks)
        supplementary = [c for c in clocks if (c.duty or c.kind) == "supplementary_work"]
        made_safe = _made_safe_at(clocks)
        description = first.description if first is not None else None
        if first is not None and first.source != "sensor" and not period.personal:
            description = None
        reports.append(
            _drop_none(
                {
                    "hazard_report_id": case.id,
                    "hazard_report_reference": ref,
                    "uprn": uprn,
                    "tenancy_id": tenancy_id,
                    "date_reported": _day(case.aware_at, tz),
                    "reported_by": (
                        f"sensor {first.sensor}"
                        if first is not None and first.source == "sensor" and first.sensor
                        else case.source
                    ),
                    "description": description,
                    "location_details": first.room if first is not None and first.room else None,
                    "emergency_action_taken": any(
                        c.kind == "emergency_action" and c.ended == "done" for c in clocks
                    ),
                    "made_safe_date": _day(made_safe, tz),
                    "further_work_required": bool(supplementary),
                    "further_work_due_date": _day(supplementary[-1].due_at, tz)
                    if supplementary
                    else None,
                    "report_status_id": enums.code_id(enums.REPORT_STATUSES, _report_status(case)),
                    "homesafe_case": _drop_none(
                        {
                            "id": case.id,
                            "home_id": case.home_id,
                            "hazard": case.hazard,
                            "hazard_type_id": hazard_type_id,
                            "category": case.category,
                            "source": case.source,
                            "aware_at": _t(case.aware_at),
                            "opened_at": _t(case.opened_at),
                            "status": case.status,
                            "stage": case.stage,
                            "outcome": case.outcome,
                            "in_scope": case.in_scope,
                            "scope_reason": case.scope_reason,
                            "rule_set": case.rule_set,
                            "tenancy_ref": case.tenancy_ref,
                            "tenure": case.tenure,
                            "accommodation": case.accommodation,
                            "closure_reason": case.closure_reason,
                            "closed_at": _t(case.closed_at),
                            "assigned_to": case.assigned_to,
                            "summary_sent_method": case.summary_sent_method,
                            "clocks": [_clock_json(c) for c in clocks],
                            "awareness": [
                                _drop_none(
                                    {
                                        "kind": e.kind,
                                        "source": e.source,
                                        "recorded_at": _t(e.recorded_at),
                                        "description": e.description
                                        if (period.personal or e.source == "sensor")
                                        else None,
                                        "sensor": e.sensor,
                                        "room": e.room,
                                        "rule": e.rule,
                                        "rule_version": e.rule_version,
                                        "window_start": _t(e.window_start),
                                        "window_end": _t(e.window_end),
                                        "figures": e.figures or None,
                                    }
                                )
                                for e in case.evidence
                                if e.kind in ("report", "sensor_finding")
                            ],
                        }
                    ),
                }
            )
        )
        trigger = enums.code_id(enums.TRIGGER_SOURCES, enums.TRIGGER_SOURCE_FOR[case.source])
        # Concluded investigations, then the pending one.
        model_ids: list[tuple[datetime | None, int]] = []
        previous: datetime | None = None
        for record in case.investigations:
            number = investigation_ids((case.id, record.number))
            model_ids.append((record.concluded_at, number))
            inv_ref = investigation_reference(case.id, record.number)
            reference(
                inv_ref,
                HOMESAFE,
                f"investigation {record.number} of case {case.id}",
                ("case", str(case.id)),
            )
            own = _investigation_clocks(case, record.concluded_at)
            next_conclusion = next(
                (i.concluded_at for i in case.investigations if i.number == record.number + 1), None
            )
            summary_sent = any(
                e.type == "summary_sent"
                and e.at >= record.concluded_at
                and (next_conclusion is None or e.at < next_conclusion)
                for e in case.events
            )
            booked = _booked_between(case.events, previous, record.concluded_at)
            investigations.append(
                _drop_none(
                    {
                        "investigation_id": number,
                        "investigation_reference": inv_ref,
                        "uprn": uprn,
                        "tenancy_id": tenancy_id,
                        "trigger_source_id": trigger,
                        "investigation_type_id": enums.code_id(
                            enums.INVESTIGATION_TYPES, enums.INVESTIGATION_TYPE_FOR[record.type]
                        ),
                        "hazard_report_id": case.id,
                        "investigation_scheduled_date": booked.isoformat() if booked else None,
                        "investigation_completed_date": _day(record.concluded_at, tz),
                        "investigator_id": investigator_ids(record.investigator)
                        if record.investigator
                        else None,
                        "hazard_confirmed": record.outcome in FOUND,
                        "repair_required": record.outcome in FOUND
                        or record.supplementary_work_needed,
                        "sla_breach_flag": any(c.status != "met" for c in own),
                        "notification_sent_to_tenant": summary_sent,
                        "investigation_notes": record.findings if period.personal else None,
                        "homesafe_investigation": _investigation_json(record, period.personal),
                    }
                )
            )
            hazards.append(
                {
                    "investigation_hazard_id": len(hazards) + 1,
                    "hazard_type_id": hazard_type_id,
                    "investigation_id": number,
                    "hazard_report_id": case.id,
                    "severity_id": enums.code_id(
                        enums.SEVERITIES, enums.SEVERITY_FOR_OUTCOME[record.outcome]
                    ),
                    "notes": f"outcome: {record.outcome.replace('_', ' ')}",
                }
            )
            previous = record.concluded_at
        pending = _pending_clocks(case)
        if pending:
            next_number = len(case.investigations) + 1
            number = investigation_ids((case.id, next_number))
            model_ids.append((None, number))
            inv_ref = investigation_reference(case.id, next_number)
            reference(
                inv_ref,
                HOMESAFE,
                f"investigation {next_number} of case {case.id}",
                ("case", str(case.id)),
            )
            kind = next(
                ("emergency" for c in pending if c.kind == "emergency_action"),
                next((c.investigation_type for c in pending if c.investigation_type), "standard"),
            )
            booked = _booked_between(case.events, previous, period.now)
            investigations.append(
                _drop_none(
                    {
                        "investigation_id": number,
                        "investigation_reference": inv_ref,
                        "uprn": uprn,
                        "tenancy_id": tenancy_id,
                        "trigger_source_id": trigger,
                        "investigation_type_id": enums.code_id(
                            enums.INVESTIGATION_TYPES, enums.INVESTIGATION_TYPE_FOR[kind]
                        ),
                        "hazard_report_id": case.id,
                        "investigation_scheduled_date": booked.isoformat() if booked else None,
                        "hazard_confirmed": False,
                        "repair_required": False,
                        "sla_breach_flag": any(c.status != "running" for c in pending),
                        "notification_sent_to_tenant": False,
                    }
                )
            )

        investigation_at = partial(_investigation_at, tuple(model_ids))

        for event in case.events:
            if event.type == "summary_sent":
                method = (event.details or {}).get("method") or ""
                notifications.append(
                    {
                        "notification_id": len(notifications) + 1,
                        "investigation_id": investigation_at(event.at),
                        "tenancy_id": tenancy_id,
                        "work_order_id": 0,
                        "notification_type_id": enums.code_id(enums.NOTIFICATION_TYPES, "Result"),
                        "date_sent": _day(event.at, tz),
                        "notification_method_id": enums.code_id(
                            enums.NOTIFICATION_METHODS,
                            enums.NOTIFICATION_METHOD_FOR.get(method.strip().lower(), "Letter"),
                        ),
                        "content_summary": "The written summary of the investigation",
                    }
                )
        for notice in notices_by_case.get(case.id, []):
            notifications.append(
                _drop_none(
                    {
                        "notification_id": len(notifications) + 1,
                        "investigation_id": investigation_at(notice.sent_at),
                        "tenancy_id": tenancy_id,
                        "work_order_id": notice.work_order_id or 0,
                        "notification_type_id": enums.code_id(
                            enums.NOTIFICATION_TYPES, notice.notification_type
                        ),
                        "date_sent": _day(notice.sent_at, tz),
                        "notification_method_id": enums.code_id(
                            enums.NOTIFICATION_METHODS, notice.method
                        ),
                        "content_summary": notice.summary if period.personal else None,
                    }
                )
            )
        own_escalations = _escalations(
            case,
            records,
            period,
            investigation_at,
            len(escalations),
        )
        for escalation in own_escalations:
            reference(
                escalation["escalation_reference"],
                HOMESAFE,
                f"escalation on case {case.id}",
                ("case", str(case.id)),
            )
        escalations.extend(own_escalations)
        events = list(case.events)
        for index, event in enumerate(events):
            status = enums.INVESTIGATION_STATUS_FOR_EVENT.get(event.type, "InProgress")
            after = events[index + 1].at if index + 1 < len(events) else None
            history.append(
                _drop_none(
                    {
                        "investigation_status_history_id": f"{case.id}-{index + 1}",
                        "investigation_id": str(investigation_at(event.at)),
                        "investigation_status_id": str(
                            enums.code_id(enums.INVESTIGATION_STATUSES, status)
                        ),
                        "updated_by": event.actor,
                        "created_date_time": _t(event.recorded_at),
                        "entered_date_time": _t(event.at),
                        "exited_date_time": _t(after),
                        "comments": event.type.replace("_", " "),
                        "homesafe_event": _event_json(event, period.personal),
                    }
                )
            )

    tenancy_rows: list[dict[str, Any]] = []
    tenants: list[dict[str, Any]] = []
    for ref, number in tenancy_ids.items():
        tenancy = records.tenancies[ref]
        for external in records.references.get(("tenancy", ref), []):
            reference(
                external.value,
                external.allocated_by,
                external.description or f"tenancy {ref}",
                ("tenancy", ref),
            )
        tenancy_rows.append(
            _drop_none(
                {
                    "tenancy_id": number,
                    "tenant_id": f"{ref}/lead",
                    "address_id": tenancy.home_id,
                    "start_date": tenancy.start_date.isoformat(),
                    "end_date": tenancy.end_date.isoformat() if tenancy.end_date else None,
                    "tenancy_type": tenancy.tenure,
                    "tenancy_status": "Ended"
                    if tenancy.end_date and tenancy.end_date < period.now.date()
                    else "Active",
                    "homesafe_tenancy_ref": ref,
                }
            )
        )
        if period.personal:
            contacts = "; ".join(x for x in (tenancy.email, tenancy.phone) if x)
            tenants.append(
                _drop_none(
                    {
                        "tenant_id": f"{ref}/lead",
                        "full_name": tenancy.lead_tenant_name,
                        "contact_details": contacts or None,
                        "homesafe_preferred_channel": tenancy.preferred_channel,
                        "homesafe_language": tenancy.language,
                    }
                )
            )
    document: dict[str, Any] = {
        "hazard_type": sorted(hazard_types.values(), key=lambda h: h["hazard_type_id"]),
        "investigation_hazard": hazards,
        "hazard_report": reports,
        "investigation": investigations,
        "notification": notifications,
        "escalation": escalations,
        "health_risk_rating": enums.code_rows(enums.HEALTH_RISK_RATINGS, "health_risk_rating"),
        "severity": enums.code_rows(enums.SEVERITIES, "severity"),
        "investigation_type": enums.code_rows(enums.INVESTIGATION_TYPES, "investigation_type"),
        "report_status": enums.code_rows(enums.REPORT_STATUSES, "report_status"),
        "trigger_source": enums.code_rows(enums.TRIGGER_SOURCES, "trigger_source"),
        "escalation_status": enums.code_rows(enums.ESCALATION_STATUSES, "escalation_status"),
        "notification_type": enums.code_rows(enums.NOTIFICATION_TYPES, "notification_type"),
        "notification_method": enums.code_rows(enums.NOTIFICATION_METHODS, "notification_method"),
        "escalation_stage": enums.code_rows(enums.ESCALATION_STAGES, "escalation_stage"),
        "escalation_type": enums.code_rows(enums.ESCALATION_TYPES, "escalation_type"),
        "investigator": [
            {"investigator_id": number, "investigator_name": name}
            for name, number in investigator_ids.items()
        ],
        "investigation_status": [
            {"investigation_status_id": str(index), "code": code}
            for index, code in enumerate(enums.INVESTIGATION_STATUSES, start=1)
        ],
        "investigation_status_history": history,
        "reference": list(references.values()),
        "tenancy": tenancy_rows,
    }
    if period.personal:
        document["tenant_person"] = tenants
    document["homesafe"] = _meta("investigation", period)
    return document


def _investigation_at(model_ids: tuple[tuple[datetime | None, int], ...], at: datetime) -> int:
    """The model investigation a step at ``at`` belongs to: the first not concluded before it
    (else the last); 0 when the case has none."""
    for concluded, number in model_ids:
        if concluded is None or concluded >= at:
            return number
    return model_ids[-1][1] if model_ids else 0


def _investigation_json(record: Investigation, personal: bool) -> dict[str, Any]:
    return _drop_none(
        {
            "number": record.number,
            "type": record.type,
            "outcome": record.outcome,
            "concluded_at": _t(record.concluded_at),
            "recorded_at": _t(record.recorded_at),
            "recorded_by": record.recorded_by,
            "method": record.method,
            "investigator_role": record.investigator_role,
            "findings": record.findings if personal else None,
            "supplementary_work_needed": record.supplementary_work_needed,
            "safety_plan": _plan(record.safety_plan) if personal else None,
            "supplementary_plan": _plan(record.supplementary_plan) if personal else None,
        }
    )


def _escalations(
    case: Case, records: Records, period: Period, investigation_at: Any, offset: int
) -> list[dict[str, Any]]:
    tz = period.timezone
    out: list[dict[str, Any]] = []
    events = list(case.events)
    offered = next((e for e in events if e.type == "alternative_accommodation_offered"), None)
    unmet = records.cannot_be_met.get(case.id)
    if case.accommodation != "not_due" or offered is not None:
        start = offered.at if offered is not None else None
        reason = {
            "breach": "a safety duty's deadline passed with the hazard not made safe",
            "cannot_be_met": "the safety work cannot be done in time",
        }.get(case.accommodation_due_reason or "", "alternative accommodation offered")
        if start is None:
            breached = [
                c.breached_at for c in case.clocks if c.kind in SAFETY_KINDS and c.breached_at
            ]
            start = (unmet.at if unmet is not None else None) or (
                min(breached) if breached else case.aware_at
            )
        stage = {
            "due": "Open",
            "offered": "In Progress",
            "accepted": "In Progress",
            "moved": "In Progress",
            "declined": "Rejected",
            "returned": "Resolved",
            "ended": "Resolved",
        }.get(case.accommodation, "Open")
        end = (
            case.household_returned_at
            or case.accommodation_declined_at
            or (
                next((e.at for e in reversed(events) if e.type == "safety_work_completed"), None)
                if case.accommodation == "ended"
                else None
            )
        )
        steps = [
            (word, at)
            for word, at in (
                ("offered", case.accommodation_offered_at),
                ("accepted", case.accommodation_accepted_at),
                ("declined", case.accommodation_declined_at),
                ("moved", case.household_moved_at),
                ("returned", case.household_returned_at),
            )
            if at is not None
        ]
        out.append(
            _drop_none(
                {
                    "escalation_id": offset + len(out) + 1,
                    "escalation_reference": f"{case_reference(case.id)}-AA",
                    "investigation_id": investigation_at(start),
                    "escalation_reason": reason,
                    "escalation_stage_id": enums.code_id(enums.ESCALATION_STAGES, stage),
                    "escalation_type_id": enums.code_id(
                        enums.ESCALATION_TYPES, "Alternative Accommodation"
                    ),
                    "escalated_to": offered.actor if offered is not None else "landlord",
                    "escalation_start_date": _day(start, tz),
                    "escalation_end_date": _day(end, tz),
                    "action_taken": "; ".join(f"{w} {_day(at, tz)}" for w, at in steps) or None,
                    "alternative_accommodation_details": offered.note
                    if offered is not None and period.personal
                    else None,
                    "tenant_acceptance": case.accommodation_accepted_at is not None,
                    "homesafe_cannot_be_met": (
                        {"at": _t(unmet.at), "by": unmet.by, "reason": unmet.reason}
                        if unmet is not None
                        else None
                    ),
                }
            )
        )
    for index, request in enumerate(e for e in events if e.type == "closure_requested"):
        closed = next(
            (
                e
                for e in events
                if e.type == "closed" and e.at >= request.at and e.actor != request.actor
            ),
            None,
        )
        reason = (request.details or {}).get("reason") or "closing over an outstanding duty"
        out.append(
            _drop_none(
                {
                    "escalation_id": offset + len(out) + 1,
                    "escalation_reference": f"{case_reference(case.id)}-SR{index + 1}",
                    "investigation_id": investigation_at(request.at),
                    "escalation_reason": f"close the case ({reason.replace('_', ' ')}) with duties outstanding",
                    "escalation_stage_id": enums.code_id(
                        enums.ESCALATION_STAGES, "Resolved" if closed else "Open"
                    ),
                    "escalation_type_id": enums.code_id(enums.ESCALATION_TYPES, "Senior Review"),
                    "escalated_to": closed.actor if closed else "a second officer",
                    "escalation_start_date": _day(request.at, tz),
                    "escalation_end_date": _day(closed.at, tz) if closed else None,
                    "action_taken": "closure approved" if closed else None,
                    "tenant_acceptance": False,
                }
            )
        )
    return out


def _meta(component: str, period: Period) -> dict[str, Any]:
    return {
        "component": component,
        "from": _t(period.start),
        "to": _t(period.end),
        "generated_at": _t(period.now),
        "timezone": period.timezone,
        "personal": period.personal,
        "schema": f"{component}_component.json (written from the damp and mould data model)",
    }


# --- the work order component ------------------------------------------------------------------------


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def work_order_document(records: Records, period: Period) -> dict[str, Any]:
    """The work order component: work orders with priority, planned and actual dates, status
    history, access information (no-access attempts) and contractors."""
    orders: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    access: list[dict[str, Any]] = []
    contractors: dict[int, dict[str, Any]] = {}
    priorities: list[dict[str, Any]] = []
    classes: dict[str, dict[str, Any]] = {}
    cases = {case.id: case for case in records.cases}
    for order in records.work_orders:
        case = cases.get(order.case_id)
        home = records.homes.get(order.home_id)
        rule = priority_rule(order.priority)
        work_class = enums.PRIORITY_CLASS[order.priority]
        classes.setdefault(
            work_class,
            {
                "work_class_id": work_class,
                "work_class_code": work_class,
                "work_class_description": f"{order.priority} repair",
            },
        )
        contractors.setdefault(
            order.contractor_id,
            {
                "contractor_organisation_id": str(order.contractor_id),
                "name": order.contractor.name,
                "homesafe_kind": order.contractor.kind,
            },
        )
        priorities.append(
            {
                "work_priority_id": str(order.id),
                "priority_code": order.priority,
                "priority_description": f"complete within {rule.target_hours:g} hours of the report"
                + (
                    ", or by the Awaab's Law deadline if sooner"
                    if order.target_at < order.reported_at + _hours(rule.target_hours)
                    else ""
                ),
                "effective_date_time": _epoch(order.raised_at),
                "number_of_days": math.ceil(rule.target_hours / 24),
                "required_start_date_time": _t(order.raised_at),
                "required_completion_date_time": _t(order.target_at),
            }
        )
        investigation = None
        if case is not None:
            earlier = [i for i in case.investigations if i.concluded_at <= order.raised_at]
            if earlier:
                investigation = investigation_reference(case.id, earlier[-1].number)
        booked = [v.booked_for for v in order.visits if v.booked_for is not None]
        late = (order.completed_at or period.now) > order.target_at
        tenancy_ref = case.tenancy_ref if case is not None else None
        external = records.references.get(("work_order", str(order.id)), [])
        orders.append(
            _drop_none(
                {
                    "work_order_id": str(order.id),
                    "address_id": order.home_id,
                    "inspection_id": investigation,
                    "tenancy_id": tenancy_ref,
                    "tenant_id": f"{tenancy_ref}/lead" if tenancy_ref else None,
                    "hazard_report_id": str(order.case_id),
                    "work_class_id": work_class,
                    "work_priority_id": str(order.id),
                    "contractor_organisation_id": str(order.contractor_id),
                    "date_raised": _t(order.raised_at),
                    "date_reported": _t(order.reported_at),
                    "planned_start_date": _t(min(booked) if booked else order.raised_at),
                    "planned_finish_date": _t(order.target_at),
                    "description_of_work": order.description,
                    "job_status_update": enums.WORK_STATUS_FOR.get(order.status, "Open"),
                    "repair_sla_breach_flag": "Yes" if late else "No",
                    "homesafe_work_order": _drop_none(
                        {
                            "id": order.id,
                            "case_id": order.case_id,
                            "uprn": home.uprn if home else None,
                            "hazard": order.hazard,
                            "kind": order.kind,
                            "priority": order.priority,
                            "status": order.status,
                            "raised_by": order.raised_by,
                            "reported_at": _t(order.reported_at),
                            "raised_at": _t(order.raised_at),
                            "target_at": _t(order.target_at),
                            "dispatched_at": _t(order.dispatched_at),
                            "completed_at": _t(order.completed_at),
                            "work_done": order.work_done,
                            "satisfaction_score": order.satisfaction_score,
                            "satisfaction_at": _t(order.satisfaction_at),
                            "verification": order.verification,
                            "verify_until": _t(order.verify_until),
                            "verified_at": _t(order.verified_at),
                            "recurred_at": _t(order.recurred_at),
                            "flagged": order.flagged,
                            "contractor": order.contractor.name,
                            "references": [
                                {
                                    "allocated_by": r.allocated_by,
                                    "value": r.value,
                                    "description": r.description,
                                }
                                for r in external
                            ]
                            or None,
                        }
                    ),
                }
            )
        )
        # Required by the schema; null while the work has not started or finished.
        orders[-1]["actual_start_date_time"] = _t(order.dispatched_at)
        orders[-1]["actual_completion_date_time"] = _t(order.completed_at)
        steps: list[dict[str, Any]] = [
            {
                "status_code": "Open",
                "reason": f"raised on case {order.case_id} ({order.kind} work)",
                "updated_by": order.raised_by,
                "created": order.raised_at,
                "entered": order.raised_at,
            }
        ]
        for visit in order.visits:
            if visit.booked_for is not None:
                steps.append(
                    {
                        "status_code": "Scheduled",
                        "reason": f"appointment for {_t(visit.booked_for)}",
                        "updated_by": visit.actor,
                        "created": visit.recorded_at
                        if visit.outcome == "booked"
                        else (visit.at or visit.recorded_at),
                        "entered": visit.recorded_at
                        if visit.outcome == "booked"
                        else (visit.at or visit.recorded_at),
                        "visit": visit,
                        "booking": True,
                    }
                )
        if order.dispatched_at is not None:
            steps.append(
                {
                    "status_code": "InProgress",
                    "reason": "operative dispatched",
                    "updated_by": order.raised_by,
                    "created": order.dispatched_at,
                    "entered": order.dispatched_at,
                }
            )
        for visit in order.visits:
            if visit.outcome == "booked" or visit.at is None:
                continue
            code = {"no_access": "Delayed", "follow_on": "OnHold", "completed": "Complete"}[
                visit.outcome
            ]
            steps.append(
                {
                    "status_code": code,
                    "reason": visit.reason or visit.outcome.replace("_", " "),
                    "reason_code": "NoAccess" if visit.outcome == "no_access" else None,
                    "updated_by": visit.actor,
                    "created": visit.recorded_at,
                    "entered": visit.at,
                    "visit": visit,
                }
            )
            if visit.outcome == "no_access":
                access.append(
                    {
                        "work_order_access_information_id": f"{order.id}-{visit.id}",
                        "work_order_id": str(order.id),
                        "description": f"no access at {_t(visit.at)} (arranged by {visit.method or 'unknown'}): {visit.reason or ''}".strip(),
                        "key_safe": "",
                    }
                )
        steps.sort(key=lambda s: (s["entered"], s["created"]))
        for index, step in enumerate(steps):
            after = steps[index + 1]["entered"] if index + 1 < len(steps) else None
            history.append(
                _drop_none(
                    {
                        "work_order_status_history_id": f"{order.id}-{index + 1}",
                        "work_order_id": order.id,
                        "status_code": step["status_code"],
                        "updated_by": step["updated_by"],
                        "reason": step["reason"],
                        "reason_code": step.get("reason_code"),
                        "created_date_time": _t(step["created"]),
                        "entered_date_time": _t(step["entered"]),
                        "exited_date_time": _t(after),
                    }
                )
            )
        for visit in order.visits:
            history_visit = {
                "id": visit.id,
                "booked_for": _t(visit.booked_for),
                "at": _t(visit.at),
                "outcome": visit.outcome,
                "method": visit.method,
                "reason": visit.reason,
                "recorded_at": _t(visit.recorded_at),
                "actor": visit.actor,
            }
            orders[-1]["homesafe_work_order"].setdefault("visits", []).append(
                _drop_none(history_visit)
            )
    return {
        "work_order": orders,
        "work_order_status_history": history,
        "work_order_access_information": access,
        "contractor_organisation": [contractors[k] for k in sorted(contractors)],
        "work_priority": priorities,
        "work_class": [classes[k] for k in sorted(classes)],
        "homesafe": _meta("work_order", period),
    }


def _hours(hours: float) -> timedelta:
    return timedelta(hours=hours)
