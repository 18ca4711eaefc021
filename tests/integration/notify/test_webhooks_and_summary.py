"""Webhooks through the API to a receiver that verifies every signature with the standardwebhooks
library, retries and dead letters, and the written summary sent by email with its PDF."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from homesafe.bootstrap import delivery_hooks
from ingest.store import open_telemetry_store
from notify.models import OutboxEvent
from registry.clock import to_rfc3339

pytestmark = pytest.mark.integration


@pytest.fixture
def api(world, tmp_path):
    context = AppContext(
        sessions=world.sessions,
        telemetry=open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}"),
        engine=world.engine,
        channels=world.channels,
        files=world.files,
        notify_hooks=delivery_hooks(world.engine),
        clock=lambda: world.now,
    )
    tokens = {}
    with world.sessions.begin() as session:
        for role in ("admin", "officer", "viewer"):
            add_user(session, name=role, role=role, now=world.now)
            tokens[role] = create_token(session, name=role, now=world.now)
    client = TestClient(create_app(context))

    def call(method, path, role="officer", **kwargs):
        return client.request(
            method, f"/api/v1{path}", headers={"Authorization": f"Bearer {tokens[role]}"}, **kwargs
        )

    return call


def subscribe(api, world, path="/hook", events=None, personal=False):
    from compliance.events import EVENT_TYPES

    answer = api(
        "POST",
        "/webhooks",
        role="admin",
        json={
            "url": world.webhooks.url(path),
            "events": events or list(EVENT_TYPES),
            "description": "housing system",
            "personal": personal,
        },
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["secret"].startswith("whsec_")
    world.webhooks.secrets[path] = body["secret"]
    return body


def test_every_event_of_a_case_reaches_the_receiver_signed_and_the_summary_goes_with_its_pdf(
    api, world
):
    hook = subscribe(api, world)
    assert "secret" not in api("GET", "/webhooks", role="admin").json()[0]
    report = api(
        "POST",
        "/reports",
        json={
            "home_id": "H0001",
            "hazard": "damp_and_mould",
            "source": "tenant",
            "reported_at": to_rfc3339(world.now - timedelta(hours=2)),
            "description": "Mould on the bedroom wall",
        },
    )
    assert report.status_code == 201, report.text
    case_id = report.json()["id"]
    for event in (
        {"type": "investigation_booked", "at": to_rfc3339(world.now - timedelta(hours=1))},
        {
            "type": "investigation_concluded",
            "at": to_rfc3339(world.now),
            "outcome": "significant",
            "findings": "Mould behind the wardrobe; the extractor fan is broken.",
            "safety_work": {"what": "Replace the fan and treat the mould"},
        },
    ):
        assert api("POST", f"/cases/{case_id}/events", json=event).status_code == 200
    world.worker().run_once()
    sent = api("POST", f"/cases/{case_id}/summary/send", json={"large_print": True})
    assert sent.status_code == 202, sent.text
    assert api("POST", f"/cases/{case_id}/summary/send").status_code == 409  # already on its way
    world.worker().run_once()
    world.worker().run_once()  # the events summary_sent made

    mails = world.smtp.wait_for(3)
    subjects = [m["Subject"] for m in mails]
    assert subjects[0] == f"We have your report (HS-{case_id})"
    summary = next(m for m in mails if m["Subject"].startswith("What we found at your home"))
    pdfs = [
        part for part in summary.iter_attachments() if part.get_content_type() == "application/pdf"
    ]
    assert [p.get_filename() for p in pdfs] == [
        f"case-{case_id}-summary.pdf",
        f"case-{case_id}-summary-large-print.pdf",
    ]
    assert pdfs[0].get_content().startswith(b"%PDF")
    assert "How to complain" in summary.get_body(preferencelist=("plain",)).get_content()

    detail = api("GET", f"/cases/{case_id}").json()
    assert detail["summary_sent_method"] == "email"
    assert {c["kind"]: c["status"] for c in detail["clocks"]}["written_summary"] == "met"

    with world.sessions() as session:
        expected = list(
            session.scalars(
                select(OutboxEvent.type)
                .where(OutboxEvent.case_id == case_id)
                .order_by(OutboxEvent.id)
            )
        )
    verified = world.webhooks.verified()
    received = [json.loads(d.body)["type"] for d in verified]
    assert received == expected
    assert {"case.opened", "case.updated", "clock.met", "summary.sent"} <= set(received)
    assert all(d.verified["data"]["id"] == case_id for d in verified)
    assert all("tenant" not in d.verified["data"] for d in verified)  # not a personal subscription
    assert len({d.headers["webhook-id"] for d in verified}) == len(verified)

    deliveries = api("GET", f"/webhooks/{hook['id']}/deliveries", role="admin").json()
    assert {d["status"] for d in deliveries} == {"sent"}
    assert all(d["attempts"][0]["status_code"] == 204 for d in deliveries)
    messages = api("GET", f"/cases/{case_id}/messages").json()
    assert {(m["kind"], m["status"]) for m in messages if m["audience"] == "tenant"} == {
        ("report_received", "sent"),
        ("investigation_booked", "sent"),
        ("written_summary", "sent"),
    }
    assert api("GET", f"/cases/{case_id}/messages", role="viewer").status_code == 403


def test_personal_fields_only_for_a_personal_subscription(api, world):
    subscribe(api, world, "/plain", events=["case.opened"])
    subscribe(api, world, "/personal", events=["case.opened"], personal=True)
    world.report()
    world.worker().run_once()
    by_path = {d.path: d.verified["data"] for d in world.webhooks.verified()}
    assert "tenant" not in by_path["/plain"]
    assert by_path["/personal"]["tenant"]["name"] == "Tenant 1"
    assert by_path["/personal"]["address"] == "Flat 1, Mill Court, Manchester"


def test_a_failing_receiver_is_retried_with_backoff_then_dead_lettered_and_retried_by_hand(
    api, world
):
    hook = subscribe(api, world, events=["case.opened"])
    world.webhooks.answers = [500, 503]
    world.report()
    clock = {"now": world.now}
    worker = world.worker()
    worker.clock = lambda: clock["now"]
    worker.run_once()
    [delivery] = api("GET", f"/webhooks/{hook['id']}/deliveries", role="admin").json()
    assert delivery["status"] == "pending"
    assert delivery["attempts"][0]["status_code"] == 500
    first_retry = delivery["attempts"][0]["next_retry_at"]
    assert first_retry == to_rfc3339(world.now + timedelta(seconds=10))
    worker.run_once()  # not yet due: nothing is sent
    assert len(world.webhooks.deliveries) == 1
    clock["now"] = world.now + timedelta(seconds=10)
    worker.run_once()
    [delivery] = api("GET", f"/webhooks/{hook['id']}/deliveries", role="admin").json()
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503]
    assert delivery["attempts"][1]["next_retry_at"] == to_rfc3339(
        clock["now"] + timedelta(seconds=40)
    )
    # The receiver is down for a day: every attempt fails until 24 hours have passed.
    world.webhooks.secrets.clear()  # its timestamps are a day off the receiver's clock
    world.webhooks.stop()
    clock["now"] = world.now + timedelta(hours=24, seconds=1)
    worker.run_once()
    [delivery] = api("GET", f"/webhooks/{hook['id']}/deliveries", role="admin").json()
    assert delivery["status"] == "dead"
    assert delivery["attempts"][-1]["outcome"] == "dead"
    assert "ConnectError" in delivery["last_error"]
    ids = {d.headers["webhook-id"] for d in world.webhooks.deliveries}
    assert len(ids) == 1  # the same webhook-id on every attempt
    # A manual retry sends it again, with the same id.
    from tests.integration.notify.receivers import WebhookReceiver

    again = WebhookReceiver()
    again.port = world.webhooks.port
    world.webhooks = again
    retry = api("POST", f"/webhooks/{hook['id']}/deliveries/{delivery['id']}/retry", role="admin")
    assert retry.status_code == 202, retry.text
    assert retry.json()["status"] == "pending"
    assert api("DELETE", f"/webhooks/{hook['id']}", role="officer").status_code == 403


def test_webhook_targets_must_be_https_and_public_unless_allowed(api, world):
    from notify.webhooks import TargetRefused, check_target

    with pytest.raises(TargetRefused, match="https"):
        check_target("http://example.org/hook", allow_private=False)
    with pytest.raises(TargetRefused, match="not a public address"):
        check_target("https://127.0.0.1/hook", allow_private=False)
    with pytest.raises(TargetRefused, match="not a public address"):
        check_target("https://10.1.2.3/hook", allow_private=False)
    assert check_target("http://127.0.0.1:9/hook", allow_private=True)
    bad = api(
        "POST",
        "/webhooks",
        role="admin",
        json={"url": "ftp://x.example/", "events": ["case.opened"]},
    )
    assert bad.status_code == 422
    unknown = api(
        "POST",
        "/webhooks",
        role="admin",
        json={"url": world.webhooks.url(), "events": ["case.closed"]},
    )
    assert unknown.status_code == 422
    assert "case.opened" in unknown.json()["detail"]
