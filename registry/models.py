"""Homes, gateways, sensors and (kept apart, special-category) households."""

from __future__ import annotations

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base


class Home(Base):
    __tablename__ = "home"

    home_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uprn: Mapped[str | None] = mapped_column(String(12))
    postcode: Mapped[str | None] = mapped_column(String(10))
    archetype: Mapped[str] = mapped_column(String(16))
    floor_level: Mapped[int | None] = mapped_column(Integer)
    build_year: Mapped[int | None] = mapped_column(Integer)
    imd_decile: Mapped[int | None] = mapped_column(Integer)


class Gateway(Base):
    __tablename__ = "gateway"

    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("home.home_id"), index=True)


class Sensor(Base):
    __tablename__ = "sensor"
    __table_args__ = (ForeignKeyConstraint(["gateway_id"], ["gateway.gateway_id"]),)

    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sensor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("home.home_id"), index=True)
    room: Mapped[str] = mapped_column(String(16))


class Household(Base):
    """Special-category data (UK GDPR art. 9): read only through roles allowed to see it."""

    __tablename__ = "household"

    home_id: Mapped[str] = mapped_column(ForeignKey("home.home_id"), primary_key=True)
    ethnicity: Mapped[str] = mapped_column(String(16))
    disability: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(32))
    children_under_5: Mapped[str] = mapped_column(String(16))
    over_65: Mapped[str] = mapped_column(String(16))
    language_needs: Mapped[str | None] = mapped_column(String(64))
    vulnerability: Mapped[str | None] = mapped_column(String(200))
