"""The clocks in ordinary office practice, through the API on SQLite and PostgreSQL.

One test per situation a compliance officer met in use (issue: "Clocks a compliance officer can
rely on"): each failed before its fix.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from compliance.jobs import run_sweep
from registry.clock import to_rfc3339, utc_now

pytestmark = pytest.mark.integration


def iso(at: datetime) -> str:
    return to_rfc3339(at)


def report(api, *, home: str = "H0001", hazard: str = "damp_and_mould", **fields: Any):
    body = {
        "home_id": home,
        "hazard": hazard,
        "source": "tenant",
        "description": "reported",
    } | fields
    if isinstance(body["reported_at"], datetime):
        body["reported_at"] = iso(body["reported_at"])
    return api.client.post("/api/v1/reports", json=body, headers=api.headers("officer"))


def event(api, case_id: int, type_: str, at: datetime | str, **fields: Any):
    body = {"type": type_, "at": at if isinstance(at, str) else iso(at)} | fields
    return api.client.post(
        f"/api/v1/cases/{case_id}/events", json=body, headers=api.headers("officer")
    )


def clocks_of(case: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in case["clocks"] if c["kind"] == kind]


def audit_actions(case_db, case_id: int) -> list[str]:
    from compliance.models import AuditEntry, Clock

    with case_db.sessions() as session:
        clock_ids = {str(c.id) for c in session.query(Clock).filter(Clock.case_id == case_id)}
        return [
            e.action
            for e in session.query(AuditEntry).order_by(AuditEntry.id)
            if (e.entity_type == "case" and e.entity_id == str(case_id))
            or (e.entity_type == "clock" and e.entity_id in clock_ids)
        ]


# --- 1. met or breached by the act's time, not by the order of recording ---------------------------


def test_a_timely_investigation_recorded_after_the_sweep_turns_the_breach_to_met(api, case_db):
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)  # a Monday; due end of Mon 19 Oct
    case = report(api, reported_at=reported).json()
    due = datetime.fromisoformat(clocks_of(case, "investigate")[0]["due_at"])
    assert run_sweep(case_db.sessions, now=due + timedelta(hours=9)) == 1
    breached = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.headers("officer"))
    assert clocks_of(breached.json(), "investigate")[0]["status"] == "breached"

    concluded_at = due - timedelta(hours=6)  # done on the afternoon of the last day
    done = event(api, case["id"], "investigation_concluded", concluded_at, outcome="significant")
    assert done.status_code == 200, done.text
    clock = clocks_of(done.json(), "investigate")[0]
    assert clock["status"] == "met"
    assert clock["met_at"] == iso(concluded_at)
    assert clock["breached_at"] is None
    assert done.json()["accommodation"] == "not_due"
    actions = audit_actions(case_db, case["id"])
    assert "clock.breached" in actions
    assert "clock.breach_withdrawn" in actions  # both steps stay on the record


def test_a_late_act_recorded_before_the_sweep_is_a_breach(api):
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)
    case = report(api, reported_at=reported).json()
    due = datetime.fromisoformat(clocks_of(case, "investigate")[0]["due_at"])
    late = due + timedelta(hours=10)
    done = event(api, case["id"], "investigation_concluded", late, outcome="not_significant")
    assert done.status_code == 200, done.text
    clock = clocks_of(done.json(), "investigate")[0]
    assert clock["status"] == "breached"
    assert clock["breached_at"] == iso(due)
    assert clock["met_at"] == iso(late)


def test_a_timely_make_safe_recorded_late_withdraws_the_accommodation_duty(api, case_db):
    reported = datetime(2026, 10, 6, 9, tzinfo=UTC)
    case = report(api, hazard="electrical", reported_at=reported, emergency=True).json()
    due = reported + timedelta(hours=24)
    run_sweep(case_db.sessions, now=due + timedelta(hours=1))
    swept = api.client.get(f"/api/v1/cases/{case['id']}", headers=api.headers("officer")).json()
    assert swept["accommodation"] == "due"
    made_safe = event(api, case["id"], "safety_work_completed", reported + timedelta(hours=20))
    assert made_safe.status_code == 200, made_safe.text
    after = made_safe.json()
    assert clocks_of(after, "emergency_action")[0]["status"] == "met"
    assert after["accommodation"] == "not_due"


# --- 2. new information after the investigation -----------------------------------------------------


def test_an_emergency_report_after_the_investigation_starts_its_own_24_hours(api):
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)
    case = report(api, reported_at=reported).json()
    event(
        api,
        case["id"],
        "investigation_concluded",
        reported + timedelta(days=2),
        outcome="significant",
    )
    again_at = reported + timedelta(days=4)
    joined = report(api, reported_at=again_at, emergency=True)
    assert joined.status_code == 200, joined.text
    assert joined.json()["id"] == case["id"]
    emergency = clocks_of(joined.json(), "emergency_action")
    assert len(emergency) == 1
    assert emergency[0]["started_at"] == iso(again_at)
    assert emergency[0]["due_at"] == iso(again_at + timedelta(hours=24))
    assert emergency[0]["status"] == "running"


def test_a_new_report_after_the_investigation_needs_a_further_investigation(api):
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)  # Monday
    case = report(api, reported_at=reported).json()
    event(
        api,
        case["id"],
        "investigation_concluded",
        reported + timedelta(days=2),
        outcome="not_significant",
    )
    again_at = datetime(2026, 10, 12, 15, tzinfo=UTC)  # Monday a week later
    joined = report(api, reported_at=again_at).json()
    investigations = clocks_of(joined, "investigate")
    assert len(investigations) == 2
    further = investigations[-1]
    assert further["status"] == "running"
    assert further["started_at"] == iso(again_at)
    assert further["due_at"] == "2026-10-26T23:59:59Z"  # 10 working days, local end of day (GMT)
    assert further["investigation_type"] == "further"
    # The further investigation concludes like the first one did, with its own summary clock.
    done = event(
        api,
        joined["id"],
        "investigation_concluded",
        again_at + timedelta(days=1),
        outcome="significant",
    )
    assert done.status_code == 200, done.text
    assert clocks_of(done.json(), "investigate")[-1]["status"] == "met"
    assert len(clocks_of(done.json(), "written_summary")) == 2


# --- 3. an out-of-scope case is not a sink -----------------------------------------------------------


def test_excess_cold_reported_again_after_phase_2_starts_its_clocks(api):
    first = report(api, hazard="excess_cold", reported_at=datetime(2026, 11, 20, 10, tzinfo=UTC))
    assert first.status_code == 201
    assert first.json()["in_scope"] is False
    assert first.json()["clocks"] == []
    later_at = datetime(2026, 11, 30, 10, tzinfo=UTC)
    later = report(api, hazard="excess_cold", reported_at=later_at).json()
    investigate = clocks_of(later, "investigate")
    assert len(investigate) == 1
    assert investigate[0]["started_at"] == iso(later_at)
    assert later["in_scope"] is True
    assert later["rule_set"] == "phase_2"


# --- 4. 24 hours are elapsed hours across the clock change -------------------------------------------


@pytest.mark.parametrize(
    ("reported_at", "due_at"),
    [
        ("2026-10-24T12:00:00+01:00", "2026-10-25T11:00:00Z"),  # BST -> GMT on Sunday 25 Oct
        ("2026-03-28T12:00:00+00:00", "2026-03-29T12:00:00Z"),  # GMT -> BST on Sunday 29 Mar
    ],
)
def test_24_hours_are_elapsed_hours_when_the_start_carries_a_zone(api, reported_at, due_at):
    case = report(api, hazard="electrical", reported_at=reported_at, emergency=True)
    assert case.status_code == 201, case.text
    assert clocks_of(case.json(), "emergency_action")[0]["due_at"] == due_at


# --- 5. emergency findings ---------------------------------------------------------------------------


def test_an_emergency_finding_runs_the_24_hours_not_the_5_working_days(api):
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)
    case = report(api, reported_at=reported, emergency=True).json()
    concluded = event(
        api,
        case["id"],
        "investigation_concluded",
        reported + timedelta(hours=3),
        outcome="emergency",
    ).json()
    assert clocks_of(concluded, "safety_work") == []
    emergency = clocks_of(concluded, "emergency_action")
    assert [c["status"] for c in emergency] == ["running"]
    letter = api.client.get(
        f"/api/v1/cases/{case['id']}/summary.html", headers=api.headers("officer")
    )
    assert "Tuesday 6 October 2026" in letter.text  # the 24-hour deadline, 11:00 BST on Tuesday
    assert "Monday 12 October 2026" not in letter.text  # not working day 5


def test_an_emergency_found_by_a_standard_investigation_runs_24_hours_from_the_finding(api):
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)
    case = report(api, reported_at=reported, emergency=True).json()
    event(api, case["id"], "safety_work_completed", reported + timedelta(hours=5))
    found_at = reported + timedelta(days=3)
    concluded = event(api, case["id"], "investigation_concluded", found_at, outcome="emergency")
    assert concluded.status_code == 200, concluded.text
    emergency = clocks_of(concluded.json(), "emergency_action")
    assert len(emergency) == 2
    assert emergency[-1]["started_at"] == iso(found_at)
    assert emergency[-1]["due_at"] == iso(found_at + timedelta(hours=24))


# --- 6. the written summary says only what happened ----------------------------------------------


def test_the_summary_never_says_work_was_done_when_a_duty_fell_away(api):
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)
    case = report(api, reported_at=reported, emergency=True).json()
    event(
        api,
        case["id"],
        "investigation_concluded",
        reported + timedelta(hours=3),
        outcome="significant",
    )
    letter = api.client.get(
        f"/api/v1/cases/{case['id']}/summary.html", headers=api.headers("officer")
    )
    assert letter.status_code == 200
    assert "done on" not in letter.text
    assert "emergency hazard: done" not in letter.text.lower()


# --- 7. escalation of an out-of-scope report ----------------------------------------------------------


def test_escalating_an_out_of_scope_phase_1_report_starts_only_the_24_hours(api):
    first = report(api, hazard="excess_cold", reported_at=datetime(2026, 11, 2, 10, tzinfo=UTC))
    assert first.json()["clocks"] == []
    escalated = report(
        api, hazard="excess_cold", reported_at=datetime(2026, 11, 3, 10, tzinfo=UTC), emergency=True
    ).json()
    assert [c["kind"] for c in escalated["clocks"]] == ["emergency_action"]


# --- 8. times in the future are refused with 422 --------------------------------------------------------


def test_reports_and_events_dated_in_the_future_are_refused(api):
    ahead = utc_now() + timedelta(hours=1)
    refused = report(api, reported_at=ahead)
    assert refused.status_code == 422
    assert "future" in str(refused.json()["detail"])
    skew = report(api, reported_at=utc_now() + timedelta(minutes=2))
    assert skew.status_code == 201, skew.text
    case_id = skew.json()["id"]
    future_event = event(api, case_id, "investigation_booked", ahead)
    assert future_event.status_code == 422
    assert "future" in str(future_event.json()["detail"])


# --- tenure: clocks run only for a relevant social housing lease -------------------------------------


def test_clocks_run_only_for_a_relevant_social_housing_lease(api, case_db):
    from registry.service import import_registry
    from tests.factories import tenancies_csv

    with case_db.sessions.begin() as session:
        import_registry(
            session,
            tenancies_text=tenancies_csv(["H0005"], tenure="shared_ownership")
            + tenancies_csv(["H0006"], tenure="affordable_rent").split("\n", 1)[1],
        )
    reported = datetime(2026, 10, 5, 10, tzinfo=UTC)
    shared = report(api, home="H0005", reported_at=reported).json()
    assert shared["in_scope"] is False
    assert shared["clocks"] == []
    assert "shared ownership" in shared["scope_reason"]
    assert shared["tenure"] == "shared_ownership"
    let = report(api, home="H0006", reported_at=reported).json()
    assert [c["kind"] for c in let["clocks"]] == ["investigate"]
    assert let["tenure"] == "affordable_rent"
    unknown = report(api, home="H0007", reported_at=reported).json()  # no tenancy on record
    assert [c["kind"] for c in unknown["clocks"]] == ["investigate"]
    assert unknown["tenure"] is None
