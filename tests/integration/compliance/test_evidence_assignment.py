"""Evidence and assignment through compliance.service (one audit entry each), and the API's
POST /api/v1/cases/{id}/assignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from compliance import audit, service
from compliance.models import AuditEntry, Evidence
from compliance.schemas import ReportIn

pytestmark = pytest.mark.integration

REPORTED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def open_case(case_db) -> int:
    with case_db.sessions.begin() as session:
        case, _ = service.record_report(
            session,
            report=ReportIn(
                home_id="H0001",
                hazard="damp_and_mould",
                source="tenant",
                reported_at=REPORTED,
                description="mould",
            ),
            actor="officer-1",
            now=REPORTED,
            engine=case_db.engine,
        )
        return case.id


def entries(case_db, action: str) -> list[AuditEntry]:
    with case_db.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def test_record_evidence_joins_the_case_with_its_audit_entry_and_leaves_the_state(case_db):
    case_id = open_case(case_db)
    now = REPORTED + timedelta(days=2)
    with case_db.sessions.begin() as session:
        before = service.case_state(service.repository.get_case(session, case_id))
        service.record_evidence(
            session,
            case_id=case_id,
            kind="access_attempt",
            source="contractor",
            description="no access",
            figures={"work_order_id": 7, "method": "visit"},
            actor="officer-1",
            now=now,
        )
    with case_db.sessions() as session:
        case = service.repository.get_case(session, case_id)
        assert service.case_state(case) == before
        kinds = [(e.kind, e.source, e.figures) for e in case.evidence]
        assert kinds[-1] == (
            "access_attempt",
            "contractor",
            {"work_order_id": 7, "method": "visit"},
        )
        assert audit.verify(session).ok
    [entry] = entries(case_db, "case.evidence_added")
    assert (entry.actor, entry.at, entry.entity_id) == ("officer-1", now, str(case_id))
    assert entry.after == {
        "evidence": "access_attempt",
        "source": "contractor",
        "work_order_id": 7,
        "method": "visit",
    }


def test_record_evidence_on_a_missing_case_changes_nothing(case_db):
    with pytest.raises(service.CaseNotFound), case_db.sessions.begin() as session:
        service.record_evidence(
            session, case_id=999, kind="note", source="staff", actor="x", now=REPORTED
        )
    with case_db.sessions() as session:
        assert session.scalars(select(Evidence)).all() == []
        assert session.scalars(select(AuditEntry)).all() == []


def test_assignment_through_the_api_is_audited_and_checked(case_db, api):
    case_id = open_case(case_db)
    officer, viewer = api.headers("officer"), api.headers("viewer")
    url = f"/api/v1/cases/{case_id}/assignment"
    response = api.client.post(url, json={"officer": "officer-1"}, headers=officer)
    assert response.status_code == 200, response.text
    assert response.json()["assigned_to"] == "officer-1"
    assert api.client.get(f"/api/v1/cases/{case_id}", headers=officer).json()["assigned_to"] == (
        "officer-1"
    )
    # Not an officer (a compliance officer does not work the queue), a viewer, a missing case.
    refused = api.client.post(url, json={"officer": "compliance-1"}, headers=officer)
    assert refused.status_code == 422
    assert api.client.post(url, json={"officer": None}, headers=viewer).status_code == 403
    missing = api.client.post("/api/v1/cases/999/assignment", json={}, headers=officer)
    assert missing.status_code == 404
    response = api.client.post(url, json={"officer": None}, headers=officer)
    assert response.status_code == 200
    assert response.json()["assigned_to"] is None
    assigned = entries(case_db, "case.assigned")
    assert [(e.actor, e.entity_id, e.before, e.after) for e in assigned] == [
        ("officer-1", str(case_id), {"assigned_to": None}, {"assigned_to": "officer-1"}),
        ("officer-1", str(case_id), {"assigned_to": "officer-1"}, {"assigned_to": None}),
    ]
