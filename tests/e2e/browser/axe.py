"""axe-core in the test browser: the ``axe.min.js`` the axe-playwright-python package ships (no
network), evaluated over the DevTools protocol (so a page's Content-Security-Policy does not
block it), run against WCAG 2.0/2.1/2.2 A and AA rules.

A minimal helper of notify's own: the pages engineer's shared axe-core fixture had not landed on
main when this was written; when it lands, these tests can use it instead.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _source() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def violations(page: Any) -> list[dict[str, Any]]:  # a playwright Page
    """axe-core's violations on the page as it stands (an empty list when clean)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source() + "\n;true")
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return [
        {
            "id": v["id"],
            "impact": v.get("impact"),
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]
