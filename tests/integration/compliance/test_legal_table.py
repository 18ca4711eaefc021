"""The legal test table: one row per situation the clocks must get right, through the HTTP API,
on SQLite and PostgreSQL.

Each row is a short story (reports, case events, scheduler sweeps) told at the times it happened,
with the API's clock set to when each step was recorded, and the clocks the case must then carry.
Expected due times are worked out by hand from docs/law.md (working days in England, 23:59:59
local time on the last one; hour clocks in elapsed hours) and written here as UTC instants: they
are the oracle, not a copy of the code's arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from compliance.jobs import run_sweep
from compliance.models import AuditEntry
from ingest.store import open_telemetry_store
from registry.clock import utc_now
from registry.service import import_registry
from tests.factories import tenancies_csv

pytestmark = pytest.mark.integration


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- the steps of a story ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    at: str
    hazard: str = "damp_and_mould"
    emergency: bool = False
    recorded: str | None = None  # when it was entered (the API's clock); default: a minute after
    expect_status: int | None = None


@dataclass(frozen=True)
class Event:
    type: str
    at: str
    recorded: str | None = None
    by: str = "officer-1"
    fields: dict[str, Any] = field(default_factory=dict)
    expect_status: int = 200


@dataclass(frozen=True)
class Sweep:
    now: str


@dataclass(frozen=True)
class CannotMeet:
    at: str
    reason: str = "specialist contractor not available until next week"


@dataclass(frozen=True)
class Tenure:
    tenure: str


@dataclass(frozen=True)
class Row:
    name: str
    steps: tuple[Any, ...]
    # (duty, started_at, due_at, status[, ended]) for every clock of the case, in order
    clocks: tuple[tuple[str, ...], ...] = ()
    case: dict[str, Any] = field(default_factory=dict)
    audit: tuple[str, ...] = ()


REPORT_MON = "2026-10-05T10:00:00+00:00"  # Monday 5 October 2026 (BST), 11:00 local
INVESTIGATE_MON = "2026-10-19T22:59:59+00:00"  # working day 10: Monday 19 October, 23:59:59 BST

TABLE: tuple[Row, ...] = (
    # --- the calendar ---------------------------------------------------------------------------
    Row(
        "Friday-night report before the August bank holiday",
        (Report("2026-08-28T22:30:00+01:00"),),
        (("investigate", "2026-08-28T21:30:00+00:00", "2026-09-14T22:59:59+00:00", "running"),),
    ),
    Row(
        "a report at 23:59:59 on Sunday belongs to Sunday",
        (Report("2026-03-01T23:59:59+00:00"),),
        (("investigate", "2026-03-01T23:59:59+00:00", "2026-03-13T23:59:59+00:00", "running"),),
    ),
    Row(
        "a report one second after midnight belongs to Monday",
        (Report("2026-03-02T00:00:01+00:00"),),
        (("investigate", "2026-03-02T00:00:01+00:00", "2026-03-16T23:59:59+00:00", "running"),),
    ),
    Row(
        "a report at 00:30 BST on Wednesday is Wednesday's, though UTC says Tuesday",
        (Report("2026-07-01T00:30:00+01:00"),),
        (("investigate", "2026-06-30T23:30:00+00:00", "2026-07-15T22:59:59+00:00", "running"),),
    ),
    Row(
        "Good Friday and Easter Monday are not working days",
        (Report("2026-04-02T14:00:00+01:00"),),
        (("investigate", "2026-04-02T13:00:00+00:00", "2026-04-20T22:59:59+00:00", "running"),),
    ),
    Row(
        "Christmas 2025: Christmas Day, Boxing Day and New Year's Day",
        (Report("2025-12-23T10:00:00+00:00"),),
        (("investigate", "2025-12-23T10:00:00+00:00", "2026-01-09T23:59:59+00:00", "running"),),
    ),
    Row(
        "Christmas 2026: Monday 28 December is the substitute for Boxing Day",
        (Report("2026-12-23T10:00:00+00:00"),),
        (("investigate", "2026-12-23T10:00:00+00:00", "2027-01-11T23:59:59+00:00", "running"),),
    ),
    Row(
        "24 hours across the October clock change are 24 elapsed hours",
        (Report("2026-10-24T12:00:00+01:00", hazard="electrical", emergency=True),),
        (
            (
                "emergency_action",
                "2026-10-24T11:00:00+00:00",
                "2026-10-25T11:00:00+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "24 hours across the March clock change are 24 elapsed hours",
        (Report("2026-03-28T12:00:00+00:00", hazard="electrical", emergency=True),),
        (
            (
                "emergency_action",
                "2026-03-28T12:00:00+00:00",
                "2026-03-29T12:00:00+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "the written summary's 3 working days over Christmas 2025",
        (
            Report("2025-12-19T10:00:00+00:00"),
            Event(
                "investigation_concluded",
                "2025-12-22T10:00:00+00:00",
                fields={"outcome": "not_significant"},
            ),
        ),
        (
            ("investigate", "2025-12-19T10:00:00+00:00", "2026-01-07T23:59:59+00:00", "met"),
            (
                "written_summary",
                "2025-12-22T10:00:00+00:00",
                "2025-12-29T23:59:59+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "safety work's 5 working days over the early May bank holiday",
        (
            Report("2026-04-27T09:00:00+01:00"),
            Event(
                "investigation_concluded",
                "2026-04-29T10:00:00+01:00",
                fields={"outcome": "significant"},
            ),
        ),
        (
            ("investigate", "2026-04-27T08:00:00+00:00", "2026-05-12T22:59:59+00:00", "met"),
            (
                "written_summary",
                "2026-04-29T09:00:00+00:00",
                "2026-05-05T22:59:59+00:00",
                "running",
            ),
            ("safety_work", "2026-04-29T09:00:00+00:00", "2026-05-07T22:59:59+00:00", "running"),
        ),
    ),
    Row(
        "awareness the day before the law came into force starts no clock",
        (Report("2025-10-26T23:30:00+00:00"),),
        (),
        {"in_scope": False, "rule_set": "out_of_scope"},
    ),
    Row(
        "awareness at midnight on 27 October 2025 starts the clock",
        (Report("2025-10-27T00:00:00+00:00"),),
        (("investigate", "2025-10-27T00:00:00+00:00", "2025-11-10T23:59:59+00:00", "running"),),
        {"rule_set": "phase_1"},
    ),
    Row(
        "excess cold the day before phase 2 is out of scope",
        (Report("2026-11-29T23:59:00+00:00", hazard="excess_cold"),),
        (),
        {"in_scope": False, "rule_set": "phase_1"},
    ),
    Row(
        "excess cold on the first day of phase 2 starts the clock",
        (Report("2026-11-30T00:00:00+00:00", hazard="excess_cold"),),
        (("investigate", "2026-11-30T00:00:00+00:00", "2026-12-14T23:59:59+00:00", "running"),),
        {"rule_set": "phase_2"},
    ),
    Row(
        "supplementary work: steps by working day 5, begun within 84 days",
        (
            Report("2026-01-05T10:00:00+00:00"),
            Event(
                "investigation_concluded",
                "2026-01-07T10:00:00+00:00",
                fields={"outcome": "significant", "supplementary_work_needed": True},
            ),
        ),
        (
            ("investigate", "2026-01-05T10:00:00+00:00", "2026-01-19T23:59:59+00:00", "met"),
            (
                "written_summary",
                "2026-01-07T10:00:00+00:00",
                "2026-01-12T23:59:59+00:00",
                "running",
            ),
            ("safety_work", "2026-01-07T10:00:00+00:00", "2026-01-14T23:59:59+00:00", "running"),
            (
                "supplementary_work",
                "2026-01-07T10:00:00+00:00",
                "2026-04-01T22:59:59+00:00",
                "running",
            ),
            (
                "supplementary_steps",
                "2026-01-07T10:00:00+00:00",
                "2026-01-14T23:59:59+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "missed supplementary steps breach on their own; the 12 weeks run on",
        (
            Report("2026-01-05T10:00:00+00:00"),
            Event(
                "investigation_concluded",
                "2026-01-07T10:00:00+00:00",
                fields={"outcome": "significant", "supplementary_work_needed": True},
            ),
            Event("summary_sent", "2026-01-08T10:00:00+00:00", fields={"method": "email"}),
            Event("safety_work_completed", "2026-01-09T10:00:00+00:00"),
            Sweep("2026-01-15T08:00:00+00:00"),
            Event(
                "supplementary_steps_taken",
                "2026-01-16T10:00:00+00:00",
                fields={"note": "damp survey booked"},
            ),
        ),
        (
            ("investigate", "2026-01-05T10:00:00+00:00", "2026-01-19T23:59:59+00:00", "met"),
            ("written_summary", "2026-01-07T10:00:00+00:00", "2026-01-12T23:59:59+00:00", "met"),
            ("safety_work", "2026-01-07T10:00:00+00:00", "2026-01-14T23:59:59+00:00", "met"),
            (
                "supplementary_work",
                "2026-01-07T10:00:00+00:00",
                "2026-04-01T22:59:59+00:00",
                "running",
            ),
            (
                "supplementary_steps",
                "2026-01-07T10:00:00+00:00",
                "2026-01-14T23:59:59+00:00",
                "breached",
            ),
        ),
    ),
    # --- met or breached by the act's time -------------------------------------------------------
    Row(
        "an investigation done on time but recorded after the breach is met",
        (
            Report(REPORT_MON),
            Sweep("2026-10-20T08:00:00+00:00"),
            Event(
                "investigation_concluded",
                "2026-10-19T16:00:00+00:00",
                recorded="2026-10-20T09:00:00+00:00",
                fields={"outcome": "not_significant"},
            ),
        ),
        (
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met", "done"),
            (
                "written_summary",
                "2026-10-19T16:00:00+00:00",
                "2026-10-22T22:59:59+00:00",
                "running",
            ),
        ),
        audit=("clock.breached", "clock.breach_withdrawn"),
    ),
    Row(
        "an investigation done late but recorded before the sweep is a breach",
        (
            Report(REPORT_MON),
            Event(
                "investigation_concluded",
                "2026-10-20T07:00:00+00:00",
                fields={"outcome": "not_significant"},
            ),
        ),
        (
            ("investigate", REPORT_MON, INVESTIGATE_MON, "breached", "done"),
            (
                "written_summary",
                "2026-10-20T07:00:00+00:00",
                "2026-10-23T22:59:59+00:00",
                "running",
            ),
        ),
    ),
    # --- new information ------------------------------------------------------------------------
    Row(
        "an emergency report after the investigation starts its own 24 hours",
        (
            Report(REPORT_MON),
            Event(
                "investigation_concluded",
                "2026-10-07T10:00:00+00:00",
                fields={"outcome": "significant"},
            ),
            Report("2026-10-09T10:00:00+00:00", emergency=True),
        ),
        (
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met"),
            (
                "written_summary",
                "2026-10-07T10:00:00+00:00",
                "2026-10-12T22:59:59+00:00",
                "running",
            ),
            ("safety_work", "2026-10-07T10:00:00+00:00", "2026-10-14T22:59:59+00:00", "running"),
            (
                "emergency_action",
                "2026-10-09T10:00:00+00:00",
                "2026-10-10T10:00:00+00:00",
                "running",
            ),
            ("investigate", "2026-10-09T10:00:00+00:00", "2026-10-23T22:59:59+00:00", "running"),
        ),
    ),
    Row(
        "a new report after the investigation needs a further investigation",
        (
            Report(REPORT_MON),
            Event(
                "investigation_concluded",
                "2026-10-07T10:00:00+00:00",
                fields={"outcome": "not_significant"},
            ),
            Report("2026-10-12T15:00:00+00:00"),
        ),
        (
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met"),
            (
                "written_summary",
                "2026-10-07T10:00:00+00:00",
                "2026-10-12T22:59:59+00:00",
                "running",
            ),
            ("investigate", "2026-10-12T15:00:00+00:00", "2026-10-26T23:59:59+00:00", "running"),
        ),
    ),
    Row(
        "an out-of-scope excess-cold case comes into scope when reported in phase 2",
        (
            Report("2026-11-20T10:00:00+00:00", hazard="excess_cold"),
            Report("2026-11-30T10:00:00+00:00", hazard="excess_cold"),
        ),
        (("investigate", "2026-11-30T10:00:00+00:00", "2026-12-14T23:59:59+00:00", "running"),),
        {"in_scope": True, "rule_set": "phase_2"},
    ),
    Row(
        "escalating an out-of-scope phase-1 report to emergency starts only the 24 hours",
        (
            Report("2026-11-02T10:00:00+00:00", hazard="excess_cold"),
            Report("2026-11-03T10:00:00+00:00", hazard="excess_cold", emergency=True),
        ),
        (
            (
                "emergency_action",
                "2026-11-03T10:00:00+00:00",
                "2026-11-04T10:00:00+00:00",
                "running",
            ),
        ),
        {"in_scope": True, "category": "emergency"},
    ),
    # --- emergencies ------------------------------------------------------------------------------
    Row(
        "an emergency finding keeps the 24 hours and starts no 5 working days",
        (
            Report(REPORT_MON, emergency=True),
            Event(
                "investigation_concluded",
                "2026-10-05T13:00:00+00:00",
                fields={"outcome": "emergency"},
            ),
        ),
        (
            (
                "emergency_action",
                REPORT_MON,
                "2026-10-06T10:00:00+00:00",
                "running",
            ),
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met"),
            (
                "written_summary",
                "2026-10-05T13:00:00+00:00",
                "2026-10-08T22:59:59+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "an emergency found by a standard investigation runs 24 hours from the finding",
        (
            Report(REPORT_MON, emergency=True),
            Event("safety_work_completed", "2026-10-05T15:00:00+00:00"),
            Event(
                "investigation_concluded",
                "2026-10-08T10:00:00+00:00",
                fields={"outcome": "emergency"},
            ),
        ),
        (
            ("emergency_action", REPORT_MON, "2026-10-06T10:00:00+00:00", "met", "done"),
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met"),
            (
                "emergency_action",
                "2026-10-08T10:00:00+00:00",
                "2026-10-09T10:00:00+00:00",
                "running",
            ),
            (
                "written_summary",
                "2026-10-08T10:00:00+00:00",
                "2026-10-13T22:59:59+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "the 24-hour duty ceases when the household moves into alternative accommodation",
        (
            Report(REPORT_MON, hazard="electrical", emergency=True),
            Event("alternative_accommodation_offered", "2026-10-05T12:00:00+00:00"),
            Event("alternative_accommodation_accepted", "2026-10-05T13:00:00+00:00"),
            Event("household_moved", "2026-10-05T18:00:00+00:00"),
        ),
        (("emergency_action", REPORT_MON, "2026-10-06T10:00:00+00:00", "met", "ceased"),),
        {"accommodation": "moved", "status": "open"},
    ),
    Row(
        "the 24-hour duty ceases when a third party's consent is refused",
        (
            Report(REPORT_MON, hazard="electrical", emergency=True),
            Event(
                "emergency_duty_ceased",
                "2026-10-05T20:00:00+00:00",
                fields={
                    "reason": "third_party_consent_refused",
                    "note": "freeholder refused access to the riser: calls at 12:00, 15:00, 19:30",
                },
            ),
        ),
        (("emergency_action", REPORT_MON, "2026-10-06T10:00:00+00:00", "met", "ceased"),),
        {"status": "open"},
    ),
    Row(
        "the 24-hour duty ceases when a further investigation finds no hazard",
        (
            Report(REPORT_MON, hazard="electrical", emergency=True),
            Event(
                "investigation_concluded",
                "2026-10-05T16:00:00+00:00",
                fields={"outcome": "no_hazard", "investigation_type": "further"},
            ),
        ),
        (
            ("emergency_action", REPORT_MON, "2026-10-06T10:00:00+00:00", "met", "ceased"),
            (
                "written_summary",
                "2026-10-05T16:00:00+00:00",
                "2026-10-08T22:59:59+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "a renewed investigation runs 10 working days from the tenant's request",
        (
            Report(REPORT_MON),
            Event(
                "investigation_concluded",
                "2026-10-07T10:00:00+00:00",
                fields={"outcome": "not_significant", "method": "remote"},
            ),
            Event("renewed_investigation_requested", "2026-10-09T10:00:00+00:00"),
        ),
        (
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met"),
            (
                "written_summary",
                "2026-10-07T10:00:00+00:00",
                "2026-10-12T22:59:59+00:00",
                "running",
            ),
            (
                "renewed_investigation",
                "2026-10-09T10:00:00+00:00",
                "2026-10-23T22:59:59+00:00",
                "running",
            ),
        ),
    ),
    Row(
        "safety work finished within the summary's 3 days: no summary needed",
        (
            Report(REPORT_MON),
            Event(
                "investigation_concluded",
                "2026-10-06T10:00:00+00:00",
                fields={"outcome": "significant"},
            ),
            Event("safety_work_completed", "2026-10-07T10:00:00+00:00"),
        ),
        (
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met", "done"),
            (
                "written_summary",
                "2026-10-06T10:00:00+00:00",
                "2026-10-09T22:59:59+00:00",
                "met",
                "ceased",
            ),
            (
                "safety_work",
                "2026-10-06T10:00:00+00:00",
                "2026-10-13T22:59:59+00:00",
                "met",
                "done",
            ),
        ),
    ),
    Row(
        "safety work that cannot be done in time asks for the accommodation decision first",
        (
            Report(REPORT_MON),
            Event(
                "investigation_concluded",
                "2026-10-06T10:00:00+00:00",
                fields={"outcome": "significant"},
            ),
            CannotMeet("2026-10-07T10:00:00+00:00"),
        ),
        (
            ("investigate", REPORT_MON, INVESTIGATE_MON, "met"),
            (
                "written_summary",
                "2026-10-06T10:00:00+00:00",
                "2026-10-09T22:59:59+00:00",
                "running",
            ),
            ("safety_work", "2026-10-06T10:00:00+00:00", "2026-10-13T22:59:59+00:00", "running"),
        ),
        {"accommodation": "due", "accommodation_decision_due_at": "2026-10-13T22:59:59Z"},
    ),
    # --- closing, tenure, future times -----------------------------------------------------------
    Row(
        "closing over a running clock needs a reason and a second person",
        (
            Report(REPORT_MON),
            Event(
                "closed",
                "2026-10-06T10:00:00+00:00",
                fields={"reason": "tenancy_ended"},
                expect_status=409,
            ),
            Event(
                "closure_requested", "2026-10-06T10:00:00+00:00", fields={"reason": "tenancy_ended"}
            ),
            Event(
                "closed",
                "2026-10-06T11:00:00+00:00",
                fields={"reason": "tenancy_ended"},
                expect_status=409,
            ),
            Event(
                "closed",
                "2026-10-06T11:00:00+00:00",
                by="officer-2",
                fields={"reason": "tenancy_ended"},
            ),
        ),
        (("investigate", REPORT_MON, INVESTIGATE_MON, "met", "ceased"),),
        {"status": "closed", "closure_reason": "tenancy_ended"},
    ),
    Row(
        "a home let on shared ownership runs no clock",
        (Tenure("shared_ownership"), Report(REPORT_MON)),
        (),
        {"in_scope": False, "tenure": "shared_ownership"},
    ),
    Row(
        "a report dated in the future is refused",
        (Report("2026-10-05T12:00:00+00:00", recorded=REPORT_MON, expect_status=422),),
    ),
    Row(
        "an event dated in the future is refused",
        (
            Report(REPORT_MON),
            Event(
                "investigation_booked",
                "2026-10-05T12:00:00+00:00",
                recorded="2026-10-05T11:00:00+00:00",
                expect_status=422,
            ),
        ),
        (("investigate", REPORT_MON, INVESTIGATE_MON, "running"),),
    ),
)


# --- the runner ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Legal:
    client: TestClient
    clock: Clock
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def legal(case_db, tmp_path: Path) -> Iterator[Legal]:
    tokens: dict[str, str] = {}
    with case_db.sessions.begin() as session:
        for name, role in (("officer-1", "officer"), ("officer-2", "officer")):
            add_user(session, name=name, role=role, now=utc_now())
            tokens[name] = create_token(session, name=name, now=utc_now())
    clock = Clock()
    telemetry = open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}")
    app = create_app(AppContext(case_db.sessions, telemetry, case_db.engine, clock=clock))
    with TestClient(app) as client:
        yield Legal(client, clock, tokens)
    telemetry.close()


def _recorded(step: Report | Event) -> datetime:
    return t(step.recorded) if step.recorded else t(step.at) + timedelta(minutes=1)


def _tell(row: Row, legal: Legal, case_db) -> int | None:
    case_id: int | None = None
    for step in row.steps:
        if isinstance(step, Tenure):
            with case_db.sessions.begin() as session:
                import_registry(
                    session,
                    tenancies_text=tenancies_csv(
                        ["H0001"], tenure=step.tenure, start_date="2020-01-01"
                    ),
                )
        elif isinstance(step, Report):
            legal.clock.now = _recorded(step)
            response = legal.client.post(
                "/api/v1/reports",
                json={
                    "home_id": "H0001",
                    "hazard": step.hazard,
                    "source": "tenant",
                    "reported_at": step.at,
                    "description": "reported by phone",
                    "emergency": step.emergency,
                },
                headers=legal.headers("officer-1"),
            )
            expected = step.expect_status or (200 if case_id else 201)
            assert response.status_code == expected, (step, response.text)
            if response.status_code < 300:
                case_id = response.json()["id"]
        elif isinstance(step, Event):
            assert case_id is not None
            legal.clock.now = _recorded(step)
            response = legal.client.post(
                f"/api/v1/cases/{case_id}/events",
                json={"type": step.type, "at": step.at, **step.fields},
                headers=legal.headers(step.by),
            )
            assert response.status_code == step.expect_status, (step, response.text)
        elif isinstance(step, Sweep):
            run_sweep(case_db.sessions, now=t(step.now))
        elif isinstance(step, CannotMeet):
            assert case_id is not None
            legal.clock.now = t(step.at)
            response = legal.client.post(
                f"/api/v1/cases/{case_id}/safety-work-cannot-be-met",
                json={"reason": step.reason},
                headers=legal.headers("officer-1"),
            )
            assert response.status_code == 200, response.text
    return case_id


def _utc(text: str) -> str:
    return t(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_legal_table(row: Row, legal: Legal, case_db) -> None:
    case_id = _tell(row, legal, case_db)
    if case_id is None:
        assert not row.clocks
        return
    case = legal.client.get(f"/api/v1/cases/{case_id}", headers=legal.headers("officer-1")).json()
    got = [
        (
            clock["duty"] or clock["kind"],
            clock["started_at"],
            clock["due_at"],
            clock["status"],
            clock["ended"],
        )
        for clock in case["clocks"]
    ]
    expected = [(duty, _utc(started), _utc(due), *rest) for duty, started, due, *rest in row.clocks]
    # A row that names how a clock ended checks it; one that does not leaves it unchecked.
    assert [g[: len(e)] for g, e in zip(got, expected, strict=False)] == expected
    assert len(got) == len(expected)
    for key, value in row.case.items():
        assert case[key] == value, key
    if row.audit:
        with case_db.sessions() as session:
            actions = [a for (a,) in session.query(AuditEntry.action).order_by(AuditEntry.id)]
        for action in row.audit:
            assert action in actions


def test_every_situation_of_the_issue_has_a_row() -> None:
    names = " | ".join(row.name for row in TABLE)
    for words in (
        "recorded after the breach",
        "recorded before the sweep",
        "emergency report after the investigation",
        "further investigation",
        "comes into scope",
        "clock change",
        "emergency finding",
        "standard investigation",
        "only the 24 hours",
        "in the future",
        "renewed investigation",
        "alternative accommodation",
        "third party",
        "finds no hazard",
        "supplementary",
        "second person",
        "shared ownership",
        "substitute",
        "Good Friday",
    ):
        assert words in names, words
