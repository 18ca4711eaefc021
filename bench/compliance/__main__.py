"""Compliance at scale on PostgreSQL: `python -m bench.compliance [--cases 100000] [--url URL]`.

Loads open cases with their clocks (bulk insert) into a fresh database (or the one given) and
prints: a scheduler sweep's time over the overdue backlog and with nothing due (target < 1 s),
the hazard queue's p50/p95 per filter through the HTTP API (``GET /api/v1/cases`` on the real
app in a TestClient: token check, query, serialisation; target p95 < 100 ms), and working-day
due-date computations per second.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.auth import add_user, create_token
from api.deps import AppContext
from compliance.calendar import WorkingDayCalendar
from compliance.clocks import due_at
from compliance.jobs import run_sweep, run_warnings
from compliance.models import Case, Clock
from compliance.rules import PHASE_1, ComplianceSettings
from compliance.service import Engine
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
from ingest.store import open_telemetry_store
from registry.clock import utc_now
from registry.models import Home

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
HAZARDS = ("damp_and_mould", "excess_cold", "fire", "electrical", "falls_stairs")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * pct / 100))]


def fresh_database() -> tuple[str, str]:
    name = f"homesafe_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    return name, url.render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load(url: str, cases: int, now: datetime, overdue_share: float, engine: Engine) -> None:
    """Bulk insert homes, open cases and their investigate (and some emergency) clocks."""
    db = make_engine(url)
    homes = cases // len(HAZARDS) + 1
    rng = random.Random(7)
    with db.begin() as conn:
        conn.execute(
            insert(Home), [{"home_id": f"B{h:06d}", "archetype": "flat"} for h in range(homes)]
        )
        chunk = 10_000
        for first in range(0, cases, chunk):
            case_rows, clock_rows = [], []
            for n in range(first, min(first + chunk, cases)):
                overdue = rng.random() < overdue_share
                age_days = rng.uniform(15, 30) if overdue else rng.uniform(0, 12)
                aware = now - timedelta(days=age_days)
                emergency = n % 50 == 0 and not overdue
                due = due_at("investigate", aware, PHASE_1, engine.calendar, engine.settings)
                clocks = [("investigate", due)]
                if emergency:
                    clocks.append(("emergency_action", aware + timedelta(hours=24)))
                running = [d for _, d in clocks]
                case_rows.append(
                    {
                        "id": n + 1,
                        "home_id": f"B{n // len(HAZARDS):06d}",
                        "hazard": HAZARDS[n % len(HAZARDS)],
                        "category": "emergency" if emergency else "potential",
                        "source": "tenant",
                        "aware_at": aware,
                        "rule_set": "phase_1",
                        "status": "open",
                        "stage": "awaiting_investigation",
                        "opened_at": aware,
                        "access_failures": 0,
                        "alternative_accommodation_due": False,
                        "in_scope": True,
                        "accommodation": "not_due",
                        "next_due_at": min(running),
                    }
                )
                clock_rows += [
                    {
                        "case_id": n + 1,
                        "kind": kind,
                        "started_at": aware,
                        "due_at": due_,
                        "status": "running",
                    }
                    for kind, due_ in clocks
                ]
            conn.execute(insert(Case), case_rows)
            conn.execute(insert(Clock), clock_rows)
        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), {cases})")
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def queue_filters(rng: random.Random, homes: int) -> dict[str, dict[str, object]]:
    """One request's query string per filter of GET /api/v1/cases."""
    return {
        "unfiltered": {},
        "status=open": {"status": "open"},
        "hazard": {"status": "open", "hazard": rng.choice(HAZARDS)},
        "home_id": {"home_id": f"B{rng.randrange(homes):06d}"},
        "breached=true": {"status": "open", "breached": "true"},
        "breached=false": {"status": "open", "breached": "false"},
        "offset=5000": {"status": "open", "offset": 5000},
        "hazard+offset=2000": {"status": "open", "hazard": rng.choice(HAZARDS), "offset": 2000},
    }


def hazard_queue_timings(
    sessions: sessionmaker[Session], engine: Engine, queries: int, rng: random.Random
) -> dict[str, list[float]]:
    """GET /api/v1/cases through the real app (auth, query, serialisation), 100 cases a page."""
    with sessions.begin() as session:
        homes = session.scalar(select(func.count()).select_from(Home)) or 1
        add_user(session, name="bench-officer", role="officer", now=utc_now())
        token = create_token(session, name="bench-officer", now=utc_now())
    with tempfile.TemporaryDirectory() as tmp:
        telemetry = open_telemetry_store(f"sqlite:///{tmp}/telemetry.db")
        app = create_app(AppContext(sessions, telemetry, engine))
        timings: dict[str, list[float]] = {}
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(app) as client:
            for n in range(queries + 5):
                for label, params in queue_filters(rng, homes).items():
                    started = time.perf_counter()
                    response = client.get("/api/v1/cases", params=params, headers=headers)
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200, response.text
                    if n >= 5:  # the first few warm the caches and the connection pool
                        timings.setdefault(label, []).append(elapsed_ms)
        telemetry.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compliance")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--overdue-share", type=float, default=0.002)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--url", help="an empty PostgreSQL database; default: a fresh one, dropped")
    args = parser.parse_args(argv)
    engine = Engine(WorkingDayCalendar("Europe/London"), ComplianceSettings())
    now = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    name = None
    url = args.url
    if url is None:
        name, url = fresh_database()
    try:
        db = make_engine(url)
        upgrade(db)
        sessions = make_sessionmaker(db)
        started = time.perf_counter()
        load(url, args.cases, now, args.overdue_share, engine)
        out = sys.stdout.write
        out(f"loaded {args.cases} open cases in {time.perf_counter() - started:.1f} s\n")
        with sessions() as session:
            due = session.scalar(
                select(func.count())
                .select_from(Clock)
                .where(Clock.status == "running", Clock.due_at < now)
            )
            clocks = session.scalar(select(func.count()).select_from(Clock))
        out(f"clocks: {clocks}, overdue at sweep time: {due}\n")

        started = time.perf_counter()
        breached = run_sweep(sessions, now=now)
        sweep_s = time.perf_counter() - started
        out(f"sweep breaching {breached} clocks (each audited): {sweep_s * 1000:.0f} ms\n")
        started = time.perf_counter()
        again = run_sweep(sessions, now=now) + run_warnings(sessions, now=now)
        idle_s = time.perf_counter() - started
        out(f"sweep with nothing due ({again} claimed): {idle_s * 1000:.1f} ms\n")

        rng = random.Random(1)
        for label, timings in hazard_queue_timings(sessions, engine, args.queries, rng).items():
            out(
                f"hazard queue API {label}: p50 {statistics.median(timings):.1f} ms, "
                f"p95 {percentile(timings, 95):.1f} ms ({len(timings)} requests)\n"
            )

        starts = [now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365)) for _ in range(50_000)]
        started = time.perf_counter()
        for start in starts:
            due_at("investigate", start, PHASE_1, engine.calendar, engine.settings)
        rate = len(starts) / (time.perf_counter() - started)
        out(f"working-day due dates: {rate:,.0f} per second (10 working days)\n")
        db.dispose()
    finally:
        if name is not None:
            drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
