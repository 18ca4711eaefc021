"""The program's one reading of the wall clock; everything else takes time as an argument."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def from_epoch_s(epoch_s: float) -> datetime:
    """A Unix timestamp in seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch_s, UTC)


def to_rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with an explicit offset, as the API returns times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
