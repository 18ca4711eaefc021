"""Parity: every rule through the one engine on the very series the rule unit tests use.

The rule tests (`test_rules_*.py`) are run here under a recorder: each (rule, frame, context) a
test hands to `Rule.run` or `FleetRule.run` is recorded, then folded hour by hour through the
engine that production runs (`detectors.engine`). The engine must raise the rule now exactly when
the table entry's frame function finds it. Calls that carry a rule's own state between passes
(the mould index resumed) are left out: the engine keeps that state itself, and the tests' whole-
frame calls of the same series are compared.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from detectors.engine.series import run_series
from detectors.rules.rule import FleetRule, Rule, SensorContext
from detectors.rules.table import FLEET_RULES, RULES

from . import test_rules_damp_and_mould, test_rules_other

pytestmark = pytest.mark.unit
MODULES: tuple[ModuleType, ...] = (test_rules_damp_and_mould, test_rules_other)


@dataclass(frozen=True)
class Case:
    test: str
    rule: Any
    frame: pd.DataFrame
    context: SensorContext
    found: bool


def _calls(test: Callable[..., None], params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every rule call the test makes, with what the frame function found."""
    recorded: list[tuple[Any, ...]] = []
    real_rule, real_fleet = Rule.run, FleetRule.run

    def rule_run(self: Rule[Any], frame: pd.DataFrame, context: SensorContext, state: Any = None):
        out = real_rule(self, frame, context, state)
        if state is None:
            recorded.append((self, frame.copy(), context, bool(out.findings)))
        return out

    def fleet_run(self: FleetRule[Any], frame: pd.DataFrame, context: SensorContext):
        out = real_fleet(self, frame, context)
        recorded.append((self, frame.copy(), context, bool(out)))
        return out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "run", rule_run)
        patch.setattr(FleetRule, "run", fleet_run)
        test(**params)
    return recorded


def _param_sets(test: Callable[..., None]) -> list[dict[str, Any]]:
    """The parameter sets of a test (one empty set when it takes none)."""
    names = list(inspect.signature(test).parameters)
    if not names:
        return [{}]
    sets: list[dict[str, Any]] = []
    for mark in getattr(test, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        argnames, values = mark.args[0], mark.args[1]
        keys = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else argnames
        for value in values:
            value = value.values if hasattr(value, "values") else value
            row = value if len(keys) > 1 else (value,)
            sets.append(dict(zip(keys, row, strict=True)))
    return sets if sets and set(sets[0]) == set(names) else []


def recorded_cases() -> list[Case]:
    """Every stateless rule call of the rule unit tests."""
    cases: list[Case] = []
    for module in MODULES:
        for name, test in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_"):
                continue
            for params in _param_sets(test):
                for rule, frame, context, found in _calls(test, params):
                    cases.append(
                        Case(
                            f"{module.__name__.rsplit('.', 1)[1]}::{name}",
                            rule,
                            frame,
                            context,
                            found,
                        )
                    )
    return cases


# The Approved Document F frame function judges every 12-h window in its lookback; the engine
# judges each window as its hour folds: compare with the engine over the same hours.
JUDGED_HOURS = {"ventilation_adf": lambda th: th.lookback_h - th.window_h + 1}

ENGINE_KEYS = {rule.key for rule in (*RULES, *FLEET_RULES) if rule.holds is not None}


def test_every_rule_the_engine_runs_is_covered_by_the_unit_tests_series():
    covered = {case.rule.key for case in recorded_cases()}
    assert ENGINE_KEYS <= covered, ENGINE_KEYS - covered


def test_the_engine_raises_each_rule_exactly_when_its_frame_function_finds_it():
    disagree = []
    for case in recorded_cases():
        if case.rule.key not in ENGINE_KEYS:
            continue  # silence runs on arrival, not on folded hours
        run = run_series(
            case.frame,
            now=case.context.now,
            home_id=case.context.home_id,
            room=case.context.room,
            vulnerable=case.context.household.vulnerable,
            timezone=case.context.timezone,
        )
        within = JUDGED_HOURS.get(case.rule.key, lambda _th: 1)(case.rule.thresholds)
        engine = run.holds_now(case.rule, within_h=within)
        if engine != case.found:
            disagree.append(f"{case.test} {case.rule.key}: frame {case.found}, engine {engine}")
    assert not disagree, "\n".join(disagree)
