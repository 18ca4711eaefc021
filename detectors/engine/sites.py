"""Where each state row's sensor is, as arrays by row: what the conditions read of a site.

The engine is handed its sites as a sequence by row (a `Site`, or None for a sensor no longer
registered), which is what the runner and the tests build. Reading it row by row in Python each
hour cost seconds at 400,000 sensors, so the fields the fold and the conditions use are turned
into arrays once per sites list and kept on the state (`FleetState.sites_cache`) while the list
and the state keep their lengths; the runner builds one list a pass and only appends to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from detectors.engine.state import FleetState, Site

NO_SITE = -1  # the room code of a row without a site


@dataclass(frozen=True)
class SiteArrays:
    """Each state row's site: whether it has one, its home number, room code and vulnerability."""

    registered: npt.NDArray[np.bool_]
    home: npt.NDArray[np.int64]  # home number; rows without a site share the last number
    homes: int
    room: npt.NDArray[np.int64]  # index into `rooms`; NO_SITE without a site
    rooms: tuple[str, ...]
    vulnerable: npt.NDArray[np.bool_]

    def in_rooms(self, names: Sequence[str]) -> npt.NDArray[np.bool_]:
        """Per row: whether its room is one of `names` (False without a site)."""
        return self.by_room([room in names for room in self.rooms], False)

    def by_room(self, per_room: Sequence[object], no_site: object) -> npt.NDArray[Any]:
        """Per row: the value `per_room` gives its room (in `rooms` order), `no_site` without a site."""
        values = np.asarray([*per_room, no_site])
        return values[self.room]  # NO_SITE (−1) picks the last value


def site_arrays(state: FleetState, sites: Sequence[Site | None]) -> SiteArrays:
    """The sites as arrays by state row (rows beyond `sites` have none); cached on the state."""
    n = len(state.keys)
    cached = state.sites_cache
    if cached is not None and cached[0] is sites and cached[1] == len(sites) and cached[2] == n:
        return cached[3]  # type: ignore[return-value]
    by_row = list(sites[:n]) + [None] * (n - len(sites))
    homes: dict[str, int] = {}
    rooms: dict[str, int] = {}
    home = [NO_SITE if s is None else homes.setdefault(s.home_id, len(homes)) for s in by_row]
    room = [NO_SITE if s is None else rooms.setdefault(s.room, len(rooms)) for s in by_row]
    home_of = np.asarray(home, dtype=np.int64).reshape(n)
    home_of[home_of == NO_SITE] = len(homes)
    result = SiteArrays(
        registered=np.fromiter((s is not None for s in by_row), dtype=bool, count=n),
        home=home_of,
        homes=len(homes) + 1,
        room=np.asarray(room, dtype=np.int64).reshape(n),
        rooms=tuple(rooms),
        vulnerable=np.fromiter((s is not None and s.vulnerable for s in by_row), bool, count=n),
    )
    state.sites_cache = (sites, len(sites), n, result)
    return result
