"""Deadlines are rows: warnings and breaches exactly once, at the deadline's time, across restarts
and across two scheduler processes on one PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from compliance import audit
from compliance.jobs import run_sweep, run_warnings
from compliance.models import AuditEntry, Case, Clock, ClockWarning
from compliance.schemas import ReportIn
from compliance.service import record_report

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
# Monday 2 March 2026 10:00 GMT: investigate is due at the end of Monday 16 March (23:59:59 GMT).
REPORTED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 16, 23, 59, 59, tzinfo=UTC)


def open_cases(
    case_db,
    homes: int,
    reported: datetime = REPORTED,
    hazard: str = "damp_and_mould",
    emergency: bool = False,
) -> None:
    with case_db.sessions.begin() as session:
        for h in range(1, homes + 1):
            record_report(
                session,
                report=ReportIn(
                    home_id=f"H{h:04d}",
                    hazard=hazard,
                    source="tenant",
                    reported_at=reported,
                    description="mould",
                    emergency=emergency,
                ),
                actor="officer",
                now=reported,
                engine=case_db.engine,
            )


def count(case_db, query) -> int:
    with case_db.sessions() as session:
        return session.scalar(query)


def actions(case_db, action: str) -> list[str]:
    with case_db.sessions() as session:
        return list(
            session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == action))
        )


def test_warnings_at_two_and_one_working_days_and_four_hours_then_breach_each_once(case_db):
    open_cases(case_db, 1)
    with case_db.sessions() as session:
        warns = session.execute(select(ClockWarning.warn_at, ClockWarning.label)).all()
    # Two working days left from 00:00 on Friday 13 March (Fri and Mon 16 remain), one from
    # 00:00 on Monday 16 March (the staff alert); 4 h before due.
    assert sorted(warns) == [
        (datetime(2026, 3, 13, 0, 0, tzinfo=UTC), "2_working_days_left"),
        (datetime(2026, 3, 16, 0, 0, tzinfo=UTC), "1_working_days_left"),
        (DUE - timedelta(hours=4), "4_hours_left"),
    ]
    sweep = lambda now: (  # noqa: E731
        run_sweep(case_db.sessions, now=now),
        run_warnings(case_db.sessions, now=now),
    )
    assert sweep(datetime(2026, 3, 12, 23, 59, 59, tzinfo=UTC)) == (0, 0)
    assert sweep(datetime(2026, 3, 13, 0, 0, tzinfo=UTC)) == (0, 1)
    assert sweep(datetime(2026, 3, 13, 0, 1, tzinfo=UTC)) == (0, 0)
    assert sweep(datetime(2026, 3, 16, 0, 0, tzinfo=UTC)) == (0, 1)
    assert sweep(DUE - timedelta(hours=4)) == (0, 1)
    assert sweep(DUE) == (0, 0)  # due at 23:59:59 means on time up to and including it
    assert sweep(DUE + timedelta(seconds=1)) == (1, 0)
    assert sweep(DUE + timedelta(days=3)) == (0, 0)
    assert len(actions(case_db, "clock.warning")) == 3
    assert len(actions(case_db, "clock.breached")) == 1


def test_scheduler_down_across_the_deadline_records_the_breach_at_the_deadline(case_db):
    open_cases(case_db, 3)
    restart = DUE + timedelta(days=4, hours=7)
    # Down from before the first warning until four days after the deadline.
    assert run_sweep(case_db.sessions, now=restart) == 3
    # Warnings of clocks already breached are not fired late.
    assert run_warnings(case_db.sessions, now=restart) == 0
    with case_db.sessions() as session:
        clocks = session.scalars(select(Clock)).all()
        assert {(c.status, c.breached_at) for c in clocks} == {("breached", DUE)}
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "clock.breached")
        ).first()
        assert entry.after["breached_at"] == "2026-03-16T23:59:59Z"
        assert entry.at == restart  # recorded when noticed, dated at the deadline
        assert audit.verify(session).ok


def test_met_clock_is_never_warned_or_breached(case_db, api):
    open_cases(case_db, 1)
    officer = api.headers("officer")
    case_id = api.client.get("/api/v1/cases", headers=officer).json()[0]["id"]
    response = api.client.post(
        f"/api/v1/cases/{case_id}/events",
        json={
            "type": "investigation_concluded",
            "at": "2026-03-04T12:00:00Z",
            "outcome": "no_hazard",
        },
        headers=officer,
    )
    assert response.status_code == 200, response.text
    response = api.client.post(
        f"/api/v1/cases/{case_id}/events",
        json={"type": "summary_sent", "at": "2026-03-05T12:00:00Z", "method": "email"},
        headers=officer,
    )
    assert response.status_code == 200, response.text
    later = DUE + timedelta(days=30)
    assert run_sweep(case_db.sessions, now=later) == 0
    assert run_warnings(case_db.sessions, now=later) == 0


@pytest.mark.parametrize("case_db_url", ["postgresql"], indirect=True)
def test_two_scheduler_processes_never_double_a_warning_or_a_breach(case_db):
    homes = 20
    open_cases(case_db, homes)
    # More due clocks: each home gets cases for more hazards on other days.
    with case_db.sessions.begin() as session:
        for day in range(1, 8):
            for h in range(1, homes + 1):
                record_report(
                    session,
                    report=ReportIn(
                        home_id=f"H{h:04d}",
                        hazard=(
                            "damp_and_mould",
                            "excess_cold",
                            "fire",
                            "electrical",
                            "falls_stairs",
                            "excess_heat",
                            "food_safety",
                            "lead",
                        )[day],
                        source="tenant",
                        reported_at=REPORTED + timedelta(days=day),
                        description="x",
                        # Emergencies: every hazard but overcrowding is in scope in phase 1.
                        emergency=True,
                    ),
                    actor="officer",
                    now=REPORTED + timedelta(days=day),
                    engine=case_db.engine,
                )
    running = count(
        case_db, select(func.count()).select_from(Clock).where(Clock.status == "running")
    )
    warnings = count(case_db, select(func.count()).select_from(ClockWarning))
    assert running >= 100
    now = DUE + timedelta(days=20)
    start = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.compliance.sweeper",
                case_db.url,
                now.isoformat(),
                str(start),
                "3",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(tuple(map(int, out.split())))
    breached = actions(case_db, "clock.breached")
    assert len(breached) == running
    assert len(set(breached)) == running
    assert sum(r[0] for r in results) == running
    with case_db.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(Clock).where(Clock.status == "running"))
            == 0
        )
        assert audit.verify(session).ok
    # The deadlines passed before the sweep, so no warning fired late. Now fresh clocks whose
    # warnings are due and deadlines not, swept by two processes.
    assert warnings > 0
    assert actions(case_db, "clock.warning") == []
    # Phase 2 (from 2026-11-30): structural collapse is a significant hazard too, so an emergency
    # report of it runs the 10-working-day investigation (with its warnings) beside the 24 hours.
    fresh_now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    open_cases(case_db, homes, reported=fresh_now, hazard="structural_collapse", emergency=True)
    warned_before = len(actions(case_db, "clock.warning"))
    late = fresh_now + timedelta(days=13, hours=20)  # past the 2-working-day warning, not due
    due_warnings = count(
        case_db,
        select(func.count())
        .select_from(ClockWarning)
        .join(Clock)
        .where(Clock.status == "running", ClockWarning.warn_at <= late, Clock.due_at >= late),
    )
    assert due_warnings > 0
    start = time.time() + 2.0
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.compliance.sweeper",
                case_db.url,
                late.isoformat(),
                str(start),
                "3",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    warned = actions(case_db, "clock.warning")[warned_before:]
    assert len(warned) == due_warnings
    with case_db.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(ClockWarning)
                .where(ClockWarning.fired_at.isnot(None))
            )
            == due_warnings
        )


def test_a_batch_records_each_breach_in_order_with_the_accommodation_duty(case_db):
    # Home 1: an emergency damp-and-mould report runs the 24-hour clock and the investigation.
    open_cases(case_db, 1, emergency=True)
    open_cases(case_db, 2)  # home 2: the investigation only (home 1 joins its open case)
    with case_db.sessions() as session:
        clocks = session.scalars(select(Clock).order_by(Clock.id)).all()
        assert [(c.case_id, c.kind) for c in clocks] == [
            (1, "emergency_action"),
            (1, "investigate"),
            (2, "investigate"),
        ]
    emergency_due = REPORTED + timedelta(hours=24)
    # Between the deadlines only the 24-hour clock breaches; the case's next deadline moves on.
    assert run_sweep(case_db.sessions, now=emergency_due + timedelta(hours=1)) == 1
    with case_db.sessions() as session:
        case = session.get(Case, 1)
        assert (case.accommodation, case.alternative_accommodation_due) == ("due", True)
        assert case.next_due_at == DUE
    later = DUE + timedelta(days=1)
    assert run_sweep(case_db.sessions, now=later) == 2
    with case_db.sessions() as session:
        assert [c.next_due_at for c in session.scalars(select(Case).order_by(Case.id))] == [
            None,
            None,
        ]
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "clock.breached").order_by(AuditEntry.id)
        ).all()
        assert [(e.entity_id, e.before, e.after) for e in entries] == [
            (
                str(clocks[0].id),
                {"status": "running", "accommodation": "not_due"},
                {
                    "case_id": 1,
                    "kind": "emergency_action",
                    "status": "breached",
                    "due_at": "2026-03-03T10:00:00Z",
                    "breached_at": "2026-03-03T10:00:00Z",
                    "accommodation": "due",
                    "notices": ["alternative_accommodation_due"],
                },
            ),
            *[
                (
                    str(clock.id),
                    {"status": "running", "accommodation": accommodation},
                    {
                        "case_id": clock.case_id,
                        "kind": "investigate",
                        "status": "breached",
                        "due_at": "2026-03-16T23:59:59Z",
                        "breached_at": "2026-03-16T23:59:59Z",
                        "accommodation": accommodation,
                        "notices": [],
                    },
                )
                for clock, accommodation in ((clocks[1], "due"), (clocks[2], "not_due"))
            ],
        ]
        assert [e.at for e in entries] == [emergency_due + timedelta(hours=1), later, later]
        assert audit.verify(session).ok
