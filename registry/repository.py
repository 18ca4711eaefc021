"""Every registry query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.models import Gateway, Home, Household, Sensor
from registry.schemas import HomeRow, HouseholdRow, SensorRow


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
) -> None:
    """Insert or update the given rows; the caller owns the transaction."""
    for home in homes:
        session.merge(Home(**{name: getattr(home, name) for name in HomeRow.__slots__}))
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
        session.merge(
            Household(**{name: getattr(household, name) for name in HouseholdRow.__slots__})
        )
    session.flush()
