"""Factories for test data: registry CSV text built from a few arguments, not hand-written rows."""

from __future__ import annotations

import csv
import io

from registry.schemas import HOMES_COLUMNS, HOUSEHOLDS_COLUMNS


def homes_csv(homes: int = 2, sensors_per_home: int = 2, **overrides: str) -> str:
    """homes.csv text: H0001.. with one gateway each and sensors s1..; overrides apply to every row."""
    rooms = ("living", "bedroom", "kitchen", "bathroom")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(HOMES_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for h in range(1, homes + 1):
        for s in range(1, sensors_per_home + 1):
            row = {
                "home_id": f"H{h:04d}",
                "uprn": f"10000{h:04d}",
                "postcode": "M1 1AE",
                "archetype": "flat",
                "floor_level": "2",
                "build_year": "1968",
                "imd_decile": str((h % 10) + 1),
                "gateway_id": f"gw-{h:04d}",
                "sensor_id": f"s{s}",
                "room": rooms[(s - 1) % len(rooms)],
            }
            row.update(overrides)
            writer.writerow(row)
    return out.getvalue()


def households_csv(home_ids: list[str], *, alert_codes: str | None = None, **overrides: str) -> str:
    """households.csv text; ``alert_codes`` adds the optional column (person alert codes)."""
    out = io.StringIO()
    columns = [*HOUSEHOLDS_COLUMNS, *(["alert_codes"] if alert_codes is not None else [])]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for home_id in home_ids:
        row = {
            "home_id": home_id,
            "ethnicity": "Black",
            "disability": "no",
            "age_band": "35-44",
            "children_under_5": "yes",
            "over_65": "no",
            "language_needs": "no",
            "vulnerability": "",
        }
        if alert_codes is not None:
            row["alert_codes"] = alert_codes
        row.update(overrides)
        writer.writerow(row)
    return out.getvalue()


def tenancies_csv(home_ids: list[str], **overrides: str) -> str:
    """tenancies.csv text: one running social-rent tenancy per home; overrides apply to every row."""
    from registry.schemas import TENANCIES_COLUMNS

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(TENANCIES_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for index, home_id in enumerate(home_ids, start=1):
        row = {
            "tenancy_ref": f"T-{home_id}",
            "home_id": home_id,
            "start_date": "2020-04-01",
            "end_date": "",
            "tenure": "social_rent",
            "lead_tenant_name": f"Tenant {index}",
            "email": f"tenant{index}@example.org",
            "phone": f"07700 900{index:03d}",
            "preferred_channel": "email",
            "language": "en",
        }
        row.update(overrides)
        writer.writerow(row)
    return out.getvalue()
