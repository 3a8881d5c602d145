"""The code catalogues of both APIs, from each product's surface through
``mockface.products.REGISTRY`` (``product.surface.catalogue()``: every code with what it
means; ``catalogue(target)``: what one endpoint or action answers), and the Result tables of
the API 3.0 actions that answer one (from the scenario dialect's action table: the Results
a rule may give each action, and each table's Descriptions)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .markdown import code, codes, table, text

#: The columns of a catalogue entry, in the order shown, with their headers.
COLUMNS = {"code": "code", "constant": "constant", "http_status": "HTTP",
           "in_band": "in band", "message": "message (English)", "meaning": "meaning (Tencent's)",
           "endpoints": "answered by"}


def _registry() -> Any:
    from mockface.products import REGISTRY
    return REGISTRY


def _is_result(entry: dict[str, Any]) -> bool:
    """Whether a catalogue entry is a row of an action's own Result table (``{"kind":
    "result", "result", "description", "charged"}``), not a code."""
    return entry.get("kind") == "result"


def answered_by(surface: Any, entries: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Code -> the targets whose catalogue has it (``surface.catalogue(target)``)."""
    found: dict[str, list[str]] = {str(entry["code"]): [] for entry in entries}
    for target in surface.targets():
        for entry in surface.catalogue(target):
            if not _is_result(entry):
                found.setdefault(str(entry["code"]), []).append(target)
    return found


def _cell(key: str, value: Any, every: Sequence[str], word: str) -> str:
    if key == "endpoints":
        listed = list(value)
        return f"every {word}" if set(listed) >= set(every) else codes(listed)
    if key in ("code", "constant"):
        return code(value)
    if value is None:
        return ""
    return text(value)


def catalogue_section(product: Any) -> list[str]:
    """One product's catalogue: a table of every code it answers."""
    surface = product.surface
    entries = [entry for entry in surface.catalogue() if not _is_result(entry)]
    targets = list(surface.targets())
    word = "action" if any(":" in target for target in targets) else "endpoint"
    if entries and "endpoints" not in entries[0]:
        by_code = answered_by(surface, entries)
        entries = [{**entry, "endpoints": by_code[str(entry["code"])]} for entry in entries]
    keys = [key for key in COLUMNS if any(key in entry for entry in entries)]
    keys += [key for key in (entries[0] if entries else {}) if key not in keys]
    names = surface.names
    lines = [f"## The {names.document_label} codes", "",
             f"{len(entries)} codes of {text(names.document_about)}, as "
             f"`GET /__mockface/codes{'?api=' + names.codes_api if names.codes_api else ''}` "
             f"and `mockface codes` list them.", ""]
    lines += table([COLUMNS.get(key, key) for key in keys],
                   [[_cell(key, entry.get(key), targets, word) for key in keys]
                    for entry in entries])
    return lines


#: How a Result table shows whether Tencent bills a call answered with the code.
CHARGED = {True: "charged", False: "free", None: "not documented"}


def result_tables(product: Any) -> dict[str, list[list[str]]]:
    """``service:Action`` -> the rows of its Result table (Result, Description, and whether
    it is charged when the catalogue says), for each action that answers a verdict: its own
    table from its catalogue (``surface.catalogue(target)``'s ``kind: result`` entries), else
    the catalogue names its scenario dialect accepts as its ``result`` (``valid_results``
    of the dialect's action table, where it has one)."""
    surface = product.surface
    catalogue = {str(entry["code"]): entry for entry in surface.catalogue()
                 if not _is_result(entry)}
    action_table = getattr(product.dialect, "table", None)
    found: dict[str, list[list[str]]] = {}
    for target in surface.targets():
        own = [entry for entry in surface.catalogue(target) if _is_result(entry)]
        if own:
            found[target] = [[code(entry["result"]), text(entry.get("description", "")),
                              CHARGED.get(entry.get("charged"), "")] for entry in own]
            continue
        valid = getattr(action_table, "valid_results", None)
        results = valid(target) if valid is not None else ()
        if not results:
            continue
        declared = getattr(getattr(action_table, "declarations", {}).get(target),
                           "result_table", None) or {}
        found[target] = [[code(result), text(declared.get(result) or catalogue.get(
            result, {}).get("meaning", "") or ("the call passed" if result == "Success"
                                              else "")), ""]
                         for result in results]
    return found


def results_section(product: Any) -> list[str]:
    """The Result tables of a product's actions (nothing for a product without)."""
    tables = result_tables(product)
    if not tables:
        return []
    lines = [f"## The {product.surface.names.document_label} Result tables", "",
             "An action below answers a verdict in `Result` (a string) with its "
             "`Description`, not an error; a scenario rule's `result:` may give any of them. "
             "An element check's table is its own (the same number means different things "
             "on different actions).", ""]
    for target, rows in tables.items():
        lines += [f"### {code(target)}", ""]
        charged = any(row[2] for row in rows)
        lines += table(["Result", "Description", *(["billed"] if charged else [])],
                       [row if charged else row[:2] for row in rows])
    return lines


def render() -> list[str]:
    """The page body: every product's catalogue, then its Result tables."""
    lines: list[str] = []
    for product in _registry():
        lines += catalogue_section(product)
        lines += results_section(product)
    return lines
