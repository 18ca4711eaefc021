"""When each Awaab's Law clock falls due, and when Homesafe warns before it does.

Units (docs/law.md, "The clocks"):

- ``hours`` (emergency_action, 24 h): elapsed hours, through nights, weekends, holidays and
  clock changes. 24 h after 12:00 BST on the Saturday of the October change is 11:00 GMT on Sunday.
- ``working_days`` (investigate 10, written_summary 3, safety_work 5): 23:59:59 local on the
  Nth working day after the local date of the start (see ``compliance.calendar``).
- ``days`` (supplementary_work, 84 by default, *unconfirmed*): 23:59:59 local on the Nth calendar
  day after the local start date. The regulations ask for steps to begin supplementary work by
  the end of working day 5 and for the work to be physically begun within 12 weeks. Homesafe
  models one clock, met by ``supplementary_work_started``, that breaches only at the outer limit
  (day 84): starting within 5 working days is lawful but so is starting later with steps taken,
  and "steps taken" is not an event of the API. The working-day-5 checkpoint is a warning
  (``supplementary_steps_due_at``), so a missed checkpoint is flagged without a false breach.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from compliance.calendar import WorkingDayCalendar
from compliance.rules import PHASE_1, ComplianceSettings, RuleSet


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: times must carry an offset")


def due_at(
    kind: str,
    started_at: datetime,
    rule_set: RuleSet,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
) -> datetime:
    """The aware-UTC instant the clock of this kind, started at started_at, falls due."""
    _require_aware(started_at)
    rule = rule_set.clock(kind)
    duration = rule.duration
    if kind == "supplementary_work":
        duration = settings.supplementary_work_days
    if rule.unit == "hours":
        return (started_at + timedelta(hours=duration)).astimezone(UTC)
    if rule.unit == "working_days":
        return calendar.end_of_working_day(started_at, duration)
    return calendar.end_of_day(calendar.local_date(started_at) + timedelta(days=duration))


def reinvestigation_due_at(
    requested_at: datetime, calendar: WorkingDayCalendar, settings: ComplianceSettings
) -> datetime:
    """Due time of an in-person re-investigation asked for after a remote one (*unconfirmed*)."""
    _require_aware(requested_at)
    return calendar.end_of_working_day(requested_at, settings.reinvestigation_working_days)


def triage_due_at(
    detected_at: datetime, calendar: WorkingDayCalendar, settings: ComplianceSettings
) -> datetime:
    """With awareness_from_sensors = on_triage: by when an officer must confirm a sensor finding."""
    _require_aware(detected_at)
    return calendar.end_of_working_day(detected_at, settings.triage_working_days)


def supplementary_steps_due_at(
    started_at: datetime, rule_set: RuleSet, calendar: WorkingDayCalendar
) -> datetime:
    """End of the working day by which steps to begin supplementary work must be taken."""
    checkpoint = rule_set.clock("supplementary_work").checkpoint_working_days or 0
    return calendar.end_of_working_day(started_at, checkpoint)


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
    kind: str,
    started_at: datetime,
    due_at: datetime,
    calendar: WorkingDayCalendar,
    settings: ComplianceSettings,
    rule_set: RuleSet | None = None,
) -> list[datetime]:
    """When to warn before the deadline, sorted, each strictly between started_at and due_at.

    Both offsets apply to every clock where they fall inside it: when ``warning_working_days``
    working days remain (00:00 local of that day) and ``warning_hours`` before the due instant.
    For supplementary work, the working-day-5 checkpoint for taking steps is a warning too
    (pass ``rule_set`` to use its checkpoint; the phase 1 table's 5 otherwise).
    """
    _require_aware(started_at)
    _require_aware(due_at)
    candidates = [
        working_days_left_from(due_at, settings.warning_working_days, calendar),
        (due_at - timedelta(hours=settings.warning_hours)).astimezone(UTC),
    ]
    if kind == "supplementary_work":
        candidates.append(supplementary_steps_due_at(started_at, rule_set or PHASE_1, calendar))
    return sorted({at for at in candidates if started_at < at < due_at})
