"""In a real browser: a contact-centre officer records a phone report for a home found by
postcode, the clock starts, the tenant's acknowledgement email and the written summary (with its
PDF) reach a real SMTP server, and a webhook receiver verifies every event of the case; a
resident reports through the home's private link — at 390 px, by keyboard alone, clean under
axe-core — and the case is in the queue."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from sqlalchemy import select

from api.app import create_app
from api.auth import add_user
from api.deps import AppContext
from api.notify_actions import NotifyLetters
from compliance.calendar import WorkingDayCalendar
from compliance.events import EVENT_TYPES
from compliance.service import Engine
from compliance.summary import Landlord
from homesafe.bootstrap import delivery_hooks, with_outbox
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.store import open_telemetry_store
from notify import service as notify_service
from notify.channels import ChannelSettings
from notify.models import OutboxEvent
from notify.worker import Worker
from registry.clock import utc_now
from registry.files import LocalFileStore
from registry.service import import_registry
from tests.e2e.browser.axe import violations
from tests.e2e.browser.conftest import shot
from tests.factories import homes_with_addresses_csv, households_csv, tenancies_csv
from tests.integration.notify.receivers import SmtpSink, WebhookReceiver
from tests.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PASSWORD = "correct horse battery staple"


@dataclass
class Live:
    base: str
    worker: Worker
    smtp: SmtpSink
    webhooks: WebhookReceiver
    sessions: object


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("notify-browser")
    db = make_engine(f"sqlite:///{tmp / 'cases.db'}")
    upgrade(db)
    sessions = with_outbox(make_sessionmaker(db))
    homes = ["H0001", "H0002", "H0003"]
    now = utc_now()
    smtp = SmtpSink().start()
    receiver = WebhookReceiver().start()
    with sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_with_addresses_csv(3),
            households_text=households_csv(homes),
            tenancies_text=tenancies_csv(homes),
        )
        add_user(session, name="contact-centre", role="officer", now=now, password=PASSWORD)
        subscription = notify_service.create_subscription(
            session,
            url=receiver.url("/housing-system"),
            events=list(EVENT_TYPES),
            description="housing management system",
            personal=False,
            actor="admin",
            now=now,
            allow_private=True,
            known_events=EVENT_TYPES,
        )
        receiver.secrets["/housing-system"] = subscription.secret
    port = free_port()
    channels = ChannelSettings(
        smtp_url=smtp.url,
        mail_from="Damp team <damp@northside.example>",
        staff_email="damp-team@northside.example",
        public_url=f"http://127.0.0.1:{port}",
        webhook_allow_private=True,
        landlord_name="Northside Homes",
        landlord_phone="0161 496 0000",
    )
    engine = Engine(
        WorkingDayCalendar("Europe/London"),
        landlord=Landlord(
            "Northside Homes",
            "0161 496 0000",
            "repairs@northside.example",
            "1 Mill Street, Manchester M1 1AA",
        ),
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
    context.letters = NotifyLetters(context)
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
    worker = Worker(sessions, channels, files, hooks=delivery_hooks(engine), name="browser-test")
    yield Live(f"http://127.0.0.1:{port}", worker, smtp, receiver, sessions)
    server.should_exit = True
    thread.join(timeout=10)
    smtp.stop()
    receiver.stop()
    db.dispose()


def sign_in(page, base: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_a_phone_report_starts_the_clock_and_the_tenant_the_team_and_the_housing_system_hear(
    live, page
):
    sign_in(page, live.base, "contact-centre")
    page.get_by_role("link", name="Record a report").click()
    page.get_by_label("Postcode, address, home id or UPRN").fill("m1 1ae")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=re.compile(r"Flat 1, Mill Court")).click()
    assert page.get_by_text("Tenant: Tenant 1").is_visible()
    page.get_by_label("2. What is the problem?").select_option(label="Damp, mould or condensation")
    page.get_by_label("No", exact=True).check()
    page.get_by_label("4. How did it come to us?").select_option(label="Phone call")
    told = (utc_now() - timedelta(minutes=40)).astimezone(ZoneInfo("Europe/London"))
    page.get_by_label("5. When did they tell us?").fill(told.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("The tenant or someone in the household").check()
    page.get_by_label("7. What did they say?").fill("Mould on the bedroom wall, child with asthma")
    shot(page, "notify-01-report-form")
    page.get_by_role("button", name="Record the report").click()
    page.wait_for_load_state()
    notice = page.get_by_role("status").first.inner_text()
    assert "Report R-" in notice
    assert "investigate clock runs to" in notice
    assert (
        page.locator('tr[data-clock="investigate"] .clock-status')
        .inner_text()
        .startswith("Running")
    )
    case_id = int(re.search(r"/cases/(\d+)", page.url).group(1))
    shot(page, "notify-02-case-opened")

    live.worker.run_once()
    [ack] = live.smtp.wait_for(1)
    assert ack["To"] == "tenant1@example.org"
    assert ack["Subject"].startswith("We have your report (R-")

    for step in ("investigation_booked", "investigation_concluded"):
        page.reload()
        form = page.locator(f"#step-{step}")
        if step == "investigation_concluded":
            form.get_by_label("What the investigation found").select_option("significant")
        form.get_by_role("button").click()
        page.wait_for_load_state()
    page.goto(f"{live.base}/cases/{case_id}/summary")
    page.get_by_label("How it is sent").select_option("email")
    page.get_by_role("button", name="Send the written summary").click()
    page.wait_for_load_state()
    said = page.get_by_role("status").first.inner_text()
    assert "Queued by email to tenant1@example.org" in said, said
    live.worker.run_once()
    live.worker.run_once()  # the events that summary_sent made
    mails = live.smtp.wait_for(3)
    summary = next(m for m in mails if m["Subject"].startswith("What we found at your home"))
    [pdf] = [p for p in summary.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert pdf.get_content().startswith(b"%PDF")
    page.reload()
    messages = page.locator("section[aria-labelledby=h-messages]").inner_text()
    assert "Written summary" in messages
    assert "Report received" in messages
    assert (
        page.locator('tr[data-clock="written_summary"] .clock-status')
        .inner_text()
        .startswith("Met")
    )
    shot(page, "notify-03-case-messages")

    with live.sessions() as session:  # type: ignore[attr-defined]
        expected = list(
            session.scalars(
                select(OutboxEvent.type)
                .where(OutboxEvent.case_id == case_id)
                .order_by(OutboxEvent.id)
            )
        )
    received = [
        json.loads(d.body)["type"]
        for d in live.webhooks.verified()
        if json.loads(d.body)["data"].get("id") == case_id
    ]
    assert received == expected
    assert {"case.opened", "case.updated", "clock.met", "summary.sent"} <= set(received)


def _tab_to(page, element_id: str, limit: int = 40) -> None:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_a_resident_reports_through_the_link_by_keyboard_on_a_phone(live, page, browser_context):
    sign_in(page, live.base, "contact-centre")
    page.goto(f"{live.base}/homes/H0002/report-link")
    page.get_by_role("button", name=re.compile("Issue a")).click()
    page.wait_for_load_state()
    link = page.locator(".card-link a").inner_text()
    assert "/r/" in link
    shot(page, "notify-04-report-card")

    phone = browser_context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    browser_context.clear_cookies()
    phone.goto(link)
    assert phone.get_by_role("heading", name="Report a problem in your home").is_visible()
    assert violations(phone) == []
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(phone, "notify-05-resident-form-390")

    # Keyboard only: Tab from the top, choose with the keys, send with Enter.
    _tab_to(phone, "problem")
    phone.keyboard.type("Damp")
    _tab_to(phone, "room")
    phone.keyboard.type("Bedroom")
    _tab_to(phone, "what")
    phone.keyboard.type("Mould behind the bed, it smells")
    phone.keyboard.press("Tab")  # the first radio of "Is anyone at risk now?"
    assert phone.evaluate("() => document.activeElement.name") == "at_risk"
    phone.keyboard.press("ArrowDown")  # moves to and chooses "No"
    _tab_to(phone, "language")
    phone.keyboard.press("Tab")
    phone.keyboard.type("Resident of flat 2")
    # Leave out how to contact them: the form says so and keeps what was typed.
    phone.keyboard.press("Enter")
    phone.wait_for_load_state()
    if phone.get_by_role("alert").count():
        alert = phone.get_by_role("alert").inner_text()
        assert "contact you" in alert
        assert phone.locator("#what").input_value() == "Mould behind the bed, it smells"
        assert violations(phone) == []
        shot(phone, "notify-06-resident-form-error")
    _tab_to(phone, "contact-email")  # into the radio group: its first choice
    phone.keyboard.press("Space")
    _tab_to(phone, "email")
    phone.keyboard.type("flat2@example.net")
    phone.keyboard.press("Enter")
    phone.wait_for_load_state()
    thanks = phone.get_by_role("status").inner_text()
    reference = re.search(r"R-[A-Z2-9]{8}", thanks).group(0)
    assert "Flat 2" not in phone.content()
    assert "H0002" not in phone.content()
    assert violations(phone) == []
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(phone, "notify-07-resident-thanks-390")
    phone.close()

    sign_in(page, live.base, "contact-centre")
    from compliance.models import Case

    with live.sessions() as session:  # type: ignore[attr-defined]
        resident_case = session.scalars(select(Case.id).where(Case.home_id == "H0002")).one()
    page.goto(f"{live.base}/queue")
    assert page.locator(f'tr[data-case="{resident_case}"]').count() == 1
    live.worker.run_once()
    acks = [m for m in live.smtp.wait_for(1) if m["To"] == "flat2@example.net"]
    assert acks
    assert reference in acks[0]["Subject"]


def test_the_staff_report_form_is_clean_under_axe(live, page):
    sign_in(page, live.base, "contact-centre")
    page.goto(f"{live.base}/reports/new?q=Mill+Court")
    assert violations(page) == []
    page.goto(f"{live.base}/reports/new?home=H0003")
    assert violations(page) == []
