"""Fleet health: each gateway's status, last seen, seq gaps and battery (persisted by ingest)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from api.deps import DbSession, require
from api.models import User
from ingest import repository as fleet
from ingest.models import SensorHealthRow
from ingest.schemas import GatewayOut
from registry import repository as registry

router = APIRouter(tags=["gateways"])


@router.get("/gateways", response_model=list[GatewayOut])
def list_gateways(
    session: DbSession, _user: Annotated[User, Depends(require("fleet:read"))]
) -> list[GatewayOut]:
    """Every registered gateway, by id: those never heard from show no status and no last seen."""
    rows = {row.gateway_id: row for row in fleet.list_gateway_health(session)}
    by_gateway: dict[str, list[SensorHealthRow]] = {gateway_id: [] for gateway_id in rows}
    for sensor in fleet.sensor_health(session, list(rows)):
        by_gateway[sensor.gateway_id].append(sensor)
    homes = registry.gateway_homes(session)
    return [
        GatewayOut.from_rows(rows[gateway_id], by_gateway[gateway_id])
        if gateway_id in rows
        else GatewayOut.never_seen(gateway_id, homes[gateway_id])
        for gateway_id in sorted(rows.keys() | homes.keys())
    ]


@router.get("/gateways/{gateway_id}", response_model=GatewayOut)
def get_gateway(
    gateway_id: str, session: DbSession, _user: Annotated[User, Depends(require("fleet:read"))]
) -> GatewayOut:
    """One gateway's health, with its sensors."""
    row = fleet.get_gateway_health(session, gateway_id)
    if row is None:
        gateway = registry.get_gateway(session, gateway_id)
        if gateway is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no gateway {gateway_id!r}")
        return GatewayOut.never_seen(gateway_id, gateway.home_id)
    return GatewayOut.from_rows(row, fleet.sensor_health(session, [gateway_id]))
