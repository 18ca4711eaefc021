"""Residents report without an account, through their home's private link (``/r/{secret}``).

The link is all the form knows: it never shows the address, the tenant, or whether a case is
open, and a link that is unknown or revoked gets the same page as one that never existed. The
acknowledgement carries only a report reference. A report lands as a tenant report with channel
``web``; "is anyone at risk now: yes" records it as a potential emergency, so the 24-hour clock
runs until an officer has looked (the cautious reading).

Rate limits (per API process, in memory): ``LINK_LIMIT`` accepted reports per link and
``CLIENT_LIMIT`` form posts per client address in ``WINDOW_S``. A post over a limit keeps what
was typed and says when to try again.

The form carries no CSRF token: there is no session to ride on, and a forged post would need the
link's secret, which is all the form's authority is.

Officers issue, re-issue and revoke a home's link (``/homes/{home_id}/report-link``); the link
and its QR code are shown once, on a printable card, since only the secret's hash is kept.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile, status
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from api.deps import AppContext, Context, DbSession, RowId, page_action, page_require, public_page
from api.pages.render import TEMPLATES, render
from api.pages.reports import store_photos
from api.session import SignedIn
from compliance import intake, photos, service
from compliance import repository as cases
from compliance.schemas import ReportIn
from registry import repository as registry
from registry import service as registry_service
from registry.files import FileNotStored

router = APIRouter(include_in_schema=False)

WINDOW_S = 3600.0
LINK_LIMIT = 5
CLIENT_LIMIT = 20
ROOMS = (
    ("living", "Living room"),
    ("bedroom", "Bedroom"),
    ("kitchen", "Kitchen"),
    ("bathroom", "Bathroom or toilet"),
    ("hall", "Hall or stairs"),
    ("outside", "Outside, or a shared area"),
    ("other", "Somewhere else"),
)
LANGUAGES = (("en", "English"), ("cy", "Cymraeg (Welsh)"), ("pl", "Polski (Polish)"))


class RateLimiter:
    """Sliding windows per key: ``allow(key, limit)`` counts a use if under the limit."""

    def __init__(self, window_s: float = WINDOW_S, clock: Any = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._uses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        uses = self._uses.setdefault(key, deque())
        while uses and uses[0] <= now - self.window_s:
            uses.popleft()
        return uses

    def allowed(self, key: str, limit: int) -> bool:
        with self._lock:
            return len(self._recent(key)) < limit

    def count(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self.clock())


def _limiter(context: AppContext) -> RateLimiter:
    if context.limiter is None:
        context.limiter = RateLimiter()
    limiter: RateLimiter = context.limiter
    return limiter


@dataclass
class ResidentForm:
    problem: str = ""
    room: str = ""
    where: str = ""
    what: str = ""
    at_risk: str = ""
    contact: str = ""
    email: str = ""
    phone: str = ""
    language: str = "en"
    name: str = ""
    kept_photos: list[dict[str, Any]] | None = None


def _resident(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> Response:
    landlord = request.app.state.context.engine.landlord
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"landlord": landlord, **context},
        status_code=status_code,
        # The link's secret is in the address: never stored in caches. The referrer policy stays
        # the site's `same-origin` (the secret reaches no other site); `no-referrer` makes Chromium
        # send `Origin: null` on the form's post, which the same-origin check rightly refuses.
        headers={"Cache-Control": "no-store"},
    )


def _form_page(
    request: Request,
    secret: str,
    form: ResidentForm,
    *,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return _resident(
        request,
        "resident_form.html",
        status_code=status_code,
        secret=secret,
        form=form,
        form_errors=errors or [],
        problems=intake.PROBLEMS,
        rooms=ROOMS,
        languages=LANGUAGES,
        max_photos=photos.MAX_PHOTOS,
    )


def _gone(request: Request) -> Response:
    return _resident(request, "resident_gone.html", status_code=404)


@router.get("/r/{secret}", dependencies=[Depends(public_page)])
def resident_form(secret: str, request: Request, session: DbSession) -> Response:
    """The short reporting form, or a page saying the link does not work."""
    if registry_service.home_for_report_link(session, secret) is None:
        return _gone(request)
    return _form_page(request, secret, ResidentForm())


@router.post("/r/{secret}", dependencies=[Depends(public_page)])
def resident_report(
    secret: str,
    request: Request,
    session: DbSession,
    context: Context,
    problem: Annotated[str, Form(max_length=40)] = "",
    room: Annotated[str, Form(max_length=20)] = "",
    where: Annotated[str, Form(max_length=200)] = "",
    what: Annotated[str, Form(max_length=5000)] = "",
    at_risk: Annotated[str, Form(max_length=3)] = "",
    contact: Annotated[str, Form(max_length=10)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    language: Annotated[str, Form(max_length=8)] = "en",
    name: Annotated[str, Form(max_length=200)] = "",
    kept_photo: Annotated[list[str] | None, Form()] = None,
    photo: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Record the report as the tenant's, by the web; acknowledge it with a reference only."""
    home_id = registry_service.home_for_report_link(session, secret)
    if home_id is None:
        return _gone(request)
    form = ResidentForm(
        problem=problem,
        room=room,
        where=where.strip(),
        what=what.strip(),
        at_risk=at_risk,
        contact=contact,
        email=email.strip(),
        phone=phone.strip(),
        language=language if language in dict(LANGUAGES) else "en",
        name=name.strip(),
    )
    limiter = _limiter(context)
    client = f"client:{request.client.host if request.client else 'unknown'}"
    link = f"link:{secret}"
    if not limiter.allowed(client, CLIENT_LIMIT) or not limiter.allowed(link, LINK_LIMIT):
        return _form_page(
            request,
            secret,
            form,
            errors=[
                "Too many reports have been sent from here in the last hour. Please try again "
                "later, or phone us. What you typed is still here."
            ],
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
    limiter.count(client)
    errors: list[str] = []
    if form.problem not in intake.PROBLEM_HAZARD:
        errors.append("Choose what the problem is.")
    if form.room not in dict(ROOMS):
        errors.append("Choose where in the home it is.")
    if form.at_risk not in ("yes", "no"):
        errors.append("Tell us whether anyone is at risk now (yes or no).")
    if form.contact == "email" and "@" not in form.email:
        errors.append("Give an email address we can reply to, or choose another way.")
    if form.contact == "phone" and sum(ch.isdigit() for ch in form.phone) < 10:
        errors.append("Give a phone number we can reach you on (at least 10 digits).")
    if form.contact not in ("email", "phone", "none"):
        errors.append("Choose how we should contact you.")
    form.kept_photos = store_photos(context.files, photo or [], kept_photo or [], errors)
    if errors:
        return _form_page(request, secret, form, errors=errors, status_code=422)
    reference = intake.new_reference()
    where_words = dict(ROOMS)[form.room] + (f" ({form.where})" if form.where else "")
    description = f"{where_words}: {form.what or 'no details given'}"
    contact_detail: dict[str, Any] = {"language": form.language}
    if form.contact == "email":
        contact_detail["email"] = form.email
    elif form.contact == "phone":
        contact_detail["phone"] = form.phone
    now = context.now()
    service.record_report(
        session,
        report=ReportIn(
            home_id=home_id,
            hazard=intake.PROBLEM_HAZARD[form.problem],
            source="tenant",
            reported_at=now,
            description=description,
            emergency=form.at_risk == "yes",
        ),
        actor="resident-link",
        now=now,
        engine=context.engine,
        details={
            "channel": "web",
            "reference": reference,
            "problem": form.problem,
            "room": form.room,
            "at_risk": form.at_risk == "yes",
            "reporter_name": form.name or None,
            "contact": contact_detail,
            "photos": form.kept_photos,
        },
    )
    limiter.count(link)
    return _resident(
        request,
        "resident_thanks.html",
        reference=reference,
        at_risk=form.at_risk == "yes",
        contact=form.contact,
        language=form.language,
    )


# --- officers: the home's link and its card -------------------------------------------------------


def _qr_svg(url: str) -> Markup:
    svg = segno.make(url, error="m").svg_inline(scale=5, svgclass="qr", lineclass=None)
    return Markup(
        svg.replace("<svg ", '<svg role="img" aria-label="QR code: the reporting link" ', 1)
    )


@router.get("/homes/{home_id}/report-link")
def report_link_page(
    home_id: str,
    request: Request,
    session: DbSession,
    signed: Annotated[SignedIn, Depends(page_require("cases:write"))],
    message: str | None = None,
) -> Response:
    """Whether the home has a reporting link in use; issue a new one or stop it."""
    home = registry.get_home(session, home_id)
    if home is None:
        return render(
            request,
            "not_found.html",
            signed,
            status_code=404,
            reason=f"There is no home {home_id}.",
        )
    return render(
        request,
        "report_link.html",
        signed,
        home=home,
        link=registry.live_report_link(session, home_id),
        message=message,
    )


@router.post("/homes/{home_id}/report-link")
def issue_report_link(
    home_id: str,
    request: Request,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
) -> Response:
    """A new link (the old one stops working), shown once on a printable card with its QR code."""
    home = registry.get_home(session, home_id)
    if home is None:
        return render(
            request,
            "not_found.html",
            signed,
            status_code=404,
            reason=f"There is no home {home_id}.",
        )
    secret = registry_service.issue_report_link(
        session, home_id=home_id, actor=signed.user.name, now=context.now()
    )
    url = f"{context.channels.public_url.rstrip('/')}/r/{secret}"
    response = render(request, "report_link_card.html", signed, home=home, url=url, qr=_qr_svg(url))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/homes/{home_id}/report-link/revoke")
def revoke_report_link(
    home_id: str,
    session: DbSession,
    context: Context,
    signed: Annotated[SignedIn, Depends(page_action("cases:write"))],
) -> Response:
    """Stop the home's link: it shows the 'does not work' page from now on."""
    stopped = registry_service.revoke_report_link(
        session, home_id=home_id, actor=signed.user.name, now=context.now()
    )
    message = "The reporting link was stopped." if stopped else "The home had no link in use."
    return RedirectResponse(
        f"/homes/{home_id}/report-link?" + urlencode({"message": message}),
        status.HTTP_303_SEE_OTHER,
    )


# --- evidence photos and the written summary from the case page -----------------------------------


def case_photos(case: Any) -> list[dict[str, Any]]:
    """The photos on the case's evidence, each with when it came."""
    found = []
    for evidence in case.evidence:
        for item in (evidence.figures or {}).get("photos") or []:
            found.append({**item, "recorded_at": evidence.recorded_at})
    return found


@router.get("/cases/{case_id}/photos/{key}")
def case_photo(
    case_id: RowId,
    key: str,
    session: DbSession,
    context: Context,
    _signed: Annotated[SignedIn, Depends(page_require("cases:personal"))],
) -> Response:
    """A photo of the case's evidence, to those allowed to see reports (cases:personal)."""
    case = cases.get_case(session, case_id)
    item = next((p for p in case_photos(case) if p["key"] == key), None) if case else None
    if item is None or context.files is None:
        return Response("no such photo", status_code=404, media_type="text/plain")
    try:
        data = context.files.get(key)
    except FileNotStored:
        return Response("the photo is missing from the file store", status_code=404)
    return Response(
        data,
        media_type=item.get("content_type", "image/jpeg"),
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
