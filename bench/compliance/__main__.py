"""Compliance at scale on PostgreSQL: `python -m bench.compliance [--cases 100000] [--url URL]`.

Loads open cases with their clocks (bulk insert) into a fresh database (or the one given) and
prints: a scheduler sweep's time (target < 1 s), the hazard queue query's p50/p95 through the
repository and the API's serialisation (target p95 < 100 ms), and working-day due-date
computations per second.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from compliance import repository
from compliance.calendar import WorkingDayCalendar
from compliance.clocks import due_at
from compliance.jobs import run_sweep, run_warnings
from compliance.models import Case, Clock
from compliance.rules import PHASE_1, ComplianceSettings
from compliance.schemas import CaseOut
from compliance.service import Engine
from homesafe.database import make_engine, make_sessionmaker
from homesafe.migrate import upgrade
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
        breached = run_sweep(sessions, now=now, engine=engine)
        sweep_s = time.perf_counter() - started
        out(f"sweep breaching {breached} clocks (each audited): {sweep_s * 1000:.0f} ms\n")
        started = time.perf_counter()
        again = run_sweep(sessions, now=now, engine=engine) + run_warnings(sessions, now=now)
        idle_s = time.perf_counter() - started
        out(f"sweep with nothing due ({again} claimed): {idle_s * 1000:.1f} ms\n")

        timings: dict[str, list[float]] = {"queue": [], "queue_by_hazard": [], "queue_page_50": []}
        rng = random.Random(1)
        for _ in range(args.queries):
            for label, kwargs in (
                ("queue", {"status": "open", "limit": 100}),
                (
                    "queue_by_hazard",
                    {"status": "open", "hazard": rng.choice(HAZARDS), "limit": 100},
                ),
                ("queue_page_50", {"status": "open", "limit": 100, "offset": 5000}),
            ):
                with sessions() as session:
                    started = time.perf_counter()
                    page = repository.list_cases(session, **kwargs)
                    [CaseOut.model_validate(case).model_dump(mode="json") for case in page]
                    timings[label].append((time.perf_counter() - started) * 1000)
        for label, values in timings.items():
            out(
                f"hazard queue {label}: p50 {statistics.median(values):.1f} ms, "
                f"p95 {percentile(values, 95):.1f} ms ({len(values)} queries, 100 cases each)\n"
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
