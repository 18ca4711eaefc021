"""Which sensors' states a pass writes back (`detectors.repository.changed_rows`)."""

from __future__ import annotations

import numpy as np

from detectors import repository
from detectors.fleet import state_layout


def test_rows_that_changed_moved_latest_past_the_slack_or_are_new(monkeypatch):
    monkeypatch.setattr(repository, "COMPARE_ROWS", 3)  # rows compared across several slices
    before = np.zeros(8, dtype=state_layout())
    before["latest_ts_s"] = 1_000_000
    after = np.concatenate([before, np.zeros(2, dtype=state_layout())])
    after["latest_ts_s"][:8] += 900  # every reading time moved, within the slack
    after["latest_ts_s"][2] += 3600
    after["humidity_ring"][4, -1] = 55.0
    after["active"][7] = 1
    assert repository.changed_rows(before, after).tolist() == [2, 4, 7, 8, 9]
    assert repository.changed_rows(before, before).tolist() == []
