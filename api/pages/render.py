"""Rendering pages: the Jinja2 environment, its filters, and the navigation by role."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.auth import PUBLIC, may
from api.pages.flash import FLASH_COOKIE, unseal
from api.session import COOKIE_NAME, SignedIn
from registry.clock import utc_now

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

# (path, label, permission): the header shows only what the person may open.
NAVIGATION = (
    ("/queue", "Hazard queue", "cases:read"),
    ("/search", "Find a case or home", "cases:read"),
    ("/reports/new", "Record a report", "cases:write"),
    ("/compliance", "Compliance", "compliance:read"),
    ("/repairs", "Repairs", "repairs:read"),
    ("/equity", "Equity", "equity:read"),
    ("/fleet", "Fleet", "fleet:read"),
    ("/feedback", "Feedback", "feedback:read"),
    ("/admin", "Admin", "users:admin"),
    ("/panel", "Scrutiny panel", "panel:read"),
    ("/transparency", "Transparency", PUBLIC),
    ("/performance", "Performance", PUBLIC),
)


def words(value: str | None) -> str:
    """snake_case keys as plain English: 'damp_and_mould' → 'Damp and mould'."""
    if not value:
        return ""
    text = value.replace("_", " ")
    return text[:1].upper() + text[1:]


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 hazard', '2 hazards' (never '1 hazards')."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def duration(delta: timedelta) -> str:
    """A span in the largest two units a person reads at a glance: '2 days 3 h', '45 min'."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def time_left(due: datetime, now: datetime) -> str:
    """'3 h 10 min left' or 'overdue by 2 days 1 h'."""
    delta = due - now
    return (
        f"{duration(delta)} left" if delta.total_seconds() >= 0 else f"overdue by {duration(delta)}"
    )


def render(
    request: Request,
    template: str,
    signed: SignedIn | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page from its template, with the person, navigation, clock and time zone filled in."""
    timezone = ZoneInfo(request.app.state.context.engine.calendar.timezone)
    # Notices come only from this site's sealed cookie (api.pages.flash), never the address.
    notice = unseal(request.cookies.get(COOKIE_NAME), request.cookies.get(FLASH_COOKIE))
    context.setdefault("message", notice.get("message"))
    context.setdefault("error", notice.get("error"))
    role = signed.user.role if signed else None
    now = context.pop("now", None) or utc_now()

    def when(moment: datetime | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
        return moment.astimezone(timezone).strftime(fmt) if moment else "—"

    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "signed": signed,
            "nav": [(p, label) for p, label, perm in NAVIGATION if may(role, perm)],
            "may": lambda permission: may(role, permission),
            "now": now,
            "when": when,
            "words": words,
            "count": count,
            "time_left": lambda due: time_left(due, now),
            "overdue_by": lambda due: duration(now - due),
            "svg": Markup,
            "csrf_token": signed.csrf_token if signed else "",
            "tz_name": str(timezone),
            **context,
        },
        status_code=status_code,
    )
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE)
    return response
