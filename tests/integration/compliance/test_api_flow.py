"""The API end to end: reports -> case -> events -> 409 refusals -> breach via sweep -> excuse ->
report.csv -> audit verify (TestClient over SQLite and PostgreSQL, real tokens)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from compliance.jobs import run_sweep
from registry.clock import to_rfc3339, utc_now

pytestmark = pytest.mark.integration


def iso(at: datetime) -> str:
    return to_rfc3339(at)


def test_report_to_audit_verify(api, case_db):
    officer, compliance = api.headers("officer"), api.headers("compliance")
    now = utc_now()
    reported = now - timedelta(days=30)
    body = {
        "home_id": "H0001",
        "hazard": "damp_and_mould",
        "source": "tenant",
        "reported_at": iso(reported),
        "description": "black mould behind the wardrobe",
    }
    created = api.client.post("/api/v1/reports", json=body, headers=officer)
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["category"] == "potential"
    assert [c["kind"] for c in case["clocks"]] == ["investigate"]
    assert case["clocks"][0]["status"] == "running"
    assert case["clocks"][0]["due_at"].endswith("Z")

    # A second report joins the case as evidence; no duplicate case.
    again = api.client.post(
        "/api/v1/reports",
        json=body | {"reported_at": iso(reported + timedelta(hours=2))},
        headers=officer,
    )
    assert again.status_code == 200
    assert again.json()["id"] == case["id"]
    assert len(again.json()["evidence"]) == 2
    listed = api.client.get("/api/v1/cases", params={"home_id": "H0001"}, headers=officer)
    assert [c["id"] for c in listed.json()] == [case["id"]]

    url = f"/api/v1/cases/{case['id']}/events"
    # Refusals: 409 with the reason.
    refused = api.client.post(
        url, json={"type": "summary_sent", "at": iso(reported)}, headers=officer
    )
    assert refused.status_code == 409
    assert "investigation is not concluded" in refused.json()["detail"]
    refused = api.client.post(url, json={"type": "reopened", "at": iso(reported)}, headers=officer)
    assert refused.status_code == 409
    assert "only a closed case" in refused.json()["detail"]
    # A viewer may not post events.
    assert (
        api.client.post(
            url,
            json={"type": "investigation_booked", "at": iso(reported)},
            headers=api.headers("viewer"),
        ).status_code
        == 403
    )

    # Three failed access attempts by different methods.
    for hours, method in ((1, "phone"), (30, "letter"), (60, "visit")):
        response = api.client.post(
            url,
            json={
                "type": "access_failed",
                "at": iso(reported + timedelta(hours=hours)),
                "method": method,
            },
            headers=officer,
        )
        assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["access_failures"] == 3
    assert detail["access_reasonable_steps"] is True

    # The sweep breaches the overdue investigate clock, dated at its deadline.
    assert run_sweep(case_db.sessions, now=now) == 1
    assert run_sweep(case_db.sessions, now=now) == 0
    detail = api.client.get(f"/api/v1/cases/{case['id']}", headers=officer).json()
    investigate = detail["clocks"][0]
    assert investigate["status"] == "breached"
    assert investigate["breached_at"] == investigate["due_at"]
    assert (
        api.client.get("/api/v1/cases", params={"breached": "true"}, headers=officer).json()[0][
            "id"
        ]
        == case["id"]
    )

    # Excuse needs recorded steps first; then a compliance officer accepts them.
    excuse_url = f"/api/v1/cases/{case['id']}/clocks/investigate/excuse"
    assert api.client.post(excuse_url, headers=compliance).status_code == 409
    steps = api.client.post(
        f"/api/v1/cases/{case['id']}/clocks/investigate/reasonable-steps",
        json={"steps": "Tenant refused access three times: phone, letter, visit."},
        headers=officer,
    )
    assert steps.status_code == 200, steps.text
    assert api.client.post(excuse_url, headers=officer).status_code == 403
    excused = api.client.post(excuse_url, json={"note": "access refused"}, headers=compliance)
    assert excused.status_code == 200, excused.text
    clock = excused.json()["clocks"][0]
    assert clock["status"] == "breached_excused"
    assert clock["breached_at"] == investigate["breached_at"]  # the breach is not erased

    # The investigation concludes late: significant hazard -> summary and safety work start.
    concluded_at = now - timedelta(days=1)
    concluded = api.client.post(
        url,
        json={
            "type": "investigation_concluded",
            "at": iso(concluded_at),
            "outcome": "significant",
            "note": "Mould over 1 m2 on the bedroom's north wall; extractor fan broken.",
        },
        headers=officer,
    )
    assert concluded.status_code == 200, concluded.text
    clocks = {c["kind"]: c for c in concluded.json()["clocks"]}
    assert clocks["investigate"]["status"] == "breached_excused"
    assert clocks["investigate"]["met_at"] == iso(concluded_at)
    assert {"written_summary", "safety_work"} <= set(clocks)
    again = api.client.post(
        url,
        json={"type": "investigation_concluded", "at": iso(now), "outcome": "no_hazard"},
        headers=officer,
    )
    assert again.status_code == 409

    html = api.client.get(f"/api/v1/cases/{case['id']}/summary.html", headers=officer)
    assert html.status_code == 200
    assert "significant hazard" in html.text
    assert "Housing Ombudsman" in html.text
    pdf = api.client.get(
        f"/api/v1/cases/{case['id']}/summary.pdf", params={"large_print": "true"}, headers=officer
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    sent = api.client.post(
        url, json={"type": "summary_sent", "at": iso(now), "method": "post"}, headers=officer
    )
    assert sent.status_code == 200
    assert sent.json()["summary_sent_method"] == "post"

    # The report: one row per clock of the case in the period.
    report = api.client.get(
        "/api/v1/compliance/report.csv",
        params={
            "from": (reported - timedelta(days=1)).date().isoformat(),
            "to": now.date().isoformat(),
        },
        headers=compliance,
    )
    assert report.status_code == 200, report.text
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert sorted(r["kind"] for r in rows) == ["investigate", "safety_work", "written_summary"]
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["investigate"]["status"] == "breached_excused"
    assert by_kind["written_summary"]["status"] == "met"
    assert by_kind["safety_work"]["met_at"] == ""

    summary = api.client.get(
        "/api/v1/compliance/summary",
        params={"from": "2025-10-27", "to": now.date().isoformat()},
        headers=compliance,
    ).json()
    assert summary["breaches_by_reason"] == {"access_refused": 1}
    assert summary["met_on_time_by_kind"]["written_summary"]["met_on_time"] == 1

    verified = api.client.get("/api/v1/audit/verify", headers=compliance).json()
    assert verified["ok"] is True
    # opened, joined, 3 access, breach, steps, excuse, concluded, summary_sent
    assert verified["entries"] == 10


def test_emergency_report_starts_24_hour_clock_and_no_emergency_finding_stops_it(api):
    officer = api.headers("officer")
    reported = datetime(2026, 3, 6, 22, 30, tzinfo=UTC)  # a Friday night
    case = api.client.post(
        "/api/v1/reports",
        json={
            "home_id": "H0002",
            "hazard": "electrical",
            "source": "tenant",
            "reported_at": iso(reported),
            "description": "sparking socket",
            "emergency": True,
        },
        headers=officer,
    ).json()
    clocks = {c["kind"]: c for c in case["clocks"]}
    assert clocks["emergency_action"]["due_at"] == "2026-03-07T22:30:00Z"
    response = api.client.post(
        f"/api/v1/cases/{case['id']}/events",
        json={
            "type": "investigation_concluded",
            "at": iso(reported + timedelta(hours=3)),
            "outcome": "not_significant",
        },
        headers=officer,
    )
    clocks = {c["kind"]: c for c in response.json()["clocks"]}
    assert clocks["emergency_action"]["status"] == "met"
    assert clocks["emergency_action"]["met_at"] == "2026-03-07T01:30:00Z"
    assert "safety_work" not in clocks
