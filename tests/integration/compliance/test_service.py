"""Compliance service over a real database: one open case per home and hazard, triage, escalation,
the alternative-accommodation duty after a safety breach, and one audit entry per state change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from compliance import audit
from compliance.calendar import WorkingDayCalendar
from compliance.jobs import run_sweep
from compliance.models import AuditEntry, Case
from compliance.rules import ComplianceSettings
from compliance.schemas import EventIn, FindingIn, ReportIn
from compliance.service import (
    Engine,
    EventRefused,
    record_event,
    record_finding,
    record_report,
)

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def finding(at: datetime, home: str = "H0001", category: str = "potential") -> FindingIn:
    return FindingIn(
        home_id=home,
        hazard="damp_and_mould",
        category=category,
        detected_at=at,
        sensor="gw-0001/s1",
        room="bedroom",
        rule="sustained_humidity",
        rule_version="1",
        window_start=at - timedelta(days=3),
        window_end=at,
        figures={"humidity_pct_p50": 82.0},
    )


def event(session, case_id, engine, type_, at, **kw):
    return record_event(
        session,
        case_id=case_id,
        event=EventIn(type=type_, at=at, **kw),
        actor="officer-1",
        now=at,
        engine=engine,
    )


def test_findings_and_reports_join_one_open_case(case_db):
    engine = case_db.engine
    with case_db.sessions.begin() as session:
        case, created = record_finding(session, finding=finding(T0), now=T0, engine=engine)
        assert created
        assert [c.kind for c in case.clocks] == ["investigate"]
        joined, created = record_finding(
            session,
            finding=finding(T0 + timedelta(days=1)),
            now=T0 + timedelta(days=1),
            engine=engine,
        )
        assert (joined.id, created) == (case.id, False)
        report = ReportIn(
            home_id="H0001",
            hazard="damp_and_mould",
            source="tenant",
            reported_at=T0 + timedelta(days=2),
            emergency=True,
        )
        joined, created = record_report(
            session, report=report, actor="officer-1", now=T0 + timedelta(days=2), engine=engine
        )
        assert (joined.id, created) == (case.id, False)
        # An emergency report joining a case not yet investigated starts the 24-hour clock.
        assert joined.category == "emergency"
        assert sorted(c.kind for c in joined.clocks) == ["emergency_action", "investigate"]
        assert len(joined.evidence) == 3
    with case_db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["case.opened", "case.evidence_added", "case.evidence_added"]
        assert audit.verify(session).ok


def test_on_triage_clocks_start_at_the_officers_confirmation(case_db):
    engine = Engine(WorkingDayCalendar(), ComplianceSettings(awareness_from_sensors="on_triage"))
    confirmed = T0 + timedelta(hours=20)
    with case_db.sessions.begin() as session:
        case, _ = record_finding(session, finding=finding(T0), now=T0, engine=engine)
        assert (case.stage, case.clocks) == ("awaiting_triage", [])
        with pytest.raises(EventRefused, match="triage"):
            event(session, case.id, engine, "investigation_booked", confirmed)
        case = event(session, case.id, engine, "triage_confirmed", confirmed)
        assert case.triage_confirmed_at == confirmed
        assert [(c.kind, c.started_at) for c in case.clocks] == [("investigate", confirmed)]
        with pytest.raises(EventRefused, match="not awaiting triage"):
            event(session, case.id, engine, "triage_confirmed", confirmed)


def test_safety_breach_shows_the_accommodation_duty_until_an_offer_and_answer(case_db):
    engine = case_db.engine
    with case_db.sessions.begin() as session:
        case, _ = record_finding(session, finding=finding(T0), now=T0, engine=engine)
        event(
            session,
            case.id,
            engine,
            "investigation_concluded",
            T0 + timedelta(days=1),
            outcome="significant",
            supplementary_work_needed=True,
        )
        assert sorted(c.kind for c in case.clocks) == [
            "investigate",
            "safety_work",
            "supplementary_work",
            "supplementary_work",
            "written_summary",
        ]
        case_id = case.id
    # Safety work due end of working day 5 after Tue 3 March = Tue 10 March 23:59:59 GMT.
    # ... and so are the summary (3 working days) and the steps to begin supplementary work (5).
    assert run_sweep(case_db.sessions, now=datetime(2026, 3, 11, 0, 0, tzinfo=UTC)) == 3
    with case_db.sessions.begin() as session:
        case = session.get(Case, case_id)
        statuses = {c.kind: (c.status, c.breached_at) for c in case.clocks}
        assert statuses["safety_work"] == (
            "breached",
            datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC),
        )
        assert statuses["written_summary"][0] == "breached"
        assert (case.accommodation, case.alternative_accommodation_due) == ("due", True)
        offered = datetime(2026, 3, 11, 9, tzinfo=UTC)
        case = event(session, case_id, engine, "alternative_accommodation_offered", offered)
        assert (case.accommodation, case.alternative_accommodation_due) == ("offered", False)
        assert case.accommodation_offered_at == offered
        case = event(
            session,
            case_id,
            engine,
            "alternative_accommodation_declined",
            offered + timedelta(hours=3),
        )
        assert case.accommodation == "declined"
        case = event(session, case_id, engine, "safety_work_completed", offered + timedelta(days=1))
        safety = next(c for c in case.clocks if c.kind == "safety_work")
        assert (safety.status, safety.met_at) == ("breached", offered + timedelta(days=1))
        with pytest.raises(EventRefused, match="say why the case closes"):
            event(session, case_id, engine, "closed", offered + timedelta(days=2))
        case = event(
            session, case_id, engine, "supplementary_work_started", offered + timedelta(days=2)
        )
        case = event(
            session, case_id, engine, "summary_sent", offered + timedelta(days=2), method="letter"
        )
        case = event(session, case_id, engine, "closed", offered + timedelta(days=3))
        assert case.status == "closed"
        assert case.next_due_at is None
        # A new finding after closing opens a new case; reopening the old one restarts investigate.
        new, created = record_finding(
            session,
            finding=finding(offered + timedelta(days=4)),
            now=offered + timedelta(days=4),
            engine=engine,
        )
        assert created
        assert new.id != case_id


def test_out_of_scope_and_pre_law_cases_run_no_clocks(case_db):
    engine = case_db.engine
    with case_db.sessions.begin() as session:
        early = ReportIn(
            home_id="H0003",
            hazard="damp_and_mould",
            source="tenant",
            reported_at=datetime(2025, 10, 26, 23, 30, tzinfo=UTC),
        )  # 26 Oct, 23:30 GMT
        case, _ = record_report(session, report=early, actor="o", now=T0, engine=engine)
        assert (case.rule_set, case.in_scope, case.clocks) == ("out_of_scope", False, [])
        cold = ReportIn(home_id="H0004", hazard="excess_cold", source="tenant", reported_at=T0)
        case, _ = record_report(session, report=cold, actor="o", now=T0, engine=engine)
        assert (case.rule_set, case.in_scope, case.clocks) == ("phase_1", False, [])
        case = event(
            session,
            case.id,
            engine,
            "investigation_concluded",
            T0 + timedelta(days=1),
            outcome="significant",
        )
        assert case.clocks == []  # significant excess cold comes in with phase 2
        on_day = ReportIn(
            home_id="H0005",
            hazard="damp_and_mould",
            source="tenant",
            reported_at=datetime(2025, 10, 27, 0, 0, tzinfo=UTC),
        )
        case, _ = record_report(session, report=on_day, actor="o", now=T0, engine=engine)
        assert (case.rule_set, [c.kind for c in case.clocks]) == ("phase_1", ["investigate"])
