"""Equity bench: the published table for a simulated landlord with a planted disparity, and timings.

    .venv/bin/python -m bench.equity.run [--cases 100000] [--seed 1]

Planted: Black households' cases breach an Awaab's Law clock at twice the odds; sensor-found hazards
in households with language needs go unreported at three times the odds.
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from equity.analysis import adjusted_odds_ratios, outcome_table, silent_homes_table
from equity.outcomes import GROUPS, prepare
from equity.simulation import simulate_landlord

PLANTED_BREACH = {"ethnicity": {"Black": 2.0}}
PLANTED_UNREPORTED = {"language_needs": {"yes": 3.0}}


def _fmt(table: pd.DataFrame) -> str:
    shown = table[
        [
            "dimension",
            "level",
            "n",
            "events",
            "value",
            "ci_low",
            "ci_high",
            "ratio_to_rest",
            "test",
            "q_value",
            "suppressed",
        ]
    ].copy()
    for column in ("value", "ci_low", "ci_high", "ratio_to_rest"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    shown["q_value"] = shown["q_value"].map(lambda v: "" if pd.isna(v) else f"{v:.2g}")
    for column in ("n", "events"):
        shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{int(v)}")
    return shown.to_string(index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    out = sys.stdout.write

    t0 = time.perf_counter()
    frames = simulate_landlord(
        args.cases, seed=args.seed, breach=PLANTED_BREACH, unreported=PLANTED_UNREPORTED
    )
    t1 = time.perf_counter()
    cases, homes = prepare(frames)
    t2 = time.perf_counter()
    breached, overall = outcome_table(cases, outcome="breached", dimensions=GROUPS)
    t3 = time.perf_counter()
    adjusted = pd.concat(
        [adjusted_odds_ratios(cases, d) for d in ("ethnicity", "disability", "language_needs")]
    )
    t4 = time.perf_counter()
    unreported, _ = outcome_table(cases, outcome="unreported_sensor_hazard", dimensions=GROUPS)
    silent_homes_table(homes, dimensions=GROUPS)
    outcome_table(cases, outcome="days_to_safe", dimensions=GROUPS)
    t5 = time.perf_counter()

    out(f"Simulated landlord: {args.cases:,} cases, {len(homes):,} homes, seed {args.seed}\n")
    out(
        "Planted: breach odds x2 for ethnicity=Black; unreported odds x3 for language_needs=yes\n\n"
    )
    out(
        f"Cases with any Awaab's Law clock breached: {overall['value']:.3f} "
        f"(95% CI {overall['ci_low']:.3f}-{overall['ci_high']:.3f}), n={overall['n']:,}\n"
    )
    out(_fmt(breached) + "\n\n")
    out("Adjusted odds ratios of a breach (controls: archetype, IMD decile, hazard)\n")
    out(adjusted.to_string(index=False, float_format=lambda v: f"{v:.3g}") + "\n\n")
    out("Sensor-found hazards no tenant reported (silences), by language needs\n")
    out(_fmt(unreported.loc[unreported["dimension"] == "language_needs"]) + "\n\n")
    significant = breached.loc[breached["q_value"] < 0.05, ["dimension", "level"]]
    out(
        "Groups flagged at BH q < 0.05 (breach): "
        + ", ".join(f"{d}={lvl}" for d, lvl in significant.itertuples(index=False))
        + "\n\n"
    )
    out("Timings (s):\n")
    out(f"  simulate            {t1 - t0:7.2f}\n")
    out(f"  outcomes per case   {t2 - t1:7.2f}\n")
    out(f"  breach table        {t3 - t2:7.2f}  ({len(GROUPS)} groups, {len(breached)} rows)\n")
    out(f"  adjusted (3 fits)   {t4 - t3:7.2f}\n")
    out(f"  silences + medians  {t5 - t4:7.2f}\n")
    out(f"  analysis total      {t5 - t1:7.2f}  (everything after simulation)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
