"""Webhooks (contract section 5), a case's messages, and sending the written summary."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_serializer

from api.deps import Context, DbSession, RowId, require
from api.models import User
from api.notify_actions import send_summary
from compliance import repository as cases
from compliance.events import EVENT_TYPES
from notify import repository, service
from notify.models import Message, WebhookSubscription
from notify.worker import webhook_id
from registry.clock import to_rfc3339

router = APIRouter(tags=["notifications"])


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @field_serializer("*", when_used="json")
    def _times(self, value: Any) -> Any:
        return to_rfc3339(value) if isinstance(value, datetime) else value


class WebhookIn(BaseModel):
    """A subscription: where to POST, which events, and whether personal fields go too."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    events: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES))
    description: str | None = Field(default=None, max_length=500)
    personal: bool = Field(
        default=False,
        description="tenants' names, contacts and addresses in the events' data (default no)",
    )


class WebhookOut(_Out):
    id: int
    url: str
    events: list[str]
    description: str | None
    personal: bool
    created_at: datetime
    created_by: str


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_…: shown once; verify each delivery's signature with it")


class AttemptOut(_Out):
    at: datetime
    outcome: str
    status_code: int | None
    error: str | None
    next_retry_at: datetime | None


class DeliveryOut(_Out):
    id: int
    event_type: str
    webhook_id: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None
    attempts: list[AttemptOut]


class MessageOut(_Out):
    id: int
    kind: str
    audience: str
    channel: str
    recipient: str
    language: str
    subject: str | None
    status: str
    created_at: datetime
    created_by: str
    sent_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    last_error: str | None


class SummarySendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    large_print: bool = Field(default=False, description="attach a large-print PDF too")


def _delivery(message: Message) -> DeliveryOut:
    return DeliveryOut(
        id=message.id,
        event_type=message.kind,
        webhook_id=webhook_id(message),
        status=message.status,
        created_at=message.created_at,
        sent_at=message.sent_at,
        next_attempt_at=message.next_attempt_at if message.status == "pending" else None,
        last_error=message.last_error,
        attempts=[AttemptOut.model_validate(a) for a in message.attempt_log],
    )


def _subscription_or_404(session: DbSession, webhook_id_: int) -> WebhookSubscription:
    found = repository.get_subscription(session, webhook_id_)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no webhook {webhook_id_}")
    return found


@router.post("/webhooks", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookIn,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("webhooks:admin"))],
) -> WebhookCreated:
    """Subscribe a landlord system's https:// endpoint; the signing secret is shown this once."""
    try:
        subscription = service.create_subscription(
            session,
            url=body.url,
            events=body.events,
            description=body.description,
            personal=body.personal,
            actor=user.name,
            now=context.now(),
            allow_private=context.channels.webhook_allow_private,
            known_events=EVENT_TYPES,
        )
    except ValueError as exc:  # TargetRefused is a ValueError too
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return WebhookCreated.model_validate(subscription)


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(
    session: DbSession, _user: Annotated[User, Depends(require("webhooks:admin"))]
) -> list[WebhookSubscription]:
    """Live subscriptions (never their secrets)."""
    return list(repository.live_subscriptions(session))


@router.delete("/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(
    webhook_id: RowId,
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("webhooks:admin"))],
) -> Response:
    """Stop a subscription; deliveries not yet made are not made."""
    service.delete_subscription(session, subscription_id=webhook_id, now=context.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    webhook_id: RowId,
    session: DbSession,
    _user: Annotated[User, Depends(require("webhooks:admin"))],
) -> list[DeliveryOut]:
    """Deliveries, newest first, each with its attempts: time, status code, error, next retry."""
    _subscription_or_404(session, webhook_id)
    return [_delivery(m) for m in repository.deliveries(session, webhook_id)]


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def retry_delivery(
    webhook_id: RowId,
    delivery_id: RowId,
    session: DbSession,
    context: Context,
    _user: Annotated[User, Depends(require("webhooks:admin"))],
) -> DeliveryOut:
    """Send a delivery again (a dead letter too), with the same webhook-id."""
    _subscription_or_404(session, webhook_id)
    message = service.retry_delivery(
        session, subscription_id=webhook_id, delivery_id=delivery_id, now=context.now()
    )
    return _delivery(message)


@router.get("/cases/{case_id}/messages", response_model=list[MessageOut])
def case_messages(
    case_id: RowId,
    session: DbSession,
    _user: Annotated[User, Depends(require("cases:personal"))],
) -> list[Message]:
    """Every message about the case: to the tenant, staff and webhooks, with what became of it."""
    if cases.get_case(session, case_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return list(service.case_messages(session, case_id=case_id))


@router.post(
    "/cases/{case_id}/summary/send",
    response_model=MessageOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def post_summary_send(
    case_id: RowId,
    session: DbSession,
    context: Context,
    user: Annotated[User, Depends(require("cases:write"))],
    body: SummarySendIn | None = None,
) -> Message:
    """Send the written summary to the tenant (PDF attached; by post when they do not use email).
    ``summary_sent`` is recorded, with the channel and time, once it has gone."""
    return send_summary(
        session,
        context=context,
        case_id=case_id,
        large_print=bool(body and body.large_print),
        actor=user.name,
        now=context.now(),
    )
