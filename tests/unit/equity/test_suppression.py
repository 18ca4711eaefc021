"""Small groups are suppressed, and no subtraction across any two published tables recovers them."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from equity.analysis import MIN_GROUP, outcome_table
from equity.outcomes import GROUPS, prepare
from equity.simulation import simulate_landlord
from equity.suppression import suppression_mask

pytestmark = pytest.mark.unit


def _table(counts: dict[str, int], dimension: str = "d") -> pd.DataFrame:
    return pd.DataFrame({"dimension": dimension, "level": list(counts), "n": list(counts.values())})


def test_a_lone_small_group_takes_the_next_smallest_with_it():
    hide = suppression_mask(_table({"a": 4, "b": 30, "c": 12, "d": 500}), count="n", min_group=10)
    assert hide.tolist() == [True, False, True, False]


def test_two_small_groups_that_together_stay_small_take_a_third():
    hide = suppression_mask(_table({"a": 3, "b": 4, "c": 40, "d": 500}), count="n", min_group=10)
    assert hide.tolist() == [True, True, True, False]


def test_nothing_small_nothing_hidden():
    hide = suppression_mask(_table({"a": 10, "b": 11}), count="n", min_group=10)
    assert not hide.any()


def _published_tables(seed: int) -> list[tuple[str, pd.DataFrame, dict]]:
    cases, _ = prepare(simulate_landlord(400, seed=seed))
    out = []
    for outcome in ("breached", "no_access", "tenant_reported", "unreported_sensor_hazard"):
        for dimension in GROUPS:
            table, overall = outcome_table(cases, outcome=outcome, dimensions=[dimension])
            out.append((outcome, table, overall))
    return out


def _population(outcome: str) -> str:
    return "sensor" if outcome == "unreported_sensor_hazard" else "all"


def _recoverable(tables: list[tuple[str, pd.DataFrame, dict]]) -> list[str]:
    """Unknown cells that the tables' published totals pin down exactly (linear algebra)."""
    unknowns: dict[str, int] = {}
    equations: list[dict[str, int]] = []
    for outcome, table, _overall in tables:
        population = _population(outcome)
        for column in ("n", "events"):
            equation = {}
            for _, row in table.iterrows():
                if pd.isna(row[column]):
                    # n is shared by every outcome on one population; events belong to the outcome
                    owner = population if column == "n" else f"{population}/{outcome}"
                    key = f"{owner}/{column}/{row['dimension']}/{row['level']}"
                    unknowns.setdefault(key, len(unknowns))
                    equation[key] = 1
            if equation:
                equations.append(equation)
    if not unknowns:
        return []
    matrix = np.zeros((len(equations), len(unknowns)))
    for i, equation in enumerate(equations):
        for key in equation:
            matrix[i, unknowns[key]] = 1
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for key, j in unknowns.items():
        unit = np.zeros(len(unknowns))
        unit[j] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append(key)
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_two_published_tables_recover_a_suppressed_cell(seed):
    tables = _published_tables(seed)
    assert any(t["suppressed"].any() for _, t, _ in tables), (
        "the small landlord must have small groups"
    )
    for first, second in itertools.combinations(tables, 2):
        assert _recoverable([first, second]) == []
    assert _recoverable(tables) == []


@pytest.mark.parametrize("seed", [1, 2])
def test_every_hidden_set_holds_at_least_the_minimum(seed):
    cases, _ = prepare(simulate_landlord(400, seed=seed))
    full, _ = outcome_table(cases, outcome="breached")
    counts = cases.groupby(list(GROUPS[:1]))["breached"].size()  # sanity: the frame has the groups
    assert counts.sum() == len(cases)
    for dimension in GROUPS:
        table = full.loc[full["dimension"] == dimension]
        hidden = table.loc[table["suppressed"], "level"]
        if len(hidden):
            true_n = cases[dimension].isin(hidden).sum()
            assert len(hidden) >= 2
            assert true_n >= MIN_GROUP
        shown = table.loc[~table["suppressed"]]
        assert (shown["n"] >= MIN_GROUP).all()
        assert (
            table.loc[table["suppressed"], ["n", "events", "value", "ci_low", "p_value"]]
            .isna()
            .all()
            .all()
        )


def test_published_tables_carry_no_home_ids():
    frames = simulate_landlord(400, seed=4)
    cases, homes = prepare(frames)
    assert "home_id" not in cases.columns
    assert "home_id" not in homes.columns
    table, overall = outcome_table(cases, outcome="breached")
    text = table.to_csv() + json.dumps({k: float(v) for k, v in overall.items()})
    assert not any(home_id in text for home_id in frames.homes["home_id"])
