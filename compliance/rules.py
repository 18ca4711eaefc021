"""Awaab's Law as data: the HHSRS hazards, the clock rules, and the rule set for each phase.

Source: The Hazards in Social Housing (Prescribed Requirements) (England) Regulations 2025,
SI 2025/1042, and the government guidance summarised in docs/law.md. A case is
judged by the rule set in force on the local (Europe/London) date the landlord became aware of it.
A new phase of the law is one new ``RuleSet`` entry in ``RULE_SETS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal

from compliance.calendar import local_date

ClockKind = Literal[
    "emergency_action", "investigate", "written_summary", "safety_work", "supplementary_work"
]
CLOCK_KINDS: tuple[ClockKind, ...] = (
    "emergency_action",
    "investigate",
    "written_summary",
    "safety_work",
    "supplementary_work",
)
DurationUnit = Literal["working_days", "hours", "days"]


@dataclass(frozen=True)
class Hazard:
    """One HHSRS hazard: stable key, 2005 number and official name, and its 2026 number if known."""

    key: str
    number_2005: int
    name_2005: str
    group_2005: str
    number_2026: int | None = None  # *unconfirmed*: the 2026 regrouping (21 hazards) is not mapped


# The Housing Health and Safety Rating System (England) Regulations 2005 (SI 2005/3208),
# Schedule 1, in its order; names as in the HHSRS Operating Guidance (2006).
HAZARDS: tuple[Hazard, ...] = (
    Hazard("damp_and_mould", 1, "Damp and mould growth", "physiological"),
    Hazard("excess_cold", 2, "Excess cold", "physiological"),
    Hazard("excess_heat", 3, "Excess heat", "physiological"),
    Hazard("asbestos", 4, "Asbestos and MMF", "physiological"),
    Hazard("biocides", 5, "Biocides", "physiological"),
    Hazard("carbon_monoxide", 6, "Carbon monoxide and fuel combustion products", "physiological"),
    Hazard("lead", 7, "Lead", "physiological"),
    Hazard("radiation", 8, "Radiation", "physiological"),
    Hazard("uncombusted_fuel_gas", 9, "Uncombusted fuel gas", "physiological"),
    Hazard("volatile_organic_compounds", 10, "Volatile organic compounds", "physiological"),
    Hazard("crowding_and_space", 11, "Crowding and space", "psychological"),
    Hazard("entry_by_intruders", 12, "Entry by intruders", "psychological"),
    Hazard("lighting", 13, "Lighting", "psychological"),
    Hazard("noise", 14, "Noise", "psychological"),
    Hazard("domestic_hygiene", 15, "Domestic hygiene, pests and refuse", "infection"),
    Hazard("food_safety", 16, "Food safety", "infection"),
    Hazard("personal_hygiene", 17, "Personal hygiene, sanitation and drainage", "infection"),
    Hazard("water_supply", 18, "Water supply", "infection"),
    Hazard("falls_baths", 19, "Falls associated with baths etc", "accidents"),
    Hazard("falls_level", 20, "Falling on level surfaces etc", "accidents"),
    Hazard("falls_stairs", 21, "Falling on stairs etc", "accidents"),
    Hazard("falls_between_levels", 22, "Falling between levels", "accidents"),
    Hazard("electrical", 23, "Electrical hazards", "accidents"),
    Hazard("fire", 24, "Fire", "accidents"),
    Hazard("flames_hot_surfaces", 25, "Flames, hot surfaces etc", "accidents"),
    Hazard("collision_entrapment", 26, "Collision and entrapment", "accidents"),
    Hazard("explosions", 27, "Explosions", "accidents"),
    Hazard("ergonomics", 28, "Position and operability of amenities etc", "accidents"),
    Hazard("structural_collapse", 29, "Structural collapse and falling elements", "accidents"),
)
HAZARD_BY_KEY: dict[str, Hazard] = {hazard.key: hazard for hazard in HAZARDS}
HAZARD_KEYS: frozenset[str] = frozenset(HAZARD_BY_KEY)
OVERCROWDING = "crowding_and_space"  # never in scope of Awaab's Law


@dataclass(frozen=True)
class ClockRule:
    """One statutory clock: how long it runs, in which unit, what starts it and what meets it.

    ``starts_on`` and ``met_by`` are trigger keys: an event type (``summary_sent``), or an event
    type and outcome (``investigation_concluded.significant``), or ``awareness.<category>``.
    ``checkpoint_working_days`` is an earlier milestone inside the clock (supplementary work:
    steps taken by the end of working day 5) that is warned about but does not breach.
    """

    kind: ClockKind
    duration: int
    unit: DurationUnit
    starts_on: tuple[str, ...]
    met_by: tuple[str, ...]
    checkpoint_working_days: int | None = None


CLOCK_RULES: tuple[ClockRule, ...] = (
    ClockRule(
        "emergency_action",
        24,
        "hours",
        starts_on=("awareness.emergency", "investigation_concluded.emergency"),
        met_by=(
            "safety_work_completed",
            "investigation_concluded.significant",
            "investigation_concluded.not_significant",
            "investigation_concluded.no_hazard",
        ),
    ),
    ClockRule(
        "investigate",
        10,
        "working_days",
        starts_on=("awareness.potential", "awareness.significant", "awareness.emergency"),
        met_by=("investigation_concluded",),
    ),
    ClockRule(
        "written_summary",
        3,
        "working_days",
        starts_on=("investigation_concluded",),
        met_by=("summary_sent",),
    ),
    ClockRule(
        "safety_work",
        5,
        "working_days",
        starts_on=("investigation_concluded.significant", "investigation_concluded.emergency"),
        met_by=("safety_work_completed",),
    ),
    ClockRule(
        "supplementary_work",
        84,
        "days",
        starts_on=("investigation_concluded.supplementary_work_needed",),
        met_by=("supplementary_work_started",),
        checkpoint_working_days=5,
    ),
)


@dataclass(frozen=True)
class RuleSet:
    """The law in force from a date: which hazards are in scope and the clocks they run."""

    key: str
    effective_from: date
    emergency_hazards: frozenset[str]
    significant_hazards: frozenset[str]
    clocks: tuple[ClockRule, ...] = CLOCK_RULES

    def clock(self, kind: str) -> ClockRule:
        """The rule for one clock kind."""
        for rule in self.clocks:
            if rule.kind == kind:
                return rule
        raise KeyError(f"rule set {self.key} has no clock {kind!r}")

    def covers(self, hazard: str, category: str) -> bool:
        """Whether a hazard reported in this category ("emergency"/"significant"/"potential") is in scope."""
        if category == "emergency":
            return hazard in self.emergency_hazards
        return hazard in self.significant_hazards


ALL_BUT_OVERCROWDING: frozenset[str] = HAZARD_KEYS - {OVERCROWDING}
PHASE_1_SIGNIFICANT: frozenset[str] = frozenset({"damp_and_mould"})
PHASE_2_SIGNIFICANT: frozenset[str] = PHASE_1_SIGNIFICANT | {
    "excess_cold",
    "excess_heat",
    "falls_baths",
    "falls_level",
    "falls_stairs",
    "falls_between_levels",
    "structural_collapse",
    "explosions",
    "fire",
    "electrical",
    "domestic_hygiene",
    "personal_hygiene",
    "food_safety",
}

PHASE_1 = RuleSet(
    key="phase_1",
    effective_from=date(2025, 10, 27),  # SI 2025/1042 in force (confidence high)
    emergency_hazards=ALL_BUT_OVERCROWDING,
    significant_hazards=PHASE_1_SIGNIFICANT,
)
PHASE_2 = RuleSet(
    key="phase_2",
    effective_from=date(2026, 11, 30),  # list confidence high, date medium
    emergency_hazards=ALL_BUT_OVERCROWDING,
    significant_hazards=PHASE_2_SIGNIFICANT,
)
# Phase 3 ("2027", no date yet, confidence low): every HHSRS hazard but overcrowding. Not in
# force until it is added to RULE_SETS with its real date, e.g.
#   RULE_SETS = (PHASE_1, PHASE_2, replace(PHASE_3_PENDING, effective_from=date(2027, m, d)))
PHASE_3_PENDING = RuleSet(
    key="phase_3",
    effective_from=date.max,  # placeholder: never reached until replaced by the real date
    emergency_hazards=ALL_BUT_OVERCROWDING,
    significant_hazards=ALL_BUT_OVERCROWDING,
)

RULE_SETS: tuple[RuleSet, ...] = (PHASE_1, PHASE_2)


class OutOfScope(ValueError):
    """Awareness before Awaab's Law came into force (27 October 2025): no statutory clocks."""


def rule_set_for(
    aware_at: datetime, tz: str | tzinfo, rule_sets: tuple[RuleSet, ...] = RULE_SETS
) -> RuleSet:
    """The rule set in force on aware_at's local date; raises OutOfScope before the first one."""
    day = local_date(aware_at, tz)
    in_force = [rule_set for rule_set in rule_sets if rule_set.effective_from <= day]
    if not in_force:
        first = min(rule_set.effective_from for rule_set in rule_sets)
        raise OutOfScope(
            f"awareness on {day.isoformat()} is before Awaab's Law ({first.isoformat()})"
        )
    return max(in_force, key=lambda rule_set: rule_set.effective_from)


EmergencyClockStart = Literal["awareness", "identification"]
SensorAwareness = Literal["on_detection", "on_triage"]


@dataclass(frozen=True)
class ComplianceSettings:
    """The points of law no source settles, as settings with Homesafe's cautious defaults.

    - ``emergency_clock_start`` (*unconfirmed*): the 24-hour make-safe clock runs from awareness
      of a potential emergency hazard ("awareness", default) or from the investigation that
      identifies it ("identification").
    - ``supplementary_work_days`` (*unconfirmed*): supplementary preventative work must be
      physically begun within 12 weeks = 84 calendar days of the investigation concluding.
    - ``awareness_from_sensors`` (*unsettled*): a sensor finding starts the clocks at detection
      ("on_detection", default) or when an officer confirms it ("on_triage"), which must then
      happen within ``triage_working_days`` (1).
    - ``reinvestigation_working_days`` (*unconfirmed*): an in-person re-investigation asked for
      after a remote one runs a new clock of this many working days (10).
    - ``warning_working_days`` / ``warning_hours``: warn this long before a working-day deadline
      (2) and before an hour deadline (4). Not law: Homesafe's own early warnings.
    - ``access_attempts_for_reasonable_steps``: failed access attempts, by different methods,
      the guidance expects before access refusal is a reasonable-steps ground (3).
    """

    emergency_clock_start: EmergencyClockStart = "awareness"
    supplementary_work_days: int = 84
    awareness_from_sensors: SensorAwareness = "on_detection"
    triage_working_days: int = 1
    reinvestigation_working_days: int = 10
    warning_working_days: int = 2
    warning_hours: int = 4
    access_attempts_for_reasonable_steps: int = 3
