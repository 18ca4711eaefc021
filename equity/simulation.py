"""A simulated landlord's cases, repairs and households, with disparities planted on purpose.

Pure and seeded: the same arguments give the same frames. Used by the tests (a planted disparity
must be found, a planted null must not) and by bench/equity.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from scipy.special import expit

from equity.outcomes import EquityFrames

ETHNICITY = (
    ("White", 0.70),
    ("Black", 0.10),
    ("Asian", 0.10),
    ("Mixed", 0.04),
    ("Other", 0.03),
    ("Not known", 0.03),
)
DISABILITY = (("no", 0.75), ("yes", 0.20), ("not known", 0.05))
AGE_BANDS = (
    ("16-24", 0.08),
    ("25-34", 0.2),
    ("35-44", 0.2),
    ("45-54", 0.17),
    ("55-64", 0.12),
    ("65-74", 0.13),
    ("75+", 0.10),
)
ARCHETYPES = (
    ("flat", 0.45),
    ("house", 0.30),
    ("maisonette", 0.10),
    ("bungalow", 0.07),
    ("bedsit", 0.05),
    ("other", 0.03),
)
HAZARDS = (
    ("damp_and_mould", 0.70),
    ("excess_cold", 0.15),
    ("excess_heat", 0.05),
    ("electrical", 0.10),
)
SOURCES = (("sensor", 0.50), ("tenant", 0.40), ("staff", 0.07), ("contractor", 0.03))
CONTRACTORS = (
    ("Acme Damp Ltd", 0.35),
    ("Northside Repairs", 0.30),
    ("In-house team", 0.25),
    ("Quickfix Co", 0.10),
)
ARCHETYPE_LOG_ODDS = {"bedsit": 0.5, "flat": 0.2, "maisonette": 0.1}
HAZARD_LOG_ODDS = {"excess_cold": 0.3, "electrical": -0.3}
START = datetime(2026, 1, 5, tzinfo=UTC)

# dimension -> level -> odds ratio; e.g. {"ethnicity": {"Black": 2.0}}
Planted = Mapping[str, Mapping[str, float]]


def _draw(rng: np.random.Generator, table: tuple[tuple[str, float], ...], size: int) -> np.ndarray:
    labels = np.array([label for label, _ in table], dtype=object)
    weights = np.array([w for _, w in table])
    return rng.choice(labels, size=size, p=weights / weights.sum())


def _log_odds(frame: pd.DataFrame, planted: Planted | None) -> np.ndarray:
    out = np.zeros(len(frame))
    for dimension, levels in (planted or {}).items():
        for level, odds_ratio in levels.items():
            out += np.where(frame[dimension].astype(str) == str(level), np.log(odds_ratio), 0.0)
    return out


def simulate_landlord(
    n_cases: int,
    *,
    seed: int,
    breach: Planted | None = None,
    unreported: Planted | None = None,
    silent: Planted | None = None,
    deprivation_log_odds_per_decile: float = 0.08,
    base_breach_log_odds: float = -2.0,
) -> EquityFrames:
    """Frames for `n_cases` cases in ~0.8·n homes; `breach`, `unreported`, `silent` plant odds ratios."""
    rng = np.random.default_rng(seed)
    n_homes = max(1, int(n_cases * 0.8))
    home_ids = np.array([f"H{i:06d}" for i in range(n_homes)], dtype=object)
    age = _draw(rng, AGE_BANDS, n_homes)
    homes = pd.DataFrame(
        {
            "home_id": home_ids,
            "archetype": _draw(rng, ARCHETYPES, n_homes),
            "build_year": rng.integers(1890, 2020, n_homes),
            "imd_decile": rng.choice(np.arange(1, 11), n_homes, p=np.linspace(2, 0.5, 10) / 12.5),
        }
    )
    households = pd.DataFrame(
        {
            "home_id": home_ids,
            "ethnicity": _draw(rng, ETHNICITY, n_homes),
            "disability": _draw(rng, DISABILITY, n_homes),
            "age_band": age,
            "children_under_5": np.where(rng.random(n_homes) < 0.15, "yes", "no"),
            "over_65": np.where(np.isin(age, ["65-74", "75+"]), "yes", "no"),
            "language_needs": np.where(rng.random(n_homes) < 0.08, "yes", "no"),
        }
    )
    joined = homes.merge(households, on="home_id")
    homes["sensors_silent"] = rng.random(n_homes) < expit(
        np.log(0.08 / 0.92) + _log_odds(joined, silent)
    )
    households = households.loc[rng.random(n_homes) >= 0.05].reset_index(drop=True)  # 5% unrecorded

    case_home = rng.integers(0, n_homes, n_cases)
    case_ids = np.arange(1, n_cases + 1)
    cases = pd.DataFrame(
        {
            "case_id": case_ids,
            "home_id": home_ids[case_home],
            "hazard": _draw(rng, HAZARDS, n_cases),
            "source": _draw(rng, SOURCES, n_cases),
            "aware_at": pd.to_datetime(START)
            + pd.to_timedelta(rng.uniform(0, 365, n_cases), unit="D"),
        }
    )
    context = cases.merge(joined, on="home_id", how="left")
    contractor = _draw(rng, CONTRACTORS, n_cases)
    context["contractor"] = contractor
    logit = (
        base_breach_log_odds
        + context["archetype"].map(ARCHETYPE_LOG_ODDS).fillna(0.0).to_numpy()
        + context["hazard"].map(HAZARD_LOG_ODDS).fillna(0.0).to_numpy()
        + deprivation_log_odds_per_decile * (5.5 - context["imd_decile"].to_numpy())
        + _log_odds(context, breach)
    )
    breached = rng.random(n_cases) < expit(logit)
    days_to_investigation = np.where(
        breached, 14.0 + rng.gamma(2.0, 4.0, n_cases), rng.gamma(3.0, 1.5, n_cases)
    )
    made_safe = rng.random(n_cases) < 0.6
    days_to_safe = days_to_investigation + rng.gamma(2.0, 2.0, n_cases)
    sensor_source = cases["source"].to_numpy() == "sensor"
    p_unreported = expit(np.log(0.5) + _log_odds(context, unreported))
    tenant_also = sensor_source & (rng.random(n_cases) >= p_unreported)
    no_access = rng.poisson(0.4, n_cases)
    with_work = made_safe | (rng.random(n_cases) < 0.1)
    p_recur = np.where(contractor == "Quickfix Co", 0.25, 0.08)
    recurred = with_work & (rng.random(n_cases) < p_recur)

    aware = cases["aware_at"]
    events = pd.concat(
        [
            pd.DataFrame(
                {
                    "case_id": case_ids,
                    "type": "investigation_concluded",
                    "at": aware + pd.to_timedelta(days_to_investigation, unit="D"),
                }
            ),
            pd.DataFrame(
                {
                    "case_id": case_ids[made_safe],
                    "type": "safety_work_completed",
                    "at": (aware + pd.to_timedelta(days_to_safe, unit="D"))[made_safe],
                }
            ),
            pd.DataFrame(
                {
                    "case_id": np.repeat(case_ids, no_access),
                    "type": "access_failed",
                    "at": np.repeat(aware.to_numpy(), no_access),
                }
            ),
        ],
        ignore_index=True,
    )
    clocks = pd.DataFrame(
        {
            "case_id": case_ids,
            "kind": "investigate",
            "status": np.where(breached, "breached", "met"),
        }
    )
    evidence = pd.concat(
        [
            pd.DataFrame(
                {"case_id": case_ids[sensor_source], "kind": "sensor_finding", "source": "sensor"}
            ),
            pd.DataFrame(
                {
                    "case_id": case_ids[(cases["source"] == "tenant").to_numpy() | tenant_also],
                    "kind": "report",
                    "source": "tenant",
                }
            ),
        ],
        ignore_index=True,
    )
    work_orders = pd.DataFrame(
        {
            "case_id": case_ids[with_work],
            "contractor": contractor[with_work],
            "verification": np.where(recurred[with_work], "recurred", "healthy"),
        }
    )
    return EquityFrames(cases, clocks, events, evidence, work_orders, homes, households)
