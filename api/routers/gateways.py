"""Fleet health: each gateway's status, last seen, seq gaps and battery (persisted by ingest)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from api.deps import DbSession, require
from api.models import User
from ingest import repository as fleet
from ingest.schemas import GatewayOut

router = APIRouter(tags=["gateways"])


@router.get("/gateways", response_model=list[GatewayOut])
def list_gateways(
    session: DbSession, _user: Annotated[User, Depends(require("fleet:read"))]
) -> list[GatewayOut]:
    """Every gateway ingest has heard from, by id."""
    rows = fleet.list_gateway_health(session)
    by_gateway: dict[str, list] = {row.gateway_id: [] for row in rows}
    for sensor in fleet.sensor_health(session, list(by_gateway)):
        by_gateway[sensor.gateway_id].append(sensor)
    return [GatewayOut.from_rows(row, by_gateway[row.gateway_id]) for row in rows]


@router.get("/gateways/{gateway_id}", response_model=GatewayOut)
def get_gateway(
    gateway_id: str, session: DbSession, _user: Annotated[User, Depends(require("fleet:read"))]
) -> GatewayOut:
    """One gateway's health, with its sensors."""
    row = fleet.get_gateway_health(session, gateway_id)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no health recorded for gateway {gateway_id!r}"
        )
    return GatewayOut.from_rows(row, fleet.sensor_health(session, [gateway_id]))
