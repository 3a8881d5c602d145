"""Strict JSON for request bodies of either API and the admin API."""
from __future__ import annotations

import json
from typing import Any


def loads_strict(raw: bytes | str) -> Any:
    """Parse JSON strictly: no NaN/Infinity, no nesting deep enough to exhaust the stack,
    repeated names keep their first value (as repeated multipart parts do).  ValueError for
    anything else (UnicodeDecodeError included)."""
    try:
        return json.loads(raw, parse_constant=_reject_constant, object_pairs_hook=_first_wins)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _first_wins(pairs: list[tuple[str, object]]) -> dict[str, object]:
    document: dict[str, object] = {}
    for name, value in pairs:
        document.setdefault(name, value)
    return document


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
