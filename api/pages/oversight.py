"""The pages of the people who audit the clocks and scrutinise the service, and the public page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.access_log import reads, record_analysis
from api.auth import (
    ROLES,
    UnknownToken,
    UnknownUser,
    add_user,
    failed_sign_ins,
    may,
    revoke_token,
    set_disabled,
    token_expiry,
    tokens,
    users,
)
from api.deps import Context, DbSession, RowId, SignedInOrNot, page_action, page_require
from api.pages import charts
from api.pages.render import render, words
from api.session import SignedIn
from compliance import audit, service
from compliance.reporting import breach_reason, report_csv
from compliance.repository import BREACHED
from equity import service as equity_service
from equity.analysis import MEASURE_KEYS
from equity.outcomes import GROUPS
from equity.schemas import YouSaidWeDidIn
from ingest import repository as dead_letters
from ingest import repository as fleet_repository
from ingest.models import SensorHealthRow
from ingest.schemas import GatewayOut
from interop import service as interop_service
from interop.tsm import year_of
from registry import repository as registry
from registry.clock import plausible_day, utc_now
from repairs import repository as repairs_repository
from repairs import service as repairs_service

router = APIRouter(include_in_schema=False)

SILENT_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class GatewayView:
    """A gateway's health as ingest records it, read for people: online, silent sensors."""

    health: GatewayOut
    online: bool
    silent_sensors: list[str]

    @classmethod
    def of(
        cls, health: GatewayOut, *, now: datetime, silent_after: timedelta = SILENT_AFTER
    ) -> GatewayView:
        recent = health.last_seen_at is not None and health.last_seen_at >= now - silent_after
        silent = [
            s.sensor
            for s in health.sensors
            if s.last_reading_at is None or s.last_reading_at < now - silent_after
        ]
        return cls(
            health=health, online=recent and health.status != "offline", silent_sensors=silent
        )


# Below this many, a rate is not shown on the public page (one or two cases would identify homes).
PUBLIC_MIN_COUNT = 5
BREACH_LOOK_BACK = timedelta(days=400)


@router.get("/compliance")
def compliance_page(
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("compliance:read"))],
) -> Response:
    """Clocks met on time by kind and month, breaches with excuses, the audit-chain check."""
    cells = service.clocks_by_kind_and_month(session, timezone=context.engine.calendar.timezone)
    totals: dict[str, service.KindMonth] = {}
    for cell in cells:
        total = totals.setdefault(cell.kind, service.KindMonth(cell.kind, "all"))
        total.met_on_time += cell.met_on_time
        total.breached += cell.breached
        total.excused += cell.excused
        total.running += cell.running
    bars = [
        charts.Bar(
            words(t.kind),
            round(100 * t.met_on_time / t.decided, 1) if t.decided else None,
            note="no clock decided yet",
        )
        for t in totals.values()
    ]
    now = context.now()
    today = now.astimezone(ZoneInfo(context.engine.calendar.timezone)).date()
    outstanding, at_risk = service.duties_at_risk(session, now=now)
    # TSM RP02 for this financial year, the same figures as GET /api/v1/exports/tsm.csv.
    tsm_year, tsm_rows = interop_service.tsm_rp02(
        session, year=str(year_of(today)), engine=context.engine
    )
    return render(
        request,
        "compliance.html",
        signed,
        outstanding=outstanding,
        at_risk=at_risk,
        duty_label=service.duty_label,
        excuse_state=service.excuse_state,
        tsm_year=tsm_year,
        tsm_rows=tsm_rows,
        cells=cells,
        totals=list(totals.values()),
        chart=charts.bar_chart(
            bars, title="Clocks met on time, by kind", unit=" %", max_value=100.0
        ),
        breaches=[
            row
            for row in service.report_rows(
                session, start=now - BREACH_LOOK_BACK, end=now + timedelta(days=1)
            )
            if row.status in BREACHED
        ],
        breach_reason=lambda row: words(breach_reason(row)),
        chain=audit.verify(session, key=context.audit_key),
        report_from=(today - timedelta(days=365)).isoformat(),
        report_to=today.isoformat(),
        now=now,
    )


def period_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """Whole local days: from the start of `start` to the end of `end` (both days included)."""
    zone = ZoneInfo(timezone)
    return (
        datetime.combine(start, time(0), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone),
    )


@router.get("/compliance/report.csv")
def compliance_csv(
    session: DbSession,
    context: Context,
    _signed: Annotated[SignedIn, Depends(page_require("compliance:export"))],
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The compliance report (the same rows and CSV as the API's) for a period, as a download."""
    timezone = context.engine.calendar.timezone
    today = utc_now().astimezone(ZoneInfo(timezone)).date()
    try:
        first = plausible_day(date.fromisoformat(from_) if from_ else today - timedelta(days=365))
        last = plausible_day(date.fromisoformat(to) if to else today)
    except ValueError:
        return Response(
            "from and to must be dates (YYYY-MM-DD) between 1900 and 2199\n",
            status_code=422,
            media_type="text/plain",
        )
    if last < first:
        return Response("to is before from\n", status_code=422, media_type="text/plain")
    start, end = period_bounds(first, last, timezone)
    return Response(
        report_csv(service.report_rows(session, start=start, end=end), timezone=timezone),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="compliance-{first:%Y%m%d}-{last:%Y%m%d}.csv"'
        },
    )


@router.get("/compliance/tsm.csv")
def compliance_tsm_csv(
    session: DbSession,
    context: Context,
    _signed: Annotated[SignedIn, Depends(page_require("interop:export"))],
    year: Annotated[str, Query(max_length=9)],
) -> Response:
    """TSM RP02 for a financial year (the same CSV as the API's), as a download."""
    try:
        text = interop_service.tsm_csv(session, year=year, engine=context.engine)
    except interop_service.InteropRefused as exc:
        return Response(f"{exc.reason}\n", status_code=422, media_type="text/plain")
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tsm-rp02-{year[:4]}.csv"'},
    )


@router.get("/fleet")
def fleet_page(
    request: Request,
    session: DbSession,
    signed: Annotated[SignedIn, Depends(page_require("fleet:read"))],
) -> Response:
    """Gateways online and offline, seq gaps, batteries, silent sensors, the newest dead letters."""
    now = utc_now()
    rows = fleet_repository.list_gateway_health(session)
    sensors: dict[str, list[SensorHealthRow]] = {row.gateway_id: [] for row in rows}
    for sensor in fleet_repository.sensor_health(session, list(sensors)):
        sensors[sensor.gateway_id].append(sensor)
    gateways = [
        GatewayView.of(GatewayOut.from_rows(row, sensors[row.gateway_id]), now=now) for row in rows
    ]
    heard = {g.health.gateway_id for g in gateways}
    never = [g for g in registry.all_gateways(session) if g.gateway_id not in heard]
    return render(
        request,
        "fleet.html",
        signed,
        now=now,
        gateways=gateways,
        never=never,
        online=sum(1 for g in gateways if g.online),
        silent=sum(len(g.silent_sensors) for g in gateways),
        letters=dead_letters.list_dead_letters(session, limit=20),
        letters_total=dead_letters.count_dead_letters(session),
    )


@router.get("/repairs")
def repairs_page(
    request: Request,
    session: DbSession,
    signed: Annotated[SignedIn, Depends(page_require("repairs:read"))],
    status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
) -> Response:
    """Work orders by target time, contractors' performance, and the repair KPIs."""
    return render(
        request,
        "repairs.html",
        signed,
        orders=repairs_repository.list_work_orders(session, status=status_ or None, limit=200),
        status_filter=status_ or "",
        performance=repairs_service.performance_report(session),
        kpis=repairs_service.kpi_report(session),
        contractors=repairs_repository.contractors(session),
        personal=may(signed.user.role, "cases:personal"),
    )


@dataclass(frozen=True)
class EquityChoice:
    """The outcome and the grouping an equity view shows."""

    outcome: str
    by: str


def equity_choice(
    outcome: Annotated[str, Query(max_length=40)] = "breached",
    by: Annotated[str, Query(max_length=40)] = "ethnicity",
) -> EquityChoice:
    """The outcome and grouping asked for; an unknown one falls back to the default."""
    return EquityChoice(
        outcome if outcome in MEASURE_KEYS else "breached",
        by if by in GROUPS else "ethnicity",
    )


@router.get("/equity")
def equity_page(
    request: Request,
    session: DbSession,
    signed: Annotated[SignedIn, Depends(page_require("equity:read"))],
    choice: Annotated[EquityChoice, Depends(equity_choice)],
) -> Response:
    """One outcome by one group of residents, homes or areas: rates with 95 % intervals, suppressed when small."""
    outcome, by = choice.outcome, choice.by
    report = equity_service.outcomes_report(session, by=[by], outcome=outcome)
    record_analysis(
        session,
        actor=signed.user.name,
        role=signed.user.role,
        dimensions=[by],
        outcome=outcome,
        via="page /equity",
        now=utc_now(),
    )
    proportion = report["kind"] == "proportion"
    scale = 100.0 if proportion else 1.0
    unit = " %" if proportion else ""

    def scaled(value: float | None) -> float | None:
        return None if value is None else round(value * scale, 1)

    bars = [
        charts.Bar(
            f"{row['level']}",
            None if row["suppressed"] else scaled(row["value"]),
            scaled(row["ci_low"]) if not row["suppressed"] else None,
            scaled(row["ci_high"]) if not row["suppressed"] else None,
            note=f"suppressed: fewer than {report['min_group_size']}",
        )
        for row in report["groups"]
    ]
    overall = report["overall"]
    bars.insert(  # always shown: the rate every group is compared with
        0,
        charts.Bar(
            "Everyone",
            scaled(overall.get("value")),
            scaled(overall.get("ci_low")),
            scaled(overall.get("ci_high")),
            note="no cases in the period yet",
        ),
    )
    return render(
        request,
        "equity.html",
        signed,
        report=report,
        outcome=outcome,
        by=by,
        outcomes=MEASURE_KEYS,
        groups=GROUPS,
        scaled=scaled,
        unit=unit,
        chart=charts.bar_chart(
            bars,
            title=f"{report['description']} by {words(by).lower()}, with 95 % intervals",
            unit=unit,
            max_value=100.0 if proportion else None,
        ),
    )


@router.get("/equity/outcomes.csv")
def equity_csv(
    session: DbSession,
    signed: Annotated[SignedIn, Depends(page_require("equity:read"))],
    choice: Annotated[EquityChoice, Depends(equity_choice)],
) -> Response:
    """The equity page's table (the same CSV as the API's) as a download."""
    outcome, by = choice.outcome, choice.by
    report = equity_service.outcomes_report(session, by=[by], outcome=outcome)
    record_analysis(
        session,
        actor=signed.user.name,
        role=signed.user.role,
        dimensions=[by],
        outcome=outcome,
        via="page /equity/outcomes.csv",
        now=utc_now(),
    )
    return Response(
        equity_service.outcomes_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="equity-{outcome}-by-{by}.csv"'},
    )


@router.get("/admin")
def admin_page(
    request: Request,
    session: DbSession,
    signed: Annotated[SignedIn, Depends(page_require("users:admin"))],
) -> Response:
    """People and their roles; what the registry holds."""
    return render(
        request,
        "admin.html",
        signed,
        users=users(session),
        roles=ROLES,
        counts=registry.counts(session),
        failed_sign_ins=failed_sign_ins(session, since=utc_now() - timedelta(hours=24)),
        tokens=tokens(session),
        token_expiry=token_expiry,
        special_reads=reads(session, limit=50),
    )


@router.post("/admin/users")
def add_user_form(
    context: Context,
    _signed: Annotated[SignedIn, Depends(page_action("users:admin"))],
    name: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Add a person with a role and a first password."""
    try:
        with context.sessions.begin() as session:
            add_user(session, name=name.strip(), role=role, now=utc_now(), password=password)
    except ValueError as exc:
        return RedirectResponse(
            "/admin?" + urlencode({"error": str(exc)}), status.HTTP_303_SEE_OTHER
        )
    return RedirectResponse(
        "/admin?" + urlencode({"message": f"Added {name.strip()} ({role})."}),
        status.HTTP_303_SEE_OTHER,
    )


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token_form(
    token_id: RowId,
    context: Context,
    _signed: Annotated[SignedIn, Depends(page_action("users:admin"))],
) -> Response:
    """Revoke an API token at once."""
    try:
        with context.sessions.begin() as session:
            row = revoke_token(session, token_id=token_id, now=utc_now())
            done = f"Token {row.prefix}… revoked."
    except UnknownToken as exc:
        return RedirectResponse(
            "/admin?" + urlencode({"error": str(exc)}), status.HTTP_303_SEE_OTHER
        )
    return RedirectResponse("/admin?" + urlencode({"message": done}), status.HTTP_303_SEE_OTHER)


@router.post("/admin/users/{verb}")
def disable_user_form(
    verb: Annotated[str, Path(pattern="^(disable|enable)$")],
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("users:admin"))],
    name: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Disable a person (their sessions end, their tokens stop) or enable them again."""
    if name == signed.user.name and verb == "disable":
        error = "You cannot disable yourself: ask another admin."
        return RedirectResponse("/admin?" + urlencode({"error": error}), status.HTTP_303_SEE_OTHER)
    try:
        with context.sessions.begin() as session:
            set_disabled(session, name=name, disabled=verb == "disable", now=utc_now())
    except UnknownUser as exc:
        return RedirectResponse(
            "/admin?" + urlencode({"error": str(exc)}), status.HTTP_303_SEE_OTHER
        )
    return RedirectResponse(
        "/admin?" + urlencode({"message": f"{name} {verb}d."}), status.HTTP_303_SEE_OTHER
    )


def rate(numerator: int, denominator: int) -> str:
    """A percentage for the public, or why there is none."""
    if denominator < PUBLIC_MIN_COUNT:
        return f"too few to give a rate (fewer than {PUBLIC_MIN_COUNT})"
    return f"{100 * numerator / denominator:.0f} %"


@router.post("/transparency/you-said-we-did")
def you_said_we_did_form(
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("transparency:write"))],
    you_said: Annotated[str, Form(max_length=2000)] = "",
    we_did: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Publish a "you said, we did" entry on the public page (the same service as the API)."""
    try:
        entry = YouSaidWeDidIn(you_said=you_said.strip(), we_did=we_did.strip())
    except ValidationError as exc:
        first = exc.errors()[0]
        error = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return RedirectResponse(
            "/transparency?" + urlencode({"error": error}), status.HTTP_303_SEE_OTHER
        )
    with context.sessions.begin() as session:
        equity_service.add_you_said_we_did(
            session, entry=entry, author=signed.user.name, now=utc_now()
        )
    return RedirectResponse(
        "/transparency?" + urlencode({"message": "Published: you said, we did."}),
        status.HTTP_303_SEE_OTHER,
    )


@router.get("/transparency")
def transparency_page(
    request: Request,
    session: DbSession,
    signed: SignedInOrNot,
) -> Response:
    """Public: headline figures, clocks met, repairs within target, you said, we did."""
    now = utc_now()
    figures = service.headline(session, now=now)
    bars = [
        charts.Bar(
            words(kind),
            round(100 * figures.clocks_on_time_12m[kind] / decided, 1)
            if decided >= PUBLIC_MIN_COUNT
            else None,
            note=f"fewer than {PUBLIC_MIN_COUNT}: not shown",
        )
        for kind, decided in sorted(figures.clocks_decided_12m.items())
    ]
    return render(
        request,
        "transparency.html",
        signed,
        now=now,
        figures=figures,
        published=equity_service.transparency_summary(session),
        rate=rate,
        chart=charts.bar_chart(
            bars, title="Legal deadlines met on time, last 12 months", unit=" %", max_value=100.0
        )
        if bars
        else None,
    )
