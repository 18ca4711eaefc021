"""A small estate for the residents' tests: two postcode districts, flats in one block, tenancies
with email, damp cases in two past quarters (one quarter's cell small on purpose), work orders
dispatched to a named operative and completed."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from compliance.schemas import ReportIn
from compliance.service import Engine, record_report
from equity.residents.scrutiny import quarter_start
from registry.schemas import HOMES_COLUMNS
from registry.service import import_registry
from repairs import service as repairs
from repairs.schemas import VisitIn, WorkOrderIn
from tests.factories import households_csv, tenancies_csv

REPORT_WORDS = "Black mould behind the wardrobe in the back bedroom"
OPERATIVE = "Sam Operative"
TZ = ZoneInfo("Europe/London")


def homes_text(count: int) -> str:
    """H0001.. : the first 16 are flats in Mill Court (M1 1AE); the rest houses in M2."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*HOMES_COLUMNS, "address"], lineterminator="\n")
    writer.writeheader()
    for h in range(1, count + 1):
        flat = h <= 16
        writer.writerow(
            {
                "home_id": f"H{h:04d}",
                "uprn": f"20000{h:04d}",
                "postcode": "M1 1AE" if flat else "M2 2BB",
                "archetype": "flat" if flat else "house",
                "floor_level": "1" if flat else "0",
                "build_year": "1968",
                "imd_decile": "3",
                "gateway_id": f"gw-{h:04d}",
                "sensor_id": "s1",
                "room": "living",
                "address": f"Flat {h}, Mill Court, Manchester" if flat else f"{h} Oak Road, Leeds",
            }
        )
    return out.getvalue()


def past_quarters(now: datetime) -> tuple[str, str]:
    """(two quarters ago, last quarter) as labels."""
    local = now.astimezone(TZ).date()
    this = date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)
    last = (this - timedelta(days=1)).replace(day=1)
    last = date(last.year, 3 * ((last.month - 1) // 3) + 1, 1)
    before = (last - timedelta(days=1)).replace(day=1)
    before = date(before.year, 3 * ((before.month - 1) // 3) + 1, 1)

    def label(d: date) -> str:
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"

    return label(before), label(last)


@dataclass
class Estate:
    homes: list[str]
    quarter_before: str
    quarter_last: str
    case_ids: list[int] = field(default_factory=list)
    work_orders: list[int] = field(default_factory=list)
    contractor_id: int = 0


def build_estate(sessions: sessionmaker[Session], engine: Engine, *, now: datetime) -> Estate:
    homes = [f"H{i:04d}" for i in range(1, 25)]
    before, last = past_quarters(now)
    estate = Estate(homes, before, last)
    with sessions.begin() as session:
        import_registry(
            session,
            homes_text=homes_text(24),
            households_text=households_csv(homes),
            tenancies_text=tenancies_csv(homes),
        )
        estate.contractor_id = repairs.add_contractor(
            session, name="Dryline Ltd", kind="contractor", now=now
        ).id
    # 8 damp cases in M1 two quarters ago (a cell big enough); 2 last quarter (a small cell).
    plan = [(before, h) for h in homes[:8]] + [(last, h) for h in homes[8:10]]
    for quarter, home_id in plan:
        start = datetime.combine(quarter_start(quarter), time(9), tzinfo=TZ) + timedelta(days=20)
        with sessions.begin() as session:
            case, _ = record_report(
                session,
                report=ReportIn(
                    home_id=home_id,
                    hazard="damp_and_mould",
                    source="tenant",
                    reported_at=start,
                    description=REPORT_WORDS,
                ),
                actor="officer",
                now=now,
                engine=engine,
            )
            order = repairs.raise_work_order(
                session,
                order=WorkOrderIn(
                    case_id=case.id,
                    kind="supplementary",
                    contractor_id=estate.contractor_id,
                    priority="routine",
                ),
                actor="officer",
                now=now,
            )
            estate.case_ids.append(case.id)
            estate.work_orders.append(order.id)
    return estate


def dispatch_and_complete(
    sessions: sessionmaker[Session],
    engine: Engine,
    *,
    work_order_id: int,
    dispatched_at: datetime,
    completed_at: datetime | None,
    now: datetime,
) -> None:
    with sessions.begin() as session:
        repairs.dispatch(
            session,
            work_order_id=work_order_id,
            at=dispatched_at,
            actor="officer",
            now=now,
            engine=engine,
            operative=OPERATIVE,
        )
        if completed_at is not None:
            repairs.record_visit(
                session,
                work_order_id=work_order_id,
                visit=VisitIn(outcome="completed", at=completed_at, work_done="treated and sealed"),
                actor="officer",
                now=now,
                engine=engine,
            )
