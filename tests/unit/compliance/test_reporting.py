"""The compliance CSV (formula-safe) and the summary figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from compliance.reporting import (
    CSV_COLUMNS,
    ClockRow,
    breach_reason,
    days_to_breach_bucket,
    percentile,
    report_csv,
    safe_cell,
    summary_figures,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def row(kind="investigate", status="met", hours=24.0, **kw) -> ClockRow:
    fields = {
        "case_id": 1,
        "home_id": "H0001",
        "hazard": "damp_and_mould",
        "category": "potential",
        "rule_set": "phase_1",
        "kind": kind,
        "started_at": T0,
        "due_at": T0 + timedelta(days=14),
        "met_at": T0 + timedelta(hours=hours) if status != "running" else None,
        "status": status,
    }
    return ClockRow(**(fields | kw))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (True, "true"),
        (T0, "2026-03-02T10:00:00Z"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_csv_has_one_row_per_clock_and_neutralises_formulas():
    rows = [
        row(),
        row("written_summary", "breached", reasonable_steps="=cmd|' /C calc'!A0"),
        row("safety_work", "running"),
    ]
    parsed = list(csv.DictReader(io.StringIO(report_csv(rows))))
    assert tuple(parsed[0]) == CSV_COLUMNS
    assert [r["kind"] for r in parsed] == ["investigate", "written_summary", "safety_work"]
    assert [r["met_on_time"] for r in parsed] == ["true", "false", ""]
    assert parsed[1]["reasonable_endeavours"].startswith("'=")
    assert parsed[0]["due_at"] == "2026-03-16T10:00:00Z"


@pytest.mark.parametrize("pct", [0, 10, 50, 90, 95, 100])
def test_percentile_matches_numpy(pct):
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0]
    assert percentile(values, pct) == pytest.approx(float(np.percentile(values, pct)))


def test_percentile_of_nothing_is_none():
    assert percentile([], 90) is None


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        ("breached", None, "not_excused"),
        ("breached_excused", "Tenant refused access 3 times", "access_refused"),
        ("breached_excused", "Freeholder's consent withheld", "third_party_consent"),
        ("breached_excused", "Specialist contractor unavailable", "contractor_or_materials"),
        ("breached_excused", "Storm damage across the estate", "other_reasonable_endeavours"),
    ],
)
def test_breach_reason(status, reason, expected):
    assert breach_reason(row(status=status, excuse_reason=reason)) == expected


@pytest.mark.parametrize(
    ("hours_left", "overdue", "bucket"),
    [
        (None, False, "no_running_clock"),
        (5, True, "overdue"),
        (-1, False, "overdue"),
        (0, False, "0-1"),
        (23.9, False, "0-1"),
        (24, False, "1-2"),
        (47.9, False, "1-2"),
        (48, False, "2-5"),
        (5 * 24, False, "5-10"),
        (10 * 24, False, "10+"),
    ],
)
def test_days_to_breach_bucket(hours_left, overdue, bucket):
    due = None if hours_left is None else T0 + timedelta(hours=hours_left)
    assert days_to_breach_bucket(due, overdue, T0) == bucket


def test_summary_figures():
    rows = [
        row(hours=10),
        row(hours=20),
        row(hours=30),
        row(hours=400, status="breached"),
        row("safety_work", "met", hours=48),
        row("safety_work", "breached_excused", hours=200, excuse_reason="access refused"),
        row("written_summary", "running"),
    ]
    figures = summary_figures(rows, [(T0 + timedelta(hours=2), False), (None, True)], now=T0)
    assert figures["met_on_time_by_kind"] == {
        "investigate": {"done": 4, "met_on_time": 3, "share": 0.75},
        "safety_work": {"done": 2, "met_on_time": 1, "share": 0.5},
    }
    assert figures["breaches_by_reason"] == {"access_refused": 1, "not_excused": 1}
    assert figures["time_to_investigate"] == {"count": 4, "median_hours": 25.0, "p90_hours": 289.0}
    assert figures["time_to_make_safe"]["median_hours"] == 124.0
    assert figures["open_cases_by_days_to_breach"]["0-1"] == 1
    assert figures["open_cases_by_days_to_breach"]["overdue"] == 1
