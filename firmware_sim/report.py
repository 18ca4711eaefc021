"""What the ground truth says, per scenario, in a winter and a summer window (or any window).

    .venv/bin/python -m firmware_sim.report                      # winter and summer, 2 homes each
    .venv/bin/python -m firmware_sim.report --start 2026-03-01 --days 30 --truth truth.jsonl

For each scenario: homes, and per hazard the homes where the truth holds and the mean hours (and
days) a home spends with it during the window; for damp also the median day M first reached 1.
Offline use: any window, unlike `homesafe simulate` whose readings must fall in the contract's
35 days. Weather follows the dates, so January windows are cold and July ones hold the heatwave.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import numpy as np

from firmware_sim.homes import plan_homes
from firmware_sim.runner import FleetRun, write_truth
from firmware_sim.scenarios import SCENARIOS, expected_truth_keys

HAZARDS = ("damp_and_mould", "excess_cold", "excess_heat", "leak")
WINTER_START = "2026-01-05"
SUMMER_START = "2026-06-20"


def epoch_of(date: str) -> int:
    """UTC midnight of a YYYY-MM-DD date, in epoch seconds."""
    return int(datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())


def run_window(
    start_s: int, days: float, homes_per_scenario: int, seed: int
) -> tuple[FleetRun, list[dict[str, Any]]]:
    """Simulate every scenario (homes_per_scenario each) over the window; returns the run and its truth."""
    plans = plan_homes([s for s in SCENARIOS for _ in range(homes_per_scenario)], seed)
    run = FleetRun(
        plans,
        seed=seed,
        window_start_s=start_s,
        window_end_s=start_s + int(days * 86400),
        interval_s=3600,
    )
    for _ in run.batches():
        pass
    return run, run.truth_records()


def summarise(run: FleetRun, truth: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scenario: homes and, per hazard, homes with truth, mean hours per home, median day M reached 1."""
    start, end = run.window_start_s, run.window_end_s
    n_hours = (end - start) // 3600
    held: dict[tuple[str, str], np.ndarray] = {}
    m1_days: dict[str, list[float]] = defaultdict(list)
    for r in truth:
        if r["kind"] != "hazard":
            continue
        mask = held.setdefault((r["home_id"], r["hazard"]), np.zeros(n_hours, dtype=bool))
        a = max((r["start_ts"] - start) // 3600, 0)
        b = ((r["end_ts"] if r["end_ts"] is not None else end) - start) // 3600
        mask[a:b] = True
        m1 = r["evidence"].get("mould_index_1_ts") if r["hazard"] == "damp_and_mould" else None
        if m1 is not None:
            m1_days[r["home_id"]].append((m1 - start) / 86400)
    rows = []
    for scenario in SCENARIOS:
        homes = [p.home_id for p in run.plans if p.scenario.key == scenario.key]
        row: dict[str, Any] = {
            "scenario": scenario.key,
            "homes": len(homes),
            "expected": ",".join(expected_truth_keys(scenario, start, end)) or "-",
        }
        for hazard in HAZARDS:
            hours = [int(held[(h, hazard)].sum()) for h in homes if (h, hazard) in held]
            row[f"{hazard}_homes"] = len(hours)
            row[f"{hazard}_h"] = sum(hours) / max(len(homes), 1)
        firsts = [min(m1_days[h]) for h in homes if m1_days.get(h)]
        row["m1_day_median"] = float(np.median(firsts)) if firsts else float("nan")
        rows.append(row)
    return rows


def print_rows(title: str, rows: list[dict[str, Any]], out=sys.stdout) -> None:  # type: ignore[no-untyped-def]
    """The table: per hazard, homes with truth / mean hours per home (days in brackets)."""
    out.write(
        f"\n{title}\n{'scenario':<20}{'homes':>5}  "
        + "".join(f"{h:>22}" for h in HAZARDS)
        + f"{'M≥1 day':>9}  expected\n"
    )
    for r in rows:
        cells = "".join(
            f"{r[f'{h}_homes']:>5} {r[f'{h}_h']:>7.0f} h ({r[f'{h}_h'] / 24:>4.1f} d)"
            for h in HAZARDS
        )
        out.write(
            f"{r['scenario']:<20}{r['homes']:>5}  {cells}{r['m1_day_median']:>9.1f}  {r['expected']}\n"
        )


def main(argv: list[str] | None = None) -> int:
    """Print the truth table for a winter and a summer window, or for one --start window."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--start",
        default=None,
        help="YYYY-MM-DD: one window from this date (else winter and summer)",
    )
    parser.add_argument("--days", type=float, default=60.0)
    parser.add_argument("--homes-per-scenario", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--truth", default=None, help="with --start: write the truth records (JSON lines) here"
    )
    args = parser.parse_args(argv)
    starts = [args.start] if args.start else [WINTER_START, SUMMER_START]
    for date in starts:
        try:
            start_s = epoch_of(date)
        except ValueError:
            sys.stderr.write(f"firmware_sim.report: --start {date!r} is not YYYY-MM-DD\n")
            return 2
        t0 = time.perf_counter()
        run, truth = run_window(start_s, args.days, args.homes_per_scenario, args.seed)
        print_rows(
            f"window {date} + {args.days:g} days, seed {args.seed} "
            f"(homes with truth, mean hours per home; {time.perf_counter() - t0:.1f} s)",
            summarise(run, truth),
        )
        if args.truth and args.start:
            write_truth(args.truth, truth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
