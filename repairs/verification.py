"""Pure post-repair verification: did the hazard come back while the home was watched?"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Verdict:
    """`watching` until the watch ends; `recurred` at the first finding after the repair; else `healthy`."""

    state: str
    at: datetime | None


def verdict(
    *,
    completed_at: datetime,
    verify_until: datetime,
    findings_at: Iterable[datetime],
    now: datetime,
) -> Verdict:
    """The verification state of a repair completed at `completed_at`, watched until `verify_until`."""
    returned = sorted(t for t in findings_at if completed_at < t <= min(verify_until, now))
    if returned:
        return Verdict("recurred", returned[0])
    if now >= verify_until:
        return Verdict("healthy", verify_until)
    return Verdict("watching", None)
