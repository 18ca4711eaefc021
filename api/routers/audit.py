"""The audit log's hash chain, checked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from api.deps import Context, DbSession, require
from api.models import User
from compliance import audit

router = APIRouter(tags=["audit"])


@router.get("/audit/verify")
def verify_audit(
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("audit:read"))],
) -> dict[str, Any]:
    """Recompute every entry's hash and link, and the daily checkpoints; name the first break.

    `verdict` is `intact` only when the chain matches checkpoints signed with HOMESAFE_AUDIT_KEY;
    `proven` and `not_proven` say what the check could and could not show."""
    result = audit.verify(session, key=context.audit_key)
    return {
        "ok": result.ok,
        "entries": result.entries,
        "checkpoints": result.checkpoints,
        "first_broken_id": result.first_broken_id,
        "reason": result.reason,
        "verdict": result.verdict,
        "signed": result.signed,
        "newest_checkpoint": result.newest_checkpoint,
        "proven": list(result.proven),
        "not_proven": list(result.not_proven),
    }
