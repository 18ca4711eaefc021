"""The audit log's hash chain, checked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import DbSession, require
from api.models import User
from compliance import audit

router = APIRouter(tags=["audit"])


@router.get("/audit/verify")
def verify_audit(
    session: DbSession, _user: Annotated[User, Depends(require("audit:read"))]
) -> dict[str, Any]:
    """Recompute every entry's hash and link; name the first broken entry, if any."""
    result = audit.verify(session)
    return {
        "ok": result.ok,
        "entries": result.entries,
        "first_broken_id": result.first_broken_id,
        "reason": result.reason,
    }
