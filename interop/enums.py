"""The damp and mould data model's code lists, and how Homesafe's values map onto them.

The code lists are Homesafe's own data, written from the published model (MHCLG Local Digital
with HACT, github.com/data-futurists/damp-and-mould-standards-concept, MIT licence; the
``INSERT`` statements of ``Data Definition Language (DDL)/all_component.sql`` and
``work_order_component.sql``). Each id is the row's position in the published ``INSERT`` (the
tables are ``AUTOINCREMENT`` from 1), so ``trigger_source_id`` 3 is *Environmental Sensor* in any
system that loaded the published lists. Where two published files differ, the fuller list wins
(``notification_method`` has *Phone Call* in ``all_component.sql``). The investigation status
codes are those ``all_component.sql`` inserts after ``CREATE TABLE investigation_status`` (the
file inserts them into ``work_status`` by a slip; we read them as the investigation's).

Every mapping from Homesafe's values is a table here, so a reading is one edit to change; the
readings are listed in docs/api.md ("Interop").
"""

from __future__ import annotations

from typing import Final

# --- the published code lists (position = id) -----------------------------------------------------

HEALTH_RISK_RATINGS: Final = ("High", "Medium", "Low")
SEVERITIES: Final = ("High", "Medium", "Low")
INVESTIGATION_TYPES: Final = ("Standard", "Renewed", "Further", "Emergency")
REPORT_STATUSES: Final = ("Open", "Under Review", "Made Safe", "Closed")
TRIGGER_SOURCES: Final = ("Tenant Report", "Routine Check", "Environmental Sensor", "Staff Report")
ESCALATION_STATUSES: Final = ("None", "In Progress", "Escalated")
ESCALATION_STAGES: Final = ("Open", "In Progress", "Resolved", "Rejected")
ESCALATION_TYPES: Final = (
    "Senior Review",
    "Legal Action",
    "Compensation",
    "Alternative Accommodation",
)
NOTIFICATION_TYPES: Final = ("Scheduled", "Result", "Advice", "Delay", "Escalation")
NOTIFICATION_METHODS: Final = ("Email", "SMS", "Phone Call", "Letter")
INVESTIGATION_STATUSES: Final = (
    "Open",
    "InProgress",
    "Completed",
    "Cancelled",
    "OnHold",
    "AwaitingApproval",
    "Scheduled",
    "Delayed",
)
# Work order statuses: the UKHDS codes, then the model's "new codes to consider" (duplicates once).
WORK_STATUSES: Final = (
    "AccountingHold",
    "Cancelled",
    "Complete",
    "Estimating",
    "Hold",
    "PendingApproval",
    "PendingDesign",
    "PendingMaterial",
    "Scheduled",
    "Superceded",
    "Open",
    "InProgress",
    "Completed",
    "OnHold",
    "AwaitingParts",
    "AwaitingApproval",
    "Delayed",
)
REASON_CODES: Final = (
    "NoBudget",
    "LowPriority",
    "FullyFunded",
    "PartiallyFunded",
    "ScheduleConflict",
    "NoApproval",
    "Approved",
    "PriorityChange",
    "NoAccess",
    "TenantUnavailable",
    "WeatherConditions",
    "MaterialShortage",
    "TechnicalIssue",
    "ResourceAvailability",
    "SafetyConcern",
    "RegulatoryCompliance",
    "Other",
)
# The work classes Homesafe's work orders use (a subset of the published list, by code).
WORK_CLASSES: Final = ("Emergency", "Urgent", "Routine", "Remedial")


def code_id(codes: tuple[str, ...], name: str) -> int:
    """The published id of ``name`` in a code list (1-based position); KeyError if absent."""
    try:
        return codes.index(name) + 1
    except ValueError:
        raise KeyError(f"{name!r} is not in the code list {codes}") from None


def code_name(codes: tuple[str, ...], code: int) -> str:
    """The name behind a published id; KeyError if out of range."""
    if not 1 <= code <= len(codes):
        raise KeyError(f"code {code} is not in the code list {codes}")
    return codes[code - 1]


def code_rows(codes: tuple[str, ...], key: str) -> list[dict[str, object]]:
    """A code list as the component's array: ``[{"<key>_id": 1, "<key>": "..."}, ...]``."""
    return [{f"{key}_id": index, key: name} for index, name in enumerate(codes, start=1)]


# --- Homesafe's values onto the code lists ----------------------------------------------------------

# case.source -> trigger source (a contractor's report is a staff-side report).
TRIGGER_SOURCE_FOR: Final = {
    "sensor": "Environmental Sensor",
    "tenant": "Tenant Report",
    "staff": "Staff Report",
    "contractor": "Staff Report",
}
SOURCE_FOR_TRIGGER: Final = {
    "Environmental Sensor": "sensor",
    "Tenant Report": "tenant",
    "Staff Report": "staff",
    "Routine Check": "staff",
}

INVESTIGATION_TYPE_FOR: Final = {
    "standard": "Standard",
    "renewed": "Renewed",
    "further": "Further",
    "emergency": "Emergency",
}

# investigation outcome -> severity of the hazard found (no hazard: Low, hazard_confirmed false).
SEVERITY_FOR_OUTCOME: Final = {
    "emergency": "High",
    "significant": "Medium",
    "not_significant": "Low",
    "no_hazard": "Low",
}

# summary_sent's free-text method -> notification method; anything else is a Letter (the written
# summary is a letter unless sent another way).
NOTIFICATION_METHOD_FOR: Final = {
    "email": "Email",
    "e-mail": "Email",
    "sms": "SMS",
    "text": "SMS",
    "phone": "Phone Call",
    "phone call": "Phone Call",
    "letter": "Letter",
    "post": "Letter",
    "hand": "Letter",
    "hand delivered": "Letter",
    "in_person": "Letter",
}

# Case events -> the investigation status entered (investigation_status_history).
INVESTIGATION_STATUS_FOR_EVENT: Final = {
    "triage_confirmed": "Open",
    "investigation_booked": "Scheduled",
    "access_failed": "Delayed",
    "investigation_concluded": "Completed",
    "renewed_investigation_requested": "Open",
    "further_investigation_opened": "Open",
    "summary_sent": "Completed",
    "safety_work_started": "InProgress",
    "safety_work_completed": "Completed",
    "supplementary_steps_taken": "InProgress",
    "supplementary_work_started": "InProgress",
    "supplementary_work_completed": "Completed",
    "alternative_accommodation_offered": "InProgress",
    "alternative_accommodation_accepted": "InProgress",
    "alternative_accommodation_declined": "InProgress",
    "household_moved": "InProgress",
    "household_returned": "InProgress",
    "emergency_duty_ceased": "InProgress",
    "closure_requested": "AwaitingApproval",
    "closed": "Completed",
    "reopened": "Open",
}

# Work order status -> work status code (UKHDS first, then the model's new codes).
WORK_STATUS_FOR: Final = {
    "raised": "Open",
    "booked": "Scheduled",
    "dispatched": "InProgress",
    "no_access": "Delayed",
    "follow_on": "OnHold",
    "completed": "Complete",
    "cancelled": "Cancelled",
}
STATUS_FOR_WORK_STATUS: Final = {
    "Open": "raised",
    "Scheduled": "booked",
    "InProgress": "dispatched",
    "Delayed": "no_access",
    "OnHold": "follow_on",
    "Hold": "follow_on",
    "Complete": "completed",
    "Completed": "completed",
    "Cancelled": "cancelled",
}

# Work order priority -> (priority code, work class).
PRIORITY_CLASS: Final = {
    "emergency": "Emergency",
    "urgent": "Urgent",
    "routine": "Routine",
}

# What an external reference may hang on, and the table/key it names.
REFERENCE_ENTITIES: Final = ("case", "home", "tenancy", "work_order")
