"""Detector rules declared as data; see `rule.py` for the frame and state conventions."""

from detectors.rules.rule import (
    Evaluation,
    FleetRule,
    HomeFleetRule,
    Household,
    Rule,
    SensorContext,
)
from detectors.rules.table import FLEET_RULES, HOME_FLEET_RULES, RULES, RULES_BY_KEY

__all__ = [
    "FLEET_RULES",
    "HOME_FLEET_RULES",
    "RULES",
    "RULES_BY_KEY",
    "Evaluation",
    "FleetRule",
    "HomeFleetRule",
    "Household",
    "Rule",
    "SensorContext",
]
