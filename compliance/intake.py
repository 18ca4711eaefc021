"""Reports as people make them: plain-language problems mapped to HHSRS hazards, the questions an
adviser asks to spot an emergency, the channels a report comes by, and report references.

The mapping is a table (``PROBLEMS``): what a tenant says on the left, the HHSRS hazard key on
the right. A problem that fits several hazards maps to the one a damp and mould team would open
first; the officer can change the hazard after investigating (a new case for a new hazard).
"""

from __future__ import annotations

import secrets

from compliance.rules import HAZARD_KEYS

# (key for the form, words for the person, HHSRS hazard key)
PROBLEMS: tuple[tuple[str, str, str], ...] = (
    ("damp_mould", "Damp, mould or condensation", "damp_and_mould"),
    ("leak", "A leak, or water coming in", "damp_and_mould"),
    ("cold", "The home is too cold, or the heating does not work", "excess_cold"),
    ("hot", "The home is too hot", "excess_heat"),
    ("gas", "A smell of gas, or a carbon monoxide alarm going off", "uncombusted_fuel_gas"),
    ("electrics", "Electrics: sparks, burning smell, exposed wires, no power", "electrical"),
    ("fire", "Fire safety: smoke alarm, fire door, blocked way out", "fire"),
    ("water", "No water, or the water is not safe to drink", "water_supply"),
    ("drains", "Drains, sewage or the toilet", "personal_hygiene"),
    ("pests", "Pests or rubbish: rats, mice, insects", "domestic_hygiene"),
    ("stairs", "Stairs or steps broken or unsafe", "falls_stairs"),
    ("floors", "Floors, paths or trip hazards", "falls_level"),
    ("windows", "Windows, balconies or railings unsafe", "falls_between_levels"),
    ("structure", "Ceiling, walls or roof cracking or falling", "structural_collapse"),
    ("security", "Doors or windows that will not lock", "entry_by_intruders"),
    ("asbestos", "Damaged material that may be asbestos", "asbestos"),
)
PROBLEM_HAZARD: dict[str, str] = {key: hazard for key, _, hazard in PROBLEMS}
assert set(PROBLEM_HAZARD.values()) <= HAZARD_KEYS

# What an adviser asks before deciding whether a report is a potential emergency (a "yes" to any
# means: record it as an emergency, so the 24-hour clock runs).
EMERGENCY_PROMPTS: tuple[str, ...] = (
    "Is anyone hurt, or unwell because of the problem, now?",
    "Can they smell gas, or has a carbon monoxide alarm gone off?",
    "Is water coming through near electrics or lights, or are there sparks or a burning smell?",
    "Is part of the ceiling, wall or structure coming down?",
    "Is there no heating or hot water in cold weather, with a child under 5, someone over 65, "
    "or someone disabled or ill at home?",
    "Is mould severe and someone at home has a breathing condition, a weak immune system, or is "
    "pregnant or a baby?",
    "Can they not secure the home (a door or ground-floor window will not lock)?",
)

CHANNEL_WORDS: dict[str, str] = {
    "phone": "Phone call",
    "email": "Email",
    "letter": "Letter",
    "in_person": "In person (office or estate)",
    "web": "Web form",
    "visit": "Seen on a visit",
}
# Who reported: the case's source as the contract names it.
REPORTERS: dict[str, str] = {
    "tenant": "The tenant or someone in the household",
    "staff": "A member of staff",
    "contractor": "A contractor",
}

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_reference() -> str:
    """A report reference for the acknowledgement: R- and 8 characters easy to read out."""
    return "R-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))
