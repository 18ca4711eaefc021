"""Send throughput of the notification worker: messages/s through SMTP to a local aiosmtpd.

    .venv/bin/python -m bench.notify [--messages 2000] [--db postgresql+psycopg://...]

Builds a case database (SQLite in a temporary folder unless --db names an empty database),
writes N domain events to the outbox (tenant reports, each acknowledged by email), starts
aiosmtpd in its own process (its Sink handler accepts and drops each message), and times the
worker's two phases: fan-out (events into messages, one transaction per 200 events) and sending
(claims of 50, one commit per message, one SMTP connection per run). Prints both rates. Numbers
depend on the machine and what else runs on it; the SMTP server shares the machine.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from compliance.calendar import WorkingDayCalendar
from compliance.service import Engine
from homesafe.bootstrap import delivery_hooks, with_outbox
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from notify import outbox, repository, service
from notify.channels import ChannelSettings
from notify.models import Message
from notify.worker import Worker
from registry.clock import utc_now
from registry.files import LocalFileStore
from registry.service import import_registry
from tests.factories import homes_with_addresses_csv, tenancies_csv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _smtp_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("aiosmtpd did not start")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--db", default=None, help="an empty case database URL (default SQLite)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    db = make_engine(args.db or f"sqlite:///{tmp / 'cases.db'}")
    upgrade(db)
    sessions = with_outbox(make_sessionmaker(db))
    now = utc_now()
    homes = [f"H{h:04d}" for h in range(1, 11)]
    with sessions.begin() as session:
        import_registry(
            session, homes_text=homes_with_addresses_csv(10), tenancies_text=tenancies_csv(homes)
        )
        for i in range(args.messages):
            outbox.record(
                session,
                type="case.opened",
                at=now,
                data={"id": i + 1, "home_id": homes[i % len(homes)], "hazard": "damp_and_mould"},
                detail={
                    "step": "opened",
                    "report": {"source": "tenant", "reference": f"R-{i:08d}"},
                },
                case_id=i + 1,
            )
    port = _free_port()
    smtp = _smtp_server(port)
    channels = ChannelSettings(
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="Damp team <damp@landlord.example>",
        landlord_name="Northside Homes",
        landlord_phone="0161 496 0000",
    )
    engine = Engine(WorkingDayCalendar("Europe/London"))
    worker = Worker(
        sessions,
        channels,
        LocalFileStore(tmp / "files"),
        hooks=delivery_hooks(engine),
        name="bench",
    )
    try:
        started = time.perf_counter()
        fanned = 0
        while True:
            with sessions.begin() as session:
                events = repository.claim_events(session, now=utc_now(), limit=200)
                service.fan_out(
                    session, events=events, settings=channels, now=utc_now(), hooks=worker.hooks
                )
            fanned += len(events)
            if len(events) < 200:
                break
        fan_out_s = time.perf_counter() - started
        started = time.perf_counter()
        summary = worker.run_once()
        send_s = time.perf_counter() - started
    finally:
        smtp.terminate()
        smtp.wait(timeout=10)
    with sessions() as session:
        sent = session.scalar(
            select(func.count()).select_from(Message).where(Message.status == "sent")
        )
    print(
        f"database: {db.dialect.name}; events: {fanned}; messages sent: {sent} (worker said {summary.sent})"
    )
    print(f"fan-out: {fanned / fan_out_s:,.0f} events/s ({fan_out_s:.2f} s)")
    print(
        f"send through SMTP to aiosmtpd (one commit and one audit entry per message): "
        f"{summary.sent / send_s:,.0f} messages/s ({send_s:.2f} s)"
    )
    db.dispose()
    return 0 if sent == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
