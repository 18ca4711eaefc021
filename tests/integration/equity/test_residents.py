"""Residents scrutinise the service, on SQLite and PostgreSQL, through the pages: the panel asks
for a deep dive and the landlord answers on the record; nothing the panel or the public sees
identifies a household (differencing across periods and tables finds nothing); resident-defined
KPIs are proposed, published, and a missed quarter needs its explanation; milestone surveys go
out through notify with one-time links; satisfaction carries its response rate and sample size."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.auth import add_user
from api.deps import AppContext
from api.models import User
from api.session import COOKIE_NAME, start_session
from compliance.audit import AuditEntry
from compliance.calendar import WorkingDayCalendar
from compliance.service import Engine
from equity.residents import service as residents
from equity.residents.models import SurveyInvitation
from homesafe.bootstrap import with_outbox
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.store import open_telemetry_store
from notify import service as notify_service
from notify.channels import ChannelSettings
from notify.models import OutboxEvent
from registry.clock import utc_now
from repairs.models import WorkOrder
from tests.integration.equity.estate import (
    OPERATIVE,
    REPORT_WORDS,
    Estate,
    build_estate,
    dispatch_and_complete,
)

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery staple"
PEOPLE = {"panel-1": "panel", "landlord": "compliance", "officer": "officer"}


@dataclass
class World:
    sessions: sessionmaker[Session]
    engine: Engine
    app: object
    estate: Estate
    now: object

    def client(self, name: str | None = None) -> tuple[TestClient, str]:
        client = TestClient(self.app, follow_redirects=False)  # type: ignore[arg-type]
        if name is None:
            return client, ""
        with self.sessions.begin() as session:
            user = session.scalars(select(User).where(User.name == name)).one()
            cookie, signed = start_session(session, user=user, now=utc_now())
        client.cookies.set(COOKIE_NAME, cookie)
        return client, signed.csrf_token


@pytest.fixture
def world(case_db_url: str, tmp_path: Path) -> Iterator[World]:
    db = make_engine(case_db_url)
    upgrade(db)
    sessions = with_outbox(make_sessionmaker(db))
    engine = Engine(WorkingDayCalendar("Europe/London"))
    now = utc_now()
    estate = build_estate(sessions, engine, now=now)
    with sessions.begin() as session:
        for name, role in PEOPLE.items():
            add_user(session, name=name, role=role, now=now, password=PASSWORD)
    telemetry = open_telemetry_store(f"sqlite:///{tmp_path / 'telemetry.db'}")
    app = create_app(AppContext(sessions=sessions, telemetry=telemetry, engine=engine))
    yield World(sessions, engine, app, estate, now)
    telemetry.close()
    db.dispose()


def ask(world: World, **fields: str) -> int:
    panel, csrf = world.client("panel-1")
    answer = panel.post("/panel/deep-dives", data={"csrf_token": csrf, **fields})
    assert answer.status_code == 303
    found = re.search(r"/panel/deep-dives/(\d+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def figure(page: str, label: str) -> str:
    found = re.search(r'<span class="figure">([^<]+)</span> ' + re.escape(label), page)
    assert found, label
    return found.group(1)


def test_the_panel_asks_and_the_landlord_answers_on_the_record(world: World):
    e = world.estate
    request_id = ask(
        world,
        hazard="damp_and_mould",
        area="M1",
        quarter_from=e.quarter_before,
        quarter_to=e.quarter_last,
        outcome="any",
        question="Why did damp cases in M1 take so long to investigate?",
    )
    panel, _ = world.client("panel-1")
    page = panel.get(f"/panel/deep-dives/{request_id}").text
    assert "Waiting" in panel.get("/panel").text
    assert "Not answered yet." in page
    assert 'action="/panel/deep-dives/' not in page  # the panel cannot answer itself
    assert figure(page, "cases (the sample size)") == "8"
    assert "Case A: damp and mould, M1" in page

    landlord, csrf = world.client("landlord")
    words = "Our surveyor was off sick for three weeks; we have added a second surveyor."
    done = landlord.post(
        f"/panel/deep-dives/{request_id}/answer", data={"csrf_token": csrf, "answer": words}
    )
    assert done.status_code == 303
    again = landlord.post(
        f"/panel/deep-dives/{request_id}/answer", data={"csrf_token": csrf, "answer": "changed"}
    )
    assert again.status_code == 303
    assert words in panel.get(f"/panel/deep-dives/{request_id}").text
    assert "changed" not in panel.get(f"/panel/deep-dives/{request_id}").text
    with world.sessions() as session:
        actions = [
            (entry.action, entry.actor, (entry.after or {}).get("answer"))
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == "deep_dive_request")
            )
        ]
    assert ("deep_dive.asked", "panel-1", None) in actions
    assert ("deep_dive.answered", "landlord", words) in actions

    # The panel is a resident, not staff: no case, no queue, no answer form of its own.
    assert panel.get("/queue").status_code == 403
    assert panel.get(f"/cases/{e.case_ids[0]}").status_code == 403
    refused = panel.post(
        f"/panel/deep-dives/{request_id}/answer", data={"csrf_token": csrf, "answer": "x"}
    )
    assert refused.status_code == 403


def test_overlapping_periods_do_not_reveal_the_small_quarter(world: World):
    e = world.estate
    both = ask(
        world,
        hazard="damp_and_mould",
        area="M1",
        quarter_from=e.quarter_before,
        quarter_to=e.quarter_last,
        outcome="any",
        question="Everything",
    )
    first = ask(
        world,
        hazard="damp_and_mould",
        area="",
        quarter_from=e.quarter_before,
        quarter_to=e.quarter_before,
        outcome="any",
        question="The earlier quarter",
    )
    last = ask(
        world,
        hazard="",
        area="M1",
        quarter_from=e.quarter_last,
        quarter_to=e.quarter_last,
        outcome="any",
        question="The last quarter alone",
    )
    panel, _ = world.client("panel-1")
    pages = {i: panel.get(f"/panel/deep-dives/{i}").text for i in (both, first, last)}
    # Last quarter holds 2 damp cases in M1: neither the pair nor the quarter alone shows them.
    assert figure(pages[both], "cases (the sample size)") == "8"
    assert figure(pages[first], "cases (the sample size)") == "8"
    assert figure(pages[last], "cases (the sample size)") == "0"
    assert "too small to show" in pages[both]
    assert pages[both].count('class="card journey"') == 8


def test_nothing_the_panel_or_the_public_sees_identifies_a_household(world: World):
    e = world.estate
    for order_id in e.work_orders[:8]:
        with world.sessions() as session:
            order = session.get(WorkOrder, order_id)
            assert order is not None
            reported = order.reported_at
        dispatch_and_complete(
            world.sessions,
            world.engine,
            work_order_id=order_id,
            dispatched_at=reported + timedelta(days=2),
            completed_at=reported + timedelta(days=6),
            now=world.now,
        )
    request_id = ask(
        world,
        hazard="",
        area="",
        quarter_from=e.quarter_before,
        quarter_to=e.quarter_last,
        outcome="any",
        question="All of it",
    )
    panel, _ = world.client("panel-1")
    public, _ = world.client()
    seen = {
        "panel": panel.get("/panel").text,
        "deep dive": panel.get(f"/panel/deep-dives/{request_id}").text,
        "performance": public.get("/performance").text,
        "welsh": public.get("/performance?lang=cy").text,
        "easy read": public.get("/performance/easy-read").text,
        "csv": public.get("/performance.csv").text,
        "json": public.get("/performance.json").text,
        "review": public.get("/review").text,
    }
    for where, text in seen.items():
        assert not re.search(r"\bH00\d\d\b", text), where  # home ids
        assert "Mill Court" not in text, where
        assert "Oak Road" not in text, where
        assert "1AE" not in text, where
        assert "Tenant " not in text, where
        assert "@example.org" not in text, where
        assert REPORT_WORDS not in text, where
        assert "/cases/" not in text, where
        assert "asthma" not in text.lower(), where


def test_a_missed_kpi_quarter_is_published_only_with_its_explanation(world: World):
    e = world.estate
    for order_id in e.work_orders[:8]:  # all finished late: 40 days after the report
        with world.sessions() as session:
            order = session.get(WorkOrder, order_id)
            assert order is not None
            reported = order.reported_at
        dispatch_and_complete(
            world.sessions,
            world.engine,
            work_order_id=order_id,
            dispatched_at=reported + timedelta(days=30),
            completed_at=reported + timedelta(days=40),
            now=world.now,
        )
    panel, panel_csrf = world.client("panel-1")
    proposed = panel.post(
        "/panel/kpis",
        data={
            "csrf_token": panel_csrf,
            "name": "Damp repairs on time",
            "measure": "repairs_within_target",
            "target_pct": "90",
            "why": "Residents wait too long for damp repairs.",
        },
    )
    assert proposed.status_code == 303
    with world.sessions() as session:
        [kpi] = residents.proposed_kpis(session)
        late_quarter = residents.quarter_of(
            session.get(WorkOrder, e.work_orders[0]).completed_at,  # type: ignore[union-attr]
            "Europe/London",
        )
    landlord, csrf = world.client("landlord")
    assert (
        landlord.post(
            f"/panel/kpis/{kpi.id}/decide", data={"csrf_token": csrf, "decision": "publish"}
        ).status_code
        == 303
    )
    assert "Damp repairs on time" in world.client()[0].get("/performance").text
    with world.sessions.begin() as session:
        with pytest.raises(residents.ResidentsRefused, match="write the explanation"):
            residents.publish_kpi_period(
                session,
                kpi_id=kpi.id,
                quarter=late_quarter,
                explanation="",
                actor="landlord",
                now=utc_now(),
                timezone="Europe/London",
            )
    said = "Our damp contractor lost two surveyors; a second contractor started in the spring."
    landlord.post(
        f"/panel/kpis/{kpi.id}/periods",
        data={"csrf_token": csrf, "quarter": late_quarter, "explanation": said},
    )
    public = world.client()[0]
    page = public.get("/performance").text
    assert said in page
    assert "Missed the target" in page
    data = json.loads(public.get("/performance.json").text)
    [published] = data["kpis"]
    [period] = published["periods"]
    assert period["sample_size"] == 8
    assert period["value_pct"] == 0.0
    assert period["met_target"] is False
    assert "Damp repairs on time" in public.get("/performance.csv").text


def test_milestone_surveys_go_through_notify_and_are_answered_once(world: World):
    e = world.estate
    now = utc_now()
    with world.sessions.begin() as session:
        order = session.get(WorkOrder, e.work_orders[8])
        assert order is not None
        order.communal = True
    dispatch_and_complete(
        world.sessions,
        world.engine,
        work_order_id=e.work_orders[8],
        dispatched_at=now - timedelta(days=2),
        completed_at=now - timedelta(hours=2),
        now=now,
    )
    with world.sessions.begin() as session:
        asked = residents.invite_surveys(session, now=now)
        assert residents.invite_surveys(session, now=now) == 0  # once per milestone
    # dispatch and completion for the household, and the 15 other flats of Mill Court
    assert asked == 2 + 15
    with world.sessions.begin() as session:
        events = list(
            session.scalars(select(OutboxEvent).where(OutboxEvent.type == "survey.requested"))
        )
        messages = notify_service.fan_out(
            session,
            events=events,
            settings=ChannelSettings(
                smtp_url="smtp://127.0.0.1:2525", mail_from="damp@example.org"
            ),
            now=now,
        )
        invitations = list(session.scalars(select(SurveyInvitation)))
    assert {m.kind for m in messages} == {"milestone_survey"}
    assert len(messages) == 17
    own = [m for m in messages if m.recipient == "tenant9@example.org"]
    assert len(own) == 2
    assert {m.subject.split(" (")[0] for m in own} == {
        "One question about your repair",
        "How was your repair?",
    }
    assert not any(i.home_id.startswith("H001") and int(i.home_id[1:]) > 16 for i in invitations)
    completion = next(m for m in own if m.subject.startswith("How was"))
    link = re.search(r"http://127\.0\.0\.1:8000(/s/[\w-]+)", completion.body)
    assert link, completion.body

    resident = world.client()[0]
    form = resident.get(link.group(1))
    assert form.status_code == 200
    assert "How happy are you with the repair?" in form.text
    done = resident.post(
        link.group(1), data={"rating": "2", "operative_rating": "5", "comment": "Still smells"}
    )
    assert "Thank you" in done.text
    assert "answered this survey" in resident.get(link.group(1)).text
    again = resident.post(link.group(1), data={"rating": "5"})
    assert "answered already" in again.text
    assert resident.get("/s/not-a-real-link").status_code == 404
    with world.sessions() as session:
        order = session.get(WorkOrder, e.work_orders[8])
        assert order is not None
        assert order.satisfaction_score == 2
        table = residents.satisfaction(session)
    assert table["overall"]["asked"] == 17
    assert table["overall"]["answers"] == 1
    assert table["overall"]["satisfied"] is None  # 1 answer: too few to show
    # every satisfaction row carries its sample size, or is suppressed whole
    for row in table["groups"]:
        assert row["suppressed"] or ("answers" in row and "asked" in row)
    staff, _ = world.client("officer")
    assert "Still smells" in staff.get("/feedback").text
    panel, _ = world.client("panel-1")
    seen = panel.get("/panel").text
    assert "Still smells" not in seen  # free text could name anyone: staff only
    assert OPERATIVE in seen  # the panel sees operatives; the public never by name
    for path in ("/performance", "/performance.json", "/performance.csv", "/review"):
        assert OPERATIVE not in resident.get(path).text, path
