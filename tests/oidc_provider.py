"""A real OpenID Provider for the sign-in tests: panva's certified `oidc-provider` from the npm
registry (version pinned, with its lock file, in tests/oidc/), run by Node on 127.0.0.1.

The package is installed once into .cache/oidc-provider with `npm ci` (npm's own cache makes a
second install quick); tests that need it are skipped only when npm or node is not installed.
A test drives the provider as a browser would (tests/integration/security/test_oidc.py): follow
the redirects, post the login form (any name: the account's claims come from `accounts`) and the
consent form, and stop at the redirect back to Homesafe.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from tests.locks import exclusive
from tests.servers import _die_with_parent

REPO = Path(__file__).resolve().parent.parent
SOURCE = Path(__file__).resolve().parent / "oidc"
CACHE = REPO / ".cache" / "oidc-provider"
START_TIMEOUT_S = 30.0
INSTALL_TIMEOUT_S = 300.0


class ProviderUnavailable(RuntimeError):
    """npm or node is missing (the tests skip), or the provider would not install or start."""


def oidc_provider_version() -> str:
    """The pinned oidc-provider version (tests/oidc/package.json)."""
    return str(json.loads((SOURCE / "package.json").read_text())["dependencies"]["oidc-provider"])


def install() -> Path:
    """Install the pinned provider into .cache/oidc-provider (once; again when the pin changes);
    one test worker installs while the others wait."""
    with exclusive(CACHE.parent / "oidc-provider.lock"):
        return _install()


def _install() -> Path:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        raise ProviderUnavailable("npm and node are needed for the OpenID Provider tests")
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json", "provider.mjs"):
        target = CACHE / name
        if not target.exists() or target.read_bytes() != (SOURCE / name).read_bytes():
            shutil.copyfile(SOURCE / name, target)
    installed = CACHE / "node_modules" / "oidc-provider" / "package.json"
    stamp = CACHE / "node_modules" / ".homesafe-lock"
    lock = (CACHE / "package-lock.json").read_bytes()
    if installed.exists() and stamp.exists() and stamp.read_bytes() == lock:
        return CACHE
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=CACHE,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        raise ProviderUnavailable(f"npm ci failed in {CACHE}:\n{result.stderr[-2000:]}")
    stamp.write_bytes(lock)
    return CACHE


def node_version() -> str:
    """The Node.js version the provider runs on."""
    node = shutil.which("node")
    if node is None:
        raise ProviderUnavailable("node is not installed")
    return subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass
class Provider:
    """A running provider: its issuer URL, and its log for error messages."""

    issuer: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@contextlib.contextmanager
def running_provider(
    workdir: Path,
    *,
    clients: list[dict[str, Any]],
    accounts: dict[str, dict[str, Any]],
    conform_id_token_claims: bool = False,
) -> Iterator[Provider]:
    """Start the provider with these clients and accounts on a free port; stop it afterwards."""
    directory = install()
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "oidc-provider.log"
    options = {
        "clients": clients,
        "accounts": accounts,
        "conform_id_token_claims": conform_id_token_claims,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(shutil.which("node")), str(directory / "provider.mjs")],
            cwd=directory,
            env={**os.environ, "HOMESAFE_TEST_OP": json.dumps(options)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    provider = None
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while provider is None:
            found = re.search(r"listening (http://127\.0\.0\.1:\d+)", log_path.read_text())
            if found:
                provider = Provider(found.group(1), process, log_path)
            elif process.poll() is not None or time.monotonic() > deadline:
                raise ProviderUnavailable(
                    f"oidc-provider did not start; log {log_path}:\n{log_path.read_text()[-2000:]}"
                )
            else:
                time.sleep(0.05)
        yield provider
    finally:
        if provider is not None:
            provider.stop()
        elif process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def sign_in_at_provider(
    browser: httpx.Client, authorization_url: str, *, login: str, redirect_prefix: str
) -> str:
    """Act as the person's browser at the provider: follow its redirects, post the login and
    consent forms, and return the URL it finally sends the browser to (back to Homesafe)."""
    url = authorization_url
    for _ in range(12):
        if url.startswith(redirect_prefix):
            return url
        response = browser.get(url)
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            continue
        if response.status_code != 200:
            raise AssertionError(f"the provider answered {response.status_code}: {response.text}")
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="post"', response.text)
        if form is None:
            raise AssertionError(f"no form on the provider's page: {response.text[:2000]}")
        action = urljoin(url, form.group(1))
        if 'name="prompt" value="login"' in response.text:
            data = {"prompt": "login", "login": login, "password": "any"}
        elif 'name="prompt" value="consent"' in response.text:
            data = {"prompt": "consent"}
        else:
            raise AssertionError(f"an unknown form at the provider: {response.text[:2000]}")
        posted = browser.post(action, data=data)
        if not posted.is_redirect:
            raise AssertionError(
                f"the provider's form answered {posted.status_code}: {posted.text}"
            )
        url = urljoin(action, posted.headers["location"])
    raise AssertionError("the provider never sent the browser back")


def query_of(url: str) -> dict[str, str]:
    """The single-valued query parameters of a URL."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
