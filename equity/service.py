"""Equity use cases: load the frames, analyse, suppress, publish (JSON, CSV, transparency summary).

Every published figure has gone through `equity.analysis.publish`; no output carries a home id.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from compliance.reporting import safe_cell
from equity import repository
from equity.analysis import (
    MIN_GROUP,
    adjusted_odds_ratios,
    measure,
    outcome_table,
    silent_homes_table,
)
from equity.models import YouSaidWeDid
from equity.outcomes import GROUPS, prepare
from equity.schemas import YouSaidWeDidIn, YouSaidWeDidOut
from equity.suppression import PUBLIC_CATEGORIES, every_category, public_categories
from repairs.service import kpi_report

TRANSPARENCY_DIMENSIONS: tuple[str, ...] = tuple(PUBLIC_CATEGORIES)


class UnknownGroup(ValueError):
    """A `by` that is not one of the analysis's groups."""


def check_dimensions(by: Sequence[str]) -> list[str]:
    """The requested groups, in order, or UnknownGroup naming the first bad one."""
    out = []
    for name in by:
        if name not in GROUPS:
            raise UnknownGroup(f"unknown group {name!r}; one of {', '.join(GROUPS)}")
        if name not in out:
            out.append(name)
    return out or list(GROUPS)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in table.astype(object).to_dict("records")
    ]


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in values.items()}


def _prepared(session: Session, aware_from: datetime | None, aware_to: datetime | None):  # type: ignore[no-untyped-def]
    return prepare(repository.load_frames(session, aware_from=aware_from, aware_to=aware_to))


def outcomes_report(
    session: Session,
    *,
    by: Sequence[str],
    outcome: str = "breached",
    min_group: int = MIN_GROUP,
    aware_from: datetime | None = None,
    aware_to: datetime | None = None,
) -> dict[str, Any]:
    """One outcome by the chosen groups: counts, rates or medians, 95 % intervals, ratio, test, q-value."""
    dimensions = check_dimensions(by)
    m = measure(outcome)
    cases, _ = _prepared(session, aware_from, aware_to)
    table, overall = outcome_table(
        cases, outcome=outcome, dimensions=dimensions, min_group=min_group
    )
    return {
        "outcome": outcome,
        "kind": m.kind,
        "description": m.description,
        "min_group_size": min_group,
        "confidence": 0.95,
        "overall": _clean(overall),
        "groups": _records(table),
    }


def outcomes_csv(report: dict[str, Any]) -> str:
    """The report's group rows as CSV (the overall row first, as dimension `all`)."""
    rows = [{"dimension": "all", "level": "all", **report["overall"]}, *report["groups"]]
    out = io.StringIO()
    frame = pd.DataFrame(rows)
    frame.insert(0, "outcome", report["outcome"])
    # Contractors' names and households' fields are typed by people: no cell may run as a formula.
    frame = frame.map(lambda value: safe_cell(value) if isinstance(value, str) else value)
    frame.columns = [safe_cell(name) for name in frame.columns]
    frame.to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()


def adjusted_report(
    session: Session,
    *,
    by: Sequence[str],
    outcome: str = "breached",
    min_group: int = MIN_GROUP,
    aware_from: datetime | None = None,
    aware_to: datetime | None = None,
) -> dict[str, Any]:
    """Adjusted odds ratios of the outcome for each group, controlling for archetype, IMD decile, hazard."""
    cases, _ = _prepared(session, aware_from, aware_to)
    tables = [
        adjusted_odds_ratios(cases, d, outcome=outcome, min_group=min_group)
        for d in check_dimensions(by)
    ]
    return {
        "outcome": outcome,
        "controls": ["archetype", "imd_decile", "hazard"],
        "min_group_size": min_group,
        "groups": [r for t in tables for r in _records(t)],
    }


def silences_report(
    session: Session,
    *,
    by: Sequence[str],
    min_group: int = MIN_GROUP,
    aware_from: datetime | None = None,
    aware_to: datetime | None = None,
) -> dict[str, Any]:
    """Sensor-found hazards no tenant reported, and homes whose sensors are silent, by group."""
    dimensions = check_dimensions(by)
    cases, homes = _prepared(session, aware_from, aware_to)
    unreported, unreported_all = outcome_table(
        cases, outcome="unreported_sensor_hazard", dimensions=dimensions, min_group=min_group
    )
    silent, silent_all = silent_homes_table(homes, dimensions=dimensions, min_group=min_group)
    return {
        "min_group_size": min_group,
        "unreported_sensor_hazards": {
            "overall": _clean(unreported_all),
            "groups": _records(unreported),
        },
        "silent_homes": {"overall": _clean(silent_all), "groups": _records(silent)},
    }


def add_you_said_we_did(
    session: Session, *, entry: YouSaidWeDidIn, author: str, now: datetime
) -> YouSaidWeDid:
    row = YouSaidWeDid(
        you_said=entry.you_said, we_did=entry.we_did, published_at=now, author=author
    )
    session.add(row)
    session.flush()
    return row


def transparency_summary(session: Session, *, min_group: int = MIN_GROUP) -> dict[str, Any]:
    """For residents: repair KPIs, Awaab's Law clocks met, breach rates by group (suppressed), you said / we did."""
    cases, _ = _prepared(session, None, None)
    table, overall = outcome_table(
        public_categories(cases),
        outcome="breached",
        dimensions=TRANSPARENCY_DIMENSIONS,
        min_group=min_group,
    )
    kpis = kpi_report(session)
    public = every_category(table)[
        ["dimension", "level", "suppressed", "value", "ci_low", "ci_high"]
    ]
    # A suppressed row carries no figures at all.
    public.loc[public["suppressed"], ["value", "ci_low", "ci_high"]] = math.nan
    return {
        "min_group_size": min_group,
        "repairs_within_target": kpis["rp02"],
        "awaabs_law_clocks_met": kpis["clocks_met"],
        "cases_with_a_missed_deadline": {
            "overall": _clean({k: overall[k] for k in ("value", "ci_low", "ci_high")}),
            "groups": _records(public),
        },
        "you_said_we_did": [
            YouSaidWeDidOut.model_validate(e).model_dump(mode="json")
            for e in repository.you_said_we_did(session)
        ],
    }
