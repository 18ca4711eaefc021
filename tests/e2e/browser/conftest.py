"""Headless Chromium (Debian's /usr/bin/chromium, driven by Python's playwright) against a live
Homesafe server on a free port. Screenshots go to test-artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.integration.api.site import Site, build_site
from tests.locks import exclusive

CHROMIUM = os.environ.get("HOMESAFE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    """A populated site served by uvicorn in a thread: (site, base URL)."""
    site = build_site(tmp_path_factory.mktemp("browser"))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield site, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A fresh Chromium profile (its own --user-data-dir) for the module."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-services.sh (installs chromium)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser_context):  # type: ignore[no-untyped-def]
    """A new tab with no cookies (nobody signed in)."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    yield tab
    tab.close()


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Keep a full-page screenshot as a test artefact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


AXE_DIR = Path(__file__).resolve().parents[3] / ".cache" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core 4 from the npm registry, installed once into .cache/axe (gitignored) at test time;
    the pages themselves never load it. One test worker installs while the others wait."""
    with exclusive(AXE_DIR.parent / "axe.lock"):
        return _axe_source()


def _axe_source() -> str:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                "npm is missing: apt-get install npm (axe-core comes from the npm registry)"
            )
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(AXE_DIR),
                "axe-core@4",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ],
            check=True,
            timeout=300,
        )
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page, source: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """Serious and critical axe-core violations on the page as it stands (WCAG 2.2 A and AA,
    and best practices). Evaluated through the DevTools protocol, so no page script is added."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
