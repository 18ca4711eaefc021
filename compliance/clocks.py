"""When each Awaab's Law clock falls due, and when Homesafe warns before it does.

Units (docs/law.md, "The clocks"):

- ``hours`` (emergency_action, 24 h): elapsed hours, through nights, weekends, holidays and
  clock changes. The start is turned into UTC before adding, so a start carrying the
  ``Europe/London`` zone is not moved by wall-clock arithmetic: 24 h after 12:00 BST on the
  Saturday of the October change is 11:00 GMT on Sunday.
- ``working_days`` (investigate 10, written_summary 3, safety_work 5, supplementary steps 5):
  23:59:59 local on the Nth working day after the local date of the start (``compliance.calendar``).
- ``days`` (beginning supplementary work, 84 by default, *unconfirmed*): 23:59:59 local on the Nth
  calendar day after the local start date.
A duty whose rule names a setting (``supplementary_work_days``, ``reinvestigation_working_days``)
takes its length from ``ComplianceSettings``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from compliance.calendar import WorkingDayCalendar
from compliance.rules import ComplianceSettings, RuleSet


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: times must carry an offset")


def due_at(
    duty: str,
    started_at: datetime,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
) -> datetime:
    """The aware-UTC instant the duty's clock, started at started_at, falls due."""
    _require_aware(started_at)
    rule = rule_set.clock(duty)
    duration = getattr(settings, rule.setting) if rule.setting else rule.duration
    if rule.unit == "hours":
        return started_at.astimezone(UTC) + timedelta(hours=duration)
    if rule.unit == "working_days":
        return calendar.end_of_working_day(started_at, duration)
    return calendar.end_of_day(calendar.local_date(started_at) + timedelta(days=duration))


def triage_due_at(
    detected_at: datetime, calendar: WorkingDayCalendar, settings: ComplianceSettings
) -> datetime:
    """With awareness_from_sensors = on_triage: by when an officer must confirm a sensor finding."""
    _require_aware(detected_at)
    return calendar.end_of_working_day(detected_at, settings.triage_working_days)


def working_days_left_from(
    due: datetime, working_days: int, calendar: WorkingDayCalendar
) -> datetime:
    """The start (00:00 local) of the day from which exactly ``working_days`` working days remain.

    Counting the due day itself when it is a working day: a clock due at the end of Tuesday has
    two working days left from Monday 00:00, and one due at the end of a Saturday from Thursday.
    """
    due_day = calendar.local_date(due)
    back = working_days - 1 if calendar.is_working_day(due_day) else working_days
    first_day = calendar.add_working_days(due_day, -back)
    return datetime.combine(first_day, time(0), tzinfo=calendar.tz).astimezone(UTC)


def warning_times(
    started_at: datetime,
    due_at: datetime,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
) -> list[tuple[datetime, str]]:
    """When to warn before the deadline, each with its label, sorted, strictly inside the clock.

    Both offsets apply to every clock where they fall inside it: when ``warning_working_days``
    working days remain (00:00 local of that day) and ``warning_hours`` before the due instant.
    """
    _require_aware(started_at)
    _require_aware(due_at)
    candidates = [
        (
            working_days_left_from(due_at, settings.warning_working_days, calendar),
            f"{settings.warning_working_days}_working_days_left",
        ),
        (
            (due_at - timedelta(hours=settings.warning_hours)).astimezone(UTC),
            f"{settings.warning_hours}_hours_left",
        ),
    ]
    chosen: dict[datetime, str] = {}
    for at, label in candidates:
        if started_at < at < due_at and at not in chosen:
            chosen[at] = label
    return sorted(chosen.items())
