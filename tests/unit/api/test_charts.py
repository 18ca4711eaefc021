"""Inline SVG charts: scaled points, thresholds, the evidence window, suppression, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from api.pages.charts import Bar, Series, Threshold, bar_chart, line_chart

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _svg(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(
        markup.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    )


def test_line_chart_puts_higher_values_higher_and_later_times_further_right():
    points = [(T0 + timedelta(hours=h), 60.0 + h) for h in range(5)]
    svg = line_chart([Series("kitchen", points)], title="Humidity", unit="% RH")
    line = _svg(svg).find("{http://www.w3.org/2000/svg}polyline")
    assert line is not None
    coords = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    assert xs == sorted(xs)
    assert ys == sorted(ys, reverse=True)  # SVG y grows downwards


def test_threshold_line_sits_between_values_above_and_below_it():
    points = [(T0, 70.0), (T0 + timedelta(hours=1), 90.0)]
    root = _svg(
        line_chart([Series("s", points)], title="t", unit="%", thresholds=[Threshold("80 %", 80.0)])
    )
    ns = "{http://www.w3.org/2000/svg}"
    threshold_y = float(
        next(e for e in root.iter(f"{ns}line") if e.get("class") == "threshold").get("y1")
    )
    coords = [
        tuple(map(float, p.split(","))) for p in root.find(f"{ns}polyline").get("points").split()
    ]
    assert coords[1][1] < threshold_y < coords[0][1]


def test_evidence_window_is_shaded_where_it_falls():
    points = [(T0 + timedelta(hours=h), 50.0) for h in range(11)]
    window = (T0 + timedelta(hours=5), T0 + timedelta(hours=10))
    root = _svg(line_chart([Series("s", points)], title="t", unit="%", window=window))
    rect = next(
        e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.get("class") == "window"
    )
    coords = [
        float(p.split(",")[0])
        for p in root.find("{http://www.w3.org/2000/svg}polyline").get("points").split()
    ]
    assert float(rect.get("x")) == pytest.approx(coords[5], abs=0.2)
    assert float(rect.get("x")) + float(rect.get("width")) == pytest.approx(coords[10], abs=0.2)


def test_no_readings_says_so():
    assert "No readings" in line_chart([Series("s", [])], title="t", unit="%")


def test_labels_are_escaped():
    svg = line_chart(
        [Series("<script>", [(T0, 1.0), (T0 + timedelta(hours=1), 2.0)])], title="a & b", unit="%"
    )
    assert "<script>" not in svg
    assert "a &amp; b" in svg
    _svg(svg)  # well-formed


def test_bar_chart_draws_intervals_and_suppresses_small_groups():
    svg = bar_chart(
        [Bar("Group A", 40.0, 30.0, 50.0), Bar("Group B", None, note="suppressed: fewer than 10")],
        title="t",
        unit=" %",
        max_value=100.0,
    )
    root = _svg(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len([e for e in root.iter(f"{ns}rect") if e.get("class") == "bar"]) == 1
    interval = next(e for e in root.iter(f"{ns}line") if e.get("class") == "interval")
    bar = next(e for e in root.iter(f"{ns}rect") if e.get("class") == "bar")
    bar_end = float(bar.get("x")) + float(bar.get("width"))
    assert float(interval.get("x1")) < bar_end < float(interval.get("x2"))
    assert "suppressed: fewer than 10" in svg
    assert re.search(r"Group B: suppressed", svg)


@pytest.mark.parametrize("width", [360, 720])
def test_time_labels_stay_inside_the_drawing(width):
    # A week of hourly readings: the first and last ticks fall on the edges of the plot, where a
    # centred label would run outside the SVG (off a phone's screen).
    points = [(T0 + timedelta(hours=h), 20.0) for h in range(24 * 7 + 1)]
    root = _svg(line_chart([Series("s", points)], title="t", unit="°C", width=width))
    ns = "{http://www.w3.org/2000/svg}"
    labels = [t for t in root.iter(f"{ns}text") if t.get("class") == "tick-label"]
    assert labels
    for label in labels:
        x, n = float(label.get("x")), len(label.text or "")
        est = 0.6 * 12 * n  # the test's own, narrower estimate of the label's width
        left = {"start": x, "middle": x - est / 2, "end": x - est}[label.get("text-anchor")]
        assert left >= 0, (label.text, label.get("text-anchor"), x)
        assert left + est <= width, (label.text, label.get("text-anchor"), x)
