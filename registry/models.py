"""Homes, gateways, sensors and (kept apart, special-category) households."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, UTCDateTime


class Home(Base):
    __tablename__ = "home"

    home_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uprn: Mapped[str | None] = mapped_column(String(12))
    postcode: Mapped[str | None] = mapped_column(String(10))
    archetype: Mapped[str] = mapped_column(String(16))
    floor_level: Mapped[int | None] = mapped_column(Integer)
    build_year: Mapped[int | None] = mapped_column(Integer)
    imd_decile: Mapped[int | None] = mapped_column(Integer)
    # 0002_registry: the postal address (optional ``address`` column of homes.csv), for letters
    # and for finding a home.
    address: Mapped[str | None] = mapped_column(Text)


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
    # 0003_registry_alert_codes: MHCLG/HACT person alert codes, ";"-separated (registry.alert_codes).
    alert_codes: Mapped[str | None] = mapped_column(String(400))


class Tenancy(Base):
    """Who lives in a home, on which tenure, and how to reach them (personal data, not
    special-category): readable by staff who work cases. The tenure decides whether Awaab's Law
    clocks run (docs/law.md, "Tenure")."""

    __tablename__ = "tenancy"
    __table_args__ = (Index("ix_tenancy_home_start", "home_id", "start_date"),)

    tenancy_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("home.home_id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    tenure: Mapped[str] = mapped_column(String(24))
    lead_tenant_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    preferred_channel: Mapped[str | None] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(35))


class ReportLink(Base):
    """A home's private link for residents to report a problem without an account.

    Only the SHA-256 of the link's secret is kept, so the link is shown once, when an officer
    issues it (printed on a card or the gateway's sticker); issuing a new one revokes the old.
    """

    __tablename__ = "report_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    home_id: Mapped[str] = mapped_column(ForeignKey("home.home_id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class SpecialCategoryTally(Base):
    """What is kept of erased households (homesafe.erasure): how many households of each group,
    and their cases, in aggregate only; no home, no person, no date."""

    __tablename__ = "special_category_tally"

    dimension: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[str] = mapped_column(String(200), primary_key=True)
    households: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    cases_breached: Mapped[int] = mapped_column(Integer)
