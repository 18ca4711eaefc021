"""Standard Webhooks: secrets, signatures, and which target addresses are allowed.

The signature is the specification's: ``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}"))
where ``key`` is the base64-decoded part of the ``whsec_`` secret, sent with ``webhook-id``,
``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` headers, so a receiver verifies
it with any stock library (the tests use the ``standardwebhooks`` package as the receiver).

Targets must be ``https://`` URLs whose host resolves only to public (global) addresses; plain
``http://`` and private, loopback or link-local addresses are refused unless
``HOMESAFE_WEBHOOK_ALLOW_PRIVATE=true``. The check runs when a subscription is made and again
before every delivery (a name that later resolves to a private address is refused then).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message says why."""


def new_secret() -> str:
    """A fresh signing secret: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header value for one delivery."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers, and the content type."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"the host {host!r} does not resolve: {exc.strerror}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_target(url: str, *, allow_private: bool) -> str:
    """The URL, if it may receive webhooks; else TargetRefused with the reason."""
    if len(url) > 2000:
        raise TargetRefused("the URL is longer than 2000 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused("the URL must be an https:// address with a host name")
    if parts.username or parts.password:
        raise TargetRefused("the URL must not carry a user name or password")
    if allow_private:
        return url
    if parts.scheme != "https":
        raise TargetRefused(
            "the URL must be https:// (http:// only with HOMESAFE_WEBHOOK_ALLOW_PRIVATE=true)"
        )
    port = parts.port or 443
    for address in _addresses(parts.hostname, port):
        if not address.is_global:
            raise TargetRefused(
                f"{parts.hostname} resolves to {address}, which is not a public address "
                "(allowed only with HOMESAFE_WEBHOOK_ALLOW_PRIVATE=true)"
            )
    return url
