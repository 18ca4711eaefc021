"""Every registry query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from registry.models import (
    Gateway,
    Home,
    Household,
    ReportLink,
    Sensor,
    SpecialCategoryTally,
    Tenancy,
)
from registry.schemas import HomeRow, HouseholdRow, SensorRow, TenancyRow


def home_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Home.home_id)))


def gateway_homes(session: Session) -> dict[str, str]:
    """Every registered gateway's home, for ingest's lookup."""
    return {
        gateway_id: home_id
        for gateway_id, home_id in session.execute(select(Gateway.gateway_id, Gateway.home_id))
    }


def get_gateway(session: Session, gateway_id: str) -> Gateway | None:
    return session.get(Gateway, gateway_id)


def get_home(session: Session, home_id: str) -> Home | None:
    return session.get(Home, home_id)


def get_household(session: Session, home_id: str) -> Household | None:
    return session.get(Household, home_id)


def sensors_of_home(session: Session, home_id: str) -> Sequence[Sensor]:
    return session.scalars(
        select(Sensor)
        .where(Sensor.home_id == home_id)
        .order_by(Sensor.gateway_id, Sensor.sensor_id)
    ).all()


def all_sensors(session: Session) -> Sequence[Sensor]:
    return session.scalars(
        select(Sensor).order_by(Sensor.home_id, Sensor.gateway_id, Sensor.sensor_id)
    ).all()


def all_gateways(session: Session) -> Sequence[Gateway]:
    return session.scalars(select(Gateway).order_by(Gateway.gateway_id)).all()


def upsert(
    session: Session,
    *,
    homes: Sequence[HomeRow],
    sensors: Sequence[SensorRow],
    households: Sequence[HouseholdRow],
    tenancies: Sequence[TenancyRow] = (),
) -> None:
    """Insert or update the given rows; the caller owns the transaction."""
    for home in homes:
        values = {name: getattr(home, name) for name in HomeRow.__slots__}
        if values["address"] is None:
            del values["address"]  # a homes.csv without addresses keeps the ones on record
        session.merge(Home(**values))
    session.flush()
    for gateway_id, home_id in {(s.gateway_id, s.home_id) for s in sensors}:
        session.merge(Gateway(gateway_id=gateway_id, home_id=home_id))
    session.flush()
    for sensor in sensors:
        session.merge(
            Sensor(
                gateway_id=sensor.gateway_id,
                sensor_id=sensor.sensor_id,
                home_id=sensor.home_id,
                room=sensor.room,
            )
        )
    for household in households:
        fields = {name: getattr(household, name) for name in HouseholdRow.__slots__}
        if fields["alert_codes"] is None:
            del fields[
                "alert_codes"
            ]  # a households.csv without the column keeps the codes on record
        session.merge(Household(**fields))
    for tenancy in tenancies:
        session.merge(Tenancy(**{name: getattr(tenancy, name) for name in TenancyRow.__slots__}))
    session.flush()


def running_tenancies(session: Session) -> dict[str, str]:
    """Each home's running tenancy (no end date): home id -> tenancy reference."""
    return {
        home_id: reference
        for home_id, reference in session.execute(
            select(Tenancy.home_id, Tenancy.tenancy_ref).where(Tenancy.end_date.is_(None))
        )
    }


def tenancy_on(session: Session, home_id: str, day: date) -> Tenancy | None:
    """The home's tenancy on that day (started by it, not ended before it), the latest started."""
    return session.scalars(
        select(Tenancy)
        .where(
            Tenancy.home_id == home_id,
            Tenancy.start_date <= day,
            or_(Tenancy.end_date.is_(None), Tenancy.end_date >= day),
        )
        .order_by(Tenancy.start_date.desc(), Tenancy.tenancy_ref)
        .limit(1)
    ).first()


def get_tenancy(session: Session, tenancy_ref: str) -> Tenancy | None:
    return session.get(Tenancy, tenancy_ref)


def homes_matching(text: str, *, personal: bool) -> Select[str]:
    """The ids of homes a search text finds: by home id, UPRN, postcode (spaces ignored) or
    address, and, for staff who may read tenants' details (``personal``), by a tenant's name,
    email or phone on any of the home's tenancies."""
    wanted = text.strip().lower()
    squashed = wanted.replace(" ", "").upper()
    found: list[ColumnElement[bool]] = [
        func.lower(Home.home_id) == wanted,
        Home.uprn == text.strip(),
        func.replace(func.upper(Home.postcode), " ", "").contains(squashed, autoescape=True),
        func.lower(Home.address).contains(wanted, autoescape=True),
    ]
    if personal:
        found.append(
            select(Tenancy.tenancy_ref)
            .where(
                Tenancy.home_id == Home.home_id,
                or_(
                    func.lower(Tenancy.lead_tenant_name).contains(wanted, autoescape=True),
                    func.lower(Tenancy.email) == wanted,
                    func.replace(Tenancy.phone, " ", "") == wanted.replace(" ", ""),
                ),
            )
            .exists()
        )
    return select(Home.home_id).where(or_(*found))


def find_homes(session: Session, text: str, *, personal: bool, limit: int = 50) -> Sequence[Home]:
    """Homes a search text finds (see ``homes_matching``), by home id."""
    return session.scalars(
        select(Home)
        .where(Home.home_id.in_(homes_matching(text, personal=personal)))
        .order_by(Home.home_id)
        .limit(limit)
    ).all()


def tenancies_of_home(session: Session, home_id: str) -> Sequence[Tenancy]:
    """The home's tenancies, the latest started first."""
    return session.scalars(
        select(Tenancy)
        .where(Tenancy.home_id == home_id)
        .order_by(Tenancy.start_date.desc(), Tenancy.tenancy_ref)
    ).all()


def counts(session: Session) -> dict[str, int]:
    """How many homes, gateways and sensors the registry holds."""
    return {
        "homes": session.scalar(select(func.count()).select_from(Home)) or 0,
        "gateways": session.scalar(select(func.count()).select_from(Gateway)) or 0,
        "sensors": session.scalar(select(func.count()).select_from(Sensor)) or 0,
    }


def live_report_link(session: Session, home_id: str) -> ReportLink | None:
    """The home's reporting link in use, if any."""
    return session.scalars(
        select(ReportLink)
        .where(ReportLink.home_id == home_id, ReportLink.revoked_at.is_(None))
        .order_by(ReportLink.id.desc())
    ).first()


def report_link_by_hash(session: Session, secret_hash: str) -> ReportLink | None:
    return session.scalars(select(ReportLink).where(ReportLink.secret_hash == secret_hash)).first()


def homes_with_ended_tenancies(session: Session, day: date) -> list[str]:
    """Homes that have a household record and tenancies, none of them running on the day, the
    last one ended before it: the household moved out (homesafe.erasure)."""
    ended = (
        select(Tenancy.home_id)
        .join(Household, Household.home_id == Tenancy.home_id)
        .group_by(Tenancy.home_id)
        .having(
            func.count() == func.count(Tenancy.end_date),  # every tenancy has an end date
            func.max(Tenancy.end_date) < day,
        )
    )
    return sorted(session.scalars(ended).all())


def add_to_tally(
    session: Session, *, dimension: str, level: str, cases: int, cases_breached: int
) -> None:
    """Add one erased household (and its cases) to the aggregate of its group."""
    row = session.get(SpecialCategoryTally, (dimension, level))
    if row is None:
        row = SpecialCategoryTally(
            dimension=dimension, level=level, households=0, cases=0, cases_breached=0
        )
        session.add(row)
    row.households += 1
    row.cases += cases
    row.cases_breached += cases_breached
    session.flush()


def delete_household(session: Session, household: Household) -> None:
    session.delete(household)
    session.flush()
