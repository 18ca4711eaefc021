"""The analysis finds a planted disparity, not a planted null, and its adjusted odds ratios agree
with an independent statsmodels formula fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from equity.analysis import adjusted_odds_ratios, outcome_table, silent_homes_table
from equity.outcomes import GROUPS, prepare
from equity.simulation import simulate_landlord

pytestmark = pytest.mark.unit

ALPHA = 0.05


def _row(table: pd.DataFrame, dimension: str, level: str) -> pd.Series:
    return table.loc[(table["dimension"] == dimension) & (table["level"] == level)].iloc[0]


def test_planted_breach_disparity_is_found_in_nearly_every_seed():
    found = 0
    for seed in range(20):
        cases, _ = prepare(simulate_landlord(4000, seed=seed, breach={"ethnicity": {"Black": 2.0}}))
        table, _ = outcome_table(cases, outcome="breached")
        row = _row(table, "ethnicity", "Black")
        found += row["q_value"] < ALPHA and row["ratio_to_rest"] > 1
    assert found >= 18


def test_planted_null_is_not_found_beyond_the_false_positive_rate():
    """Under a complete null, BH keeps P(any rejection) at or below alpha; over 100 seeds the count
    of seeds with any q < alpha stays within the binomial 99.9 % bound for rate alpha."""
    seeds = 100
    flagged = 0
    for seed in range(seeds):
        cases, _ = prepare(
            simulate_landlord(2000, seed=1000 + seed, deprivation_log_odds_per_decile=0.0)
        )
        household = [d for d in GROUPS if d not in ("imd_decile", "archetype", "build_era")]
        table, _ = outcome_table(cases, outcome="breached", dimensions=household[:-1])
        flagged += bool((table["q_value"] < ALPHA).any())
    assert flagged <= stats.binom.ppf(0.999, seeds, ALPHA)


def test_planted_silence_is_found_in_the_unreported_share():
    frames = simulate_landlord(6000, seed=5, unreported={"language_needs": {"yes": 4.0}})
    cases, _ = prepare(frames)
    table, _ = outcome_table(
        cases, outcome="unreported_sensor_hazard", dimensions=["language_needs"]
    )
    row = _row(table, "language_needs", "yes")
    assert row["q_value"] < ALPHA
    assert row["ratio_to_rest"] > 1.2


def test_planted_silent_sensors_are_found_by_group():
    frames = simulate_landlord(6000, seed=6, silent={"disability": {"yes": 3.0}})
    _, homes = prepare(frames)
    table, _ = silent_homes_table(homes, dimensions=["disability"])
    row = _row(table, "disability", "yes")
    assert row["q_value"] < ALPHA
    assert row["ci_low"] > _row(table, "disability", "no")["ci_high"]


def test_adjusted_odds_ratios_match_a_statsmodels_formula_fit():
    cases, _ = prepare(simulate_landlord(5000, seed=11, breach={"ethnicity": {"Black": 2.0}}))
    ours = adjusted_odds_ratios(cases, "ethnicity").set_index("level")
    data = cases.assign(y=cases["breached"].astype(int))
    fit = smf.logit(
        "y ~ C(ethnicity, Treatment('White')) + C(archetype) + C(imd_decile) + C(hazard)", data
    ).fit(disp=0)
    name = "C(ethnicity, Treatment('White'))[T.Black]"
    assert ours.loc["Black", "odds_ratio"] == pytest.approx(np.exp(fit.params[name]), rel=1e-4)
    low, high = np.exp(fit.conf_int().loc[name])
    assert (ours.loc["Black", "ci_low"], ours.loc["Black", "ci_high"]) == pytest.approx(
        (low, high), rel=1e-4
    )
    assert ours.loc["Black", "ci_low"] < 2.0 < ours.loc["Black", "ci_high"]


def test_adjustment_removes_a_disparity_that_is_only_deprivation():
    """Households of one group live in more deprived areas; deprivation alone drives breaches."""
    frames = simulate_landlord(20000, seed=12, deprivation_log_odds_per_decile=0.25)
    deprived = frames.homes["imd_decile"] <= 3
    black = frames.households["home_id"].isin(frames.homes.loc[deprived, "home_id"])
    rng = np.random.default_rng(0)
    frames.households.loc[black & (rng.random(len(black)) < 0.5), "ethnicity"] = "Black"
    cases, _ = prepare(frames)
    crude, _ = outcome_table(cases, outcome="breached", dimensions=["ethnicity"])
    adjusted = adjusted_odds_ratios(cases, "ethnicity").set_index("level")
    assert _row(crude, "ethnicity", "Black")["q_value"] < ALPHA
    assert adjusted.loc["Black", "ci_low"] < 1.0 < adjusted.loc["Black", "ci_high"]


def test_median_table_reports_days_with_intervals():
    cases, _ = prepare(simulate_landlord(3000, seed=2))
    table, overall = outcome_table(cases, outcome="days_to_safe", dimensions=["archetype"])
    shown = table.loc[~table["suppressed"]]
    assert (shown["ci_low"] <= shown["value"]).all()
    assert (shown["value"] <= shown["ci_high"]).all()
    assert overall["value"] == pytest.approx(cases["days_to_safe"].median())
