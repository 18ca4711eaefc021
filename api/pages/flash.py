"""Notices after a form, without text in the address (issue 12: `?message=` was content spoofing).

Page routes still redirect to `/somewhere?message=…` or `?error=…`; on the way out, FlashNotices
(ASGI) strips those parameters from the Location and puts the notice in a short-lived HttpOnly
cookie sealed with an HMAC keyed by the person's own session cookie. The next page (render)
shows it once if the seal matches that person's session, and clears it. Pages never read a
notice from the address, so a link carrying one shows nothing; a cookie planted by someone else
does not match their victim's session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from api.session import COOKIE_NAME

FLASH_COOKIE = "homesafe_notice"
NOTICE_KEYS = ("message", "error")
MAX_NOTICE_CHARS = 1000
FLASH_MAX_AGE_S = 120

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]


def _key(session_cookie: str) -> bytes:
    return hashlib.sha256(b"homesafe notice|" + session_cookie.encode()).digest()


def seal(session_cookie: str, notice: dict[str, str]) -> str:
    """The cookie value carrying the notice, sealed for this session."""
    body = base64.urlsafe_b64encode(json.dumps(notice, sort_keys=True).encode()).decode()
    mac = hmac.new(_key(session_cookie), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def unseal(session_cookie: str | None, value: str | None) -> dict[str, str]:
    """The notice, if the value was sealed for this session; else nothing."""
    if not session_cookie or not value or "." not in value:
        return {}
    body, _, mac = value.rpartition(".")
    expected = hmac.new(_key(session_cookie), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return {}
    try:
        notice = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return {}
    return {k: str(v)[:MAX_NOTICE_CHARS] for k, v in notice.items() if k in NOTICE_KEYS}


class FlashNotices:
    """Moves `message`/`error` from a page redirect's Location into the sealed notice cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        cookies: SimpleCookie = SimpleCookie()
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                try:
                    cookies.load(value.decode("latin-1"))
                except Exception:  # a malformed Cookie header: no session, no notice
                    cookies = SimpleCookie()
        session_cookie = cookies[COOKIE_NAME].value if COOKIE_NAME in cookies else None

        async def send_moving_notices(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = list(message.get("headers", []))
                for i, (name, value) in enumerate(headers):
                    if name.lower() != b"location":
                        continue
                    parts = urlsplit(value.decode("latin-1"))
                    query = parse_qsl(parts.query, keep_blank_values=True)
                    notice = {k: v[:MAX_NOTICE_CHARS] for k, v in query if k in NOTICE_KEYS}
                    if not notice:
                        break
                    kept = urlencode([(k, v) for k, v in query if k not in NOTICE_KEYS])
                    headers[i] = (name, urlunsplit(parts._replace(query=kept)).encode("latin-1"))
                    if session_cookie:
                        cookie = (
                            f"{FLASH_COOKIE}={seal(session_cookie, notice)}; Max-Age="
                            f"{FLASH_MAX_AGE_S}; Path=/; HttpOnly; SameSite=Lax"
                        )
                        if scope.get("scheme") == "https":
                            cookie += "; Secure"
                        headers.append((b"set-cookie", cookie.encode("latin-1")))
                    break
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_moving_notices)
