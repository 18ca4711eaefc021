"""The registry import: validate every row first, write nothing if any row is bad."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from registry import repository
from registry.schemas import (
    ARCHETYPES,
    ETHNICITIES,
    HOMES_COLUMNS,
    HOUSEHOLDS_COLUMNS,
    IDENTIFIER,
    POSTCODE,
    ROOMS,
    YES_NO_NOT_KNOWN,
    HomeRow,
    HouseholdRow,
    ImportSummary,
    RowError,
    SensorRow,
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
            )
        except ValueError as exc:
            errors.append(RowError(file, line, str(exc)))
    return list(households.values()), errors


def _read(path: Path, errors: list[RowError]) -> str | None:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        errors.append(RowError(path.name, 0, f"not UTF-8: {exc.reason} at byte {exc.start}"))
    except OSError as exc:
        errors.append(RowError(path.name, 0, f"cannot read: {exc.strerror}"))
    return None


def import_registry(
    session: Session, *, homes_text: str, households_text: str | None = None
) -> ImportSummary:
    """Validate both files whole, then upsert; raises RegistryImportError and writes nothing on any bad row."""
    homes, sensors, errors = parse_homes(homes_text)
    households: list[HouseholdRow] = []
    if households_text is not None:
        known = {home.home_id for home in homes} | repository.home_ids(session)
        households, household_errors = parse_households(households_text, known)
        errors.extend(household_errors)
    if errors:
        raise RegistryImportError(errors)
    repository.upsert(session, homes=homes, sensors=sensors, households=households)
    gateways = {sensor.gateway_id for sensor in sensors}
    return ImportSummary(len(homes), len(gateways), len(sensors), len(households))


def import_files(
    session: Session, homes_csv: Path, households_csv: Path | None = None
) -> ImportSummary:
    """The CLI's import: read the files (UTF-8, BOM allowed) and import them together."""
    errors: list[RowError] = []
    homes_text = _read(homes_csv, errors)
    households_text = _read(households_csv, errors) if households_csv is not None else None
    if errors or homes_text is None:
        raise RegistryImportError(errors)
    return import_registry(session, homes_text=homes_text, households_text=households_text)
