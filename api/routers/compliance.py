"""Compliance reporting: the per-clock CSV (contract section 3) and the summary figures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from api.deps import Context, DbSession, require
from api.models import User
from compliance import service
from compliance.reporting import report_csv
from registry.clock import plausible, plausible_day

router = APIRouter(tags=["compliance"])

FromParam = Annotated[str, Query(alias="from", description="RFC 3339 instant or YYYY-MM-DD")]
ToParam = Annotated[
    str, Query(alias="to", description="RFC 3339 instant or YYYY-MM-DD (inclusive)")
]


def _instant(value: str, tz: str, *, end: bool) -> datetime:
    """A period bound: a date is a whole local day (``to`` includes it); an instant needs an offset."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        try:
            plausible_day(day)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        if end:
            day += timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{value!r} is not a date or RFC 3339 time"
        ) from exc
    if at.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{value!r} needs an offset")
    try:
        return plausible(at)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def _period(start: str, end: str, tz: str) -> tuple[datetime, datetime]:
    begin, finish = _instant(start, tz, end=False), _instant(end, tz, end=True)
    if finish <= begin:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "`to` must be after `from`")
    return begin, finish


@router.get("/compliance/report.csv")
def report(
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("compliance:export"))],
    start: FromParam,
    end: ToParam,
) -> Response:
    """One row per clock per case in the period, with due time, met time and status."""
    begin, finish = _period(start, end, context.engine.calendar.timezone)
    rows = service.report_rows(session, start=begin, end=finish)
    return Response(
        report_csv(rows, timezone=context.engine.calendar.timezone),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="compliance-report.csv"'},
    )


@router.get("/compliance/summary")
def summary(
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("compliance:read"))],
    start: FromParam,
    end: ToParam,
) -> dict[str, Any]:
    """Clocks met on time by kind, breaches by reason, times to investigate and make safe,
    open cases by days to breach."""
    begin, finish = _period(start, end, context.engine.calendar.timezone)
    return service.summary(session, start=begin, end=finish, now=context.now())
