"""Residents scrutinise the service (docs/residents.md): the scrutiny panel's pages and deep dives,
resident-defined KPIs, the milestone survey a household answers through its one-time link, the
public performance page (English, Welsh, easy read; CSV and JSON) and the annual review.

Nothing here shows a case number, a home, an address, a name, a contact, a report's words or a
household's special-category details to the panel or the public; operatives are named only to
the panel and staff.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from api.deps import (
    Context,
    DbSession,
    RowId,
    SignedInOrNot,
    page_action,
    page_require,
    public_page,
)
from api.pages import charts
from api.pages.render import TEMPLATES, render, words
from api.pages.work import back_to
from api.session import SignedIn
from equity import service as equity_service
from equity.residents import service as residents
from equity.residents.figures import KPI_MEASURES
from equity.residents.scrutiny import MIN_CELL, OUTCOMES, CaseSet, quarter_of

router = APIRouter(include_in_schema=False)

HAZARDS = (
    "damp_and_mould",
    "excess_cold",
    "excess_heat",
    "carbon_monoxide",
    "electrical",
    "fire",
    "water_supply",
    "domestic_hygiene",
)


# --- the panel -------------------------------------------------------------------------------------


@router.get("/panel")
def panel_page(
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("panel:read"))],
) -> Response:
    """The panel's view: every published table at full (suppressed) detail, satisfaction splits
    with response rates, operatives' feedback, KPIs, and the deep dives asked and answered."""
    timezone = context.engine.calendar.timezone
    now = context.now()
    areas, quarters = residents.areas_and_quarters(session, timezone=timezone)
    current = quarter_of(now, timezone)
    return render(
        request,
        "panel.html",
        signed,
        published=equity_service.transparency_summary(session),
        satisfaction=residents.satisfaction(session),
        operatives=residents.operative_feedback(session),
        kpis=residents.kpi_board(session),
        proposed=residents.proposed_kpis(session),
        drafts=residents.kpi_drafts(session, timezone=timezone, now=now)
        if signed.user.role != "panel"
        else [],
        requests=residents.deep_dive_requests(session),
        areas=areas,
        quarters=quarters or [current],
        current_quarter=current,
        hazards=HAZARDS,
        outcomes=OUTCOMES,
        measures=KPI_MEASURES,
        pct=_pct,
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


@router.post("/panel/deep-dives")
def ask_deep_dive_form(
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("panel:ask"))],
    hazard: Annotated[str, Form(max_length=40)] = "",
    area: Annotated[str, Form(max_length=16)] = "",
    quarter_from: Annotated[str, Form(max_length=7)] = "",
    quarter_to: Annotated[str, Form(max_length=7)] = "",
    outcome: Annotated[str, Form(max_length=16)] = "any",
    question: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The panel asks for a deep dive into a case set it chose."""
    case_set = CaseSet(hazard or None, area or None, quarter_from, quarter_to, outcome)
    try:
        with context.sessions.begin() as session:
            request = residents.ask_deep_dive(
                session,
                case_set=case_set,
                question=question,
                asked_by=signed.user.name,
                now=context.now(),
            )
            request_id = request.id
    except residents.ResidentsRefused as exc:
        return back_to("/panel", error=exc.reason)
    return back_to(
        f"/panel/deep-dives/{request_id}",
        message="Your request is on the record: the landlord will answer it here.",
    )


@router.get("/panel/deep-dives/{request_id}")
def deep_dive_page(
    request_id: RowId,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("panel:read"))],
) -> Response:
    """The anonymised deep dive: figures, the longest journeys, and the landlord's answer."""
    asked = residents.deep_dive_request(session, request_id=request_id)
    if asked is None:
        return render(
            request,
            "error.html",
            signed,
            status_code=404,
            title="No such deep dive",
            reason="There is no deep-dive request with that number.",
        )
    dive = residents.run_deep_dive(
        session,
        case_set=residents.case_set_of(asked),
        timezone=context.engine.calendar.timezone,
        now=context.now(),
    )
    return render(
        request,
        "deep_dive.html",
        signed,
        asked=asked,
        dive=dive,
        outcome_words={o.key: o.words for o in OUTCOMES},
        min_cell=MIN_CELL,
    )


@router.post("/panel/deep-dives/{request_id}/answer")
def answer_deep_dive_form(
    request_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("panel:answer"))],
    answer: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """The landlord answers a deep-dive request, on the record."""
    path = f"/panel/deep-dives/{request_id}"
    try:
        with context.sessions.begin() as session:
            residents.answer_deep_dive(
                session,
                request_id=request_id,
                answer=answer,
                actor=signed.user.name,
                now=context.now(),
            )
    except residents.NotFound as exc:
        return back_to("/panel", error=str(exc))
    except residents.ResidentsRefused as exc:
        return back_to(path, error=exc.reason)
    return back_to(path, message="Answered: the panel can read it now.")


@router.post("/panel/kpis")
def propose_kpi_form(
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("panel:ask"))],
    name: Annotated[str, Form(max_length=100)] = "",
    measure: Annotated[str, Form(max_length=40)] = "",
    target_pct: Annotated[str, Form(max_length=8)] = "",
    why: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The panel proposes a KPI from the measures Homesafe holds."""
    try:
        target = float(target_pct)
    except ValueError:
        return back_to("/panel", error="the target is a percentage from 0 to 100")
    try:
        with context.sessions.begin() as session:
            residents.propose_kpi(
                session,
                name=name,
                measure=measure,
                target_pct=target,
                why=why,
                proposed_by=signed.user.name,
                now=context.now(),
            )
    except residents.ResidentsRefused as exc:
        return back_to("/panel", error=exc.reason)
    return back_to(
        "/panel", message=f"Proposed: {name.strip()}. The landlord decides whether to publish it."
    )


@router.post("/panel/kpis/{kpi_id}/decide")
def decide_kpi_form(
    kpi_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("panel:answer"))],
    decision: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """The landlord publishes (or declines, on the record) a KPI the panel proposed."""
    if decision not in ("publish", "decline"):
        return back_to("/panel", error="choose publish or decline")
    try:
        with context.sessions.begin() as session:
            row = residents.decide_kpi(
                session,
                kpi_id=kpi_id,
                publish=decision == "publish",
                actor=signed.user.name,
                now=context.now(),
            )
            said = f"{row.name}: {row.state}."
    except residents.NotFound as exc:
        return back_to("/panel", error=str(exc))
    except residents.ResidentsRefused as exc:
        return back_to("/panel", error=exc.reason)
    return back_to("/panel", message=said)


@router.post("/panel/kpis/{kpi_id}/periods")
def publish_period_form(
    kpi_id: RowId,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("panel:answer"))],
    quarter: Annotated[str, Form(max_length=7)] = "",
    explanation: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Publish a KPI's quarter; a missed target needs the written explanation first."""
    try:
        with context.sessions.begin() as session:
            residents.publish_kpi_period(
                session,
                kpi_id=kpi_id,
                quarter=quarter,
                explanation=explanation,
                actor=signed.user.name,
                now=context.now(),
                timezone=context.engine.calendar.timezone,
            )
    except residents.NotFound as exc:
        return back_to("/panel", error=str(exc))
    except residents.ResidentsRefused as exc:
        return back_to("/panel", error=exc.reason)
    return back_to("/panel", message=f"Published {quarter}.")


@router.get("/feedback")
def feedback_page(
    request: Request,
    session: DbSession,
    signed: Annotated[SignedIn, Depends(page_require("feedback:read"))],
) -> Response:
    """Residents' answers in full (free text, operatives), for staff who act on them."""
    return render(
        request,
        "feedback.html",
        signed,
        answers=residents.feedback_comments(session),
        operatives=residents.operative_feedback(session),
    )


# --- the milestone survey (no account: the one-time link is all the form knows) --------------------


def _survey(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    landlord = request.app.state.context.engine.landlord
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"landlord": landlord, **context},
        status_code=status_code,
        # same-origin: the link's secret never reaches another site, and the form's own post
        # carries its origin (with no-referrer the browser sends "Origin: null", refused as
        # cross-site by api.security.SameOriginForms).
        headers={"Cache-Control": "no-store", "Referrer-Policy": "same-origin"},
    )


RATINGS = (
    (5, "Very happy"),
    (4, "Happy"),
    (3, "Neither happy nor unhappy"),
    (2, "Unhappy"),
    (1, "Very unhappy"),
)
QUESTIONS = {
    "dispatch": "How happy are you with how quickly we arranged the repair?",
    "completion": "How happy are you with the repair?",
    "block": "We did some work on the shared parts of your building. How happy are you with it?",
}


@router.get("/s/{token}", dependencies=[Depends(public_page)])
def survey_form(token: str, request: Request, session: DbSession, context: Context) -> Response:
    """The one-question survey, or a page saying it is answered, closed or not ours."""
    invitation = residents.survey_for(session, token=token)
    state = residents.survey_state(invitation, context.now())
    if invitation is None or state != "open":
        return _survey(
            request,
            "survey_closed.html",
            status_code=404 if state == "unknown" else 200,
            state=state,
        )
    return _survey(
        request,
        "survey.html",
        token=token,
        question=QUESTIONS[invitation.milestone],
        ask_operative=invitation.milestone == "completion",
        ratings=RATINGS,
        form_errors=[],
    )


@router.post("/s/{token}", dependencies=[Depends(public_page)])
def survey_answer(
    token: str,
    request: Request,
    context: Context,
    rating: Annotated[str, Form(max_length=2)] = "",
    operative_rating: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Keep the household's answer, once."""
    try:
        with context.sessions.begin() as session:
            invitation = residents.survey_for(session, token=token)
            if invitation is None:
                return _survey(request, "survey_closed.html", status_code=404, state="unknown")
            if not rating.isdigit():
                return _survey(
                    request,
                    "survey.html",
                    status_code=422,
                    token=token,
                    question=QUESTIONS[invitation.milestone],
                    ask_operative=invitation.milestone == "completion",
                    ratings=RATINGS,
                    form_errors=["Choose one answer to the question."],
                    comment=comment,
                )
            residents.answer_survey(
                session,
                token=token,
                rating=int(rating),
                operative_rating=int(operative_rating) if operative_rating.isdigit() else None,
                comment=comment,
                now=context.now(),
            )
    except residents.ResidentsRefused as exc:
        return _survey(request, "survey_closed.html", state="refused", reason=exc.reason)
    return _survey(request, "survey_thanks.html")


# --- the public performance page -------------------------------------------------------------------

# The page's own words in English, Welsh and easy read. The Welsh was drafted by the engineering
# team and must be reviewed by a qualified translator before use (as notify's templates).
PAGE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "How we are doing: repairs, damp and mould",
        "intro": "These are the measures our residents' scrutiny panel chose, with our targets. Each figure says how many it is based on. No home or household can be identified: figures based on fewer than 5 are not shown.",
        "kpis": "Our performance measures",
        "quarter": "Quarter",
        "result": "Result",
        "based_on": "Based on",
        "target": "Target",
        "met": "Met the target",
        "missed": "Missed the target",
        "too_few": "too few to show",
        "why_missed": "Why we missed it",
        "no_periods": "No quarters published yet.",
        "satisfaction": "Are residents happy with repairs?",
        "satisfaction_intro": "After each repair we ask residents one question. We show how many we asked and how many answered, so you can judge the figure.",
        "asked": "Asked",
        "answered": "Answered",
        "response_rate": "Response rate",
        "happy": "Happy with the repair (4 or 5 out of 5)",
        "interval": "95 % range",
        "said": "You said, we did",
        "download": "Download these figures",
        "other": "Other versions",
        "review": "Our annual review",
        "lower": "Lower is better.",
        "higher": "Higher is better.",
        "group": "Group",
        "not_shown": "not shown (small group)",
    },
    "cy": {
        "title": "Sut rydym yn gwneud: atgyweiriadau, lleithder a llwydni",
        "intro": "Dyma'r mesurau a ddewisodd panel craffu ein preswylwyr, gyda'n targedau. Mae pob ffigur yn dweud ar faint y mae'n seiliedig. Ni ellir adnabod unrhyw gartref na chartref teulu: ni ddangosir ffigurau sy'n seiliedig ar lai na 5.",
        "kpis": "Ein mesurau perfformiad",
        "quarter": "Chwarter",
        "result": "Canlyniad",
        "based_on": "Yn seiliedig ar",
        "target": "Targed",
        "met": "Wedi cyrraedd y targed",
        "missed": "Heb gyrraedd y targed",
        "too_few": "rhy ychydig i'w dangos",
        "why_missed": "Pam na wnaethom ei gyrraedd",
        "no_periods": "Dim chwarteri wedi'u cyhoeddi eto.",
        "satisfaction": "A yw preswylwyr yn hapus ag atgyweiriadau?",
        "satisfaction_intro": "Ar ôl pob atgyweiriad rydym yn gofyn un cwestiwn i breswylwyr. Rydym yn dangos faint a ofynnwyd a faint a atebodd.",
        "asked": "Gofynnwyd",
        "answered": "Atebwyd",
        "response_rate": "Cyfradd ymateb",
        "happy": "Yn hapus â'r atgyweiriad (4 neu 5 allan o 5)",
        "interval": "Ystod 95 %",
        "said": "Dywedoch chi, gwnaethom ni",
        "download": "Lawrlwytho'r ffigurau hyn",
        "other": "Fersiynau eraill",
        "review": "Ein hadolygiad blynyddol",
        "lower": "Mae is yn well.",
        "higher": "Mae uwch yn well.",
        "group": "Grŵp",
        "not_shown": "ni ddangosir (grŵp bach)",
    },
}
LANG_TAGS = {"en": "en-GB", "cy": "cy"}


def _kpi_chart(kpi: dict[str, Any], chart_id: str) -> str | None:
    periods = kpi["periods"][-8:]
    if not periods:
        return None
    bars = [
        charts.Bar(p["quarter"], p["value_pct"], note=f"fewer than 5 (based on {p['sample_size']})")
        for p in periods
    ]
    return charts.bar_chart(
        bars,
        title=f"{kpi['name']}: each quarter, target {kpi['target_pct']:g} %",
        unit=" %",
        max_value=100.0,
        chart_id=chart_id,
    )


def _board(session: Any) -> dict[str, Any]:
    kpis = residents.kpi_board(session)
    return {
        "kpis": kpis,
        "charts": {k["id"]: _kpi_chart(k, f"kpi-{k['id']}") for k in kpis},
        "satisfaction": residents.satisfaction(session),
        "said": equity_service.transparency_summary(session)["you_said_we_did"],
    }


def _satisfaction_chart(table: dict[str, Any]) -> str:
    bars = [
        charts.Bar(
            f"{words(g['dimension'])}: {g['level']}",
            None
            if g["suppressed"] or g.get("satisfied") is None
            else round(100 * g["satisfied"], 1),
            None if g["suppressed"] or g.get("ci_low") is None else round(100 * g["ci_low"], 1),
            None if g["suppressed"] or g.get("ci_high") is None else round(100 * g["ci_high"], 1),
            note="not shown (small group)",
        )
        for g in table["groups"]
        if g["dimension"] in ("contractor", "channel")
    ]
    return charts.bar_chart(
        bars,
        title="Residents happy with the repair, by contractor and by how the problem came to us, with 95 % ranges",
        unit=" %",
        max_value=100.0,
        chart_id="satisfaction",
    )


@router.get("/performance")
def performance_page(
    request: Request,
    session: DbSession,
    signed: SignedInOrNot,
    lang: Annotated[str, Query(max_length=5)] = "en",
) -> Response:
    """Public: the KPI dashboard with charts, satisfaction with response rates, you said, we did."""
    language = lang if lang in PAGE_WORDS else "en"
    board = _board(session)
    return render(
        request,
        "performance.html",
        signed,
        t=PAGE_WORDS[language],
        language=language,
        page_lang=LANG_TAGS[language],
        satisfaction_chart=_satisfaction_chart(board["satisfaction"]),
        pct=_pct,
        **board,
    )


@router.get("/performance/easy-read")
def performance_easy_read(request: Request, session: DbSession, signed: SignedInOrNot) -> Response:
    """Public: the same figures in easy read (short sentences, one idea each)."""
    board = _board(session)
    return render(request, "performance_easy.html", signed, pct=_pct, **board)


def open_data(session: Any) -> dict[str, Any]:
    """The public page's figures as open data: only what the page shows, suppressed the same way."""
    board = _board(session)
    return {
        "licence": "Open Government Licence v3.0",
        "kpis": [
            {
                key: value
                for key, value in k.items()
                if key in ("name", "measure", "measure_words", "target_pct", "higher_is_better")
            }
            | {
                "periods": [
                    {**p, "published_at": p["published_at"].isoformat()} for p in k["periods"]
                ]
            }
            for k in board["kpis"]
        ],
        "satisfaction": board["satisfaction"],
        "you_said_we_did": board["said"],
    }


@router.get("/performance.json", dependencies=[Depends(public_page)])
def performance_json(session: DbSession) -> Response:
    """The public page's figures as JSON (open data)."""
    return Response(
        json.dumps(open_data(session), ensure_ascii=False, indent=1, default=str),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="performance.json"'},
    )


@router.get("/performance.csv", dependencies=[Depends(public_page)])
def performance_csv(session: DbSession) -> Response:
    """The public page's figures as CSV: one row per figure, with its sample size."""
    data = open_data(session)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["table", "measure", "period_or_group", "value_pct", "sample_size", "asked", "note"]
    )
    for k in data["kpis"]:
        for p in k["periods"]:
            writer.writerow(
                [
                    "kpi",
                    _cell(k["name"]),
                    p["quarter"],
                    "" if p["value_pct"] is None else p["value_pct"],
                    p["sample_size"],
                    "",
                    _cell(p["explanation"] or ("met target" if p["met_target"] else "")),
                ]
            )
    overall = data["satisfaction"]["overall"]
    writer.writerow(
        [
            "satisfaction",
            "happy with the repair",
            "everyone",
            "" if overall["satisfied"] is None else round(100 * overall["satisfied"], 1),
            overall["answers"],
            overall["asked"],
            "",
        ]
    )
    for g in data["satisfaction"]["groups"]:
        writer.writerow(
            [
                "satisfaction",
                "happy with the repair",
                _cell(f"{g['dimension']}: {g['level']}"),
                "" if g["suppressed"] or g["satisfied"] is None else round(100 * g["satisfied"], 1),
                "" if g["suppressed"] else g["answers"],
                "" if g["suppressed"] else g["asked"],
                "suppressed: small group" if g["suppressed"] else "",
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="performance.csv"'},
    )


def _cell(value: str) -> str:
    """No cell may run as a spreadsheet formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- the annual review -----------------------------------------------------------------------------


@router.get("/review")
def review_page(
    request: Request,
    session: DbSession,
    context: Context,
    signed: SignedInOrNot,
    year: Annotated[int | None, Query(ge=2000, le=2199)] = None,
) -> Response:
    """Public: each published KPI's and commitment's year, with the landlord's and panel's notes."""
    timezone = context.engine.calendar.timezone
    chosen = year or context.now().year
    return render(
        request,
        "review.html",
        signed,
        review=residents.annual_review(session, year=chosen, timezone=timezone),
        year=chosen,
    )


def _note(
    context: Any, signed: SignedIn, *, year: int, subject: str, text: str, role: str
) -> Response:
    try:
        with context.sessions.begin() as session:
            residents.add_review_note(
                session,
                year=year,
                subject=subject,
                author_role=role,
                author=signed.user.name,
                text=text,
                now=context.now(),
            )
    except residents.ResidentsRefused as exc:
        return back_to(f"/review?year={year}", error=exc.reason)
    return back_to(f"/review?year={year}", message="Your note is on the annual review.")


@router.post("/review/panel-notes")
def panel_note_form(
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("panel:ask"))],
    year: Annotated[int, Form(ge=2000, le=2199)] = 2000,
    subject: Annotated[str, Form(max_length=40)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The panel's comment on a KPI's or commitment's year."""
    return _note(context, signed, year=year, subject=subject, text=text, role="panel")


@router.post("/review/landlord-notes")
def landlord_note_form(
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("panel:answer"))],
    year: Annotated[int, Form(ge=2000, le=2199)] = 2000,
    subject: Annotated[str, Form(max_length=40)] = "",
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """The landlord's account of a KPI's or commitment's year."""
    return _note(context, signed, year=year, subject=subject, text=text, role="landlord")
