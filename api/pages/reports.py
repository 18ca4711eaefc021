"""The staff report form (officers; contact-centre staff are officers): find the home, record
what the tenant said, and open or join the case as ``POST /api/v1/reports`` does.

Photos are checked and stripped of metadata (``compliance.photos``) and kept in the file store;
a form with a mistake comes back with everything typed still in it, and the photos already
accepted are kept (their keys ride along in the form), so nothing is lost but the mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api.deps import AppContext, Context, DbSession, page_action, page_require
from api.pages.render import render, words
from api.session import SignedIn
from compliance import intake, photos, service
from compliance.enums import CHANNELS
from compliance.models import Case
from compliance.schemas import ReportIn
from registry import repository as registry
from registry.files import KEY as FILE_KEY
from registry.files import LocalFileStore

router = APIRouter(include_in_schema=False)


@dataclass
class ReportForm:
    """What the officer typed, kept whole across a mistake."""

    home_id: str = ""
    problem: str = ""
    emergency: str = ""
    channel: str = "phone"
    told_at: str = ""
    reporter: str = "tenant"
    reporter_name: str = ""
    description: str = ""
    kept_photos: list[dict[str, Any]] = field(default_factory=list)


def _local_now(context: AppContext) -> str:
    tz = ZoneInfo(context.engine.calendar.timezone)
    return context.now().astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _home_view(session: DbSession, home_id: str, context: AppContext) -> dict[str, Any] | None:
    home = registry.get_home(session, home_id)
    if home is None:
        return None
    tz = ZoneInfo(context.engine.calendar.timezone)
    tenancy = registry.tenancy_on(session, home_id, context.now().astimezone(tz).date())
    return {"home": home, "tenancy": tenancy}


def _page(
    request: Request,
    signed: SignedIn,
    session: DbSession,
    context: AppContext,
    *,
    q: str = "",
    form: ReportForm,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    results = list(registry.find_homes(session, q, personal=True)) if q and not form.home_id else []
    chosen = _home_view(session, form.home_id, context) if form.home_id else None
    return render(
        request,
        "report_form.html",
        signed,
        status_code=status_code,
        q=q,
        results=results,
        chosen=chosen,
        form=form,
        form_errors=errors or [],
        problems=intake.PROBLEMS,
        prompts=intake.EMERGENCY_PROMPTS,
        channels=intake.CHANNEL_WORDS,
        reporters=intake.REPORTERS,
        max_photos=photos.MAX_PHOTOS,
        max_told_at=_local_now(context),
    )


@router.get("/reports/new")
def report_form(
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_require("cases:write"))],
    q: str = "",
    home: str = "",
) -> Response:
    """Find the home (postcode, address, home id or UPRN), then record the report."""
    form = ReportForm(home_id=home.strip()[:64], told_at=_local_now(context))
    if form.home_id and registry.get_home(session, form.home_id) is None:
        return _page(
            request,
            signed,
            session,
            context,
            q=q,
            form=ReportForm(),
            errors=[f"There is no home {form.home_id}."],
            status_code=404,
        )
    return _page(request, signed, session, context, q=q[:100], form=form)


def store_photos(
    files: LocalFileStore | None, uploads: list[UploadFile], kept: list[str], errors: list[str]
) -> list[dict[str, Any]]:
    """The photos kept from an earlier try and the new ones that pass the checks, stored; each
    refused photo adds its reason to ``errors``."""
    stored: list[dict[str, Any]] = []
    if files is None:
        if any(u.filename for u in uploads):
            errors.append("Photos cannot be kept: no file store is set up (HOMESAFE_FILES_DIR).")
        return stored
    for key in kept:
        if FILE_KEY.match(key) and files.exists(key):
            suffix = key.rsplit(".", 1)[1]
            stored.append(
                {"key": key, "content_type": "image/png" if suffix == "png" else "image/jpeg"}
            )
    for upload in uploads:
        if not upload.filename:
            continue
        if len(stored) >= photos.MAX_PHOTOS:
            errors.append(
                f"Up to {photos.MAX_PHOTOS} photos can be sent; {upload.filename} was not kept."
            )
            continue
        data = upload.file.read(photos.MAX_BYTES + 1)
        try:
            clean = photos.clean(data, name=upload.filename)
        except photos.PhotoRefused as exc:
            errors.append(f"{exc}.")
            continue
        key = files.put(clean.data, suffix=clean.suffix)
        stored.append(
            {
                "key": key,
                "content_type": clean.content_type,
                "width": clean.width,
                "height": clean.height,
            }
        )
    return stored


def clocks_started(case: Case, tz: str) -> str:
    """The running clocks in a sentence: 'the investigate clock runs to Mon 14 Dec, 23:59'."""
    zone = ZoneInfo(tz)
    running = [c for c in case.clocks if c.status == "running"]
    if not running:
        return "no statutory clock runs on it"
    parts = [
        f"the {words(c.kind).lower()} clock runs to {c.due_at.astimezone(zone):%a %d %b %Y, %H:%M}"
        for c in running
    ]
    return "; ".join(parts)


@router.post("/reports/new")
def record_report_form(
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
    home_id: Annotated[str, Form(max_length=64)] = "",
    problem: Annotated[str, Form(max_length=40)] = "",
    emergency: Annotated[str, Form(max_length=3)] = "",
    channel: Annotated[str, Form(max_length=20)] = "",
    told_at: Annotated[str, Form(max_length=40)] = "",
    reporter: Annotated[str, Form(max_length=20)] = "",
    reporter_name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    kept_photo: Annotated[list[str] | None, Form()] = None,
    photo: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Record the report through the same service as the API; show the clock that started."""
    form = ReportForm(
        home_id=home_id.strip(),
        problem=problem,
        emergency=emergency,
        channel=channel,
        told_at=told_at,
        reporter=reporter,
        reporter_name=reporter_name.strip(),
        description=description.strip(),
    )
    errors: list[str] = []
    if registry.get_home(session, form.home_id) is None:
        errors.append("Choose the home first.")
    if form.problem not in intake.PROBLEM_HAZARD:
        errors.append("Choose what the problem is.")
    if form.emergency not in ("yes", "no"):
        errors.append("Say whether it is a potential emergency (yes or no).")
    if form.channel not in CHANNELS:
        errors.append("Choose how the report came to us.")
    if form.reporter not in intake.REPORTERS:
        errors.append("Choose who reported it.")
    told: datetime | None = None
    tz = ZoneInfo(context.engine.calendar.timezone)
    try:
        told = datetime.fromisoformat(form.told_at)
        if told.tzinfo is None:
            told = told.replace(tzinfo=tz)
        if told > context.now():
            errors.append("When the tenant told us cannot be in the future.")
    except ValueError:
        errors.append("Give the date and time the tenant told us.")
    form.kept_photos = store_photos(context.files, photo or [], kept_photo or [], errors)
    if errors or told is None:
        return _page(request, signed, session, context, form=form, errors=errors, status_code=422)
    reference = intake.new_reference()
    try:
        report = ReportIn(
            home_id=form.home_id,
            hazard=intake.PROBLEM_HAZARD[form.problem],
            source=form.reporter,  # type: ignore[arg-type]
            reported_at=told,
            description=form.description,
            emergency=form.emergency == "yes",
        )
        case, created = service.record_report(
            session,
            report=report,
            actor=signed.user.name,
            now=context.now(),
            engine=context.engine,
            details={
                "channel": form.channel,
                "reference": reference,
                "reporter_name": form.reporter_name or None,
                "problem": form.problem,
                "photos": form.kept_photos,
                "recorded_by": signed.user.name,
            },
        )
    except (ValidationError, service.InvalidInput, service.HomeNotFound) as exc:
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        return _page(request, signed, session, context, form=form, errors=[reason], status_code=422)
    opened = "opened" if created else "joined the open case"
    message = (
        f"Report {reference} recorded ({intake.CHANNEL_WORDS[form.channel].lower()}): case "
        f"{case.id} {opened}; {clocks_started(case, context.engine.calendar.timezone)}."
    )
    return RedirectResponse(
        f"/cases/{case.id}?" + urlencode({"message": message}), status.HTTP_303_SEE_OTHER
    )
