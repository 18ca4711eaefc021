"""The audit log's hash chain, checked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api import access_log
from api.deps import Context, DbSession, require
from api.models import User
from compliance import audit
from registry.clock import to_rfc3339

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


@router.get("/audit/special-category-reads")
def special_category_reads(
    session: DbSession,
    _user: Annotated[User, Depends(require("audit:read"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Who read special-category data (households' needs, analyses by residents' groups), newest
    first: time, person, role, what, about whom, through which page or API call."""
    return [
        {
            "at": to_rfc3339(row.at),
            "actor": row.actor,
            "role": row.role,
            "what": row.what,
            "subject": row.subject,
            "via": row.via,
        }
        for row in access_log.reads(session, limit=limit)
    ]
