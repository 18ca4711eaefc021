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
from compliance.enums import (
    ClockKind,
    DurationUnit,
    Duty,
    EmergencyClockStart,
    SensorAwareness,
    SensorNewInformation,
)


@dataclass(frozen=True)
class Hazard:
    """One HHSRS hazard by its stable key: the 2005 scheme's number, name and group, and the
    2026 scheme's hazard it falls under (``confirmed_2026`` is False where no source we read says
    so; docs/law.md, "HHSRS 2005 and 2026")."""

    key: str
    number_2005: int
    name_2005: str
    group_2005: str
    name_2026: str
    confirmed_2026: bool = False


# The Housing Health and Safety Rating System (England) Regulations 2005 (SI 2005/3208),
# Schedule 1, in its order; names as in the HHSRS Operating Guidance (2006). The 2026 column is
# The Housing Health and Safety Rating System (England) (Amendment) Regulations 2026 (in force
# 23 June 2026), which regroup the 29 hazards into 21; the public summaries name the merged
# hazards "indoor air pollutants", "domestic hygiene", "falls on the level", "fire and
# explosions" and "collisions, entrapment and ergonomics" (confirmed); where a 2005 hazard
# goes is otherwise our reading, kept here so it is one edit to correct. No source gave the new
# numbering, so the 2026 scheme is identified by name.
HHSRS_2005_IN_FORCE = date(2006, 4, 6)
HHSRS_2026_IN_FORCE = date(2026, 6, 23)
_AIR = "Indoor air pollutants"
_HYGIENE = "Domestic hygiene"
_LEVEL = "Falls on the level"
_FIRE = "Fire and explosions"
_COLLISION = "Collisions, entrapment and ergonomics"
HAZARDS: tuple[Hazard, ...] = (
    Hazard("damp_and_mould", 1, "Damp and mould growth", "physiological", "Damp and mould", True),
    Hazard("excess_cold", 2, "Excess cold", "physiological", "Excess cold", True),
    Hazard("excess_heat", 3, "Excess heat", "physiological", "Excess heat", True),
    Hazard("asbestos", 4, "Asbestos and MMF", "physiological", "Asbestos and MMF"),
    Hazard("biocides", 5, "Biocides", "physiological", _AIR),
    Hazard(
        "carbon_monoxide",
        6,
        "Carbon monoxide and fuel combustion products",
        "physiological",
        _AIR,
    ),
    Hazard("lead", 7, "Lead", "physiological", "Lead"),
    Hazard("radiation", 8, "Radiation", "physiological", "Radiation"),
    Hazard("uncombusted_fuel_gas", 9, "Uncombusted fuel gas", "physiological", _AIR),
    Hazard("volatile_organic_compounds", 10, "Volatile organic compounds", "physiological", _AIR),
    Hazard("crowding_and_space", 11, "Crowding and space", "psychological", "Crowding and space"),
    Hazard("entry_by_intruders", 12, "Entry by intruders", "psychological", "Entry by intruders"),
    Hazard("lighting", 13, "Lighting", "psychological", "Lighting"),
    Hazard("noise", 14, "Noise", "psychological", "Noise"),
    Hazard(
        "domestic_hygiene", 15, "Domestic hygiene, pests and refuse", "infection", _HYGIENE, True
    ),
    Hazard("food_safety", 16, "Food safety", "infection", _HYGIENE, True),
    Hazard(
        "personal_hygiene",
        17,
        "Personal hygiene, sanitation and drainage",
        "infection",
        _HYGIENE,
        True,
    ),
    Hazard("water_supply", 18, "Water supply", "infection", "Water supply"),
    Hazard("falls_baths", 19, "Falls associated with baths etc", "accidents", _LEVEL),
    Hazard("falls_level", 20, "Falling on level surfaces etc", "accidents", _LEVEL, True),
    Hazard("falls_stairs", 21, "Falling on stairs etc", "accidents", "Falls on stairs"),
    Hazard(
        "falls_between_levels", 22, "Falling between levels", "accidents", "Falls between levels"
    ),
    Hazard("electrical", 23, "Electrical hazards", "accidents", "Electrical hazards"),
    Hazard("fire", 24, "Fire", "accidents", _FIRE, True),
    Hazard(
        "flames_hot_surfaces", 25, "Flames, hot surfaces etc", "accidents", "Flames, hot surfaces"
    ),
    Hazard("collision_entrapment", 26, "Collision and entrapment", "accidents", _COLLISION, True),
    Hazard("explosions", 27, "Explosions", "accidents", _FIRE, True),
    Hazard(
        "ergonomics", 28, "Position and operability of amenities etc", "accidents", _COLLISION, True
    ),
    Hazard(
        "structural_collapse",
        29,
        "Structural collapse and falling elements",
        "accidents",
        "Structural collapse and falling elements",
    ),
)
HAZARDS_2026: tuple[str, ...] = tuple(dict.fromkeys(hazard.name_2026 for hazard in HAZARDS))
HAZARD_BY_KEY: dict[str, Hazard] = {hazard.key: hazard for hazard in HAZARDS}
HAZARD_KEYS: frozenset[str] = frozenset(HAZARD_BY_KEY)
OVERCROWDING = "crowding_and_space"  # never in scope of Awaab's Law


@dataclass(frozen=True)
class HhsrsReference:
    """How a hazard is named in the HHSRS scheme in force on a day."""

    scheme: Literal["HHSRS 2005", "HHSRS 2026"]
    name: str
    number: int | None  # the 2005 scheme's number; the 2026 numbering is not known to us
    confirmed: bool


def hhsrs_reference(key: str, on: date) -> HhsrsReference:
    """The hazard's name (and number where known) in the HHSRS scheme in force on ``on``."""
    hazard = HAZARD_BY_KEY[key]
    if on >= HHSRS_2026_IN_FORCE:
        return HhsrsReference("HHSRS 2026", hazard.name_2026, None, hazard.confirmed_2026)
    return HhsrsReference("HHSRS 2005", hazard.name_2005, hazard.number_2005, True)


@dataclass(frozen=True)
class ClockRule:
    """One statutory duty with a deadline: the clock ``kind`` it reports as, how long it runs,
    in which unit, which events do it, and the setting that overrides its length, if any.

    ``duty`` is unique; ``kind`` is one of the five clock kinds of the API. Two duties report as
    ``supplementary_work``: the steps to begin it (by the end of working day 5) and beginning it
    (within 12 weeks). A renewed investigation is an ``investigate`` clock whose length is its own
    setting. What *starts* a duty depends on the case (scope, outstanding duties, the finding):
    that is ``compliance.lifecycle``'s job; see docs/law.md.
    """

    duty: Duty
    kind: ClockKind
    duration: int
    unit: DurationUnit
    done_by: tuple[str, ...]
    label: str
    setting: str | None = None  # a ComplianceSettings field holding the duration, when it is one


CLOCK_RULES: tuple[ClockRule, ...] = (
    ClockRule(
        "emergency_action",
        "emergency_action",
        24,
        "hours",
        done_by=("safety_work_completed",),
        label="Investigate and make the home safe (emergency)",
    ),
    ClockRule(
        "investigate",
        "investigate",
        10,
        "working_days",
        done_by=("investigation_concluded",),
        label="Investigate",
    ),
    ClockRule(
        "renewed_investigation",
        "investigate",
        10,
        "working_days",
        done_by=("investigation_concluded",),
        label="Investigate in person (renewed, at the tenant's request)",
        setting="reinvestigation_working_days",
    ),
    ClockRule(
        "written_summary",
        "written_summary",
        3,
        "working_days",
        done_by=("summary_sent",),
        label="Send the written summary",
    ),
    ClockRule(
        "safety_work",
        "safety_work",
        5,
        "working_days",
        done_by=("safety_work_completed",),
        label="Complete the safety work",
    ),
    ClockRule(
        "supplementary_steps",
        "supplementary_work",
        5,
        "working_days",
        done_by=("supplementary_steps_taken", "supplementary_work_started"),
        label="Take steps to begin the supplementary work",
    ),
    ClockRule(
        "supplementary_work",
        "supplementary_work",
        84,
        "days",
        done_by=("supplementary_work_started",),
        label="Begin the supplementary work",
        setting="supplementary_work_days",
    ),
)
CLOCK_RULE_BY_DUTY: dict[str, ClockRule] = {rule.duty: rule for rule in CLOCK_RULES}


@dataclass(frozen=True)
class RuleSet:
    """The law in force from a date: which hazards are in scope and the clocks they run."""

    key: str
    effective_from: date
    emergency_hazards: frozenset[str]
    significant_hazards: frozenset[str]
    clocks: tuple[ClockRule, ...] = CLOCK_RULES

    def clock(self, duty: str) -> ClockRule:
        """The rule for one duty (a clock kind names its main duty)."""
        for rule in self.clocks:
            if rule.duty == duty:
                return rule
        raise KeyError(f"rule set {self.key} has no clock {duty!r}")

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


@dataclass(frozen=True)
class ComplianceSettings:
    """The points of law no source settles, as settings with Homesafe's cautious defaults
    (each explained in docs/law.md, "Readings and settings").

    - ``emergency_clock_start`` (*unconfirmed*): the 24-hour duty runs from awareness of a
      potential emergency hazard ("awareness", default) or from the investigation that
      identifies it ("identification").
    - ``supplementary_work_days`` (*unconfirmed*): supplementary preventative work must be
      physically begun within 12 weeks = 84 calendar days of the investigation concluding.
    - ``awareness_from_sensors`` (*unsettled*): a sensor finding starts the clocks at detection
      ("on_detection", default) or when an officer confirms it ("on_triage"), which must then
      happen within ``triage_working_days`` (1).
    - ``reinvestigation_working_days`` (*secondary sources*): an in-person (renewed)
      investigation asked for after a remote one runs a new clock of this many working days (10).
    - ``sensor_new_information``: when a sensor finding on a case whose investigation has
      concluded is "new information" needing a further investigation: "after_work" (default)
      once no safety or supplementary work for the hazard is outstanding (the hazard came back,
      or the investigation had found it not significant), "always" on any new finding.
      Reports from people always are.
    - ``clocks_without_tenancy``: a home with no tenancy on record is treated as let on a
      relevant social housing lease (True, the cautious default) or not (False).
    - ``future_skew_minutes``: times up to this far ahead of the server's clock are accepted
      (devices' clocks differ); further ahead they are refused (5).
    - ``warning_working_days`` / ``warning_hours``: warn this long before a working-day deadline
      (2) and before an hour deadline (4). Not law: Homesafe's own early warnings.
    - ``alert_working_days``: a further warning when this many working days are left (1): the
      staff alert of docs/notifications.md; hour clocks alert at ``warning_hours``.
    - ``access_attempts_for_reasonable_steps``: failed access attempts, by different methods,
      the guidance expects before access refusal supports all reasonable endeavours (3).
    """

    emergency_clock_start: EmergencyClockStart = "awareness"
    supplementary_work_days: int = 84
    awareness_from_sensors: SensorAwareness = "on_detection"
    triage_working_days: int = 1
    reinvestigation_working_days: int = 10
    sensor_new_information: SensorNewInformation = "after_work"
    clocks_without_tenancy: bool = True
    future_skew_minutes: int = 5
    warning_working_days: int = 2
    warning_hours: int = 4
    alert_working_days: int = 1
    access_attempts_for_reasonable_steps: int = 3


RELEVANT_TENURES: frozenset[str] = frozenset({"social_rent", "affordable_rent"})


def tenure_scope(tenure: str | None, settings: ComplianceSettings) -> str | None:
    """Why clocks do not run for this tenure (None: they run). ``tenure`` None: no tenancy known."""
    if tenure is None:
        if settings.clocks_without_tenancy:
            return None
        return "no tenancy is on record for the home, and clocks_without_tenancy is off"
    if tenure in RELEVANT_TENURES:
        return None
    words = tenure.replace("_", " ")
    return (
        f"the home is let on {words}, which is not a relevant social housing lease: "
        "Awaab's Law clocks do not run"
    )
