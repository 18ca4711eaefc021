"""The query the damp and mould export reads: tenants' messages delivered, per case."""

from __future__ import annotations

import pytest

from notify import repository

pytestmark = pytest.mark.integration


def test_only_messages_delivered_to_tenants_are_listed(world):
    first = world.report()
    second = world.report("H0002")
    world.worker(smtp_url=None).run_once()  # not sent: not listed
    third = world.report("H0003")
    world.worker().run_once()
    with world.sessions() as session:
        rows = repository.tenant_messages_sent(session, case_ids=[first, second, third])
        assert [(m.case_id, m.kind, m.channel) for m in rows] == [
            (third, "report_received", "email")
        ]
        assert rows[0].sent_at is not None
        assert repository.tenant_messages_sent(session, case_ids=[]) == []
