"""Notify's use cases: fan events out into messages, webhook subscriptions, the written summary,
a case's messages. Services take keyword-only arguments and never commit.

Fan-out (``fan_out``) turns each outbox event into its messages (``notify.rules``): to the
tenant by their tenancy's preferred channel and language, to the staff mailbox, and one per
matching webhook subscription. Every message gets an idempotency key made from the event and the
recipient, unique in the table, so an event fanned out twice never makes a message twice. A
message that cannot be sent (channel not configured, no address) is stored ``not_sent`` with the
reason, and reported to the delivery hook like any other outcome, so the case shows it.

Recipients (the readings made here, docs/notifications.md):
- A report made through the resident form with a contact (email or phone) is acknowledged there;
  otherwise the tenancy's preferred channel is used (email, sms, letter; ``phone`` means a person
  calls: the message is stored ``not_sent`` with "call them", so the officer sees the task).
- The written summary is a document: by email (PDF attached) when the tenancy prefers email and
  has an address, otherwise by post (a precompiled letter through GOV.UK Notify).
- Staff messages go to the team mailbox (``HOMESAFE_STAFF_EMAIL``), naming the assigned officer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from notify import repository, rules, templates, webhooks
from notify.channels import ChannelSettings
from notify.models import Message, MessageAttempt, OutboxEvent, WebhookSubscription
from registry import repository as registry
from registry.clock import to_rfc3339

# The survey's words per milestone (notify.templates).
SURVEY_TEMPLATES = {
    "dispatch": "survey_dispatch",
    "completion": "survey_completion",
    "block": "survey_block",
}

# What the composition root does when a message reaches a final outcome (in the same
# transaction): the audit entry on the case, and ``summary_sent`` for the written summary.
DeliveryHooks = Callable[[Session, Message, str, datetime], None]


def no_hooks(_session: Session, _message: Message, _outcome: str, _at: datetime) -> None:
    """Hooks for tests of notify alone."""


class SubscriptionNotFound(LookupError):
    """No live webhook subscription with that id."""


class DeliveryNotFound(LookupError):
    """No delivery with that id on that subscription."""


class SummaryRefused(Exception):
    """The written summary cannot be queued; the reason is for the officer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Recipient:
    channel: str
    address: str  # email address, phone number, or the name on a letter
    language: str
    postal: list[str] | None = None


# --- webhook subscriptions -------------------------------------------------------------------------


def create_subscription(
    session: Session,
    *,
    url: str,
    events: list[str],
    description: str | None,
    personal: bool,
    actor: str,
    now: datetime,
    allow_private: bool,
    known_events: Sequence[str],
) -> WebhookSubscription:
    """A new subscription (its secret is returned once, by the API); TargetRefused or ValueError
    with the reason for a URL or event list that cannot be right."""
    webhooks.check_target(url, allow_private=allow_private)
    unknown = [e for e in events if e not in known_events]
    if unknown or not events:
        raise ValueError(
            f"events must be one or more of {', '.join(known_events)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    subscription = WebhookSubscription(
        url=url,
        events=list(dict.fromkeys(events)),
        description=description,
        secret=webhooks.new_secret(),
        personal=personal,
        created_at=now,
        created_by=actor,
    )
    session.add(subscription)
    session.flush()
    return subscription


def delete_subscription(session: Session, *, subscription_id: int, now: datetime) -> None:
    subscription = repository.get_subscription(session, subscription_id)
    if subscription is None:
        raise SubscriptionNotFound(f"no webhook {subscription_id}")
    subscription.deleted_at = now
    session.flush()


def retry_delivery(
    session: Session, *, subscription_id: int, delivery_id: int, now: datetime
) -> Message:
    """Send a delivery again now (a dead letter too), with the same webhook-id."""
    message = session.get(Message, delivery_id)
    if message is None or message.subscription_id != subscription_id:
        raise DeliveryNotFound(f"no delivery {delivery_id} on webhook {subscription_id}")
    message.status = "pending"
    message.next_attempt_at = now
    message.first_attempt_at = None  # a manual retry starts a new 24 hours of retries
    message.claimed_by = None
    message.claimed_until = None
    session.flush()
    return message


# --- fan-out ---------------------------------------------------------------------------------------


def _local(at: datetime | str | None, timezone: str) -> str:
    if at is None:
        return ""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B %Y}"


def _left(due: str | None, now: datetime) -> str:
    if not due:
        return ""
    seconds = max(int((datetime.fromisoformat(due) - now).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60} min"


def _postal(home_address: str | None, postcode: str | None, name: str | None) -> list[str] | None:
    lines = [name or "The tenant"]
    if home_address:
        lines += [part.strip() for part in home_address.split(",") if part.strip()]
    if postcode and postcode not in " ".join(lines):
        lines.append(postcode)
    return lines if len(lines) >= 3 else None


def _tenant_recipient(
    session: Session,
    *,
    home_id: str,
    day: Any,
    contact: dict[str, Any] | None,
    document: bool,
    method: str | None = None,
) -> tuple[Recipient | None, str | None]:
    """Who the tenant message goes to and how, or why it cannot be sent. A document goes by
    email when the tenancy prefers it (or ``method`` says so), otherwise by post."""
    tenancy = registry.tenancy_on(session, home_id, day)
    household = registry.get_household(session, home_id)
    language = templates.choose_language(
        (contact or {}).get("language") or (tenancy.language if tenancy else None),
        household.language_needs if household else None,
    )
    if contact and not document:
        if contact.get("email"):
            return Recipient("email", str(contact["email"]), language), None
        if contact.get("phone"):
            return Recipient("sms", str(contact["phone"]), language), None
    if tenancy is None:
        return None, "not sent: no tenancy on record for the home"
    preferred = tenancy.preferred_channel or ("email" if tenancy.email else "letter")
    home = registry.get_home(session, home_id)
    postal = _postal(
        home.address if home else None, home.postcode if home else None, tenancy.lead_tenant_name
    )
    if method is not None:
        preferred = "email" if method == "email" else "letter"
    if document and preferred != "email":
        preferred = "letter"
    if preferred == "email":
        if tenancy.email:
            return Recipient("email", tenancy.email, language), None
        if document:
            preferred = "letter"
        else:
            return None, "email not sent: the tenancy has no email address"
    if preferred == "sms":
        if tenancy.phone:
            return Recipient("sms", tenancy.phone, language), None
        return None, "SMS not sent: the tenancy has no phone number"
    if preferred == "phone":
        return Recipient("phone", tenancy.phone or "no number on record", language), None
    if postal is None:
        return None, "letter not sent: the home has no postal address on record"
    return Recipient("letter", tenancy.lead_tenant_name or "The tenant", language, postal), None


def _fields(event: OutboxEvent, settings: ChannelSettings, now: datetime) -> dict[str, str]:
    data, detail = event.data or {}, event.detail or {}
    clock = detail.get("clock") or {}
    report = detail.get("report") or {}
    case_id = event.case_id if event.case_id is not None else data.get("case_id")
    contact = []
    if settings.landlord_phone:
        contact.append(f" on {settings.landlord_phone}")
    if settings.landlord_email:
        contact.append(f" at {settings.landlord_email}")
    booked_for = detail.get("booked_for")
    return {
        "hazard_key": str(data.get("hazard") or ""),
        "case_id": str(case_id or ""),
        "home_id": str(data.get("home_id") or ""),
        "reference": str(report.get("reference") or f"HS-{case_id}"),
        "landlord": settings.landlord_name or "your landlord",
        "contact": " or".join(contact),
        "when": f" for {_local(booked_for, settings.timezone)}" if booked_for else "",
        "source": str(detail.get("source") or data.get("source") or ""),
        "due": _local(clock.get("due_at") or _emergency_due(data), settings.timezone),
        "duty": str(clock.get("duty") or clock.get("kind") or "").replace("_", " "),
        "left": _left(clock.get("due_at"), now),
        "assigned": str(detail.get("assigned_to") or "nobody yet"),
        "link": f"{settings.public_url.rstrip('/')}/cases/{case_id}" if case_id else "",
        "work_order_id": str(event.work_order_id or ""),
        "contractor": str(detail.get("contractor") or ""),
        "survey_link": (
            f"{settings.public_url.rstrip('/')}/s/{detail['survey_token']}"
            if detail.get("survey_token")
            else ""
        ),
        "milestone": str(detail.get("milestone") or ""),
    }


def _emergency_due(data: dict[str, Any]) -> str | None:
    for clock in data.get("clocks") or []:
        if clock.get("kind") == "emergency_action" and clock.get("status") == "running":
            return str(clock.get("due_at"))
    return None


def _message(
    *,
    key: str,
    event: OutboxEvent | None,
    case_id: int | None,
    audience: str,
    kind: str,
    channel: str,
    recipient: str,
    language: str,
    subject: str | None,
    body: str,
    now: datetime,
    settings: ChannelSettings,
    subscription_id: int | None = None,
    attachments: list[dict[str, Any]] | None = None,
    postal: list[str] | None = None,
    after_send: str | None = None,
    created_by: str = "notify",
    reason: str | None = None,
) -> Message:
    missing = reason or settings.missing(channel, attachments=bool(attachments))
    return Message(
        idempotency_key=key,
        event_id=event.id if event else None,
        case_id=case_id,
        subscription_id=subscription_id,
        audience=audience,
        kind=kind,
        channel=channel,
        recipient=recipient,
        language=language,
        subject=subject,
        body=body,
        attachments=attachments or [],
        address=postal,
        after_send=after_send,
        status="not_sent" if missing else "pending",
        attempts=0,
        created_at=now,
        created_by=created_by,
        next_attempt_at=None if missing else now,
        last_error=missing,
    )


def _case_personal(session: Session, home_id: str, day: Any) -> dict[str, Any]:
    """The personal fields a ``"personal": true`` subscription gets: address and tenant."""
    home = registry.get_home(session, home_id)
    tenancy = registry.tenancy_on(session, home_id, day)
    return {
        "address": home.address if home else None,
        "postcode": home.postcode if home else None,
        "tenant": (
            {
                "tenancy_ref": tenancy.tenancy_ref,
                "name": tenancy.lead_tenant_name,
                "email": tenancy.email,
                "phone": tenancy.phone,
                "preferred_channel": tenancy.preferred_channel,
                "language": tenancy.language,
            }
            if tenancy
            else None
        ),
    }


def webhook_body(event: OutboxEvent, *, personal: dict[str, Any] | None) -> str:
    """The delivery's JSON: ``{"type", "timestamp", "data"}``, data the case or work order as the
    API returns it (personal fields only for ``personal`` subscriptions)."""
    data = dict(event.data or {})
    if personal is not None:
        data |= personal
    payload = {"type": event.type, "timestamp": to_rfc3339(event.at), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def fan_out(
    session: Session,
    *,
    events: Sequence[OutboxEvent],
    settings: ChannelSettings,
    now: datetime,
    hooks: DeliveryHooks = no_hooks,
) -> list[Message]:
    """The messages of these (claimed) events; not_sent ones are reported to the hooks."""
    subscriptions = list(repository.live_subscriptions(session))
    made: list[Message] = []
    tz = ZoneInfo(settings.timezone)
    for event in events:
        data, detail = event.data or {}, event.detail or {}
        home_id = str(data.get("home_id") or "")
        day = event.at.astimezone(tz).date()
        fields = _fields(event, settings, now)
        for plan in rules.plans_for(event.type, detail):
            if plan.audience == "tenant":
                report = detail.get("report") or {}
                recipient, reason = _tenant_recipient(
                    session,
                    home_id=home_id,
                    day=day,
                    contact=report.get("contact"),
                    document=False,
                )
                language = recipient.language if recipient else "en"
                template = plan.template
                if template == "milestone_survey":
                    template = SURVEY_TEMPLATES.get(fields["milestone"], "survey_completion")
                words = templates.render(template, language, fields)
                channel = recipient.channel if recipient else "email"
                made.append(
                    _message(
                        key=f"ev{event.id}:tenant:{plan.template}",
                        event=event,
                        case_id=event.case_id,
                        audience="tenant",
                        kind=plan.template,
                        channel=channel,
                        recipient=recipient.address if recipient else "tenant",
                        language=words.language,
                        subject=words.subject,
                        body=words.sms if channel == "sms" else words.body,
                        now=now,
                        settings=settings,
                        postal=recipient.postal if recipient else None,
                        reason=reason,
                    )
                )
            else:
                words = templates.render(plan.template, "en", fields)
                reason = (
                    None
                    if settings.staff_email
                    else "staff email not sent: no team address configured (HOMESAFE_STAFF_EMAIL)"
                )
                made.append(
                    _message(
                        key=f"ev{event.id}:staff:{plan.template}",
                        event=event,
                        case_id=event.case_id,
                        audience="staff",
                        kind=plan.template,
                        channel="email",
                        recipient=settings.staff_email or "staff",
                        language="en",
                        subject=words.subject,
                        body=words.body,
                        now=now,
                        settings=settings,
                        reason=reason,
                    )
                )
        for subscription in subscriptions:
            if event.type not in subscription.events:
                continue
            personal = (
                _case_personal(session, home_id, day) if subscription.personal and home_id else None
            )
            made.append(
                _message(
                    key=f"ev{event.id}:wh{subscription.id}",
                    event=event,
                    case_id=event.case_id,
                    audience="webhook",
                    kind=event.type,
                    channel="webhook",
                    recipient=subscription.url,
                    language="en",
                    subject=None,
                    body=webhook_body(event, personal=personal),
                    now=now,
                    settings=settings,
                    subscription_id=subscription.id,
                )
            )
    session.add_all(made)
    session.flush()
    for message in made:
        if message.status == "not_sent":
            session.add(
                MessageAttempt(
                    message_id=message.id, at=now, outcome="not_sent", error=message.last_error
                )
            )
            hooks(session, message, "not_sent", now)
    return made


# --- the written summary ---------------------------------------------------------------------------


def queue_summary(
    session: Session,
    *,
    case_id: int,
    home_id: str,
    hazard: str,
    investigation: int,
    text: str,
    pdf_key: str,
    large_print_key: str | None,
    actor: str,
    now: datetime,
    settings: ChannelSettings,
    hooks: DeliveryHooks = no_hooks,
    method: str | None = None,
    record_when_sent: bool = True,
) -> Message:
    """Queue the written summary to the tenant (the PDF attached; large print too when asked):
    once per investigation, unless the earlier one could not be delivered.

    ``method``: ``email`` or ``first_class_post`` as the officer chose, or None for the
    tenancy's preference. ``record_when_sent``: the delivery hook records ``summary_sent`` when
    it has gone (False when the caller has recorded it already)."""
    key = f"summary:{case_id}:{investigation}"
    earlier = repository.message_with_key(session, key)
    if earlier is not None:
        if earlier.status in ("pending", "sending", "sent"):
            raise SummaryRefused(
                f"the written summary for this investigation is already {earlier.status}"
            )
        earlier.idempotency_key = f"{key}:superseded:{earlier.id}"
        session.flush()
    day = now.astimezone(ZoneInfo(settings.timezone)).date()
    recipient, reason = _tenant_recipient(
        session, home_id=home_id, day=day, contact=None, document=True, method=method
    )
    language = recipient.language if recipient else "en"
    fields = {
        "hazard_key": hazard,
        "reference": f"HS-{case_id}",
        "landlord": settings.landlord_name or "your landlord",
        "contact": "",
    }
    words = templates.render("written_summary", language, fields)
    attachments = [
        {
            "key": pdf_key,
            "filename": f"case-{case_id}-summary.pdf",
            "content_type": "application/pdf",
        }
    ]
    if large_print_key:
        attachments.append(
            {
                "key": large_print_key,
                "filename": f"case-{case_id}-summary-large-print.pdf",
                "content_type": "application/pdf",
            }
        )
    message = _message(
        key=key,
        event=None,
        case_id=case_id,
        audience="tenant",
        kind="written_summary",
        channel=recipient.channel if recipient else "letter",
        recipient=recipient.address if recipient else "tenant",
        language=words.language,
        subject=words.subject,
        body=f"{words.body}\n\n{text}",
        now=now,
        settings=settings,
        attachments=attachments,
        postal=recipient.postal if recipient else None,
        after_send="summary_sent" if record_when_sent else None,
        created_by=actor,
        reason=reason,
    )
    session.add(message)
    session.flush()
    if message.status == "not_sent":
        session.add(
            MessageAttempt(
                message_id=message.id, at=now, outcome="not_sent", error=message.last_error
            )
        )
        hooks(session, message, "not_sent", now)
    return message


# --- reading ---------------------------------------------------------------------------------------


def case_messages(session: Session, *, case_id: int) -> Sequence[Message]:
    """Every message about the case, for the case page and the exports (oldest first)."""
    return repository.messages_of_case(session, case_id)


def describe(message: Message) -> str:
    """One line for the case page: what, to whom, how, and what became of it."""
    who = {"tenant": "the tenant", "staff": "staff", "webhook": "webhook"}[message.audience]
    what = message.kind.replace("_", " ")
    state = {
        "pending": "waiting to be sent",
        "sending": "being sent",
        "sent": "sent",
        "failed": "not delivered",
        "dead": "not delivered after retrying for 24 hours",
        "not_sent": "not sent",
    }[message.status]
    tail = f" — {message.last_error}" if message.last_error and message.status != "sent" else ""
    return f"{what} to {who} by {message.channel} ({message.recipient}): {state}{tail}"


def retry_after(message: Message, now: datetime) -> timedelta | None:
    if message.status != "pending" or message.next_attempt_at is None:
        return None
    return max(message.next_attempt_at - now, timedelta(0))
