"""Messages out through real servers: the tenant's acknowledgement by SMTP, staff alerts, SMS and
letters through a GOV.UK Notify stand-in, channels not configured said on the case, Welsh."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from compliance.models import AuditEntry, Case
from notify import repository
from notify.models import Message, OutboxEvent
from registry.models import Tenancy

pytestmark = pytest.mark.integration


def messages(world, case_id):
    with world.sessions() as session:
        return list(repository.messages_of_case(session, case_id))


def audit_actions(world, case_id):
    with world.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity_type == "case", AuditEntry.entity_id == str(case_id)
                )
            )
        )


def test_the_event_is_written_with_the_change_and_not_without_it(world):
    case_id = world.report()
    with world.sessions() as session:
        types = list(session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)))
    assert types == ["case.opened"]
    # A change that is rolled back leaves no event behind.
    from compliance.schemas import EventIn
    from compliance.service import record_event

    def failing_request() -> None:
        with world.sessions.begin() as session:
            record_event(
                session,
                case_id=case_id,
                event=EventIn(type="investigation_booked", at=world.now),
                actor="officer",
                now=world.now,
                engine=world.engine,
            )
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        failing_request()
    with world.sessions() as session:
        assert (
            session.scalar(select(OutboxEvent.id).where(OutboxEvent.type == "case.updated")) is None
        )


def test_a_tenant_report_is_acknowledged_by_email_and_the_case_says_so(world):
    case_id = world.report()
    summary = world.worker().run_once()
    assert summary.sent == 1
    [mail] = world.smtp.wait_for(1)
    assert mail["To"] == "tenant1@example.org"
    assert mail["Subject"] == "We have your report (R-TEST1)"
    assert "damp and mould" in mail.get_content()
    assert "0161 496 0000" in mail.get_content()
    assert mail["Message-ID"].endswith("@landlord.example>")
    [message] = messages(world, case_id)
    assert (message.kind, message.channel, message.status) == ("report_received", "email", "sent")
    assert [a.outcome for a in message.attempt_log] == ["sent"]
    assert "message.sent" in audit_actions(world, case_id)
    # A second run sends nothing again.
    assert world.worker().run_once().sent == 0
    assert len(world.smtp.messages) == 1


def test_a_staff_report_is_not_acknowledged_to_the_tenant(world):
    case_id = world.report(source="staff")
    world.worker().run_once()
    assert messages(world, case_id) == []


def test_email_not_configured_is_said_on_the_case_never_skipped(world):
    case_id = world.report()
    world.worker(smtp_url=None).run_once()
    [message] = messages(world, case_id)
    assert message.status == "not_sent"
    assert message.last_error == "email not sent: no mail server configured (HOMESAFE_SMTP_URL)"
    assert "message.not_sent" in audit_actions(world, case_id)
    assert world.smtp.messages == []


def test_an_emergency_alerts_the_team_and_a_breach_too(world):
    from datetime import timedelta

    from compliance.jobs import run_sweep

    with world.sessions.begin() as session:
        from compliance.schemas import ReportIn
        from compliance.service import record_report

        case, _ = record_report(
            session,
            report=ReportIn(
                home_id="H0002",
                hazard="damp_and_mould",
                source="staff",
                reported_at=world.now - timedelta(hours=1),
                emergency=True,
            ),
            actor="officer",
            now=world.now,
            engine=world.engine,
        )
        case_id = case.id
    world.worker().run_once()
    [alert] = world.smtp.wait_for(1)
    assert alert["To"] == "damp-team@landlord.example"
    assert alert["Subject"].startswith(f"EMERGENCY: case {case_id}")
    assert f"https://homesafe.landlord.example/cases/{case_id}" in alert.get_content()
    run_sweep(world.sessions, now=world.now + timedelta(hours=30))
    world.worker().run_once()
    mails = world.smtp.wait_for(2)
    assert mails[1]["Subject"].startswith(f"BREACHED: case {case_id}, emergency action")


def test_sms_and_letters_go_through_notify_as_its_api_documents(world):
    with world.sessions.begin() as session:
        session.get(Tenancy, "T-H0003").preferred_channel = "sms"
        session.get(Tenancy, "T-H0004").preferred_channel = "letter"
    sms_case = world.report("H0003")
    letter_case = world.report("H0004")
    summary = world.worker().run_once()
    assert summary.sent == 2, [
        m.last_error for m in messages(world, sms_case) + messages(world, letter_case)
    ]
    paths = sorted(r.path for r in world.notify.requests)
    assert paths == ["/v2/notifications/letter", "/v2/notifications/sms"]
    sms = next(r for r in world.notify.requests if r.path.endswith("sms"))
    assert sms.body["phone_number"] == "07700 900003"
    assert "R-TEST1" in sms.body["personalisation"]["body"]
    assert sms.body["reference"] == messages(world, sms_case)[0].idempotency_key
    letter = next(r for r in world.notify.requests if r.path.endswith("letter"))
    lines = letter.body["personalisation"]
    assert (lines["address_line_1"], lines["address_line_2"]) == ("Tenant 4", "Flat 4")
    assert lines["address_line_5"] == "M4 1AE"


def test_a_welsh_speaking_household_is_written_to_in_welsh_with_the_english_after(world):
    with world.sessions.begin() as session:
        session.get(Tenancy, "T-H0001").language = "cy-GB"
    case_id = world.report()
    world.worker().run_once()
    [mail] = world.smtp.wait_for(1)
    assert mail["Subject"] == "Rydym wedi cael eich adroddiad (R-TEST1)"
    text = mail.get_content()
    assert "lleithder a llwydni" in text
    assert "We have your report" not in mail["Subject"]
    assert "Thank you for telling us about damp and mould" in text
    assert messages(world, case_id)[0].language == "cy"


def test_phone_preference_is_a_task_for_a_person(world):
    with world.sessions.begin() as session:
        session.get(Tenancy, "T-H0001").preferred_channel = "phone"
    case_id = world.report()
    world.worker().run_once()
    [message] = messages(world, case_id)
    assert message.status == "not_sent"
    assert "call them" in message.last_error


def test_reports_from_the_resident_form_are_acknowledged_to_the_contact_given(world):
    case_id = world.report(contact={"email": "neighbour@example.net", "language": "pl"})
    world.worker().run_once()
    [mail] = world.smtp.wait_for(1)
    assert mail["To"] == "neighbour@example.net"
    assert mail["Subject"].startswith("Otrzymaliśmy")
    with world.sessions() as session:
        assert session.get(Case, case_id) is not None
        assert session.scalar(select(Message.recipient)) == "neighbour@example.net"
