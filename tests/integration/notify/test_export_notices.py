"""The damp and mould export's notification table carries the messages notify delivered to
tenants (wired in the composition root: interop never imports notify)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from interop.enums import NOTIFICATION_METHODS, NOTIFICATION_TYPES, code_id
from interop.service import export_damp_and_mould

pytestmark = pytest.mark.integration


def test_a_delivered_acknowledgement_is_in_the_export(world):
    case_id = world.report()
    assert world.worker().run_once().sent == 1  # the acknowledgement, by email
    with world.sessions() as session:
        document = export_damp_and_mould(
            session,
            component="investigation",
            start=world.now - timedelta(days=1),
            end=world.now + timedelta(days=1),
            now=world.now,
            engine=world.engine,
            personal=False,
        )
    advice = [
        n
        for n in document["notification"]
        if n["notification_type_id"] == code_id(NOTIFICATION_TYPES, "Advice")
    ]
    assert len(advice) == 1
    assert advice[0]["notification_method_id"] == code_id(NOTIFICATION_METHODS, "Email")
    assert str(case_id) in str(document["hazard_report"])


def test_undelivered_messages_are_not_in_the_export(world):
    world.report()  # queued, never sent
    with world.sessions() as session:
        document = export_damp_and_mould(
            session,
            component="investigation",
            start=world.now - timedelta(days=1),
            end=world.now + timedelta(days=1),
            now=world.now,
            engine=world.engine,
            personal=False,
        )
    assert [
        n
        for n in document["notification"]
        if n["notification_type_id"] == code_id(NOTIFICATION_TYPES, "Advice")
    ] == []
