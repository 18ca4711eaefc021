"""Kill the notification worker (a real `homesafe notify` process) mid-batch, in the middle of an
SMTP transaction: on restart every pending message is sent, each exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from compliance.models import AuditEntry
from notify.models import Message
from tests.integration.notify.receivers import SmtpSink

pytestmark = pytest.mark.integration

REPORTS = 12
KILL_AT_RCPT = 5


def _worker(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "homesafe.cli", "notify", "--name", "crash-test", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_batch_sends_every_message_once_on_restart(
    world, case_db_url, tmp_path
):
    for _ in range(REPORTS):
        world.report()  # each report joins the case and is acknowledged to the tenant
    process: dict[str, subprocess.Popen[bytes]] = {}
    killed = []

    def kill_mid_transaction(rcpt: int) -> None:
        if rcpt == KILL_AT_RCPT and not killed:
            os.kill(process["worker"].pid, signal.SIGKILL)
            process["worker"].wait(timeout=30)
            killed.append(rcpt)

    smtp = SmtpSink(on_rcpt=kill_mid_transaction).start()
    env = {
        **os.environ,
        "HOMESAFE_DATABASE_URL": case_db_url,
        "HOMESAFE_TELEMETRY_URL": f"sqlite:///{tmp_path / 'telemetry.db'}",
        "HOMESAFE_SMTP_URL": smtp.url,
        "HOMESAFE_MAIL_FROM": "Damp team <damp@landlord.example>",
        "HOMESAFE_FILES_DIR": str(tmp_path / "files"),
        "HOMESAFE_NOTIFY_INTERVAL_S": "0.2",
    }
    try:
        process["worker"] = _worker(env)
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert killed, "the worker never reached the fifth message"
        assert len(smtp.messages) == KILL_AT_RCPT - 1
        with world.sessions() as session:
            statuses = Counter(session.scalars(select(Message.status)))
        assert statuses == {"sent": KILL_AT_RCPT - 1, "sending": REPORTS - KILL_AT_RCPT + 1}

        restarted = _worker(env, "--once")
        output, _ = restarted.communicate(timeout=120)
        assert restarted.returncode == 0, output.decode()
    finally:
        smtp.stop()
    ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert len(ids) == REPORTS
    assert set(ids.values()) == {1}
    with world.sessions() as session:
        assert Counter(session.scalars(select(Message.status))) == {"sent": REPORTS}
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "message.sent")
            )
            == REPORTS
        )
