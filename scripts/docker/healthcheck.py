#!/usr/bin/env python3
"""Container healthcheck: `homesafe-healthcheck api | mqtt | telemetry | database ...`, exit 0 when all answer."""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORTS = {
    "mqtt": 1883,
    "mqtts": 8883,
    "influxdb": 8086,
    "influxdbs": 8086,
    "postgresql": 5432,
}
TIMEOUT_S = 3.0


def _tcp(url: str) -> None:
    """Connect to the host and port of url, or raise OSError."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    with socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS[scheme]), TIMEOUT_S
    ):
        pass


def _sqlite(url: str) -> None:
    """Check that the SQLite file's directory exists."""
    path = Path(url.removeprefix("sqlite:///"))
    if not path.parent.is_dir():
        raise OSError(f"no directory {path.parent}")


def check_api() -> None:
    """GET /api/v1/health on this container's API."""
    port = os.environ.get("HOMESAFE_HEALTH_PORT", "8000")
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/api/v1/health", timeout=TIMEOUT_S
    ) as resp:
        if resp.status != 200:
            raise OSError(f"health answered {resp.status}")


def check_mqtt() -> None:
    """The broker in HOMESAFE_MQTT_URL accepts TCP connections."""
    _tcp(os.environ["HOMESAFE_MQTT_URL"])


def check_telemetry() -> None:
    """InfluxDB in HOMESAFE_TELEMETRY_URL answers /ping (or the SQLite directory exists)."""
    url = os.environ["HOMESAFE_TELEMETRY_URL"]
    if url.startswith("sqlite"):
        _sqlite(url)
        return
    parts = urlsplit(url)
    scheme = "https" if parts.scheme == "influxdbs" else "http"
    ping = f"{scheme}://{parts.hostname}:{parts.port or 8086}/ping"
    with urllib.request.urlopen(ping, timeout=TIMEOUT_S) as resp:
        if resp.status != 204:
            raise OSError(f"/ping answered {resp.status}")


def check_database() -> None:
    """PostgreSQL in HOMESAFE_DATABASE_URL accepts TCP connections (or the SQLite directory exists)."""
    url = os.environ["HOMESAFE_DATABASE_URL"]
    if url.startswith("sqlite"):
        _sqlite(url)
    else:
        _tcp(url)


CHECKS = {
    "api": check_api,
    "mqtt": check_mqtt,
    "telemetry": check_telemetry,
    "database": check_database,
}


def main(argv: list[str]) -> int:
    """Run the named checks; print the first failure and return 1, else 0."""
    names = argv or ["api"]
    for name in names:
        if name not in CHECKS:
            sys.stderr.write(f"unknown check {name!r}; choose from {', '.join(CHECKS)}\n")
            return 2
        try:
            CHECKS[name]()
        except Exception as exc:
            sys.stderr.write(f"{name}: {exc}\n")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
