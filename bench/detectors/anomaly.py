"""Experiment: IsolationForest over per-home daily features as a second opinion to the rules.

    .venv/bin/python -m bench.detectors.anomaly --homes 500 --days 45 --seed 7

Simulates the fleet as `bench.detectors.evaluate` does, keeps hourly means, builds one feature row
per home and day, fits scikit-learn's IsolationForest (unsupervised) and ranks homes by their most
anomalous day. It is scored against the simulator's hazard truth beside the rules: does the ranking
add recall (truth homes the rules missed) or precision (as a filter on the rules' homes)?
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import defaultdict

import numpy as np
from sklearn.ensemble import IsolationForest

from bench.detectors.evaluate import simulate

FEATURES = (
    "t_mean",
    "t_min",
    "t_max",
    "rh_mean",
    "rh_max",
    "rh_hours_over_80_max",
    "wme_max",
    "wme_rise_max",
    "t_range_mean",
)


def home_day_features(
    hourly: np.ndarray, home_of_sensor: np.ndarray, homes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows (home, day) from hourly means (hours, sensors, 3); returns X and each row's home."""
    days = hourly.shape[0] // 24
    x = hourly[: days * 24].reshape(days, 24, hourly.shape[1], 3).astype(np.float64)
    t, rh, wme = x[..., 0], x[..., 1], x[..., 2]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per_sensor = {
            "t_mean": np.nanmean(t, 1),
            "t_min": np.nanmin(t, 1),
            "t_max": np.nanmax(t, 1),
            "rh_mean": np.nanmean(rh, 1),
            "rh_max": np.nanmax(rh, 1),
            "rh_hours_over_80_max": (rh >= 80).sum(1).astype(float),
            "wme_max": np.nanmax(wme, 1),
            "wme_rise_max": np.nanmax(np.diff(wme, axis=1), 1),
            "t_range_mean": np.nanmax(t, 1) - np.nanmin(t, 1),
        }
        how = {
            "t_mean": np.nanmean,
            "t_min": np.nanmin,
            "t_max": np.nanmax,
            "rh_mean": np.nanmean,
            "rh_max": np.nanmax,
            "rh_hours_over_80_max": np.nanmax,
            "wme_max": np.nanmax,
            "wme_rise_max": np.nanmax,
            "t_range_mean": np.nanmean,
        }
        rows = []
        for name in FEATURES:
            values = per_sensor[name]  # (days, sensors)
            out = np.full((days, homes), np.nan)
            for home in range(homes):
                cols = home_of_sensor == home
                out[:, home] = how[name](values[:, cols], axis=1)
            rows.append(out)
    features = np.stack(rows, axis=-1).reshape(days * homes, len(FEATURES))
    home = np.tile(np.arange(homes), days)
    features = np.where(
        np.isfinite(features), features, np.nanmedian(features, axis=0)
    )  # probes absent: median
    return features, home


def main(argv: list[str] | None = None) -> int:
    """Run the experiment and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, default=500)
    parser.add_argument("--days", type=float, default=45.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    collected, truth, plans, _start, _end = simulate(
        args.homes, args.days, args.seed, outdoor=True, keep_hourly=True
    )
    assert collected.hourly is not None
    assert collected.home_of_sensor is not None
    x, home = home_day_features(collected.hourly, collected.home_of_sensor, len(plans))
    forest = IsolationForest(n_estimators=300, random_state=args.seed).fit(x)
    anomaly = -forest.score_samples(x)
    best: dict[int, float] = defaultdict(float)
    for h, a in zip(home.tolist(), anomaly.tolist(), strict=True):
        best[h] = max(best[h], a)
    ranked = [plans[h].home_id for h, _ in sorted(best.items(), key=lambda kv: -kv[1])]
    truth_homes = {r["home_id"] for r in truth if r["kind"] == "hazard"}
    rule_homes = {f.home_id for _, f in collected.findings}
    k = len(rule_homes)
    top = set(ranked[:k])

    def pr(flagged: set[str]) -> str:
        hit = len(flagged & truth_homes)
        p = hit / len(flagged) if flagged else float("nan")
        r = hit / len(truth_homes) if truth_homes else float("nan")
        return f"{len(flagged):>5} homes  precision {p:.3f}  recall {r:.3f}"

    out = sys.stdout
    out.write(
        f"{args.homes} homes x {args.days:g} days, seed {args.seed}: {len(truth_homes)} homes with a hazard "
        f"in the truth; {x.shape[0]} home-days, {x.shape[1]} features\n"
    )
    out.write(f"  rules (any finding)                {pr(rule_homes)}\n")
    out.write(f"  IsolationForest top-k (k = rules)  {pr(top)}\n")
    out.write(f"  rules OR forest top-k              {pr(rule_homes | top)}\n")
    out.write(f"  rules AND forest top-2k            {pr(rule_homes & set(ranked[: 2 * k]))}\n")
    missed = truth_homes - rule_homes
    out.write(
        f"  truth homes the rules missed: {len(missed)}; of them in the forest's top-k: {len(missed & top)}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
