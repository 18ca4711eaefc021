"""Real receivers for the notification tests: an SMTP server (aiosmtpd), a webhook receiver that
verifies every delivery with the ``standardwebhooks`` library, and a GOV.UK Notify stand-in that
checks each request as the Notify API documents it (JWT bearer token: HS256, ``iss`` the service
id, ``iat`` within 30 s; the /v2/notifications/sms|letter bodies), each on a free local port."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from tests.servers import free_port

# --- SMTP -----------------------------------------------------------------------------------------


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, _server, _session, envelope, address, _options):  # type: ignore[no-untyped-def]
        self.sink.rcpts += 1
        if self.sink.on_rcpt is not None:
            self.sink.on_rcpt(self.sink.rcpts)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):  # type: ignore[no-untyped-def]
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on a free port keeping every accepted message; ``on_rcpt(n)`` runs at the n-th
    RCPT TO (before the message's data is sent), so a test can act mid-transaction."""

    def __init__(self, on_rcpt: Callable[[int], None] | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.rcpts = 0
        self.on_rcpt = on_rcpt
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout_s: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.messages)} of {count} emails arrived")


# --- HTTP servers ---------------------------------------------------------------------------------


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):  # type: ignore[no-untyped-def]
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: dict[str, Any] | None
    answered: int


class _WebhookHandler(BaseHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass

    def do_POST(self) -> None:
        owner: WebhookReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        secret = owner.secrets.get(self.path)
        verified = None
        if secret is not None:
            verified = Webhook(secret).verify(body, headers)  # raises on a bad signature
        code = owner.answers.pop(0) if owner.answers else 204
        with owner.lock:
            owner.deliveries.append(Delivery(self.path, headers, body, verified, code))
        self.send_response(code)
        self.send_header("content-length", "0")
        self.end_headers()


class WebhookReceiver(_Server):
    """Verifies each delivery's signature with the standardwebhooks library (a failure raises in
    the handler, answers 500 and is never counted as verified); ``answers`` queues status codes."""

    def __init__(self) -> None:
        super().__init__(_WebhookHandler)
        self.secrets: dict[str, str] = {}
        self.answers: list[int] = []
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def verified(self) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if d.verified is not None and d.answered < 300]


# --- GOV.UK Notify --------------------------------------------------------------------------------

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
API_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"homesafe_test-{SERVICE_ID}-{API_SECRET}"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
LETTER_TEMPLATE = "7fd4d5a1-3f8c-4a53-9d5d-3a7f1f1e8b0c"
UUID_LIKE = 36


@dataclass
class NotifyRequest:
    path: str
    body: dict[str, Any]
    claims: dict[str, Any]


class _NotifyHandler(BaseHTTPRequestHandler):
    def log_message(self, *_args: Any) -> None:
        pass

    def _answer(self, code: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _claims(self) -> dict[str, Any] | None:
        auth = self.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            self._answer(403, {"errors": [{"error": "AuthError", "message": "no bearer"}]})
            return None
        token = auth.removeprefix("Bearer ")
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, API_SECRET, algorithms=["HS256"])
        except jwt.PyJWTError as exc:
            self._answer(403, {"errors": [{"error": "AuthError", "message": str(exc)}]})
            return None
        if header.get("typ") != "JWT" or claims.get("iss") != SERVICE_ID:
            self._answer(403, {"errors": [{"error": "AuthError", "message": "bad iss/typ"}]})
            return None
        if abs(time.time() - float(claims.get("iat", 0))) > 30:
            self._answer(403, {"errors": [{"error": "AuthError", "message": "iat too far"}]})
            return None
        return claims

    def do_GET(self) -> None:
        owner: NotifyStandIn = self.server.owner  # type: ignore[attr-defined]
        if self._claims() is None:
            return
        parts = urlsplit(self.path)
        reference = parse_qs(parts.query).get("reference", [None])[0]
        found = [
            {"id": n["id"], "reference": n["reference"]}
            for n in owner.sent
            if reference is None or n["reference"] == reference
        ]
        self._answer(200, {"notifications": found, "links": {}})

    def do_POST(self) -> None:
        owner: NotifyStandIn = self.server.owner  # type: ignore[attr-defined]
        claims = self._claims()
        if claims is None:
            return
        if self.headers.get("content-type", "").split(";")[0] != "application/json":
            self._answer(400, {"errors": [{"error": "BadRequestError", "message": "not JSON"}]})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        problem = owner.check(self.path, body)
        if problem:
            self._answer(400, {"errors": [{"error": "ValidationError", "message": problem}]})
            return
        with owner.lock:
            owner.requests.append(NotifyRequest(self.path, body, claims))
            notification = {"id": str(uuid.uuid4()), "reference": body.get("reference")}
            owner.sent.append(notification)
        self._answer(
            201,
            {
                "id": notification["id"],
                "reference": body.get("reference"),
                "content": {"body": "", "subject": ""},
                "uri": f"/v2/notifications/{notification['id']}",
                "template": {"id": body.get("template_id"), "version": 1, "uri": ""},
            },
        )


class NotifyStandIn(_Server):
    """Answers POST /v2/notifications/sms|letter and GET /v2/notifications?reference= after
    checking the JWT and the request body against the Notify API's documented fields."""

    def __init__(self) -> None:
        super().__init__(_NotifyHandler)
        self.requests: list[NotifyRequest] = []
        self.sent: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def check(self, path: str, body: dict[str, Any]) -> str | None:
        if path == "/v2/notifications/sms":
            allowed = {
                "phone_number",
                "template_id",
                "personalisation",
                "reference",
                "sms_sender_id",
            }
            if not {"phone_number", "template_id"} <= body.keys():
                return "phone_number and template_id are required"
            if len(body["template_id"]) != UUID_LIKE:
                return "template_id is not a UUID"
        elif path == "/v2/notifications/letter":
            allowed = {"template_id", "personalisation", "reference", "content", "postage"}
            if "content" in body:
                if not body.get("reference"):
                    return "a precompiled letter needs a reference"
                if not base64.b64decode(body["content"]).startswith(b"%PDF"):
                    return "content is not a base64 PDF"
                if body.get("postage", "second") not in ("first", "second", "economy"):
                    return "postage must be first, second or economy"
            else:
                lines = [
                    v
                    for k, v in (body.get("personalisation") or {}).items()
                    if k.startswith("address_line_") and v
                ]
                if len(lines) < 3:
                    return "a letter needs at least 3 address lines"
        elif path == "/v2/notifications/email":
            allowed = {
                "email_address",
                "template_id",
                "personalisation",
                "reference",
                "email_reply_to_id",
            }
        else:
            return f"no such endpoint {path}"
        extra = set(body) - allowed
        return f"unknown fields {sorted(extra)}" if extra else None


@dataclass
class Receivers:
    smtp: SmtpSink
    webhooks: WebhookReceiver
    notify: NotifyStandIn
    extra: dict[str, Any] = field(default_factory=dict)
