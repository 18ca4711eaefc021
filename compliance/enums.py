"""The compliance room's vocabularies, declared once.

Every value a case, clock, investigation or event can take lives here; the lifecycle, the rule
sets, the API schemas and the pages import them from this module (docs/architecture.md, "One
enums module per room"). The words follow the statute's duties (docs/law.md).
"""

from __future__ import annotations

from typing import Literal, get_args

Category = Literal["emergency", "significant", "potential"]
Source = Literal["sensor", "tenant", "staff", "contractor"]
ReportSource = Literal["tenant", "staff", "contractor"]  # who can send a report (not a sensor)
Channel = Literal["phone", "email", "letter", "in_person", "web", "visit"]
Outcome = Literal["emergency", "significant", "not_significant", "no_hazard"]

ClockKind = Literal[
    "emergency_action", "investigate", "written_summary", "safety_work", "supplementary_work"
]
Duty = Literal[
    "emergency_action",
    "investigate",
    "renewed_investigation",
    "written_summary",
    "safety_work",
    "supplementary_steps",
    "supplementary_work",
]
DurationUnit = Literal["working_days", "hours", "days"]
ClockStatus = Literal["running", "met", "breached", "breached_excused"]
Ended = Literal["done", "ceased"]

CaseStatus = Literal["open", "closed"]
InvestigationType = Literal["emergency", "standard", "renewed", "further"]
InvestigationMethod = Literal["in_person", "remote"]
Accommodation = Literal[
    "not_due", "due", "offered", "accepted", "declined", "moved", "returned", "ended"
]
ClosureReason = Literal[
    "work_complete_verified", "no_hazard_found", "tenancy_ended", "duplicate", "out_of_scope"
]
CeaseReason = Literal["household_moved_out", "third_party_consent_refused"]

# Settings' choices (compliance.rules.ComplianceSettings; docs/law.md, "Readings and settings")
EmergencyClockStart = Literal["awareness", "identification"]
SensorAwareness = Literal["on_detection", "on_triage"]
SensorNewInformation = Literal["after_work", "always"]

EventType = Literal[
    # the contract's events
    "investigation_booked",
    "access_failed",
    "investigation_concluded",
    "summary_sent",
    "safety_work_started",
    "safety_work_completed",
    "supplementary_work_started",
    "alternative_accommodation_offered",
    "alternative_accommodation_declined",
    "closed",
    "reopened",
    # Homesafe's further steps (docs/api.md, "Case events")
    "renewed_investigation_requested",
    "further_investigation_opened",
    "supplementary_steps_taken",
    "supplementary_work_completed",
    "alternative_accommodation_accepted",
    "household_moved",
    "household_returned",
    "emergency_duty_ceased",
    "closure_requested",
]
TRIAGE_CONFIRMED = "triage_confirmed"  # an officer confirms a sensor finding (on_triage setting)
# What the API accepts: the lifecycle's events and the triage confirmation the service handles.
ApiEventType = Literal[EventType, "triage_confirmed"]

CLOCK_KINDS: tuple[ClockKind, ...] = get_args(ClockKind)
CHANNELS: tuple[str, ...] = get_args(Channel)
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
OUTCOMES: tuple[str, ...] = get_args(Outcome)
INVESTIGATION_TYPES: tuple[str, ...] = get_args(InvestigationType)
INVESTIGATION_METHODS: tuple[str, ...] = get_args(InvestigationMethod)
CLOSURE_REASONS: tuple[str, ...] = get_args(ClosureReason)
CEASE_REASONS: tuple[str, ...] = get_args(CeaseReason)
