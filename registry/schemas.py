"""The registry CSV vocabularies (contract section 2) and the rows an import produces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)

HOMES_COLUMNS = (
    "home_id",
    "uprn",
    "postcode",
    "archetype",
    "floor_level",
    "build_year",
    "imd_decile",
    "gateway_id",
    "sensor_id",
    "room",
)
HOUSEHOLDS_COLUMNS = (
    "home_id",
    "ethnicity",
    "disability",
    "age_band",
    "children_under_5",
    "over_65",
    "language_needs",
    "vulnerability",
)
TENANCIES_COLUMNS = (
    "tenancy_ref",
    "home_id",
    "start_date",
    "end_date",
    "tenure",
    "lead_tenant_name",
    "email",
    "phone",
    "preferred_channel",
    "language",
)
OPTIONAL_HOMES_COLUMNS = ("address",)  # beyond the contract's columns: used when present
# Beyond the contract's columns: MHCLG/HACT person alert codes, ";"-separated (registry.alert_codes).
OPTIONAL_HOUSEHOLDS_COLUMNS = ("alert_codes",)
TENURES = (
    "social_rent",
    "affordable_rent",
    "shared_ownership",
    "leasehold",
    "licence",
    "other",
)
CHANNELS = ("email", "sms", "letter", "phone")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, the usual shapes
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
ARCHETYPES = ("flat", "maisonette", "house", "bungalow", "bedsit", "other")
ROOMS = ("living", "bedroom", "kitchen", "bathroom", "hall", "other")
ETHNICITIES = ("Asian", "Black", "Mixed", "White", "Other", "Not known")
YES_NO_NOT_KNOWN = ("yes", "no", "not known")


@dataclass(frozen=True, slots=True)
class HomeRow:
    home_id: str
    uprn: str | None
    postcode: str | None
    archetype: str
    floor_level: int | None
    build_year: int | None
    imd_decile: int | None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class SensorRow:
    home_id: str
    gateway_id: str
    sensor_id: str
    room: str


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    home_id: str
    ethnicity: str
    disability: str
    age_band: str | None
    children_under_5: str
    over_65: str
    language_needs: str | None
    vulnerability: str | None
    alert_codes: str | None = (
        None  # None: the file has no alert_codes column (keep what is on record)
    )


@dataclass(frozen=True, slots=True)
class TenancyRow:
    tenancy_ref: str
    home_id: str
    start_date: date
    end_date: date | None
    tenure: str
    lead_tenant_name: str | None
    email: str | None
    phone: str | None
    preferred_channel: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    """A bad row: the file, its line number (the header is line 1) and what was wrong."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportSummary:
    homes: int
    gateways: int
    sensors: int
    households: int
    tenancies: int = 0
