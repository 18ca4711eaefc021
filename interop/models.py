"""External references: what other systems call Homesafe's cases, homes, tenancies and work orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, UTCDateTime


class ExternalReference(Base):
    """One reference allocated by another system, as the damp and mould data model's
    ``reference`` table (``allocated_by`` + the value, with a description): the housing
    management system's repair number on a case, a contractor's job number on a work order, the
    HMS's property or tenancy reference.

    ``entity_type`` is one of ``interop.enums.REFERENCE_ENTITIES``; ``entity_id`` the Homesafe key
    as text (case and work order ids, ``home_id``, ``tenancy_ref``). A value names one entity of
    a type per system; one entity may carry several references (from several systems).
    """

    __tablename__ = "external_reference"
    __table_args__ = (
        UniqueConstraint("entity_type", "allocated_by", "value"),
        Index("ix_external_reference_allocated_by_value", "allocated_by", "value"),
        Index("ix_external_reference_entity", "entity_type", "entity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(64))
    allocated_by: Mapped[str] = mapped_column(String(50))
    value: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
