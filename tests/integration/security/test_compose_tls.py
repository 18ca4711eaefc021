"""The production shape (issue 12): docker-compose.yml refuses to start without its secrets, has
no default password, serves the pages and API only through a TLS reverse proxy, publishes ingest's
broker listener nowhere; every Homesafe process refuses a default or short secret in production;
and the repo's Caddyfile, run by a real Caddy with a certificate made at test time in front of a
real Homesafe API, serves HTTPS with HSTS and redirects plain HTTP."""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from homesafe.cli import main
from homesafe.lifecycle import HttpServer
from tests.integration.api.site import build_site
from tests.servers import free_port, port_open
from tests.tls import make_certificates

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SECRETS = {
    "POSTGRES_PASSWORD": "a-postgres-password-of-the-landlord",
    "HOMESAFE_MQTT_PASSWORD": "an-mqtt-password-for-ingest-only",
    "HOMESAFE_GATEWAY_KEY": "g" * 40,
    "HOMESAFE_AUDIT_KEY": "a" * 40,
    "HOMESAFE_PUBLIC_HOST": "homesafe.landlord.example",
    "HOMESAFE_TLS": "internal",
}


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is not installed"
    base = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [binary, "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **env},
    )


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_start_without_each_secret(missing: str) -> None:
    result = _config({k: v for k, v in SECRETS.items() if k != missing})
    assert result.returncode != 0
    assert missing in result.stderr


def test_compose_has_no_default_password_anywhere() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text
    # An empty default turns a feature off (OpenID Connect without an issuer); a secret never
    # has one: each must be given (`:?`).
    optional = re.findall(r"\$\{(\w+):-\}", text)
    assert set(optional) <= {
        "HOMESAFE_OIDC_ISSUER",
        "HOMESAFE_OIDC_CLIENT_ID",
        "HOMESAFE_OIDC_CLIENT_SECRET",
        "HOMESAFE_OIDC_ROLE_MAP",
    }, optional
    for secret in (
        "POSTGRES_PASSWORD",
        "HOMESAFE_MQTT_PASSWORD",
        "HOMESAFE_GATEWAY_KEY",
        "HOMESAFE_AUDIT_KEY",
    ):
        assert f"${{{secret}:?" in text, secret
        assert f"${{{secret}:-" not in text, secret


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    result = _config(SECRETS)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def _published(service: dict[str, Any]) -> set[int]:
    found = set()
    for port in service.get("ports", []):
        found.add(
            int(port["published"]) if isinstance(port, dict) else int(str(port).split(":")[0])
        )
    return found


def test_only_the_proxy_serves_http_and_only_over_tls(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert _published(services["api"]) == set()
    assert _published(services["proxy"]) == {80, 443}
    assert _published(services["mosquitto"]) == {1883, 8883}  # not 1884, ingest's own
    for name in ("migrate", "ingest", "detectors", "scheduler", "api", "broker-config"):
        env = services[name]["environment"]
        assert env["HOMESAFE_PRODUCTION"] == "true", name
    assert "--ingest-password-file" in services["broker-config"]["command"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOMESAFE_DATABASE_URL", "postgresql+psycopg://homesafe:change-me@127.0.0.1/homesafe"),
        ("HOMESAFE_MQTT_URL", "mqtt://ingest:short@127.0.0.1:1884"),
        ("HOMESAFE_GATEWAY_KEY", "too short"),
        ("HOMESAFE_AUDIT_KEY", ""),
    ],
)
def test_production_processes_refuse_default_or_short_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys, variable: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    good = {
        "HOMESAFE_PRODUCTION": "true",
        "HOMESAFE_GATEWAY_KEY": "g" * 40,
        "HOMESAFE_AUDIT_KEY": "a" * 40,
        "HOMESAFE_DATABASE_URL": f"sqlite:///{tmp_path / 'cases.db'}",
        "HOMESAFE_TELEMETRY_URL": f"sqlite:///{tmp_path / 't.db'}",
    }
    for name, setting in {**good, variable: value}.items():
        monkeypatch.setenv(name, setting)
    assert main(["db", "upgrade"]) == 2
    assert variable in capsys.readouterr().err
    monkeypatch.setenv(
        variable, good.get(variable, "mqtt://ingest:" + "p" * 20 + "@127.0.0.1:1884")
    )
    assert main(["db", "upgrade"]) == 0


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, Path]]:
    """Caddy with scripts/docker/Caddyfile in front of a Homesafe API: (https, http, CA file)."""
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail("caddy is not installed: run scripts/ensure-services.sh", pytrace=False)
    work = tmp_path_factory.mktemp("caddy")
    certs = make_certificates(work / "certs", hosts=("localhost", "127.0.0.1"), name="site")
    site = build_site(work / "site")
    api_port, https_port, http_port = free_port(), free_port(), free_port()
    server = HttpServer(site.app, host="127.0.0.1", port=api_port, log_level="warning")
    import threading

    stop = threading.Event()
    serving = threading.Thread(target=server.serve_until, args=(stop,), daemon=True)
    serving.start()
    env = {
        **os.environ,
        "HOMESAFE_PUBLIC_HOST": "localhost",
        "HOMESAFE_TLS": f"{certs.cert} {certs.key}",
        "HOMESAFE_API_UPSTREAM": f"127.0.0.1:{api_port}",
        "HOMESAFE_HTTPS_PORT": str(https_port),
        "HOMESAFE_HTTP_PORT": str(http_port),
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "HOME": str(work),
    }
    log = open(work / "caddy.log", "wb")
    proc = subprocess.Popen(
        [
            caddy,
            "run",
            "--config",
            str(ROOT / "scripts/docker/Caddyfile"),
            "--adapter",
            "caddyfile",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not (port_open("127.0.0.1", https_port) and port_open("127.0.0.1", api_port)):
            assert proc.poll() is None, (work / "caddy.log").read_text()
            assert time.monotonic() < deadline, (work / "caddy.log").read_text()
            time.sleep(0.1)
        yield https_port, http_port, certs.ca
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()
        stop.set()


def test_caddy_serves_the_pages_over_https_with_hsts(proxied: tuple[int, int, Path]) -> None:
    https_port, _http_port, ca = proxied
    context = ssl.create_default_context(cafile=str(ca))
    with urllib.request.urlopen(
        f"https://localhost:{https_port}/transparency", context=context, timeout=20
    ) as answer:
        assert answer.status == 200
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers.get("Server") is None
    with pytest.raises(urllib.error.URLError) as untrusted:
        urllib.request.urlopen(
            f"https://localhost:{https_port}/transparency",
            context=ssl.create_default_context(),
            timeout=20,
        )
    assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)


def test_plain_http_is_redirected_to_https(proxied: tuple[int, int, Path]) -> None:
    _https_port, http_port, _ca = proxied

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"http://localhost:{http_port}/transparency", timeout=20)
    assert refused.value.code in (301, 302, 307, 308)
    assert refused.value.headers["Location"].startswith("https://localhost")
