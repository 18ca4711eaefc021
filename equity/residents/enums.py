"""Names the residents' part of equity declares once."""

from __future__ import annotations

# The two parts of the repairs journey a survey follows, and the block's households after
# communal work (docs/residents.md, "Milestone surveys").
MILESTONES: tuple[str, ...] = ("dispatch", "completion", "block")

# A deep dive's case set: the outcome a panel member may choose.
DEEP_DIVE_OUTCOMES: dict[str, str] = {
    "any": "every case",
    "breached": "cases where an Awaab's Law deadline was missed",
    "long": "cases open 28 days or more, or still open after 28 days",
    "recurred": "cases where the hazard came back after a repair",
    "dissatisfied": "cases where a resident rated the service 1 or 2 out of 5",
}

KPI_STATES: tuple[str, ...] = ("proposed", "published", "declined")
REVIEW_AUTHORS: tuple[str, ...] = ("landlord", "panel")
