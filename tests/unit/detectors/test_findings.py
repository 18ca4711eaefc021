"""Finding and FleetTask validation."""

from datetime import datetime

import pytest

from detectors.findings import Finding, FleetTask, SensorRef

from .factories import utc

pytestmark = pytest.mark.unit


def _finding(**changes):
    values = dict(
        home_id="h",
        sensor=SensorRef("g", "s"),
        room="living",
        hazard="damp_and_mould",
        category="potential",
        window_start=utc(2026, 1, 1),
        window_end=utc(2026, 1, 2),
        figures={"mould_index": 0.5},
        confidence=0.5,
        rule_key="mould_growth",
        rule_version=1,
        evidence_basis="room air",
    )
    return Finding(**{**values, **changes})


def test_a_valid_finding_is_frozen():
    finding = _finding()
    with pytest.raises(AttributeError):
        finding.confidence = 1.0


@pytest.mark.parametrize(
    "changes",
    [
        {"category": "significant"},
        {"confidence": 1.5},
        {"window_start": datetime(2026, 1, 1)},  # noqa: DTZ001
        {"window_end": utc(2025, 1, 1)},
    ],
)
def test_invalid_findings_are_refused(changes):
    with pytest.raises(ValueError, match=r".+"):
        _finding(**changes)


def test_fleet_task_needs_aware_times():
    with pytest.raises(ValueError, match="aware"):
        FleetTask(
            "h",
            SensorRef("g", "s"),
            "silent",
            datetime(2026, 1, 1),  # noqa: DTZ001 - naive on purpose: it must be refused
            utc(2026, 1, 1),
            utc(2026, 1, 1),
            "x",
            "silent",
            1,
        )
