"""In a real browser: a scrutiny-panel member asks for a deep dive into the cases they choose,
the landlord answers it on the record, and the panel member reads the answer; a resident gets the
milestone survey by email (a real SMTP server) and answers it through its one-time link; the
public performance page (English, Welsh, easy read) and the panel's pages are clean under
axe-core. Screenshots of the public page and the panel's view go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import uvicorn

from api.app import create_app
from api.auth import add_user
from api.deps import AppContext
from compliance.calendar import WorkingDayCalendar
from compliance.service import Engine
from compliance.summary import Landlord
from equity import service as equity_service
from equity.residents import service as residents
from equity.schemas import YouSaidWeDidIn
from homesafe.bootstrap import delivery_hooks, with_outbox
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.store import open_telemetry_store
from notify.channels import ChannelSettings
from notify.worker import Worker
from registry.clock import utc_now
from registry.files import LocalFileStore
from repairs.models import WorkOrder
from tests.e2e.browser.axe import violations
from tests.e2e.browser.conftest import shot
from tests.integration.equity.estate import Estate, build_estate, dispatch_and_complete
from tests.integration.notify.receivers import SmtpSink
from tests.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "correct horse battery staple"
EXPLANATION = "Our damp contractor lost two surveyors; a second contractor started this quarter."


@dataclass
class Live:
    base: str
    worker: Worker
    smtp: SmtpSink
    sessions: object
    engine: Engine
    estate: Estate


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("residents-browser")
    db = make_engine(f"sqlite:///{tmp / 'cases.db'}")
    upgrade(db)
    sessions = with_outbox(make_sessionmaker(db))
    engine = Engine(
        WorkingDayCalendar("Europe/London"),
        landlord=Landlord("Northside Homes", "0161 496 0000", "repairs@northside.example", ""),
    )
    now = utc_now()
    estate = build_estate(sessions, engine, now=now)
    for order_id in estate.work_orders[:8]:  # two quarters ago: finished in 6 or 40 days
        with sessions() as session:
            order = session.get(WorkOrder, order_id)
            assert order is not None
            reported = order.reported_at
        late = order_id % 3 == 0
        dispatch_and_complete(
            sessions,
            engine,
            work_order_id=order_id,
            dispatched_at=reported + timedelta(days=30 if late else 2),
            completed_at=reported + timedelta(days=40 if late else 6),
            now=now,
        )
    with sessions.begin() as session:
        add_user(session, name="panel-amira", role="panel", now=now, password=PASSWORD)
        add_user(session, name="landlord-jo", role="compliance", now=now, password=PASSWORD)
        kpi = residents.propose_kpi(
            session,
            name="Damp repairs finished on time",
            measure="repairs_within_target",
            target_pct=90,
            why="Residents told us damp repairs drag on.",
            proposed_by="panel-amira",
            now=now,
        )
        residents.decide_kpi(session, kpi_id=kpi.id, publish=True, actor="landlord-jo", now=now)
        late_quarter = residents.quarter_of(
            session.get(WorkOrder, estate.work_orders[0]).completed_at,  # type: ignore[union-attr]
            "Europe/London",
        )
        residents.publish_kpi_period(
            session,
            kpi_id=kpi.id,
            quarter=late_quarter,
            explanation=EXPLANATION,
            actor="landlord-jo",
            now=now,
            timezone="Europe/London",
        )
        equity_service.add_you_said_we_did(
            session,
            entry=YouSaidWeDidIn(
                you_said="Tell us when the operative is on the way.",
                we_did="Texts now go out when an operative is sent, with a one-question survey.",
            ),
            author="landlord-jo",
            now=now,
        )
    smtp = SmtpSink().start()
    port = free_port()
    channels = ChannelSettings(
        smtp_url=smtp.url,
        mail_from="Repairs <repairs@northside.example>",
        public_url=f"http://127.0.0.1:{port}",
        landlord_name="Northside Homes",
        landlord_phone="0161 496 0000",
    )
    files = LocalFileStore(tmp / "files")
    context = AppContext(
        sessions=sessions,
        telemetry=open_telemetry_store(f"sqlite:///{tmp / 'telemetry.db'}"),
        engine=engine,
        channels=channels,
        files=files,
        notify_hooks=delivery_hooks(engine),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    worker = Worker(sessions, channels, files, hooks=delivery_hooks(engine), name="residents-test")
    yield Live(f"http://127.0.0.1:{port}", worker, smtp, sessions, engine, estate)
    server.should_exit = True
    thread.join(timeout=10)
    smtp.stop()
    db.dispose()


def sign_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_panel_member_asks_for_a_deep_dive_and_reads_the_landlords_answer(live, page):
    sign_in(page, live.base, "panel-amira")
    assert page.url.endswith("/panel")  # the panel's own start page, not the hazard queue
    assert page.get_by_role("link", name="Hazard queue").count() == 0
    assert violations(page) == []
    shot(page, "residents-01-panel-view")

    page.get_by_label("Hazard").select_option(label="Damp and mould")
    page.get_by_label("Area (postcode district)").select_option("M1")
    page.get_by_label("From quarter").select_option(live.estate.quarter_before)
    page.get_by_label("To quarter").select_option(live.estate.quarter_last)
    page.get_by_label("Which cases").select_option("long")
    page.get_by_label("What does the panel want to know?").fill(
        "Why did some damp repairs in M1 take over a month?"
    )
    page.get_by_role("button", name="Ask for the deep dive").click()
    page.wait_for_load_state()
    assert "on the record" in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("Not answered yet.").is_visible()
    dive_url = page.url
    assert re.search(r"/panel/deep-dives/\d+$", dive_url)
    journeys = page.locator(".card.journey")
    assert journeys.count() >= 1
    assert "Day " in journeys.first.inner_text()
    assert violations(page) == []
    shot(page, "residents-02-deep-dive-asked")

    sign_in(page, live.base, "landlord-jo")
    page.goto(dive_url)
    page.get_by_label(re.compile("^Answer \\(on the record")).fill(
        "Three of these waited for a second surveyor; we now book surveys within 5 days."
    )
    page.get_by_role("button", name="Send the answer").click()
    page.wait_for_load_state()
    assert "Answered" in page.get_by_role("status").first.inner_text()

    sign_in(page, live.base, "panel-amira")
    page.goto(dive_url)
    answer = page.locator(".card.answer").inner_text()
    assert "we now book surveys within 5 days" in answer
    assert "kept in the audit log" in answer
    shot(page, "residents-03-deep-dive-answered")
    page.goto(f"{live.base}/panel")
    assert "Answered" in page.get_by_role("region", name="Deep dives asked (table)").inner_text()


def test_a_resident_answers_the_milestone_survey_from_their_email(live, page):
    now = utc_now()
    order_id = live.estate.work_orders[8]
    dispatch_and_complete(
        live.sessions,
        live.engine,
        work_order_id=order_id,
        dispatched_at=now - timedelta(days=1),
        completed_at=now - timedelta(hours=1),
        now=now,
    )
    with live.sessions.begin() as session:
        assert residents.invite_surveys(session, now=now) >= 2
    live.worker.run_once()
    mails = live.smtp.wait_for(2)
    survey = next(m for m in mails if m["Subject"].startswith("How was your repair?"))
    assert survey["To"] == "tenant9@example.org"
    body = survey.get_body(("plain",)).get_content()
    link = re.search(r"http://127\.0\.0\.1:\d+/s/[\w-]+", body)
    assert link, body

    page.context.clear_cookies()
    page.goto(link.group(0))
    assert page.get_by_role("heading", name="One question about your repair").is_visible()
    assert violations(page) == []
    page.get_by_role("group", name="How happy are you with the repair?").get_by_label(
        "Happy", exact=True
    ).check()
    page.get_by_role("group", name=re.compile("the person who came")).get_by_label(
        "Very happy"
    ).check()
    page.get_by_label("Anything you want to tell us? (optional)").fill("Tidy and on time.")
    shot(page, "residents-04-survey")
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Thank you").is_visible(), page.content()[:3000]
    page.goto(link.group(0))
    assert page.get_by_role("heading", name="You have answered this survey").is_visible()
    with live.sessions() as session:
        order = session.get(WorkOrder, order_id)
        assert order is not None
        assert order.satisfaction_score == 4
        [answered] = residents.feedback_comments(session)
        assert answered.operative_rating == 5
        assert answered.comment == "Tidy and on time."


@pytest.mark.parametrize(
    ("path", "name", "heading"),
    [
        ("/performance", "residents-05-public-performance", "How we are doing: repairs"),
        ("/performance?lang=cy", "residents-06-public-performance-cy", "Sut rydym yn gwneud"),
        ("/performance/easy-read", "residents-07-public-easy-read", "How we are doing"),
        ("/review", "residents-08-annual-review", "Annual review"),
    ],
)
def test_the_public_pages_are_accessible_and_every_figure_has_its_sample_size(
    live, page, path: str, name: str, heading: str
):
    page.context.clear_cookies()
    page.goto(f"{live.base}{path}")
    assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
    assert violations(page) == []
    text = page.inner_text("main")
    if path.startswith("/performance?") or path == "/performance":
        assert EXPLANATION in text
        chart = page.locator("svg.chart").first
        assert chart.get_attribute("role") == "img"
        assert page.locator("svg.chart title").count() >= 2
        # the KPI's quarter shows its sample size beside it
        row = page.locator(".card.kpi tbody tr").first.inner_text()
        assert re.search(r"\t8\t", row), row
    shot(page, name)
