"""The MHCLG/HACT person alert codes (UK Housing Data Standards), as Homesafe's own data.

``person_alert_codes.csv`` beside this file is the code list of the published first draft
(github.com/data-futurists/UKHDS-person-alert-codes, ``person_alert_sql``: the 126 rows of
``person_alert_codes`` with their category, criticality, Awaab's Law relevance and repairs
impact). Copyright (c) 2025 data-futurists, MIT licence: permission is granted, free of charge, to
deal in it without restriction, provided the copyright and permission notice are included; it
is provided "as is", without warranty of any kind.

Households may carry codes in the optional ``alert_codes`` column of households.csv (codes
separated by ``;``). A code is a subcode (``MED1.01``, asthma) or a top-level code (``MED1``,
respiratory condition unspecified); a top-level code is Awaab-relevant when any of its subcodes
is. The codes are special-category data (health): they stay in the household row, readable only
by roles allowed to, and are never exported; what triage sees is ``registry.service.needs_of``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CODES_FILE = Path(__file__).with_name("person_alert_codes.csv")
SEPARATOR = ";"


@dataclass(frozen=True, slots=True)
class AlertCode:
    subcode: str  # MED1.01
    code: str  # MED1
    category: (
        str  # Medical, Pregnancy, Mental Health, Age Group, Risk, Safeguarding, Communication Needs
    )
    name: str
    subname: str
    critical: bool
    awaab_relevant: bool
    repairs_impact: str


@cache
def alert_codes() -> dict[str, AlertCode]:
    """Every published subcode by its code (``MED1.01``)."""
    with CODES_FILE.open(encoding="utf-8", newline="") as handle:
        return {
            row["alert_subcode"]: AlertCode(
                subcode=row["alert_subcode"],
                code=row["alert_code"],
                category=row["category"],
                name=row["alert_name"],
                subname=row["alert_subname"],
                critical=row["is_critical"] == "true",
                awaab_relevant=row["is_awaab_relevant"] == "true",
                repairs_impact=row["repairs_impact"],
            )
            for row in csv.DictReader(handle)
        }


@cache
def _top_level() -> dict[str, tuple[AlertCode, ...]]:
    grouped: dict[str, list[AlertCode]] = {}
    for code in alert_codes().values():
        grouped.setdefault(code.code, []).append(code)
    return {key: tuple(value) for key, value in grouped.items()}


def parse_alert_codes(value: str) -> tuple[str, ...]:
    """The codes of an ``alert_codes`` cell, upper-cased, in order, without repeats; ValueError
    naming the unknown ones."""
    codes: list[str] = []
    for part in value.split(SEPARATOR):
        code = part.strip().upper()
        if code and code not in codes:
            codes.append(code)
    unknown = [c for c in codes if c not in alert_codes() and c not in _top_level()]
    if unknown:
        raise ValueError(
            f"alert_codes: {', '.join(unknown)} not a person alert code (MED1.01, AGE1.07, "
            "COMM1.11...; codes separated by ;)"
        )
    return tuple(codes)


def expand(code: str) -> tuple[AlertCode, ...]:
    """The subcodes a stored code stands for (itself, or every subcode of a top-level code)."""
    found = alert_codes().get(code)
    return (found,) if found is not None else _top_level().get(code, ())


def awaab_relevant(stored: str | None) -> tuple[AlertCode, ...]:
    """The Awaab-relevant subcodes behind a household's stored ``alert_codes`` (``;``-separated);
    a top-level code contributes its relevant subcodes."""
    out: list[AlertCode] = []
    for part in (stored or "").split(SEPARATOR):
        for code in expand(part.strip().upper()):
            if code.awaab_relevant and code not in out:
                out.append(code)
    return tuple(out)
