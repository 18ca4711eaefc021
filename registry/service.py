"""The registry import: validate every row first, write nothing if any row is bad."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from registry import repository
from registry.alert_codes import SEPARATOR, awaab_relevant, parse_alert_codes
from registry.models import Household
from registry.schemas import (
    ARCHETYPES,
    CHANNELS,
    EMAIL,
    ETHNICITIES,
    HOMES_COLUMNS,
    HOUSEHOLDS_COLUMNS,
    IDENTIFIER,
    LANGUAGE_TAG,
    PHONE,
    POSTCODE,
    ROOMS,
    TENANCIES_COLUMNS,
    TENURES,
    YES_NO_NOT_KNOWN,
    HomeRow,
    HouseholdRow,
    ImportSummary,
    RowError,
    SensorRow,
    TenancyRow,
)


class RegistryImportError(Exception):
    """An import refused whole; `errors` names every bad row."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} bad row(s); nothing imported")


def _rows(
    text: str, file: str, columns: tuple[str, ...], errors: list[RowError]
) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in columns if name not in header]
    if missing:
        errors.append(RowError(file, 1, f"header lacks column(s): {', '.join(missing)}"))
        return
    reader.fieldnames = header
    for record in reader:
        if None in record:
            errors.append(RowError(file, reader.line_num, "more fields than the header has"))
            continue
        values = {key: (value or "").strip() for key, value in record.items()}
        if not any(values.values()):
            continue  # a blank line is not a row
        yield reader.line_num, values


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    for option in allowed:
        if value.lower() == option.lower():
            return option
    raise ValueError(f"{name} {value!r} is not one of {', '.join(allowed)}")


def _optional_int(value: str, name: str, low: int, high: int) -> int | None:
    if value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a whole number") from None
    if not low <= number <= high:
        raise ValueError(f"{name} {number} is outside {low}..{high}")
    return number


def _optional_text(value: str, name: str, limit: int) -> str | None:
    if value == "":
        return None
    if len(value) > limit or not value.isprintable():
        raise ValueError(f"{name} must be printable text of at most {limit} characters")
    return value


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def _identifier(value: str, name: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{name} {value!r} must be 1-64 of A-Z a-z 0-9 _ -")
    return value


def _home_row(values: dict[str, str]) -> HomeRow:
    home_id = values["home_id"]
    if not home_id or len(home_id) > 64:
        raise ValueError("home_id must be 1-64 characters")
    uprn = values["uprn"] or None
    if uprn is not None and not (uprn.isdigit() and len(uprn) <= 12):
        raise ValueError(f"uprn {uprn!r} must be up to 12 digits")
    postcode = values["postcode"] or None
    if postcode is not None:
        if not POSTCODE.match(postcode):
            raise ValueError(f"postcode {postcode!r} is not a UK postcode")
        compact = postcode.replace(" ", "").upper()
        postcode = f"{compact[:-3]} {compact[-3:]}"
    return HomeRow(
        home_id=home_id,
        uprn=uprn,
        postcode=postcode,
        archetype=_choice(values["archetype"], ARCHETYPES, "archetype"),
        floor_level=_optional_int(values["floor_level"], "floor_level", -5, 200),
        build_year=_optional_int(values["build_year"], "build_year", 1000, 2100),
        imd_decile=_optional_int(values["imd_decile"], "imd_decile", 1, 10),
        address=_optional_text(values.get("address", ""), "address", 400),
    )


def parse_homes(
    text: str, file: str = "homes.csv"
) -> tuple[list[HomeRow], list[SensorRow], list[RowError]]:
    """Homes and sensors from homes.csv, with every bad row reported by line."""
    errors: list[RowError] = []
    homes: dict[str, HomeRow] = {}
    gateway_home: dict[str, str] = {}
    sensors: dict[tuple[str, str], SensorRow] = {}
    for line, values in _rows(text, file, HOMES_COLUMNS, errors):
        try:
            home = _home_row(values)
            gateway_id = _identifier(values["gateway_id"], "gateway_id")
            sensor_id = _identifier(values["sensor_id"], "sensor_id")
            room = _choice(values["room"], ROOMS, "room")
        except ValueError as exc:
            errors.append(RowError(file, line, str(exc)))
            continue
        known = homes.get(home.home_id)
        if known is not None and known != home:
            errors.append(
                RowError(file, line, f"home {home.home_id} differs from its earlier rows")
            )
            continue
        owner = gateway_home.get(gateway_id)
        if owner is not None and owner != home.home_id:
            errors.append(
                RowError(file, line, f"gateway {gateway_id} already belongs to home {owner}")
            )
            continue
        if (gateway_id, sensor_id) in sensors:
            errors.append(
                RowError(file, line, f"sensor {sensor_id} of gateway {gateway_id} repeats")
            )
            continue
        homes[home.home_id] = home
        gateway_home[gateway_id] = home.home_id
        sensors[(gateway_id, sensor_id)] = SensorRow(home.home_id, gateway_id, sensor_id, room)
    return list(homes.values()), list(sensors.values()), errors


def parse_households(
    text: str, known_homes: set[str], file: str = "households.csv"
) -> tuple[list[HouseholdRow], list[RowError]]:
    """Households from households.csv; each must name a home in the import or the registry."""
    errors: list[RowError] = []
    households: dict[str, HouseholdRow] = {}
    for line, values in _rows(text, file, HOUSEHOLDS_COLUMNS, errors):
        home_id = values["home_id"]
        try:
            if home_id not in known_homes:
                raise ValueError(f"home {home_id!r} is not in homes.csv nor the registry")
            if home_id in households:
                raise ValueError(f"home {home_id} has a household already")
            households[home_id] = HouseholdRow(
                home_id=home_id,
                ethnicity=_choice(values["ethnicity"], ETHNICITIES, "ethnicity"),
                disability=_choice(values["disability"], YES_NO_NOT_KNOWN, "disability"),
                age_band=values["age_band"] or None,
                children_under_5=_choice(
                    values["children_under_5"], YES_NO_NOT_KNOWN, "children_under_5"
                ),
                over_65=_choice(values["over_65"], YES_NO_NOT_KNOWN, "over_65"),
                language_needs=values["language_needs"] or None,
                vulnerability=values["vulnerability"] or None,
                alert_codes=(
                    SEPARATOR.join(parse_alert_codes(values["alert_codes"]))
                    if "alert_codes" in values
                    else None
                ),
            )
        except ValueError as exc:
            errors.append(RowError(file, line, str(exc)))
    return list(households.values()), errors


def _tenancy_row(values: dict[str, str], known_homes: set[str]) -> TenancyRow:
    reference = values["tenancy_ref"]
    if not reference or len(reference) > 64 or not reference.isprintable():
        raise ValueError("tenancy_ref must be 1-64 printable characters")
    home_id = values["home_id"]
    if home_id not in known_homes:
        raise ValueError(f"home {home_id!r} is not in homes.csv nor the registry")
    start = _date(values["start_date"], "start_date")
    end = _date(values["end_date"], "end_date") if values["end_date"] else None
    if end is not None and end < start:
        raise ValueError(f"end_date {end} is before start_date {start}")
    email = values["email"] or None
    if email is not None and not EMAIL.match(email):
        raise ValueError(f"email {email!r} is not an email address")
    phone = values["phone"] or None
    if phone is not None and not PHONE.match(phone):
        raise ValueError(f"phone {phone!r} is not a phone number")
    channel = values["preferred_channel"] or None
    language = values["language"] or None
    if language is not None and not LANGUAGE_TAG.match(language):
        raise ValueError(f"language {language!r} is not a BCP 47 tag (en, pl, ur, cy...)")
    return TenancyRow(
        tenancy_ref=reference,
        home_id=home_id,
        start_date=start,
        end_date=end,
        tenure=_choice(values["tenure"], TENURES, "tenure"),
        lead_tenant_name=_optional_text(values["lead_tenant_name"], "lead_tenant_name", 200),
        email=email,
        phone=phone,
        preferred_channel=_choice(channel, CHANNELS, "preferred_channel") if channel else None,
        language=language,
    )


def parse_tenancies(
    text: str,
    known_homes: set[str],
    running: dict[str, str] | None = None,
    file: str = "tenancies.csv",
) -> tuple[list[TenancyRow], list[RowError]]:
    """Tenancies from tenancies.csv; at most one running tenancy (no end date) per home, counting
    the registry's (``running``: home -> tenancy_ref) unless this file ends or replaces it."""
    errors: list[RowError] = []
    tenancies: dict[str, tuple[int, TenancyRow]] = {}
    for line, values in _rows(text, file, TENANCIES_COLUMNS, errors):
        try:
            row = _tenancy_row(values, known_homes)
            if row.tenancy_ref in tenancies:
                raise ValueError(f"tenancy {row.tenancy_ref} repeats")
        except ValueError as exc:
            errors.append(RowError(file, line, str(exc)))
            continue
        tenancies[row.tenancy_ref] = (line, row)
    runs: dict[str, str] = {
        home: reference
        for home, reference in (running or {}).items()
        if reference not in tenancies or tenancies[reference][1].end_date is None
    }
    for line, row in tenancies.values():
        if row.end_date is not None:
            continue
        other = runs.get(row.home_id)
        if other is not None and other != row.tenancy_ref:
            errors.append(
                RowError(
                    file,
                    line,
                    f"home {row.home_id} already has a running tenancy ({other}): end it first",
                )
            )
            continue
        runs[row.home_id] = row.tenancy_ref
    return [row for _, row in tenancies.values()], errors


def _read(path: Path, errors: list[RowError]) -> str | None:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(RowError(path.name, 0, f"not UTF-8: {exc.reason} at byte {exc.start}"))
    except OSError as exc:
        errors.append(RowError(path.name, 0, f"cannot read: {exc.strerror}"))
    return None


def import_registry(
    session: Session,
    *,
    homes_text: str | None = None,
    households_text: str | None = None,
    tenancies_text: str | None = None,
) -> ImportSummary:
    """Validate every file whole, then upsert; raises RegistryImportError and writes nothing on any bad row."""
    errors: list[RowError] = []
    homes: list[HomeRow] = []
    sensors: list[SensorRow] = []
    if homes_text is not None:
        homes, sensors, errors = parse_homes(homes_text)
    households: list[HouseholdRow] = []
    tenancies: list[TenancyRow] = []
    known = {home.home_id for home in homes} | repository.home_ids(session)
    if households_text is not None:
        households, household_errors = parse_households(households_text, known)
        errors.extend(household_errors)
    if tenancies_text is not None:
        running = repository.running_tenancies(session)
        tenancies, tenancy_errors = parse_tenancies(tenancies_text, known, running)
        errors.extend(tenancy_errors)
    if errors:
        raise RegistryImportError(errors)
    repository.upsert(
        session, homes=homes, sensors=sensors, households=households, tenancies=tenancies
    )
    gateways = {sensor.gateway_id for sensor in sensors}
    return ImportSummary(len(homes), len(gateways), len(sensors), len(households), len(tenancies))


_KINDS: dict[str, tuple[str, ...]] = {
    "homes": HOMES_COLUMNS,
    "households": HOUSEHOLDS_COLUMNS,
    "tenancies": TENANCIES_COLUMNS,
}


def file_kind(text: str) -> str | None:
    """Which registry file this is, by its header row (homes, households or tenancies)."""
    first = text.splitlines()[0] if text else ""
    header = {name.strip() for name in next(csv.reader([first]), [])}
    for kind, columns in _KINDS.items():
        if set(columns) <= header:
            return kind
    return None


def import_files(session: Session, paths: list[Path]) -> ImportSummary:
    """The CLI's import: read the files (UTF-8, BOM allowed), recognise each by its header row,
    and import them together."""
    errors: list[RowError] = []
    texts: dict[str, str] = {}
    for path in paths:
        text = _read(path, errors)
        if text is None:
            continue
        kind = file_kind(text)
        if kind is None:
            errors.append(
                RowError(
                    path.name, 1, "header is not that of homes.csv, households.csv or tenancies.csv"
                )
            )
        elif kind in texts:
            errors.append(RowError(path.name, 1, f"a second {kind} file in one import"))
        else:
            texts[kind] = text
    if errors:
        raise RegistryImportError(errors)
    return import_registry(
        session,
        homes_text=texts.get("homes"),
        households_text=texts.get("households"),
        tenancies_text=texts.get("tenancies"),
    )


NEEDS: dict[str, str] = {
    "child_under_5": "a child under 5",
    "over_65": "someone aged 65 or over",
    "health_or_disability": "someone with a health condition or disability",
    "language": "language or communication needs",
}


# Awaab-relevant person alert codes -> the need they raise (every other relevant code, medical,
# pregnancy, mental health, risk or safeguarding, is a health condition or disability).
_NEED_FOR_ALERT: dict[str, str] = {
    "AGE1.01": "child_under_5",  # newborn
    "AGE1.02": "child_under_5",  # infant
    "AGE1.03": "child_under_5",  # toddler, 1-3 years
    "AGE1.07": "over_65",
}
_NEED_FOR_ALERT_CATEGORY: dict[str, str] = {"Communication Needs": "language"}


def needs_of(household: Household | None) -> tuple[str, ...]:
    """The household's needs that raise the risk of a hazard (keys of ``NEEDS``), without the
    special-category detail behind them: what an officer triaging a case is shown. The person
    alert codes count where the published list flags them relevant to Awaab's Law."""
    if household is None:
        return ()
    found = set()
    if household.children_under_5 == "yes":
        found.add("child_under_5")
    if household.over_65 == "yes":
        found.add("over_65")
    if household.disability == "yes" or (household.vulnerability or "").strip():
        found.add("health_or_disability")
    language = (household.language_needs or "").strip().lower()
    if language and language not in ("no", "none", "not known"):
        found.add("language")
    for code in awaab_relevant(household.alert_codes):
        found.add(
            _NEED_FOR_ALERT.get(code.subcode)
            or _NEED_FOR_ALERT_CATEGORY.get(code.category)
            or "health_or_disability"
        )
    return tuple(key for key in NEEDS if key in found)
