"""Ingest's Prometheus /metrics listens on 127.0.0.1 unless told otherwise (issue 12: it listened
on every interface); HOMESAFE_METRICS_HOST changes it."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from homesafe.cli import load_settings, start_metrics
from tests.servers import free_port

pytestmark = pytest.mark.integration


def _other_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent by a UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else str(address)


def test_metrics_listen_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOMESAFE_METRICS_HOST", raising=False)
    settings = load_settings()
    assert settings.metrics_host == "127.0.0.1"
    port = free_port()
    server = start_metrics(port, settings.metrics_host)
    try:
        assert server.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert answer.status == 200
        other = _other_address()
        if other is not None:
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((other, port), timeout=2).close()
    finally:
        server.shutdown()
        server.server_close()


def test_the_setting_changes_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMESAFE_METRICS_HOST", "0.0.0.0")
    settings = load_settings()
    server = start_metrics(free_port(), settings.metrics_host)
    try:
        assert server.server_address[0] == "0.0.0.0"
    finally:
        server.shutdown()
        server.server_close()
