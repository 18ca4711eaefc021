"""The tenant hears when work is booked and done; staff hear one working day before a deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from compliance.jobs import run_warnings
from compliance.models import Clock, ClockWarning
from repairs import service as repairs
from repairs.schemas import VisitIn, WorkOrderIn

pytestmark = pytest.mark.integration


def test_work_booked_and_completed_reach_the_tenant(world):
    case_id = world.report()
    world.event(case_id, "investigation_concluded", outcome="significant")
    with world.sessions.begin() as session:
        contractor = repairs.add_contractor(
            session, name="Dryhomes", kind="contractor", now=world.now
        )
        order = repairs.raise_work_order(
            session,
            order=WorkOrderIn(
                case_id=case_id, kind="safety", contractor_id=contractor.id, priority="urgent"
            ),
            actor="officer",
            now=world.now,
        )
        order_id = order.id
        repairs.book_visit(
            session,
            work_order_id=order_id,
            booked_for=world.now + timedelta(days=2),
            actor="officer",
            now=world.now,
        )
    world.worker().run_once()
    with world.sessions.begin() as session:
        repairs.record_visit(
            session,
            work_order_id=order_id,
            visit=VisitIn(outcome="completed", at=world.now, work_done="Fan replaced"),
            actor="officer",
            now=world.now,
            engine=world.engine,
        )
    world.worker().run_once()
    subjects = [m["Subject"] for m in world.smtp.wait_for(3)]
    assert subjects[0].startswith("We have your report")
    assert subjects[1] == f"Work on your home is booked (HS-{case_id})"
    assert subjects[2] == f"The work on your home is done (HS-{case_id})"
    booked = world.smtp.messages[1].get_content()
    assert " for " in booked  # the appointment's time, in the landlord's time zone


def test_staff_are_alerted_when_one_working_day_is_left(world):
    case_id = world.report(source="staff")
    with world.sessions() as session:
        warn_at, label = session.execute(
            select(ClockWarning.warn_at, ClockWarning.label)
            .join(Clock, Clock.id == ClockWarning.clock_id)
            .where(Clock.case_id == case_id, ClockWarning.label == "1_working_days_left")
        ).one()
    assert label == "1_working_days_left"
    assert run_warnings(world.sessions, now=warn_at) >= 1  # the 2-working-day one too
    world.worker().run_once()
    [alert] = world.smtp.wait_for(1)
    assert alert["To"] == "damp-team@landlord.example"
    assert alert["Subject"].startswith(f"Due soon: case {case_id}, investigate by ")
