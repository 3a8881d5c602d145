"""The served actions against the installed Tencent Cloud SDK: the rows ``mockface coverage
--json --details`` prints (``mockface.cli.coverage.collect``, which runs each product's
comparison, ``mockface.products.tc3.coverage``); a note instead for a service whose SDK is
not installed."""
from __future__ import annotations

from collections import Counter
from typing import Any

from .markdown import code, codes, table, text


def note(row: dict[str, Any]) -> str:
    """What the page says of a row besides its status."""
    parts = []
    if row.get("reason"):
        parts.append(text(row["reason"]))
    if row.get("missing_params"):
        parts.append("lacks the SDK's parameters " + codes(row["missing_params"]))
    if row.get("type_mismatches"):
        parts.append("types differ: " + ", ".join(
            f"{code(name)} ({kinds['declared']}; SDK {kinds['sdk']})"
            for name, kinds in row["type_mismatches"].items()))
    return "; ".join(parts)


def render() -> list[str]:
    """The page body: a count per service and version, then every row."""
    from mockface.cli.coverage import STATUSES, collect

    rows, notes, missing = collect((), details=True)
    lines: list[str] = []
    for message in missing:
        lines += [":::{note}", f"Not compared: {text(message)}", ":::", ""]
    if not rows:
        return lines + ["No SDK of a served service is installed where this manual was "
                        "built: install the `test` extra and build again.", ""]
    lines += ["Read from " + ", ".join(text(item) for item in notes) + ".", ""]
    counts: dict[tuple[str, str], Counter[str]] = {}
    for row in rows:
        counts.setdefault((row["product"], row["version"]), Counter())[row["status"]] += 1
    lines += table(["service", "version", *STATUSES],
                   [[product, version, *(str(counter[status]) for status in STATUSES)]
                    for (product, version), counter in counts.items()])
    for (product, version) in counts:
        lines += [f"## {product} {version}", ""]
        lines += table(["action", "status", "note"],
                       [[code(row["action"]), row["status"], note(row)] for row in rows
                        if (row["product"], row["version"]) == (product, version)])
    return lines
