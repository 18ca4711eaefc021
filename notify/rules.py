"""Which messages a domain event makes, and when a failed message is tried again: pure tables.

Tenants (by their tenancy's preference and language):

| event | step | message |
|---|---|---|
| case.opened / case.updated | a report whose source is the tenant | report_received (the acknowledgement) |
| case.updated | investigation_booked | investigation_booked |
| work_order.updated | booked (an appointment with the household) | work_booked |
| case.updated | safety_work_completed, supplementary_work_completed | work_completed |
| survey.requested | a milestone of the repair (dispatch, completion; the block after communal work) | milestone_survey (one question, a one-time link) |

The written summary is sent when an officer asks (``notify.service.queue_summary``), not on an
event: it is a letter with the case's facts, rendered by compliance.

Staff (the team's mailbox, ``HOMESAFE_STAFF_EMAIL``):

| event | when | message |
|---|---|---|
| case.opened / case.updated | the case became an emergency | emergency_new |
| clock.warning | one working day left (``1_working_days_left``); the 24-hour clock: four hours left | clock_alert |
| clock.breached | always | clock_breached |
| work_order.updated | recurred (the hazard came back after a repair) | repair_recurred |

Webhooks: every event whose type a live subscription lists.

Retries (every channel): after the n-th failed attempt the next one waits
``min(RETRY_FIRST_S * RETRY_FACTOR ** (n - 1), RETRY_CAP_S)`` (10 s, 40 s, 160 s, ... 10 h); a
failure once ``GIVE_UP_AFTER`` has passed since the first attempt is final (dead), so a webhook
is tried for at least 24 hours (docs/notifications.md, "Webhooks").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

TENANT_REPORT_SOURCES = frozenset({"tenant"})

TENANT_STEPS: dict[tuple[str, str], str] = {
    ("case.updated", "investigation_booked"): "investigation_booked",
    ("work_order.updated", "booked"): "work_booked",
    ("case.updated", "safety_work_completed"): "work_completed",
    ("case.updated", "supplementary_work_completed"): "work_completed",
}

# The residents' survey at each milestone (equity.residents): never a webhook event, since its
# detail carries the household's one-time link.
SURVEY_EVENT = "survey.requested"

HOUR_CLOCKS = frozenset({"emergency_action"})
ALERT_LABEL_WORKING_DAYS = "1_working_days_left"
ALERT_LABEL_HOURS = "4_hours_left"

RETRY_FIRST_S = 10.0
RETRY_FACTOR = 4.0
RETRY_CAP_S = 10 * 3600.0
GIVE_UP_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Plan:
    """One message an event calls for: who gets it and which template."""

    audience: str  # tenant | staff
    template: str


def plans_for(type: str, detail: dict[str, Any]) -> list[Plan]:
    """The tenant and staff messages an event makes (webhooks are chosen by subscription)."""
    step = str(detail.get("step") or "")
    plans: list[Plan] = []
    report = detail.get("report")
    if (
        type in ("case.opened", "case.updated")
        and isinstance(report, dict)
        and report.get("source") in TENANT_REPORT_SOURCES
    ):
        plans.append(Plan("tenant", "report_received"))
    if type == SURVEY_EVENT and detail.get("survey_token"):
        plans.append(Plan("tenant", "milestone_survey"))
    template = TENANT_STEPS.get((type, step))
    if template is not None:
        plans.append(Plan("tenant", template))
    if (
        type in ("case.opened", "case.updated")
        and detail.get("category") == "emergency"
        and detail.get("category_before") != "emergency"
    ):
        plans.append(Plan("staff", "emergency_new"))
    if type == "clock.warning":
        clock = detail.get("clock") or {}
        hours = clock.get("kind") in HOUR_CLOCKS
        label = detail.get("label")
        if (hours and label == ALERT_LABEL_HOURS) or (
            not hours and label == ALERT_LABEL_WORKING_DAYS
        ):
            plans.append(Plan("staff", "clock_alert"))
    if type == "clock.breached":
        plans.append(Plan("staff", "clock_breached"))
    if type == "work_order.updated" and step == "recurred":
        plans.append(Plan("staff", "repair_recurred"))
    return plans


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1-based)."""
    seconds = RETRY_FIRST_S * RETRY_FACTOR ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, RETRY_CAP_S))


def next_attempt(attempts: int, first_attempt_at: datetime, now: datetime) -> datetime | None:
    """When to try again after a failure now, or None when it is time to give up."""
    if now - first_attempt_at >= GIVE_UP_AFTER:
        return None
    return now + retry_delay(attempts)
