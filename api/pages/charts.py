"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable without colour.

Pure: takes numbers and datetimes, returns markup (escaped). Every chart carries a <title> and a
<desc> for screen readers, and the page shows the same figures in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo

WIDTH_PX = 640
HEIGHT_PX = 220
MARGIN_LEFT_PX = 48
MARGIN_RIGHT_PX = 12
MARGIN_TOP_PX = 12
MARGIN_BOTTOM_PX = 28
# Colours pass WCAG 2.2 AA (3:1 for graphics) against white.
INK = "#1b1b1b"
SERIES_COLOURS = ("#1d4ed8", "#b45309", "#047857", "#7e22ce", "#be123c", "#0f766e")
THRESHOLD_COLOUR = "#b91c1c"
WINDOW_FILL = "#fde68a"
# Lines differ by dash as well as colour, so the chart reads without colour (WCAG 1.4.1).
DASHES = ("", 'stroke-dasharray="8 3" ', 'stroke-dasharray="2 3" ', 'stroke-dasharray="10 3 2 3" ')


@dataclass(frozen=True)
class Series:
    """One line: a label and (time, value) points in time order."""

    label: str
    points: Sequence[tuple[datetime, float]]


@dataclass(frozen=True)
class Threshold:
    """A horizontal line at a value, labelled (e.g. 80 % relative humidity)."""

    label: str
    value: float


@dataclass(frozen=True)
class Bar:
    """One bar with an optional interval (e.g. a 95 % confidence interval), or suppressed."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str = ""


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    if hi == lo:
        return (out_lo + out_hi) / 2
    return out_lo + (value - lo) * (out_hi - out_lo) / (hi - lo)


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi == lo:
        return [lo]
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = (lo // step) * step
    ticks, tick = [], first
    while tick <= hi + step / 1000:
        if tick >= lo - step / 1000:
            ticks.append(round(tick, 6))
        tick += step
    return ticks


TICK_STEPS = (
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=28),
)


def time_ticks(
    t0: datetime, t1: datetime, timezone: str, *, most: int
) -> list[tuple[datetime, str]]:
    """Ticks at whole local hours or midnights between t0 and t1, at most ``most`` of them, each
    with its label in local time ('06:00', or 'Tue 3 Mar' at midnights and for day steps)."""
    zone = ZoneInfo(timezone)
    span = t1 - t0
    step = next((s for s in TICK_STEPS if span / s <= most), TICK_STEPS[-1])
    local = t0.astimezone(zone)
    if step < timedelta(days=1):
        hours = int(step.total_seconds() // 3600)
        tick = local.replace(minute=0, second=0, microsecond=0)
        tick = tick.replace(hour=tick.hour - tick.hour % hours)
    else:
        tick = datetime.combine(local.date(), time(0), tzinfo=zone)
    ticks = []
    while tick.astimezone(UTC) <= t1:
        if tick.astimezone(UTC) >= t0:
            midnight = tick.hour == 0 and tick.minute == 0
            label = (
                f"{tick:%a} {tick.day} {tick:%b}"
                if midnight or step >= timedelta(days=1)
                else f"{tick:%H:%M}"
            )
            ticks.append((tick.astimezone(UTC), label))
        # Local wall-clock steps, so ticks stay on whole hours across a clock change.
        if step < timedelta(days=1):
            tick = (tick.replace(tzinfo=None) + step).replace(tzinfo=zone)
        else:
            day = tick.date() + timedelta(days=step.days)
            tick = datetime.combine(day, time(0), tzinfo=zone)
    return ticks


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    unit: str,
    thresholds: Sequence[Threshold] = (),
    window: tuple[datetime, datetime] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    timezone: str = "Europe/London",
    width: int = WIDTH_PX,
    height: int = HEIGHT_PX,
    chart_id: str = "chart",
    most_ticks: int = 8,
    font_px: int = 12,
) -> str:
    """Lines over time, with threshold lines, an evidence window shaded and local-time ticks.

    Labelled for screen readers by its own <title> and <desc> (ids from ``chart_id``)."""
    times = [t for s in series for t, _ in s.points]
    values = [v for s in series for _, v in s.points] + [t.value for t in thresholds]
    t0 = start or (min(times) if times else None)
    t1 = end or (max(times) if times else None)
    if window is not None and t0 is not None and t1 is not None:
        t0, t1 = min(t0, window[0]), max(t1, window[1])
    label_ids = f"{chart_id}-title {chart_id}-desc"
    if not times or t0 is None or t1 is None:
        return (
            f'<svg class="chart" role="img" viewBox="0 0 {width} 60" '
            f'aria-labelledby="{chart_id}-title"><title id="{chart_id}-title">'
            f"{escape(title)}: no readings</title>"
            f'<text x="8" y="34" fill="{INK}" font-size="{font_px}">No readings in this period.'
            "</text></svg>"
        )
    v_lo, v_hi = min(values), max(values)
    pad = (v_hi - v_lo) * 0.08 or 1.0
    v_lo, v_hi = v_lo - pad, v_hi + pad
    left = MARGIN_LEFT_PX if font_px <= 12 else MARGIN_LEFT_PX + 4
    bottom = MARGIN_BOTTOM_PX + font_px
    x0, x1 = left, width - MARGIN_RIGHT_PX
    y0, y1 = height - bottom, MARGIN_TOP_PX + font_px
    s0, s1 = t0.timestamp(), t1.timestamp()

    def x(t: datetime) -> float:
        return _scale(t.timestamp(), s0, s1, x0, x1)

    def y(v: float) -> float:
        return _scale(v, v_lo, v_hi, y0, y1)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{label_ids}" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">'
        f"{escape(_describe(series, unit, thresholds, window, timezone))}</desc>",
    ]
    if window is not None:
        wx0, wx1 = x(window[0]), x(window[1])
        parts.append(
            f'<rect class="window" x="{wx0:.1f}" y="{y1}" width="{max(wx1 - wx0, 1):.1f}" '
            f'height="{y0 - y1}" fill="{WINDOW_FILL}"/>'
        )
    for tick in _nice_ticks(v_lo, v_hi):
        parts.append(
            f'<line x1="{x0}" x2="{x1}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#d4d4d4"/>'
            f'<text x="{x0 - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="{font_px}" '
            f'fill="{INK}">{tick:g}</text>'
        )
    for at, label in time_ticks(t0, t1, timezone, most=most_ticks):
        tx = x(at)
        # A label centred on a tick near either edge would run outside the drawing (and off a
        # phone's screen): there it is anchored to the edge instead. Widths are estimated
        # generously (0.65 em a character) since the font is the reader's.
        half = 0.65 * font_px * len(label) / 2
        anchor, lx = "middle", tx
        if tx + half > width - 2:
            anchor, lx = "end", width - 2.0
        elif tx - half < 2:
            anchor, lx = "start", 2.0
        parts.append(
            f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{y0}" y2="{y0 + 5}" '
            f'stroke="{INK}"/>'
            f'<text class="tick-label" x="{lx:.1f}" y="{y0 + 6 + font_px}" '
            f'text-anchor="{anchor}" font-size="{font_px}" fill="{INK}">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="{INK}"/>'
        f'<line x1="{x0}" x2="{x1}" y1="{y0}" y2="{y0}" stroke="{INK}"/>'
        f'<text x="4" y="{MARGIN_TOP_PX + 2}" font-size="{font_px}" fill="{INK}">'
        f"{escape(unit)}</text>"
    )
    for threshold in thresholds:
        ty = y(threshold.value)
        parts.append(
            f'<line class="threshold" x1="{x0}" x2="{x1}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{THRESHOLD_COLOUR}" stroke-dasharray="6 4" stroke-width="1.5"/>'
            f'<text x="{x1 - 4}" y="{ty - 4:.1f}" text-anchor="end" font-size="{font_px}" '
            f'fill="{THRESHOLD_COLOUR}">{escape(threshold.label)}</text>'
        )
    for i, one in enumerate(series):
        if not one.points:
            continue
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        dash = DASHES[i % len(DASHES)]
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in one.points)
        parts.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" '
            f'{dash}points="{path}"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _describe(
    series: Sequence[Series],
    unit: str,
    thresholds: Sequence[Threshold],
    window: tuple[datetime, datetime] | None,
    timezone: str,
) -> str:
    zone = ZoneInfo(timezone)
    bits = []
    for one in series:
        if one.points:
            vals = [v for _, v in one.points]
            bits.append(f"{one.label}: {min(vals):g} to {max(vals):g} {unit}")
    bits += [f"threshold {t.label}" for t in thresholds]
    if window is not None:
        bits.append(
            f"evidence window {window[0].astimezone(zone):%d %b %H:%M} to "
            f"{window[1].astimezone(zone):%d %b %H:%M} UK time"
        )
    return "; ".join(bits)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str,
    max_value: float | None = None,
    chart_id: str = "bars",
) -> str:
    """Horizontal bars with interval whiskers; a suppressed bar says so instead of drawing."""
    row_px = 28
    height = MARGIN_TOP_PX + row_px * max(len(bars), 1) + MARGIN_BOTTOM_PX
    label_px = 200
    x0, x1 = label_px, WIDTH_PX - 60
    shown = [v for b in bars for v in (b.value, b.high) if v is not None]
    top = max_value if max_value is not None else (max(shown) if shown else 1.0) or 1.0

    def x(v: float) -> float:
        return _scale(min(max(v, 0.0), top), 0.0, top, x0, x1)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH_PX} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">'
        + escape(
            "; ".join(
                f"{b.label}: " + ("suppressed" if b.value is None else f"{b.value:g} {unit}")
                for b in bars
            )
        )
        + "</desc>",
    ]
    for i, bar in enumerate(bars):
        cy = MARGIN_TOP_PX + i * row_px + row_px / 2
        parts.append(
            f'<text x="{label_px - 6}" y="{cy + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="{INK}">{escape(bar.label)}</text>'
        )
        if bar.value is None:
            parts.append(
                f'<text x="{x0 + 4}" y="{cy + 4:.1f}" font-size="12" fill="{INK}" '
                f'font-style="italic">{escape(bar.note or "suppressed (too few to show)")}</text>'
            )
            continue
        parts.append(
            f'<rect class="bar" x="{x0}" y="{cy - 9:.1f}" width="{max(x(bar.value) - x0, 1):.1f}" '
            f'height="18" fill="{SERIES_COLOURS[0]}"/>'
        )
        if bar.low is not None and bar.high is not None:
            parts.append(
                f'<line class="interval" x1="{x(bar.low):.1f}" x2="{x(bar.high):.1f}" '
                f'y1="{cy:.1f}" y2="{cy:.1f}" stroke="{INK}" stroke-width="2"/>'
                f'<line x1="{x(bar.low):.1f}" x2="{x(bar.low):.1f}" y1="{cy - 6:.1f}" '
                f'y2="{cy + 6:.1f}" stroke="{INK}" stroke-width="2"/>'
                f'<line x1="{x(bar.high):.1f}" x2="{x(bar.high):.1f}" y1="{cy - 6:.1f}" '
                f'y2="{cy + 6:.1f}" stroke="{INK}" stroke-width="2"/>'
            )
        end = max(x(bar.value), x(bar.high) if bar.high is not None else 0)
        parts.append(
            f'<text x="{end + 6:.1f}" y="{cy + 4:.1f}" font-size="12" fill="{INK}">'
            f"{bar.value:g}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
