"""Security headers on every answer, and the request-body limit (docs/security.md).

Pure ASGI middleware (no request body is read here beyond counting it):
- every answer: a Content-Security-Policy with no inline script or style and no framing,
  X-Frame-Options, nosniff, a referrer policy, Permissions-Policy, Cross-Origin-Opener-Policy;
  Strict-Transport-Security when the request came over HTTPS (the scheme uvicorn reports, which
  behind the TLS proxy comes from X-Forwarded-Proto of a trusted proxy);
- everything but /static is `Cache-Control: no-store` (pages with personal data and every
  export: nothing dynamic is kept by a browser or a proxy);
- a request body larger than the limit is refused with 413 before any route, dependency or
  authentication runs: by its Content-Length at once, or, without one, as soon as the bytes
  read pass the limit.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
HSTS = b"max-age=31536000; includeSubDomains"
_STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.S)


def document_csp(html: str) -> str:
    """The CSP of a stand-alone HTML document (a letter): its own <style> elements allowed by
    their hashes, nothing else at all."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"
        for css in _STYLE_ELEMENT.findall(html)
    )
    return (
        f"default-src 'none'; style-src {hashes or chr(39) + 'none' + chr(39)}; img-src data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


MAX_BODY_BYTES = 1024 * 1024  # forms and JSON bodies are small: 1 MiB is generous


class SecurityHeaders:
    """Adds the headers to every HTTP answer; a route's own CSP (an HTML letter) is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [h for h in HEADERS if h[0] not in names]
                if https:
                    headers.append((b"strict-transport-security", HSTS))
                if not static:
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413, before the app reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = b'{"detail":"the request body is too large"}'
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None:
            # The server holds the client to its Content-Length, so checking it is enough.
            if not length.isdigit() or int(length) > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        # No length (chunked): read up to the limit before the app sees anything, then replay.
        chunks: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                chunks.append(message)
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(message)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _cross_site(scope: Scope) -> bool:
    """Whether a browser sent this request from another site: Sec-Fetch-Site says so, or the
    Origin (else the Referer) names a host other than the one the request was sent to."""
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    source = headers.get("origin") or headers.get("referer")
    if not source:
        return False  # not a browser, or one that said nothing: the CSRF tokens still apply
    if source == "null":
        return True
    host = headers.get("host", "")
    return bool(urlsplit(source).netloc.lower() != host.lower())


class SameOriginForms:
    """Refuses (403) a page's unsafe request that a browser sent from another site.

    The forms' CSRF tokens stop a forged form; this also stops login CSRF through a cookie
    planted by a sibling site (the login form's token is a double-submit cookie), since the
    planting site must then post the form too. Bearer-token API calls carry no cookies and are
    not checked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in UNSAFE_METHODS
            and not scope["path"].startswith("/api/")
            and _cross_site(scope)
        ):
            body = b"A form sent from another site was refused.\n"
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
