"""The JSON Schemas Homesafe's exports validate against, and the check itself.

``published/`` holds the damp and mould data model's component schemas exactly as published
(github.com/data-futurists/damp-and-mould-standards-concept at ef4e66e, MIT: ``published/LICENSE``).
``investigation_component.json`` and ``work_order_component.json`` beside this file are written
from them; each says in its description what it keeps and what it changes.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

HERE = Path(__file__).parent
COMPONENTS = ("investigation", "work_order")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

format_checker = FormatChecker()


@format_checker.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]
def _date_time(value: object) -> bool:
    """RFC 3339 date-time with an offset (jsonschema checks it only with an optional package)."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    date.fromisoformat(value[:10])
    return True


@cache
def schema(component: str, *, published: bool = False) -> dict[str, Any]:
    """Homesafe's schema of the component (or the published one, unchanged)."""
    if component not in COMPONENTS:
        raise KeyError(f"component {component!r}: one of {', '.join(COMPONENTS)}")
    folder = HERE / "published" if published else HERE
    data: dict[str, Any] = json.loads(
        (folder / f"{component}_component.json").read_text(encoding="utf-8")
    )
    return data


def errors(component: str, document: Any, *, published: bool = False) -> list[str]:
    """Every way the document breaks the component's schema, as ``path: message`` lines."""
    validator = Draft7Validator(
        schema(component, published=published), format_checker=format_checker
    )
    out = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path) or "(document)"
        out.append(f"{path}: {error.message}")
    return out
