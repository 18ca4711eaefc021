"""Server-rendered pages (Jinja2, inline SVG charts, local static files) for people who sign in."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.deps import LoginRequired, PageForbidden

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
API_PREFIX = "/api/"

# What a person reads for an HTTP error on a page (programs under /api/ get JSON as before).
ERROR_WORDS: dict[int, tuple[str, str]] = {
    404: (
        "Page not found",
        "There is no page at this address. Check it, or start again from the menu.",
    ),
    405: ("That cannot be done here", "This address does not take that kind of request."),
    422: (
        "That address is not right",
        "Part of the address is not valid (a case number must be a whole number).",
    ),
    500: (
        "Something went wrong",
        "The page could not be shown. Nothing you entered was lost; try again shortly.",
    ),
}


def _page_error(request: Request, code: int, reason: str | None = None) -> Response:
    from api.deps import _signed_in
    from api.pages.render import render

    title, words = ERROR_WORDS.get(code, ERROR_WORDS[500])
    signed = None
    try:
        with request.app.state.context.sessions() as session:
            signed = _signed_in(request, session)
    except Exception:  # the error page must show even when the database does not answer
        signed = None
    return render(
        request,
        "error.html",
        signed,
        status_code=code,
        title=title,
        reason=reason or words,
    )


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error answers to the app."""
    from urllib.parse import quote

    import swagger_ui_bundle

    from api.pages import (
        evidence_pack,
        homes,
        letters,
        oidc,
        oversight,
        repairs_forms,
        reports,
        resident,
        residents,
        signin,
        work,
    )
    from api.pages.render import render

    # Swagger UI's files from the installed package (swagger-ui-bundle-v2), never from a CDN.
    app.mount(
        "/static/swagger-ui",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        signin.router,
        oidc.router,
        work.router,
        letters.router,
        evidence_pack.router,
        homes.router,
        repairs_forms.router,
        oversight.router,
        reports.router,
        resident.router,
        residents.router,
    ):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    def _login_required(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(
            f"/login?next={quote(exc.next_url, safe='/')}", status.HTTP_303_SEE_OTHER
        )

    @app.exception_handler(PageForbidden)
    def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(request, "forbidden.html", exc.signed, status_code=403, reason=exc.reason)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(API_PREFIX) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return _page_error(request, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(API_PREFIX):
            return await request_validation_exception_handler(request, exc)
        if request.method != "GET":
            return _page_error(
                request, 422, "The form was not complete or not valid: go back and try again."
            )
        return _page_error(request, 422)

    @app.exception_handler(Exception)
    async def _crashed(request: Request, _exc: Exception) -> Response:
        if request.url.path.startswith(API_PREFIX):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        return _page_error(request, 500)
