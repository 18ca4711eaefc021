"""Service errors mapped to HTTP answers in one place, so routes only parse and call."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from compliance.lifecycle import EventRefused
from compliance.service import CaseNotFound, HomeNotFound, InvalidInput
from interop.service import InteropRefused, ReferenceNotFound
from notify.service import DeliveryNotFound, SubscriptionNotFound, SummaryRefused
from notify.webhooks import TargetRefused
from repairs.performance import BadCondition
from repairs.service import ContractorNotFound, RepairRefused, WorkOrderNotFound

STATUS_FOR: dict[type[Exception], int] = {
    CaseNotFound: status.HTTP_404_NOT_FOUND,
    HomeNotFound: status.HTTP_404_NOT_FOUND,
    WorkOrderNotFound: status.HTTP_404_NOT_FOUND,
    ContractorNotFound: status.HTTP_404_NOT_FOUND,
    EventRefused: status.HTTP_409_CONFLICT,  # the case's state does not allow it; say why
    RepairRefused: status.HTTP_409_CONFLICT,
    BadCondition: status.HTTP_422_UNPROCESSABLE_CONTENT,
    # A last line behind the edges' range checks (registry.clock.plausible): date arithmetic past
    # the calendar's ends is bad input, never a 500.
    OverflowError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidInput: status.HTTP_422_UNPROCESSABLE_CONTENT,  # can never be right (a future time)
    SubscriptionNotFound: status.HTTP_404_NOT_FOUND,
    DeliveryNotFound: status.HTTP_404_NOT_FOUND,
    SummaryRefused: status.HTTP_409_CONFLICT,
    TargetRefused: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InteropRefused: status.HTTP_422_UNPROCESSABLE_CONTENT,
    ReferenceNotFound: status.HTTP_404_NOT_FOUND,
}


def _reason(exc: Exception) -> str:
    if isinstance(exc, OverflowError):
        return "a date or number is out of range"
    return str(getattr(exc, "reason", None) or exc)


def install(app: FastAPI) -> None:
    """Answer each service error with its status and `{"detail": reason}`, as HTTPException would."""
    for error, code in STATUS_FOR.items():

        async def handler(_request: Request, exc: Exception, code: int = code) -> JSONResponse:
            return JSONResponse({"detail": _reason(exc)}, status_code=code)

        app.add_exception_handler(error, handler)
