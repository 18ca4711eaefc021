"""Mosquitto's password file and ACL for every registered gateway (docs/gateways.md).

Each gateway logs in as its own id with a password derived from the provisioning key
(HMAC-SHA256 of the id, first 32 hex digits — the simulator derives the same), and may
publish only to its own telemetry and status topics; it may read nothing. The ingest user
may read every gateway's topics and publish nothing.

Client ids are bound to identities (issue 12: a gateway connecting with ingest's client id used
to wipe ingest's persistent session). Gateways connect to a listener with
`use_username_as_clientid true`, so a gateway's client id is always its own id; ingest has a
credential and a listener of its own (its own password file and ACL, reachable only inside the
deployment), so its workers keep the client ids of their persistent sessions. Client ids are one
namespace across listeners, so no gateway may have an id beginning `homesafe-` (ingest's prefix):
such a gateway gets no password (`skipped_gateways`). The listeners are in
scripts/docker/mosquitto.conf (docs/security.md).

Hashes are Mosquitto 2's `$7$` format: PBKDF2-HMAC-SHA512, base64 salt and hash, the same
as `mosquitto_passwd` writes (101 iterations, 12-byte salt, 64-byte hash by default).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from ingest.contract import is_valid_id

PBKDF2_ITERATIONS: Final = 101
SALT_BYTES: Final = 12
TOPIC_ROOT: Final = "homesafe/v1/gw"
RESERVED_PREFIX: Final = "homesafe-"  # ingest's client ids; never a gateway's
# Largest MQTT packet a gateway may send: the contract's 64 KiB payload, with room for the topic
# and properties, and for slightly oversized payloads to reach ingest and be dead-lettered; a
# larger packet is refused by the broker before it is read (max_packet_size).
MAX_PACKET_BYTES: Final = 256 * 1024


def gateway_password(key: str, gateway_id: str) -> str:
    """The MQTT password a gateway derives from the provisioning key."""
    return hmac.new(key.encode(), gateway_id.encode(), hashlib.sha256).hexdigest()[:32]


def mosquitto_hash(
    password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS
) -> str:
    """A Mosquitto 2 password hash: `$7$iterations$salt_b64$hash_b64` (PBKDF2-SHA512)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def password_file_text(credentials: Iterable[tuple[str, str]]) -> str:
    """One `user:hash` line per (username, password)."""
    lines = []
    for username, password in credentials:
        if ":" in username or "\n" in username or not username:
            raise ValueError(f"username {username!r} cannot go in a Mosquitto password file")
        lines.append(f"{username}:{mosquitto_hash(password)}")
    return "\n".join(lines) + "\n"


def acl_text(gateway_ids: Iterable[str], ingest_user: str | None) -> str:
    """The ACL: each gateway writes its own topics only; the ingest user reads them all."""
    blocks = []
    if ingest_user:
        blocks.append(f"user {ingest_user}\ntopic read {TOPIC_ROOT}/#\n")
    for gateway_id in gateway_ids:
        if not is_valid_id(gateway_id):
            raise ValueError(f"gateway id {gateway_id!r} is not 1-64 of A-Z a-z 0-9 _ -")
        blocks.append(
            f"user {gateway_id}\n"
            f"topic write {TOPIC_ROOT}/{gateway_id}/telemetry\n"
            f"topic write {TOPIC_ROOT}/{gateway_id}/status\n"
        )
    return "\n".join(blocks)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def reserved(gateway_id: str) -> bool:
    """Whether the id lies in the client-id namespace kept for Homesafe's own clients."""
    return gateway_id.lower().startswith(RESERVED_PREFIX)


def write_broker_config(
    *,
    gateway_ids: Iterable[str],
    gateway_key: str,
    password_file: Path,
    acl_file: Path,
    ingest_user: str | None = None,
    ingest_password: str | None = None,
    ingest_password_file: Path | None = None,
    ingest_acl_file: Path | None = None,
) -> int:
    """Write the files (atomically, mode 0600); how many gateways they cover.

    With ``ingest_password_file`` and ``ingest_acl_file``, ingest's credential and ACL go there
    (ingest's own listener) and the gateway files hold gateways only; without them, ingest's user
    goes in the gateway files as before (one listener: a gateway could then take over ingest's
    client id unless the listener binds client ids to usernames, which breaks shared workers).
    Gateway ids with the reserved ``homesafe-`` prefix are left out: see ``skipped_gateways``.
    """
    ids = sorted(set(gateway_ids))
    if ingest_user is not None and ingest_user in ids:
        raise ValueError(f"ingest user {ingest_user!r} is also a gateway id")
    if (ingest_password_file is None) != (ingest_acl_file is None):
        raise ValueError("give both ingest files (password file and ACL) or neither")
    ids = [gateway_id for gateway_id in ids if not reserved(gateway_id)]
    credentials = [(gateway_id, gateway_password(gateway_key, gateway_id)) for gateway_id in ids]
    ingest = ingest_user if ingest_user and ingest_password else None
    if ingest_password_file is not None and ingest_acl_file is not None:
        if ingest is None:
            raise ValueError("ingest's own files need the ingest user and password")
        _write_private(ingest_password_file, password_file_text([(ingest, ingest_password or "")]))
        _write_private(ingest_acl_file, acl_text([], ingest))
        ingest = None  # not on the gateways' listener
    elif ingest is not None:
        credentials.insert(0, (ingest, ingest_password or ""))
    _write_private(password_file, password_file_text(credentials))
    _write_private(acl_file, acl_text(ids, ingest))
    return len(ids)


def skipped_gateways(gateway_ids: Iterable[str]) -> list[str]:
    """The gateway ids write_broker_config leaves out (reserved prefix), sorted."""
    return sorted({gateway_id for gateway_id in gateway_ids if reserved(gateway_id)})
