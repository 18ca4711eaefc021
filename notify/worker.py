"""The notification worker: fan the outbox out into messages, send what is due, log each attempt.

It runs in the scheduler process (``homesafe scheduler``, ``homesafe run``) as a job, or alone
(``homesafe notify``). One run:

1. claims unprocessed outbox events (``SKIP LOCKED`` on PostgreSQL) and fans them out into
   messages, in one transaction;
2. claims due messages in batches — each claim, committed before anything is sent, marks the row
   ``sending`` under this worker's name until a lease runs out, and counts the attempt —, sends
   them one by one, and commits each message's outcome on its own, straight after its send.

Across a crash: a message is either still ``pending`` (never claimed: sent later), ``sending``
(claimed, its send interrupted or its outcome not yet committed: claimed again when the worker
restarts under the same name — ``release_own_claims`` — or when the lease runs out for anyone), or
final. A message is therefore never lost; it is repeated only if the process dies between the
server accepting it and the outcome's commit, a window of one message, and then with the same
identity (SMTP ``Message-ID``, Notify ``reference``, ``webhook-id``) so the receiver can drop the
repeat. For GOV.UK Notify the worker asks Notify for the reference before sending again, so an
interrupted SMS or letter is not sent twice.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from notify import metrics, repository, rules, service
from notify.channels import (
    Attachment,
    ChannelSettings,
    NotifySender,
    Outcome,
    SmtpSender,
    WebhookSender,
)
from notify.models import Message, MessageAttempt
from registry.clock import utc_now
from registry.files import FileNotStored, LocalFileStore

log = logging.getLogger(__name__)

EVENT_BATCH = 200
MESSAGE_BATCH = 50


def default_name() -> str:
    """The worker's name: stable across restarts of the same host (or container)."""
    return os.environ.get("HOMESAFE_NOTIFY_WORKER") or socket.gethostname()


@dataclass
class RunSummary:
    fanned_out: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    not_sent: int = 0


@dataclass
class Worker:
    sessions: sessionmaker[Session]
    settings: ChannelSettings
    files: LocalFileStore
    hooks: service.DeliveryHooks = service.no_hooks
    name: str = field(default_factory=default_name)
    lease: timedelta = timedelta(minutes=10)
    clock: Callable[[], datetime] = utc_now
    message_batch: int = MESSAGE_BATCH

    def release_own_claims(self) -> int:
        """At start: what this worker's previous run left ``sending`` is due again."""
        with self.sessions.begin() as session:
            released = repository.release_claims(session, worker=self.name)
        if released:
            log.warning("%d message(s) left mid-send by an earlier run are due again", released)
        return released

    def run_once(self) -> RunSummary:
        """Fan out every waiting event, then send every due message."""
        summary = RunSummary()
        while True:
            with self.sessions.begin() as session:
                events = repository.claim_events(session, now=self.clock(), limit=EVENT_BATCH)
                made = service.fan_out(
                    session,
                    events=events,
                    settings=self.settings,
                    now=self.clock(),
                    hooks=self.hooks,
                )
            summary.fanned_out += len(events)
            for message in made:
                if message.status == "not_sent":
                    summary.not_sent += 1
                    metrics.MESSAGES.labels(message.channel, "not_sent").inc()
            if len(events) < EVENT_BATCH:
                break
        senders = _Senders(self.settings)
        try:
            while True:
                now = self.clock()
                with self.sessions.begin() as session:
                    ids = repository.claim_messages(
                        session,
                        now=now,
                        worker=self.name,
                        until=now + self.lease,
                        limit=self.message_batch,
                    )
                loaded = self._load(ids)
                for index, (message, secret, interrupted) in enumerate(loaded):
                    if self.clock() > now + self.lease * 0.8:
                        # The claim is nearly over: give the rest back rather than risk another
                        # worker taking them over while we send.
                        self._release([m.id for m, _, _ in loaded[index:]])
                        break
                    self._send_one(message, secret, interrupted, senders, summary)
                if len(ids) < self.message_batch:
                    break
        finally:
            senders.close()
        self._gauges()
        return summary

    def _release(self, ids: list[int]) -> None:
        with self.sessions.begin() as session:
            repository.release_claims(session, worker=self.name, ids=ids)

    def _load(self, ids: list[int]) -> list[tuple[Message, str | None, bool]]:
        """The claimed messages (detached), each with its webhook secret and whether an earlier
        attempt was interrupted (claimed more often than the log shows attempts)."""
        if not ids:
            return []
        with self.sessions() as session:
            messages = repository.messages_by_id(session, ids)
            secrets = repository.subscription_secrets(
                session, {m.subscription_id for m in messages if m.subscription_id is not None}
            )
            loaded = [
                (
                    m,
                    secrets.get(m.subscription_id) if m.subscription_id is not None else None,
                    m.attempts > len(m.attempt_log) + 1,
                )
                for m in messages
            ]
            session.expunge_all()
        return loaded

    def _send_one(
        self,
        message: Message,
        secret: str | None,
        interrupted: bool,
        senders: _Senders,
        summary: RunSummary,
    ) -> None:
        message_id = message.id
        started = time.perf_counter()
        outcome = senders.deliver(
            message,
            self.files,
            interrupted=interrupted,
            secret=secret,
            timestamp=int(self.clock().timestamp()),
        )
        metrics.SEND_SECONDS.labels(message.channel).observe(time.perf_counter() - started)
        with self.sessions.begin() as session:
            self._record(session, message_id, outcome, summary)

    def _record(
        self, session: Session, message_id: int, outcome: Outcome, summary: RunSummary
    ) -> None:
        now = self.clock()
        message = repository.message_for_update(session, message_id)
        if message is None or message.status != "sending" or message.claimed_by != self.name:
            return  # another worker took it over after our lease ran out
        message.claimed_by = None
        message.claimed_until = None
        message.last_status_code = outcome.status_code
        next_retry = None
        if outcome.ok:
            message.status, message.sent_at, message.last_error = "sent", now, None
            message.provider_ref = outcome.provider_ref
            result = "sent"
            summary.sent += 1
        elif outcome.permanent:
            message.status, message.last_error = "failed", outcome.error
            result = "failed"
            summary.failed += 1
        else:
            next_retry = rules.next_attempt(message.attempts, message.first_attempt_at or now, now)
            message.last_error = outcome.error
            if next_retry is None:
                message.status = "dead"
                result = "dead"
                summary.failed += 1
            else:
                message.status, message.next_attempt_at = "pending", next_retry
                result = "retry"
                summary.retried += 1
        session.add(
            MessageAttempt(
                message_id=message.id,
                at=now,
                outcome=result,
                status_code=outcome.status_code,
                error=outcome.error,
                next_retry_at=next_retry,
            )
        )
        session.flush()
        metrics.MESSAGES.labels(message.channel, result).inc()
        if result != "retry":
            self.hooks(session, message, result, now)

    def _gauges(self) -> None:
        try:
            with self.sessions() as session:
                counts = repository.counts_by_status(session)
                backlog = repository.unprocessed_events(session)
        except Exception:  # metrics must never stop the worker
            log.exception("could not read the message counts for the metrics")
            return
        for (channel, status), count in counts.items():
            metrics.QUEUED.labels(channel, status).set(count)
        metrics.OUTBOX_BACKLOG.set(backlog)


class _Senders:
    """The channels' senders, opened on first use and closed at the end of a run."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings
        self._smtp: SmtpSender | None = None
        self._notify: NotifySender | None = None
        self._webhooks: WebhookSender | None = None

    def close(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        if self._webhooks is not None:
            self._webhooks.close()

    def _attachments(self, message: Message, files: LocalFileStore) -> list[Attachment] | Outcome:
        found = []
        for item in message.attachments or []:
            try:
                data = files.get(item["key"])
            except FileNotStored:
                return Outcome(
                    False, permanent=True, error=f"the attachment {item['filename']} is missing"
                )
            found.append(Attachment(item["filename"], item["content_type"], data))
        return found

    def deliver(
        self,
        message: Message,
        files: LocalFileStore,
        *,
        interrupted: bool,
        secret: str | None = None,
        timestamp: int = 0,
    ) -> Outcome:
        missing = self.settings.missing(message.channel, attachments=bool(message.attachments))
        if missing:
            return Outcome(False, permanent=True, error=missing)
        attachments = self._attachments(message, files)
        if isinstance(attachments, Outcome):
            return attachments
        key = message.idempotency_key
        if message.channel == "email":
            if self._smtp is None:
                self._smtp = SmtpSender(self.settings)
            return self._smtp.send(
                key=key,
                to=message.recipient,
                subject=message.subject or "",
                body=message.body,
                language=message.language,
                attachments=attachments,
            )
        if message.channel in ("sms", "letter"):
            if self._notify is None:
                self._notify = NotifySender(self.settings)
            if interrupted:
                earlier = self._notify.already_sent(key)
                if earlier is not None:
                    return Outcome(True, provider_ref=earlier)
            if message.channel == "sms":
                return self._notify.send_sms(key=key, phone=message.recipient, body=message.body)
            return self._notify.send_letter(
                key=key,
                address=list(message.address or []),
                subject=message.subject or "",
                body=message.body,
                attachments=attachments,
            )
        if message.channel == "webhook":
            if self._webhooks is None:
                self._webhooks = WebhookSender(self.settings)
            if secret is None:
                return Outcome(False, permanent=True, error="the webhook subscription was deleted")
            return self._webhooks.send(
                url=message.recipient,
                secret=secret,
                msg_id=webhook_id(message),
                timestamp=timestamp,
                body=message.body,
            )
        return Outcome(False, permanent=True, error=f"no channel {message.channel}")


def webhook_id(message: Message) -> str:
    """The ``webhook-id`` of a delivery: the same on every attempt."""
    return "msg_" + message.idempotency_key.replace(":", "_")
