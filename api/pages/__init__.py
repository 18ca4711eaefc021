"""Server-rendered pages (Jinja2, inline SVG charts, local static files) for people who sign in."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.deps import LoginRequired, PageForbidden

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error answers to the app."""
    from urllib.parse import quote

    import swagger_ui_bundle

    from api.pages import oversight, repairs_forms, signin, work
    from api.pages.render import render

    # Swagger UI's files from the installed package (swagger-ui-bundle-v2), never from a CDN.
    app.mount(
        "/static/swagger-ui",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="swagger-ui",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (signin.router, work.router, repairs_forms.router, oversight.router):
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    def _login_required(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(
            f"/login?next={quote(exc.next_url, safe='/')}", status.HTTP_303_SEE_OTHER
        )

    @app.exception_handler(PageForbidden)
    def _forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(request, "forbidden.html", exc.signed, status_code=403, reason=exc.reason)
