"""Residents' scrutiny use cases: deep dives asked and answered on the record, resident-defined
KPIs proposed, published and explained, milestone surveys sent and answered, and the figures of
the public performance page and the annual review. Services take keyword-only arguments, append
to the audit log where a decision is made, and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from compliance import audit, events
from equity import repository as equity_repository
from equity.analysis import MIN_GROUP
from equity.residents import repository
from equity.residents.enums import MILESTONES
from equity.residents.figures import (
    KPI_MIN,
    KpiInputs,
    Response,
    kpi_measure,
    satisfaction_table,
    verdict,
)
from equity.residents.models import (
    DeepDiveRequest,
    KpiPeriod,
    ResidentKpi,
    ReviewNote,
    SurveyInvitation,
)
from equity.residents.scrutiny import (
    MIN_CELL,
    OUTCOME_KEYS,
    CaseJourney,
    CaseSet,
    ClockFacts,
    DeepDive,
    JobJourney,
    area_of,
    deep_dive,
    next_quarter,
    quarter_of,
    quarter_start,
)
from repairs import service as repairs_service
from repairs.performance import Share

SURVEY_LOOK_BACK = timedelta(days=14)
SURVEY_LIFETIME = timedelta(days=30)
SURVEY_EVENT = "survey.requested"  # never a webhook event type: the link is the household's own


class ResidentsRefused(Exception):
    """The step cannot be taken; the reason is for the person who asked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(LookupError):
    """No such request, KPI or survey."""


def _audit(
    session: Session,
    *,
    action: str,
    entity: str,
    entity_id: int,
    actor: str,
    now: datetime,
    **after: Any,
) -> None:
    audit.append(
        session,
        at=now,
        actor=actor,
        action=action,
        entity_type=entity,
        entity_id=entity_id,
        after=after,
    )


# --- deep dives ------------------------------------------------------------------------------------


def journeys(session: Session, *, timezone: str) -> list[CaseJourney]:
    """Every case as a deep dive knows it (nothing personal is read)."""
    steps: dict[int, list[tuple[str, datetime]]] = {}
    for case_id, kind, at in repository.case_events(session):
        steps.setdefault(case_id, []).append((kind, at))
    clock_rows: dict[int, list[ClockFacts]] = {}
    for case_id, kind, started, due, met, status in repository.clocks(session):
        clock_rows.setdefault(case_id, []).append(ClockFacts(kind, started, due, met, status))
    outcomes: dict[int, list[str]] = {}
    for work_order_id, outcome in repository.visits(session):
        outcomes.setdefault(work_order_id, []).append(outcome)
    jobs: dict[int, list[JobJourney]] = {}
    for order in repository.work_orders(session):
        jobs.setdefault(order.case_id, []).append(
            JobJourney(
                priority=order.priority,
                reported_at=order.reported_at,
                dispatched_at=order.dispatched_at,
                completed_at=order.completed_at,
                target_at=order.target_at,
                visit_outcomes=tuple(outcomes.get(order.id, ())),
                recurred=order.verification == "recurred",
            )
        )
    ratings: dict[int, list[int]] = {}
    for invitation in repository.invitations(session):
        if invitation.rating is not None:
            ratings.setdefault(invitation.case_id, []).append(invitation.rating)
    return [
        CaseJourney(
            case_id=case_id,
            hazard=hazard,
            area=area_of(postcode),
            quarter=quarter_of(aware_at, timezone),
            category=category,
            aware_at=aware_at,
            closed_at=closed_at,
            steps=tuple(steps.get(case_id, ())),
            clocks=tuple(clock_rows.get(case_id, ())),
            jobs=tuple(jobs.get(case_id, ())),
            ratings=tuple(ratings.get(case_id, ())),
        )
        for case_id, hazard, category, aware_at, closed_at, _source, postcode in (
            repository.cases_with_homes(session)
        )
    ]


def check_case_set(case_set: CaseSet) -> CaseSet:
    """The case set, or ResidentsRefused saying what is wrong with it."""
    try:
        first, last = quarter_start(case_set.quarter_from), quarter_start(case_set.quarter_to)
    except ValueError as exc:
        raise ResidentsRefused(str(exc)) from exc
    if last < first:
        raise ResidentsRefused("the last quarter is before the first")
    if case_set.outcome not in OUTCOME_KEYS:
        raise ResidentsRefused(f"the outcome must be one of {', '.join(OUTCOME_KEYS)}")
    return case_set


def ask_deep_dive(
    session: Session, *, case_set: CaseSet, question: str, asked_by: str, now: datetime
) -> DeepDiveRequest:
    """The panel asks about a case set it chose; the landlord answers on the record."""
    check_case_set(case_set)
    if not question.strip():
        raise ResidentsRefused("say what the panel wants to know about these cases")
    request = DeepDiveRequest(
        asked_by=asked_by,
        asked_at=now,
        hazard=case_set.hazard,
        area=case_set.area,
        quarter_from=case_set.quarter_from,
        quarter_to=case_set.quarter_to,
        outcome=case_set.outcome,
        question=question.strip(),
    )
    session.add(request)
    session.flush()
    _audit(
        session,
        action="deep_dive.asked",
        entity="deep_dive_request",
        entity_id=request.id,
        actor=asked_by,
        now=now,
        case_set=asdict(case_set),
        question=request.question,
    )
    return request


def answer_deep_dive(
    session: Session, *, request_id: int, answer: str, actor: str, now: datetime
) -> DeepDiveRequest:
    """The landlord's answer, once, on the record (the audit log keeps its words)."""
    request = repository.deep_dive_request(session, request_id)
    if request is None:
        raise NotFound(f"no deep-dive request {request_id}")
    if request.answered_at is not None:
        raise ResidentsRefused("this request is answered already: its answer is on the record")
    if not answer.strip():
        raise ResidentsRefused("write the answer")
    request.answer, request.answered_by, request.answered_at = answer.strip(), actor, now
    session.flush()
    _audit(
        session,
        action="deep_dive.answered",
        entity="deep_dive_request",
        entity_id=request.id,
        actor=actor,
        now=now,
        answer=request.answer,
    )
    return request


def case_set_of(request: DeepDiveRequest) -> CaseSet:
    return CaseSet(
        request.hazard, request.area, request.quarter_from, request.quarter_to, request.outcome
    )


def run_deep_dive(
    session: Session, *, case_set: CaseSet, timezone: str, now: datetime, min_cell: int = MIN_CELL
) -> DeepDive:
    return deep_dive(
        journeys(session, timezone=timezone), check_case_set(case_set), now=now, min_cell=min_cell
    )


def areas_and_quarters(session: Session, *, timezone: str) -> tuple[list[str], list[str]]:
    """The areas (postcode districts) and quarters a deep dive may choose from."""
    found = journeys(session, timezone=timezone)
    return sorted({j.area for j in found}), sorted({j.quarter for j in found})


# --- resident-defined KPIs -------------------------------------------------------------------------


def propose_kpi(
    session: Session,
    *,
    name: str,
    measure: str,
    target_pct: float,
    why: str,
    proposed_by: str,
    now: datetime,
) -> ResidentKpi:
    """The panel proposes a KPI on one of the measures Homesafe holds."""
    name = name.strip()
    try:
        kpi_measure(measure)
    except ValueError as exc:
        raise ResidentsRefused(str(exc)) from exc
    if not name or len(name) > 100:
        raise ResidentsRefused("a KPI needs a name of 1 to 100 characters")
    if not 0 <= target_pct <= 100:
        raise ResidentsRefused("the target is a percentage from 0 to 100")
    if repository.kpi_named(session, name) is not None:
        raise ResidentsRefused(f"there is a KPI called {name!r} already")
    row = ResidentKpi(
        name=name,
        measure=measure,
        target_pct=target_pct,
        why=why.strip(),
        state="proposed",
        proposed_by=proposed_by,
        proposed_at=now,
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        action="kpi.proposed",
        entity="resident_kpi",
        entity_id=row.id,
        actor=proposed_by,
        now=now,
        name=name,
        measure=measure,
        target_pct=target_pct,
    )
    return row


def decide_kpi(
    session: Session, *, kpi_id: int, publish: bool, actor: str, now: datetime
) -> ResidentKpi:
    """The landlord publishes a proposed KPI (or declines it, on the record)."""
    row = repository.kpi(session, kpi_id)
    if row is None:
        raise NotFound(f"no KPI {kpi_id}")
    if row.state != "proposed":
        raise ResidentsRefused(f"this KPI is {row.state} already")
    row.state = "published" if publish else "declined"
    row.decided_by, row.decided_at = actor, now
    session.flush()
    _audit(
        session,
        action=f"kpi.{row.state}",
        entity="resident_kpi",
        entity_id=row.id,
        actor=actor,
        now=now,
        name=row.name,
    )
    return row


def _bounds(quarter: str, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    return (
        datetime.combine(quarter_start(quarter), time(0), tzinfo=zone),
        datetime.combine(quarter_start(next_quarter(quarter)), time(0), tzinfo=zone),
    )


def responses(session: Session) -> list[Response]:
    return [
        Response(
            milestone=invitation.milestone,
            created_at=invitation.created_at,
            answered_at=invitation.answered_at,
            rating=invitation.rating,
            contractor=contractor,
            channel=source,
            groups={
                "ethnicity": ethnicity or "",
                "disability": disability or "",
                "age_band": age_band or "",
            },
        )
        for invitation, contractor, source, _operative, ethnicity, disability, age_band in (
            repository.responses_with_groups(session)
        )
    ]


def _inputs(session: Session) -> KpiInputs:
    return KpiInputs(jobs=repairs_service.all_job_facts(session), responses=responses(session))


def kpi_figure(
    session: Session,
    *,
    kpi: ResidentKpi,
    quarter: str,
    timezone: str,
    inputs: KpiInputs | None = None,
) -> tuple[Share, bool | None]:
    """The KPI's share in the quarter, and whether it met the target (None: too few to judge)."""
    measure = kpi_measure(kpi.measure)
    start, end = _bounds(quarter, timezone)
    share = measure.share(inputs or _inputs(session), start, end)
    return share, verdict(
        share, target_pct=kpi.target_pct, higher_is_better=measure.higher_is_better
    )


def publish_kpi_period(
    session: Session,
    *,
    kpi_id: int,
    quarter: str,
    explanation: str | None,
    actor: str,
    now: datetime,
    timezone: str,
) -> KpiPeriod:
    """Publish a KPI's quarter; refused while a missed target has no written explanation."""
    row = repository.kpi(session, kpi_id)
    if row is None:
        raise NotFound(f"no KPI {kpi_id}")
    if row.state != "published":
        raise ResidentsRefused("only a published KPI has quarters to publish")
    try:
        _, end = _bounds(quarter, timezone)
    except ValueError as exc:
        raise ResidentsRefused(str(exc)) from exc
    if end > now:
        raise ResidentsRefused(f"{quarter} has not ended yet")
    if repository.kpi_period(session, kpi_id, quarter) is not None:
        raise ResidentsRefused(f"{quarter} is published already")
    share, met = kpi_figure(session, kpi=row, quarter=quarter, timezone=timezone)
    words = (explanation or "").strip()
    if met is False and not words:
        raise ResidentsRefused(
            f"{row.name} missed its target in {quarter}: write the explanation residents will "
            "read before the quarter is published"
        )
    period = KpiPeriod(
        kpi_id=row.id,
        quarter=quarter,
        numerator=share.numerator,
        denominator=share.denominator,
        met=met,
        explanation=words or None,
        published_by=actor,
        published_at=now,
    )
    session.add(period)
    session.flush()
    _audit(
        session,
        action="kpi.period_published",
        entity="resident_kpi",
        entity_id=row.id,
        actor=actor,
        now=now,
        quarter=quarter,
        numerator=share.numerator,
        denominator=share.denominator,
        met=met,
        explanation=period.explanation,
    )
    return period


def _period_out(period: KpiPeriod) -> dict[str, Any]:
    enough = period.denominator >= KPI_MIN
    return {
        "quarter": period.quarter,
        "sample_size": period.denominator,
        "value_pct": round(100 * period.numerator / period.denominator, 1) if enough else None,
        "met_target": period.met,
        "explanation": period.explanation,
        "published_at": period.published_at,
    }


def kpi_board(session: Session) -> list[dict[str, Any]]:
    """Every published KPI with its published quarters (trend), sample sizes and explanations."""
    out = []
    for row in repository.kpis(session, state="published"):
        measure = kpi_measure(row.measure)
        periods = [_period_out(p) for p in repository.kpi_periods(session, row.id)]
        out.append(
            {
                "id": row.id,
                "name": row.name,
                "measure": row.measure,
                "measure_words": measure.words,
                "higher_is_better": measure.higher_is_better,
                "target_pct": row.target_pct,
                "why": row.why,
                "proposed_by_panel": True,
                "periods": periods,
                "latest": periods[-1] if periods else None,
            }
        )
    return out


def kpi_drafts(session: Session, *, timezone: str, now: datetime) -> list[dict[str, Any]]:
    """For the landlord: each published KPI's quarters not yet published that have ended (the
    last four), with the figure that would be published and whether an explanation is needed."""
    inputs = _inputs(session)
    current = quarter_of(now, timezone)
    ended = []
    label = current
    for _ in range(4):
        start = quarter_start(label)
        previous = (
            date(start.year - 1, 10, 1)
            if start.month == 1
            else date(start.year, start.month - 3, 1)
        )
        label = f"{previous.year}-Q{(previous.month - 1) // 3 + 1}"
        ended.append(label)
    out = []
    for row in repository.kpis(session, state="published"):
        published = {p.quarter for p in repository.kpi_periods(session, row.id)}
        for quarter in sorted(ended):
            if quarter in published:
                continue
            share, met = kpi_figure(
                session, kpi=row, quarter=quarter, timezone=timezone, inputs=inputs
            )
            out.append(
                {
                    "kpi_id": row.id,
                    "name": row.name,
                    "quarter": quarter,
                    "sample_size": share.denominator,
                    "value_pct": round(100 * share.rate, 1)
                    if share.rate is not None and share.denominator >= KPI_MIN
                    else None,
                    "target_pct": row.target_pct,
                    "met_target": met,
                    "needs_explanation": met is False,
                }
            )
    return out


# --- milestone surveys -----------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


FLAT_WORDS = ("flat", "apartment", "apt", "unit", "maisonette", "room")


def block_of(address: str | None) -> str | None:
    """The block a flat is in: its address without the flat's own part ('Flat 3, Mill Court,
    Leeds' → 'mill court, leeds'); None for a home whose address does not start with a flat."""
    parts = [p.strip().lower() for p in (address or "").split(",") if p.strip()]
    if len(parts) < 2 or not parts[0].startswith(FLAT_WORDS):
        return None
    return ", ".join(parts[1:])


def _invite(
    session: Session, *, order: Any, home_id: str, milestone: str, now: datetime
) -> SurveyInvitation:
    token = secrets.token_urlsafe(24)
    invitation = SurveyInvitation(
        token_hash=_hash(token),
        work_order_id=order.id,
        case_id=order.case_id,
        home_id=home_id,
        milestone=milestone,
        created_at=now,
        expires_at=now + SURVEY_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    if events.enabled(session):
        events.record(
            session,
            type=SURVEY_EVENT,
            at=now,
            data={"home_id": home_id, "hazard": order.hazard},
            detail={"step": "survey", "milestone": milestone, "survey_token": token},
            case_id=order.case_id if milestone != "block" else None,
            work_order_id=order.id,
        )
    return invitation


def invite_surveys(session: Session, *, now: datetime) -> int:
    """Ask each household once per milestone: at dispatch and at completion the household whose
    repair it is; after communal work, the block's other households. Returns how many were asked."""
    asked = 0
    since = now - SURVEY_LOOK_BACK
    homes: list[Any] | None = None
    for order in repository.orders_needing_surveys(session, since=since):
        for milestone, at in (
            ("dispatch", order.dispatched_at),
            ("completion", order.completed_at),
        ):
            if at is None or at < since:
                continue
            if order.home_id in repository.invited_homes(
                session, work_order_id=order.id, milestone=milestone
            ):
                continue
            _invite(session, order=order, home_id=order.home_id, milestone=milestone, now=now)
            asked += 1
        if order.communal and order.completed_at is not None and order.completed_at >= since:
            homes = homes if homes is not None else repository.homes_with_addresses(session)
            own = repository.home_of(session, order.home_id)
            block = block_of(own.address) if own else None
            if block is None:
                continue
            done = repository.invited_homes(session, work_order_id=order.id, milestone="block")
            for home_id, address, _postcode in homes:
                if home_id == order.home_id or home_id in done:
                    continue
                if block_of(address) == block:
                    _invite(session, order=order, home_id=home_id, milestone="block", now=now)
                    asked += 1
    return asked


def survey_for(session: Session, *, token: str) -> SurveyInvitation | None:
    """The invitation a link is for (None for any link we did not make)."""
    if not token or len(token) > 100:
        return None
    return repository.invitation_by_hash(session, _hash(token))


def survey_state(invitation: SurveyInvitation | None, now: datetime) -> str:
    """open | answered | expired | unknown."""
    if invitation is None:
        return "unknown"
    if invitation.answered_at is not None:
        return "answered"
    if invitation.expires_at <= now:
        return "expired"
    return "open"


def answer_survey(
    session: Session,
    *,
    token: str,
    rating: int,
    operative_rating: int | None,
    comment: str | None,
    now: datetime,
) -> SurveyInvitation:
    """The household's answer, once; the completion answer is also the work order's satisfaction."""
    invitation = survey_for(session, token=token)
    state = survey_state(invitation, now)
    if invitation is None or state != "open":
        raise ResidentsRefused(
            {
                "answered": "this survey has been answered already: thank you",
                "expired": "this survey has closed",
            }.get(state, "this link is not one of ours")
        )
    if not 1 <= rating <= 5 or (operative_rating is not None and not 1 <= operative_rating <= 5):
        raise ResidentsRefused("choose an answer from 1 to 5")
    invitation.rating = rating
    invitation.operative_rating = operative_rating if invitation.milestone != "block" else None
    invitation.comment = (comment or "").strip()[:2000] or None
    invitation.answered_at = now
    session.flush()
    if invitation.milestone == "completion":
        repairs_service.record_satisfaction(
            session,
            work_order_id=invitation.work_order_id,
            score=rating,
            at=now,
            actor="resident survey",
            now=now,
        )
    return invitation


def satisfaction(session: Session, *, min_group: int = MIN_GROUP) -> dict[str, Any]:
    """Satisfaction with response rates, overall and split (suppressed): for the panel and the public."""
    return satisfaction_table(responses(session), min_group=min_group)


def operative_feedback(session: Session, *, min_cell: int = MIN_CELL) -> list[dict[str, Any]]:
    """Per operative (for staff and the panel, never the public): households asked, answers, and
    the mean rating of the person who came, shown when at least ``min_cell`` answered."""
    tally: dict[str, list[Any]] = {}
    for invitation, _contractor, _source, operative, *_ in repository.responses_with_groups(
        session
    ):
        if invitation.milestone == "block":
            continue
        entry = tally.setdefault(operative or "not recorded", [0, []])
        entry[0] += 1
        if invitation.operative_rating is not None:
            entry[1].append(invitation.operative_rating)
    return [
        {
            "operative": name,
            "asked": asked,
            "answers": len(ratings),
            "mean_rating": round(statistics.fmean(ratings), 1)
            if len(ratings) >= min_cell
            else None,
        }
        for name, (asked, ratings) in sorted(tally.items())
    ]


def feedback_comments(session: Session, *, limit: int = 200) -> list[SurveyInvitation]:
    """Answers with their free text, newest first (staff who act on it: feedback:read)."""
    answered = [i for i in repository.invitations(session) if i.answered_at is not None]
    return sorted(answered, key=lambda i: i.answered_at or i.created_at, reverse=True)[:limit]


# --- the annual review -----------------------------------------------------------------------------


def add_review_note(
    session: Session,
    *,
    year: int,
    subject: str,
    author_role: str,
    author: str,
    text: str,
    now: datetime,
) -> ReviewNote:
    """The landlord's account of a KPI's or commitment's year, or the panel's comment on it."""
    kind, _, ident = subject.partition(":")
    if kind not in ("kpi", "commitment") or not ident.isdigit():
        raise ResidentsRefused("a note is about a KPI or a commitment")
    if not text.strip():
        raise ResidentsRefused("write the note")
    if not 2000 <= year <= 2199:
        raise ResidentsRefused("the year must be between 2000 and 2199")
    note = ReviewNote(
        year=year,
        subject=subject,
        author_role=author_role,
        author=author,
        text=text.strip()[:4000],
        written_at=now,
    )
    session.add(note)
    session.flush()
    _audit(
        session,
        action=f"review.{author_role}_note",
        entity="review_note",
        entity_id=note.id,
        actor=author,
        now=now,
        year=year,
        subject=subject,
    )
    return note


def annual_review(session: Session, *, year: int, timezone: str) -> dict[str, Any]:
    """For each published KPI and each commitment ("you said, we did") of the year: the year's
    progress and the landlord's and panel's notes."""
    notes: dict[str, list[ReviewNote]] = {}
    for note in repository.review_notes(session, year=year):
        notes.setdefault(note.subject, []).append(note)
    kpis = []
    for board in kpi_board(session):
        periods = [p for p in board["periods"] if p["quarter"].startswith(f"{year}-")]
        kpis.append({**board, "periods": periods, "notes": notes.get(f"kpi:{board['id']}", [])})
    zone = ZoneInfo(timezone)
    commitments = [
        {
            "id": entry.id,
            "you_said": entry.you_said,
            "we_did": entry.we_did,
            "published_at": entry.published_at,
            "notes": notes.get(f"commitment:{entry.id}", []),
        }
        for entry in equity_repository.you_said_we_did(session, limit=500)
        if entry.published_at.astimezone(zone).year == year
    ]
    return {"year": year, "kpis": kpis, "commitments": commitments}


def milestones() -> Sequence[str]:
    return MILESTONES


# --- reading, for the pages ------------------------------------------------------------------------


def deep_dive_requests(session: Session) -> Sequence[DeepDiveRequest]:
    """Every request, newest first."""
    return repository.deep_dive_requests(session)


def deep_dive_request(session: Session, *, request_id: int) -> DeepDiveRequest | None:
    return repository.deep_dive_request(session, request_id)


def proposed_kpis(session: Session) -> Sequence[ResidentKpi]:
    """KPIs the panel proposed that the landlord has not decided on."""
    return repository.kpis(session, state="proposed")
