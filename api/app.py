"""The FastAPI application: JSON under /api/v1."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy import text

from api import errors, pages
from api.deps import AppContext, Context, public
from api.pages.flash import FlashNotices
from api.routers import (
    audit,
    cases,
    compliance,
    equity,
    evidence,
    gateways,
    interop,
    notifications,
    repairs,
    telemetry,
)
from api.security import BodyLimit, SameOriginForms, SecurityHeaders

API_PREFIX = "/api/v1"


def create_app(context: AppContext) -> FastAPI:
    """The API over the given services (the composition root builds them)."""
    # One schema per model: output models' catch-all serialisers (times as RFC 3339) would otherwise
    # erase every field's type from the OpenAPI document.
    app = FastAPI(
        title="Homesafe",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        separate_input_output_schemas=False,
        # /docs is a page of ours (signed in, Swagger UI served from the installed package, no
        # CDN, no inline script); ReDoc, which loads from a CDN, is off.
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(FlashNotices)
    app.add_middleware(SameOriginForms)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)  # outermost: the 413 carries the headers too
    app.state.context = context
    errors.install(app)

    @app.get(f"{API_PREFIX}/health", tags=["health"], dependencies=[Depends(public)])
    def health(context: Context) -> dict[str, Any]:
        """Liveness and the reachability of the two stores; needs no token."""
        try:
            with context.sessions() as session:
                session.execute(text("SELECT 1"))
            database = "ok"
        except Exception as exc:
            database = f"unreachable: {type(exc).__name__}"
        telemetry_ok = context.telemetry.ping()
        return {
            "status": "ok" if database == "ok" and telemetry_ok else "degraded",
            "database": database,
            "telemetry": "ok" if telemetry_ok else "unreachable",
        }

    for router in (
        cases.router,
        telemetry.router,
        audit.router,
        compliance.router,
        repairs.router,
        equity.router,
        gateways.router,
        evidence.router,
        notifications.router,
        interop.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    pages.install(app)
    return app
