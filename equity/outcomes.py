"""Pure: one row of outcomes per case, and the resident, area and property groups it belongs to.

Input frames (the repository reads them from the case database; the simulation makes them):
- cases: case_id, home_id, hazard, source, aware_at
- clocks: case_id, kind, status
- events: case_id, type, at               (the case timeline)
- evidence: case_id, kind, source         (reports, sensor findings, repairs facts)
- work_orders: case_id, contractor, verification
- homes: home_id, archetype, build_year, imd_decile, sensors_silent
- households: home_id, ethnicity, disability, age_band, children_under_5, over_65, language_needs
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NOT_RECORDED = "not recorded"
DAY_S = 86_400.0

HOUSEHOLD_GROUPS: tuple[str, ...] = (
    "ethnicity",
    "disability",
    "age_band",
    "children_under_5",
    "over_65",
    "language_needs",
)
AREA_PROPERTY_GROUPS: tuple[str, ...] = ("imd_decile", "archetype", "build_era")
GROUPS: tuple[str, ...] = (*HOUSEHOLD_GROUPS, *AREA_PROPERTY_GROUPS, "contractor")

# English Housing Survey dwelling-age bands.
BUILD_ERAS: tuple[tuple[int, str], ...] = (
    (1919, "pre-1919"),
    (1945, "1919-1944"),
    (1965, "1945-1964"),
    (1981, "1965-1980"),
    (1991, "1981-1990"),
    (10_000, "1991 on"),
)


def build_era(build_year: pd.Series) -> pd.Series:
    """The EHS dwelling-age band of each build year, or 'not recorded'."""
    years = pd.to_numeric(build_year, errors="coerce")
    bounds = [-np.inf, *(b for b, _ in BUILD_ERAS)]
    labels = [label for _, label in BUILD_ERAS]
    era = pd.cut(years, bins=bounds, labels=labels, right=False).astype(object)
    return era.where(years.notna(), NOT_RECORDED).astype(str)


def _first(events: pd.DataFrame, kind: str) -> pd.Series:
    return events.loc[events["type"] == kind].groupby("case_id")["at"].min()


def case_outcomes(
    cases: pd.DataFrame,
    clocks: pd.DataFrame,
    events: pd.DataFrame,
    evidence: pd.DataFrame,
    work_orders: pd.DataFrame,
) -> pd.DataFrame:
    """Per case: days to investigation and to safe, any clock breached, recurrence, no access, who reported."""
    out = cases[["case_id", "home_id", "hazard", "source", "aware_at"]].copy()
    out = out.set_index("case_id")
    aware = pd.to_datetime(out["aware_at"], utc=True)
    investigated = pd.to_datetime(_first(events, "investigation_concluded"), utc=True)
    safe = pd.to_datetime(_first(events, "safety_work_completed"), utc=True)
    out["days_to_investigation"] = (
        investigated.reindex(out.index) - aware
    ).dt.total_seconds() / DAY_S
    out["days_to_safe"] = (safe.reindex(out.index) - aware).dt.total_seconds() / DAY_S
    breached = clocks.loc[clocks["status"].isin(["breached", "breached_excused"]), "case_id"]
    out["breached"] = out.index.isin(breached.unique())
    recurred = set(work_orders.loc[work_orders["verification"] == "recurred", "case_id"])
    recurred |= set(evidence.loc[evidence["kind"] == "repair_recurred", "case_id"])
    out["recurred"] = out.index.isin(list(recurred))
    access = events.loc[events["type"] == "access_failed"].groupby("case_id").size()
    access = access.add(
        evidence.loc[evidence["kind"] == "access_attempt"].groupby("case_id").size(), fill_value=0
    )
    out["no_access_count"] = access.reindex(out.index).fillna(0).astype(int)
    tenant = set(
        evidence.loc[(evidence["kind"] == "report") & (evidence["source"] == "tenant"), "case_id"]
    )
    tenant |= set(out.index[out["source"] == "tenant"])
    out["tenant_reported"] = out.index.isin(list(tenant))
    sensor = set(evidence.loc[evidence["kind"] == "sensor_finding", "case_id"])
    sensor |= set(out.index[out["source"] == "sensor"])
    out["sensor_detected"] = out.index.isin(list(sensor))
    contractor = work_orders.sort_values("case_id").groupby("case_id")["contractor"].first()
    out["contractor"] = contractor.reindex(out.index).fillna("no work order").astype(str)
    return out.reset_index()


def with_groups(frame: pd.DataFrame, homes: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    """The frame (one row per case or per home, with home_id) with every group column, as strings."""
    out = frame.merge(
        homes[["home_id", "archetype", "build_year", "imd_decile"]], on="home_id", how="left"
    )
    out = out.merge(
        households[["home_id", *HOUSEHOLD_GROUPS]], on="home_id", how="left", suffixes=("", "_hh")
    )
    out["build_era"] = build_era(out["build_year"])
    imd = pd.to_numeric(out["imd_decile"], errors="coerce")
    out["imd_decile"] = imd.map(lambda d: NOT_RECORDED if pd.isna(d) else str(int(d)))
    for column in (*HOUSEHOLD_GROUPS, "archetype"):
        values = out[column].astype(object)
        out[column] = values.where(values.notna() & (values != ""), NOT_RECORDED).astype(str)
    return out.drop(columns=["build_year"])


def home_frame(homes: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    """One row per home with its groups and whether its sensors are silent."""
    base = homes[["home_id", "sensors_silent"]].copy()
    base["sensors_silent"] = base["sensors_silent"].fillna(False).astype(bool)
    return with_groups(base, homes, households)


@dataclass(frozen=True)
class EquityFrames:
    """The raw frames the analysis starts from (see the module docstring for their columns)."""

    cases: pd.DataFrame
    clocks: pd.DataFrame
    events: pd.DataFrame
    evidence: pd.DataFrame
    work_orders: pd.DataFrame
    homes: pd.DataFrame
    households: pd.DataFrame


def prepare(frames: EquityFrames) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-case outcomes with groups, and per-home silence with groups; neither keeps home ids."""
    outcomes = case_outcomes(
        frames.cases, frames.clocks, frames.events, frames.evidence, frames.work_orders
    )
    cases = with_groups(outcomes, frames.homes, frames.households).drop(columns=["home_id"])
    homes = home_frame(frames.homes, frames.households).drop(columns=["home_id"])
    return cases, homes
