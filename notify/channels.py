"""The channels messages leave by: SMTP email, GOV.UK Notify (SMS and letters), webhooks.

Each sender returns an ``Outcome``: sent (with the provider's reference), or failed — for good
(``permanent``: an address the server refuses, a request Notify says is wrong) or to be tried
again (a server down, a timeout, any webhook answer but 2xx). Senders never raise for a failed
delivery; the worker writes the outcome to the delivery log.

``ChannelSettings.missing(channel)`` says, in words for the case page, why a channel cannot be
used ("email not sent: no mail server configured"), so nothing is silently skipped.
"""

from __future__ import annotations

import io
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from notify import webhooks


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool = False
    status_code: int | None = None
    error: str | None = None
    provider_ref: str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ChannelSettings:
    """The people-facing channel settings (docs/notifications.md)."""

    smtp_url: str | None = None
    mail_from: str | None = None
    notify_api_key: str | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_sms_template_id: str | None = None
    notify_letter_template_id: str | None = None
    staff_email: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    webhook_allow_private: bool = False
    landlord_name: str | None = None
    landlord_phone: str | None = None
    landlord_email: str | None = None
    timezone: str = "Europe/London"
    smtp_timeout_s: float = 30.0
    webhook_timeout_s: float = 10.0

    def missing(self, channel: str, *, attachments: bool = False) -> str | None:
        """Why the channel cannot be used, or None when it can."""
        if channel == "email":
            if not self.smtp_url:
                return "email not sent: no mail server configured (HOMESAFE_SMTP_URL)"
            if not self.mail_from:
                return "email not sent: no sender address configured (HOMESAFE_MAIL_FROM)"
            return None
        if channel == "sms":
            if not self.notify_api_key:
                return "SMS not sent: GOV.UK Notify is not configured (HOMESAFE_NOTIFY_API_KEY)"
            if not self.notify_sms_template_id:
                return (
                    "SMS not sent: no GOV.UK Notify text message template configured "
                    "(HOMESAFE_NOTIFY_SMS_TEMPLATE_ID)"
                )
            return None
        if channel == "letter":
            if not self.notify_api_key:
                return "letter not sent: GOV.UK Notify is not configured (HOMESAFE_NOTIFY_API_KEY)"
            if not attachments and not self.notify_letter_template_id:
                return (
                    "letter not sent: no GOV.UK Notify letter template configured "
                    "(HOMESAFE_NOTIFY_LETTER_TEMPLATE_ID)"
                )
            return None
        if channel == "phone":
            return "not sent: the tenant asked to be phoned — call them"
        if channel == "webhook":
            return None
        return f"not sent: no channel {channel!r}"


# --- email over SMTP ------------------------------------------------------------------------------


def parse_smtp_url(url: str) -> tuple[str, str, int, str | None, str | None]:
    """(scheme, host, port, user, password) of smtp://user:pass@host:port or smtps://..."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must be smtp://[user:pass@]host[:port] or smtps://...")
    port = parts.port or (465 if parts.scheme == "smtps" else 587)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.scheme, parts.hostname, port, user, password


# Headers up to RFC 5322's 998 characters stay on one line (the default 78 folds a long subject
# before its first word, which readers show with a leading space).
_MAIL_POLICY = email_policy.SMTP.clone(max_line_length=998)


def message_id(key: str, mail_from: str) -> str:
    """A Message-ID made from the idempotency key: the same on every attempt, so a repeat after a
    crash can be recognised and dropped by mail systems."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "homesafe.invalid"
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "." for ch in key)
    return f"<{safe}@{domain}>"


class SmtpSender:
    """One SMTP connection, reused across a batch; STARTTLS when the server offers it."""

    def __init__(self, settings: ChannelSettings) -> None:
        assert settings.smtp_url
        assert settings.mail_from
        self.scheme, self.host, self.port, self.user, self.password = parse_smtp_url(
            settings.smtp_url
        )
        self.mail_from = settings.mail_from
        self.timeout = settings.smtp_timeout_s
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        if smtp.sock is not None:
            # Each SMTP command waits for its answer: without TCP_NODELAY, Nagle's algorithm and
            # delayed ACKs add tens of milliseconds to every message.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.user:
            smtp.login(self.user, self.password or "")
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def send(
        self,
        *,
        key: str,
        to: str,
        subject: str,
        body: str,
        language: str,
        attachments: list[Attachment],
    ) -> Outcome:
        email = EmailMessage(policy=_MAIL_POLICY)
        email["From"] = self.mail_from
        email["To"] = to
        email["Subject"] = subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = message_id(key, self.mail_from)
        email["Content-Language"] = language
        email.set_content(body)
        for item in attachments:
            main, _, sub = item.content_type.partition("/")
            email.add_attachment(item.data, maintype=main, subtype=sub, filename=item.filename)
        try:
            smtp = self._connect()
            refused = smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            return Outcome(
                False,
                permanent=all(code >= 500 for code in codes),
                status_code=codes[0] if codes else None,
                error=f"the mail server refused {to}: {exc.recipients}",
            )
        except smtplib.SMTPResponseException as exc:
            self.close()
            raw = exc.smtp_error
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
            return Outcome(
                False,
                permanent=exc.smtp_code >= 500,
                status_code=exc.smtp_code,
                error=f"the mail server answered {exc.smtp_code} {text}".strip(),
            )
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Outcome(False, error=f"mail server: {type(exc).__name__}: {exc}")
        if refused:
            return Outcome(False, permanent=True, error=f"the mail server refused {refused}")
        return Outcome(True, status_code=250, provider_ref=email["Message-ID"])


# --- GOV.UK Notify ---------------------------------------------------------------------------------


def _notify_error(exc: Exception) -> Outcome:
    from notifications_python_client.errors import HTTPError

    if isinstance(exc, HTTPError):
        code = int(exc.status_code) if str(exc.status_code).isdigit() else None
        permanent = code is not None and 400 <= code < 500 and code not in (408, 429)
        return Outcome(False, permanent=permanent, status_code=code, error=f"Notify: {exc}")
    return Outcome(False, error=f"Notify: {type(exc).__name__}: {exc}")


class NotifySender:
    """SMS and letters through GOV.UK Notify's official client.

    SMS use one text message template whose content is ``((body))``; letters one letter
    template with ``((subject))`` as its heading and ``((body))`` below, the address in
    ``address_line_1``... A letter with a PDF (the written summary) goes as a precompiled letter.
    The idempotency key is the Notify ``reference`` (it holds no personal data)."""

    def __init__(self, settings: ChannelSettings) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        assert settings.notify_api_key
        self.client: Any = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            settings.notify_api_key, base_url=settings.notify_base_url, timeout=30
        )
        self.sms_template = settings.notify_sms_template_id
        self.letter_template = settings.notify_letter_template_id

    def already_sent(self, key: str) -> str | None:
        """The Notify id of a notification sent with this reference, if any (after a crash)."""
        try:
            found = self.client.get_all_notifications(reference=key)
        except Exception:
            return None
        notifications = found.get("notifications") or []
        return str(notifications[0]["id"]) if notifications else None

    def send_sms(self, *, key: str, phone: str, body: str) -> Outcome:
        try:
            answer = self.client.send_sms_notification(
                phone_number=phone,
                template_id=self.sms_template,
                personalisation={"body": body},
                reference=key,
            )
        except Exception as exc:
            return _notify_error(exc)
        return Outcome(True, status_code=201, provider_ref=str(answer.get("id")))

    def send_letter(
        self,
        *,
        key: str,
        address: list[str],
        subject: str,
        body: str,
        attachments: list[Attachment],
    ) -> Outcome:
        pdfs = [a for a in attachments if a.content_type == "application/pdf"]
        try:
            if pdfs:
                answer = self.client.send_precompiled_letter_notification(
                    reference=key, pdf_file=io.BytesIO(pdfs[0].data), postage="first"
                )
            else:
                personalisation: dict[str, Any] = {
                    f"address_line_{i}": line for i, line in enumerate(address[:7], start=1)
                }
                personalisation |= {"subject": subject, "body": body}
                answer = self.client.send_letter_notification(
                    template_id=self.letter_template,
                    personalisation=personalisation,
                    reference=key,
                )
        except Exception as exc:
            return _notify_error(exc)
        return Outcome(True, status_code=201, provider_ref=str(answer.get("id")))


# --- webhooks --------------------------------------------------------------------------------------


class WebhookSender:
    """POST one signed event; any answer but 2xx, and any network error, is tried again."""

    def __init__(self, settings: ChannelSettings) -> None:
        self.allow_private = settings.webhook_allow_private
        self.client = httpx.Client(
            timeout=settings.webhook_timeout_s,
            follow_redirects=False,
            headers={"user-agent": "Homesafe-Webhooks/1"},
        )

    def close(self) -> None:
        self.client.close()

    def send(self, *, url: str, secret: str, msg_id: str, timestamp: int, body: str) -> Outcome:
        try:
            webhooks.check_target(url, allow_private=self.allow_private)
        except webhooks.TargetRefused as exc:
            return Outcome(False, error=f"target refused: {exc}")
        try:
            answer = self.client.post(
                url,
                content=body.encode(),
                headers=webhooks.headers(secret, msg_id, timestamp, body),
            )
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        if 200 <= answer.status_code < 300:
            return Outcome(True, status_code=answer.status_code)
        return Outcome(
            False,
            status_code=answer.status_code,
            error=f"the receiver answered {answer.status_code}",
        )
