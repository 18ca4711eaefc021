"""Repair priorities and verification settings, as tables of frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from repairs.enums import PRIORITY_KEYS


@dataclass(frozen=True)
class Priority:
    """A repair priority: its target time from the report, and whether RP02 counts it as emergency."""

    key: str
    target_hours: float
    emergency: bool


# The landlord's own target times (RP02 measures against the landlord's targets); easy to change.
PRIORITIES: tuple[Priority, ...] = (
    Priority("emergency", 24.0, True),
    Priority("urgent", 7 * 24.0, False),
    Priority("routine", 28 * 24.0, False),
)
assert tuple(p.key for p in PRIORITIES) == PRIORITY_KEYS  # the table covers every priority


# The clock a work order of each kind answers to (the earlier of it and the priority target wins).
CLOCK_FOR_KIND: dict[str, tuple[str, ...]] = {
    "safety": ("emergency_action", "safety_work"),
    "supplementary": ("supplementary_work",),
}


@dataclass(frozen=True)
class VerificationSettings:
    """How long a repaired home is watched for the hazard's return."""

    watch_days: int = 28

    @property
    def watch(self) -> timedelta:
        return timedelta(days=self.watch_days)


def priority(key: str) -> Priority:
    """The priority with this key, or KeyError."""
    for p in PRIORITIES:
        if p.key == key:
            return p
    raise KeyError(f"unknown priority {key!r}; one of {', '.join(PRIORITY_KEYS)}")
