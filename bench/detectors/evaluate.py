"""Detector evaluation: the simulator's scenario mix straight into the fleet fast path, scored.

    .venv/bin/python -m bench.detectors.evaluate --homes 1000 --days 60 --seed 7
    .venv/bin/python -m bench.detectors.evaluate --start 2026-06-01 --days 60 --seed 7   # summer: heat

The default window ends 15 February 2026; `--start` sets its first day instead. False alarms on
healthy homes are also given split by the household's vulnerability (over 65, child under 5 or a
respiratory condition): the detectors raise the cold thresholds for them by 1 °C, and so does the
truth (`firmware_sim.truth`, the same `homes.vulnerable_household`).
Early damp: `condensation_onset` homes, whose household changes a fifth of the way into the window,
scored on a damp_and_mould finding before the truth's mould index reaches 1 (`mould_index_1_ts`).
Readings come from firmware_sim's physics and sensor code in-process (noise, faults, a gateway
offline for three days that then replays its backlog — folded late, as the runner would).
Hourly means are folded into `detectors.fleet`; findings are scored against the truth records.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import orjson

from detectors.findings import DAMP_AND_MOULD, EXCESS_COLD, EXCESS_HEAT, LEAK, Finding, FleetTask
from detectors.fleet import FleetSettings, FleetState, HourBatch, SiteInfo, drift_tasks, fold_hours
from firmware_sim.homes import households_rows, plan_homes, vulnerable_household
from firmware_sim.runner import FleetRun
from firmware_sim.scenarios import mix_scenarios

HAZARDS = (LEAK, DAMP_AND_MOULD, EXCESS_COLD, EXCESS_HEAT)
WINDOW_END = datetime(2026, 2, 15, tzinfo=UTC)
MEASURES = ("temperature_c", "humidity_pct", "wme_pct", "battery_pct")


@dataclass
class Collected:
    """Findings by home, with the hour each was raised (epoch s)."""

    findings: list[tuple[int, Finding]] = field(default_factory=list)
    tasks: list[FleetTask] = field(default_factory=list)  # humidity drift (daily, home-level)
    hourly: np.ndarray | None = None  # (hours, sensors, 3) means of T, RH, %WME, when kept
    home_of_sensor: np.ndarray | None = None
    vulnerable_homes: set[str] = field(default_factory=set)
    folded_hours: int = 0
    fold_seconds: float = 0.0


def simulate(
    homes: int,
    days: float,
    seed: int,
    *,
    outdoor: bool,
    settings: FleetSettings = FleetSettings(),
    keep_hourly: bool = False,
    start: datetime | None = None,
) -> tuple[Collected, list[dict], list, int, int]:
    """Run the fleet and fold its hourly means; returns findings, truth, plans and the window.

    The window ends at `WINDOW_END` unless `start` (UTC midnight of its first day) is given.
    """
    plans = plan_homes(mix_scenarios(homes, seed), seed)
    if start is None:
        end_s = int(WINDOW_END.timestamp())
        start_s = end_s - int(days * 86400)
    else:
        start_s = int(start.timestamp())
        end_s = start_s + int(days * 86400)
    run = FleetRun(plans, seed=seed, window_start_s=start_s, window_end_s=end_s, interval_s=900)
    households = {r["home_id"]: r for r in households_rows(plans, seed)}
    state = FleetState()
    keys = [(p.gateway_id, r.sensor_id) for p in plans for r in p.rooms]
    rows = state.rows(keys)
    sites: list[SiteInfo | None] = [None] * len(keys)
    for p in plans:
        vulnerable = vulnerable_household(households[p.home_id])
        for r in p.rooms:
            sites[state.index[(p.gateway_id, r.sensor_id)]] = SiteInfo(
                p.home_id, r.room, vulnerable
            )
    room_of = {
        (p.gateway_id, r.sensor_id): j
        for j, (p, r) in enumerate((p, r) for p in plans for r in p.rooms)
    }
    n = len(keys)
    sums = np.zeros((4, n))
    counts = np.zeros((4, n))
    out_sum = np.zeros(n)
    out_n = 0
    home_of_row = np.array([i for i, p in enumerate(plans) for _ in p.rooms])
    backlog: dict[int, list[HourBatch]] = defaultdict(list)
    collected = Collected()
    collected.home_of_sensor = home_of_row
    collected.vulnerable_homes = {
        site.home_id for site in sites if site is not None and site.vulnerable
    }
    if keep_hourly:
        collected.hourly = np.full((int(days * 24) + 1, n, 3), np.nan, dtype=np.float32)
    current_hour = None

    def flush(hour_s: int, offline: np.ndarray) -> None:
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts
        has = (counts > 0).any(axis=0)
        outdoor_c = out_sum / out_n if (outdoor and out_n) else np.full(n, np.nan)
        sel = np.flatnonzero(has)
        batch_rows = rows[sel]
        on = ~offline[home_of_row[sel]]
        for home in np.unique(home_of_row[sel][~on]):
            pick = sel[home_of_row[sel] == home]
            backlog[int(home)].append(_batch(rows[pick], hour_s, means[:, pick], outdoor_c[pick]))
        live = sel[on]
        batches = [_batch(batch_rows[on], hour_s, means[:, live], outdoor_c[live])]
        for home in [h for h in list(backlog) if not offline[h]]:
            batches = backlog.pop(home) + batches  # replay, oldest first
        t0 = time.perf_counter()
        for b in batches:
            result = fold_hours(state, b, sites, settings=settings)
            collected.folded_hours += result.hours_folded
            collected.findings += [(hour_s + 3600, f) for f in result.findings]
        if (
            hour_s + 3600
        ) % 86400 == 0:  # UTC midnight (local midnight in GMT, 01:00 in BST): a day completed
            collected.tasks += drift_tasks(
                state, sites, now=datetime.fromtimestamp(hour_s + 3600, UTC)
            )
        collected.fold_seconds += time.perf_counter() - t0
        if collected.hourly is not None:
            k = (hour_s - start_s) // 3600
            if 0 <= k < collected.hourly.shape[0]:
                collected.hourly[k, rows] = means[:3].T  # as measured (a replayed backlog included)

    offline = np.zeros(len(plans), dtype=bool)
    for batch in run.batches():
        hour_s = (batch.ts - 1) // 3600 * 3600  # a reading at hh:00 closes the previous hour
        if current_hour is not None and hour_s != current_hour:
            flush(current_hour, offline)
            sums[:] = 0.0
            counts[:] = 0.0
            out_sum[:] = 0.0
            out_n = 0
        current_hour = hour_s
        offline = np.array(batch.offline)
        for h, payload in batch.messages:
            if payload is None:
                continue
            for r in orjson.loads(payload)["readings"]:
                j = room_of[(plans[h].gateway_id, r["sensor"])]
                for m, name in enumerate(MEASURES):
                    value = r.get(name)
                    if value is not None:
                        sums[m, j] += value
                        counts[m, j] += 1
        out_sum += run.physics._outdoor(batch.ts)[0] if outdoor else 0.0
        out_n += 1
    if current_hour is not None:
        flush(current_hour, np.zeros(len(plans), dtype=bool))
    return collected, run.truth_records(), plans, start_s, end_s


def _batch(rows: np.ndarray, hour_s: int, means: np.ndarray, outdoor_c: np.ndarray) -> HourBatch:
    return HourBatch(
        rows=rows,
        hour_s=np.full(rows.size, hour_s, dtype=np.int64),
        temperature_c=means[0],
        humidity_pct=means[1],
        wme_pct=means[2],
        battery_pct=means[3],
        outdoor_c=np.asarray(outdoor_c, dtype=np.float64),
    )


def score(
    collected: Collected, truth: list[dict], plans: list, start_s: int, end_s: int
) -> list[dict]:
    """Per hazard: precision, recall (any time and within target), delays, healthy false alarms."""
    days = (end_s - start_s) / 86400
    onset: dict[str, dict[str, int]] = defaultdict(dict)
    for r in truth:
        if r["kind"] == "hazard":
            first = onset[r["hazard"]].get(r["home_id"])
            onset[r["hazard"]][r["home_id"]] = min(first, r["start_ts"]) if first else r["start_ts"]
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for at, f in sorted(collected.findings, key=lambda x: x[0]):
        found[f.hazard].setdefault(f.home_id, at)
        if f.hazard == LEAK:  # compliance files a leak under damp_and_mould until investigated
            found[DAMP_AND_MOULD].setdefault(f.home_id, at)
    healthy = {p.home_id for p in plans if p.scenario.key == "healthy"}
    rows = []
    for hazard in HAZARDS:
        truth_homes = onset[hazard]
        hits = found[hazard]
        tp = [h for h in hits if h in truth_homes]
        precision = len(tp) / len(hits) if hits else float("nan")
        recall = (
            len([h for h in truth_homes if h in hits]) / len(truth_homes)
            if truth_homes
            else float("nan")
        )
        delays_h = np.array([(hits[h] - truth_homes[h]) / 3600 for h in truth_homes if h in hits])
        target_h = 2.0 if hazard == LEAK else (0.0 if hazard == DAMP_AND_MOULD else float("inf"))
        incident = {h: t for h, t in truth_homes.items() if t > start_s}
        in_time = [h for h, t in incident.items() if h in hits and (hits[h] - t) / 3600 <= target_h]
        false_alarms = sum(1 for h in hits if h in healthy and h not in truth_homes)
        vulnerable = healthy & collected.vulnerable_homes
        fa_vulnerable = sum(1 for h in hits if h in vulnerable and h not in truth_homes)
        fa_other = false_alarms - fa_vulnerable
        rows.append(
            {
                "hazard": hazard,
                "truth_homes": len(truth_homes),
                "flagged_homes": len(hits),
                "precision": precision,
                "recall": recall,
                "incident_homes": len(incident),
                "recall_in_target": len(in_time) / len(incident) if incident else float("nan"),
                "delay_median_h": float(np.median(delays_h)) if delays_h.size else float("nan"),
                "delay_p90_h": float(np.percentile(delays_h, 90))
                if delays_h.size
                else float("nan"),
                "false_alarms_per_1000_healthy_home_days": 1000
                * false_alarms
                / max(len(healthy) * days, 1),
                "false_alarm_homes": false_alarms,
                "fa_vulnerable_per_1000": 1000 * fa_vulnerable / max(len(vulnerable) * days, 1),
                "fa_not_vulnerable_per_1000": 1000
                * fa_other
                / max((len(healthy) - len(vulnerable)) * days, 1),
                "healthy_vulnerable_homes": len(vulnerable),
                "healthy_homes": len(healthy),
            }
        )
    return rows


def score_early_damp(
    collected: Collected, truth: list[dict], plans: list, start_s: int, end_s: int
) -> dict:
    """condensation_onset homes: a damp_and_mould finding before the truth's mould index reaches 1."""
    onset_homes = {p.home_id for p in plans if p.scenario.key == "condensation_onset"}
    fraction = next(
        (p.scenario.household_change_fraction for p in plans if p.home_id in onset_homes), 0.0
    )
    change_s = start_s + fraction * (end_s - start_s)  # when the household changes its ways
    m1: dict[str, int] = {}
    for r in truth:
        if r["kind"] == "hazard" and r["hazard"] == DAMP_AND_MOULD and r["home_id"] in onset_homes:
            ts = (r.get("evidence") or {}).get("mould_index_1_ts")
            if ts is not None:
                m1[r["home_id"]] = min(m1.get(r["home_id"], ts), ts)
    first: dict[str, int] = {}
    for at, f in sorted(collected.findings, key=lambda x: x[0]):
        if f.home_id in onset_homes and f.hazard in (DAMP_AND_MOULD, LEAK):
            first.setdefault(f.home_id, at)
    reached = {h: t for h, t in m1.items() if t > start_s}  # M reached 1 inside the window
    early = [h for h, t in reached.items() if h in first and first[h] < t]
    leads_h = np.array([(reached[h] - first[h]) / 3600 for h in early])
    after_change_h = np.array([(first[h] - change_s) / 3600 for h in first])
    return {
        "onset_homes": len(onset_homes),
        "m1_in_window": len(reached),
        "m1_before_window": sum(1 for t in m1.values() if t <= start_s),
        "detected": len([h for h in onset_homes if h in first]),
        "early": len(early),
        "early_recall": len(early) / len(reached) if reached else float("nan"),
        "lead_median_h": float(np.median(leads_h)) if leads_h.size else float("nan"),
        "lead_p10_h": float(np.percentile(leads_h, 10)) if leads_h.size else float("nan"),
        "detected_without_m1": len([h for h in onset_homes if h in first and h not in m1]),
        "before_change": int((after_change_h < 0).sum()),
        "after_change_median_h": float(np.median(after_change_h))
        if after_change_h.size
        else float("nan"),
        "m1_after_change_median_h": float(
            np.median([(t - change_s) / 3600 for t in reached.values()])
        )
        if reached
        else float("nan"),
    }


def print_early_damp(r: dict, out=sys.stdout) -> None:  # type: ignore[no-untyped-def]
    """The early-damp line."""
    out.write(
        f"early damp (condensation_onset): {r['onset_homes']} homes, M reached 1 in window in "
        f"{r['m1_in_window']} (before it in {r['m1_before_window']}); flagged before M = 1 in {r['early']} "
        f"(early recall {r['early_recall']:.3f}), lead median {r['lead_median_h']:.0f} h, "
        f"p10 {r['lead_p10_h']:.0f} h; {r['detected']} flagged at all, {r['detected_without_m1']} "
        f"of them with M < 1 throughout; from the household change: first flag median "
        f"{r['after_change_median_h']:.0f} h ({r['before_change']} flagged before it), M = 1 median "
        f"{r['m1_after_change_median_h']:.0f} h\n"
    )


def score_drift(collected: Collected, truth: list[dict], plans: list) -> str:
    """Humidity-drift fleet tasks against the simulator's drift faults (by sensor)."""
    faults = {
        (r["gateway_id"], r["sensor"])
        for r in truth
        if r["kind"] == "fault" and r["hazard"] == "drift"
    }
    flagged = {
        (t.sensor.gateway_id, t.sensor.sensor_id) for t in collected.tasks if t.kind == "drift"
    }
    hit = flagged & faults
    healthy = {p.gateway_id for p in plans if p.scenario.key == "healthy"}
    false_healthy = sum(1 for g, _ in flagged - faults if g in healthy)
    precision = len(hit) / len(flagged) if flagged else float("nan")
    recall = len(hit) / len(faults) if faults else float("nan")
    return (
        f"humidity drift (fleet task): {len(faults)} drifting sensors, {len(flagged)} flagged, "
        f"precision {precision:.3f}, recall {recall:.3f}, {false_healthy} flagged in healthy homes\n"
    )


def print_table(rows: list[dict], out=sys.stdout) -> None:  # type: ignore[no-untyped-def]
    """The evaluation table."""
    out.write(
        f"{'hazard':<16}{'truth':>6}{'flag':>6}{'prec':>7}{'recall':>8}{'incid':>7}"
        f"{'in-tgt':>8}{'med_h':>9}{'p90_h':>9}{'FA/1000hd':>11}{'FA_vuln':>9}{'FA_not':>8}\n"
    )
    for r in rows:
        out.write(
            f"{r['hazard']:<16}{r['truth_homes']:>6}{r['flagged_homes']:>6}{r['precision']:>7.3f}"
            f"{r['recall']:>8.3f}{r['incident_homes']:>7}{r['recall_in_target']:>8.3f}"
            f"{r['delay_median_h']:>9.1f}{r['delay_p90_h']:>9.1f}"
            f"{r['false_alarms_per_1000_healthy_home_days']:>11.3f}"
            f"{r['fa_vulnerable_per_1000']:>9.3f}{r['fa_not_vulnerable_per_1000']:>8.3f}\n"
        )
    if rows:
        out.write(
            f"(FA: false-alarm homes per 1,000 healthy home-days; healthy homes {rows[0]['healthy_homes']}, "
            f"of them vulnerable {rows[0]['healthy_vulnerable_homes']}: FA_vuln / FA_not per 1,000 of "
            f"their home-days)\n"
        )


def main(argv: list[str] | None = None) -> int:
    """Run and print the evaluation."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--days", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--detail", action="store_true", help="rules by scenario, for tuning")
    parser.add_argument(
        "--no-outdoor", action="store_true", help="no weather feed: room-air criteria"
    )
    parser.add_argument(
        "--start",
        type=_date,
        default=None,
        help="YYYY-MM-DD: first day of the window (default: the window ends 2026-02-15)",
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    collected, truth, plans, start_s, end_s = simulate(
        args.homes, args.days, args.seed, outdoor=not args.no_outdoor, start=args.start
    )
    sys.stdout.write(
        f"{args.homes} homes x {args.days:g} days from "
        f"{datetime.fromtimestamp(start_s, UTC).date()}, seed {args.seed}, "
        f"outdoor {'room air' if args.no_outdoor else 'weather feed'}: "
        f"{collected.folded_hours} sensor-hours folded in {collected.fold_seconds:.1f} s "
        f"(run {time.perf_counter() - t0:.0f} s)\n"
    )
    print_table(score(collected, truth, plans, start_s, end_s))
    print_early_damp(score_early_damp(collected, truth, plans, start_s, end_s))
    sys.stdout.write(score_drift(collected, truth, plans))
    if args.detail:
        detail(collected, truth, plans, start_s)
    return 0


def _date(text: str) -> datetime:
    """A YYYY-MM-DD argument as UTC midnight."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def detail(collected: Collected, truth: list[dict], plans: list, start_s: int) -> None:
    """Which rules fired in which scenarios, and how early against the truth (for tuning)."""
    scenario = {p.home_id: p.scenario.key for p in plans}
    onset: dict[tuple[str, str], int] = {}
    for r in truth:
        if r["kind"] == "hazard":
            key = (r["hazard"], r["home_id"])
            onset[key] = min(onset.get(key, r["start_ts"]), r["start_ts"])
    seen: dict[tuple[str, str, str], tuple[int, Finding]] = {}
    for at, f in collected.findings:
        seen.setdefault((f.rule_key, f.home_id, f.room), (at, f))
    table: dict[tuple[str, str, bool], list[float]] = defaultdict(list)
    for (rule, home, _room), (at, f) in seen.items():
        t = onset.get((f.hazard, home))
        table[(rule, scenario[home], t is not None)].append(
            (at - t) / 3600 if t else (at - start_s) / 3600
        )
    for (rule, scen, true), delays in sorted(table.items()):
        sys.stdout.write(
            f"  {rule:<20}{scen:<18}{'truth' if true else 'NO truth':<9}{len(delays):>5} "
            f"median {np.median(delays):8.1f} h\n"
        )


if __name__ == "__main__":
    raise SystemExit(main())
