"""The scenario schema: the document's shape (``mockface.core.scenarios.schema``: the keys of
a scenario, a rule, a condition, the faults) and, for each product's dialect (through
``mockface.products.REGISTRY``: ``product.dialect``), what a rule may target, match and
answer with (``products/*/scenario_rules.py``)."""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .markdown import code, codes, table, text

#: What the response keys every dialect of a kind has do; a key not here is one of the
#: answer's values (its field and type shown from the dialect where it declares them).
KEY_MEANINGS = {
    "code": "the answer's code (`0` or one the endpoint documents; see the code catalogues)",
    "message": "the message answered with the `code` (legacy) or the `error` (API 3.0)",
    "http_status": "the HTTP status of the answer",
    "allow_undocumented": "`true`: allow a `code` the endpoint does not document "
                          "(needs a `message`)",
    "result": "the `Result` (a verdict) the action answers; see the Result tables",
    "error": "an `Error.Code` answered instead of the action's fields",
    "delay_ms": "wait this long first: milliseconds, or `[min, max]` for a random delay",
    "fault": "answer nothing usable: one of the fault names, `{http_status, body, "
             "content_type}` or `{timeout_ms}`",
    "outcome": "issue the token already finished with this outcome: the body of `POST "
               "/__mockface/verifications/{token}/complete` (`err_code` or `attempts`, `sim`, "
               "`identity`, `intention_code`)",
    "status_code": "the `StatusCode` answered (one of the action's values)",
    "range": "the `Range` answered (one of the action's buckets)",
}


def _schema() -> Any:
    return importlib.import_module("mockface.core.scenarios.schema")


def shape() -> list[str]:
    """The keys of a scenario document and of its rules, from the checker's own lists."""
    schema = _schema()
    lines = ["## The document", "",
             "A scenario is a YAML or JSON mapping (at most "
             f"{schema.MAX_SCENARIO_BYTES // 2**20} MB); a rule targets the names of one "
             "API.", ""]
    lines += table(["where", "keys"], [
        ["scenario", codes(schema._SCENARIO_KEYS)],
        ["rule", codes(schema._RULE_KEYS)],
        ["`match` condition", "a scalar, a list of scalars (any of them), or one of "
                              + codes(schema._CONDITION_KEYS)
                              + f" (an RE2 pattern of at most {schema.MAX_PATTERN} characters)"],
        ["`fault` (a name)", codes(schema.FAULT_NAMES)],
        ["`fault` (a mapping)", codes(schema._RAW_FAULT_KEYS) + ", or " + code("timeout_ms")
         + " alone"],
    ])
    return lines


def owners(dialect: Any) -> dict[str, tuple[str, frozenset[str]]]:
    """Response key -> (what it sets, the targets whose answers have it), for the keys a
    dialect declares owners of: an API 3.0 dialect's action table (``data_fields``) and
    rule values; the legacy dialect's module ``DATA_FIELDS``."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    action_table = getattr(dialect, "table", None)
    for key, (field, targets) in getattr(action_table, "data_fields", {}).items():
        found[key] = (f"`{field.field}` ({field.kind})", frozenset(targets))
    for key, (_value, targets) in getattr(dialect, "rule_values", {}).items():
        found[key] = (KEY_MEANINGS.get(key, "a value the action takes from the rule"),
                      frozenset(targets))
    valid_results = getattr(action_table, "valid_results", None)
    if valid_results is not None and "result" in dialect.response_keys:
        found["result"] = (KEY_MEANINGS["result"], frozenset(
            target for target in dialect.targets if valid_results(target)))
    module = importlib.import_module(type(dialect).__module__)
    data_fields: Mapping[str, frozenset[str]] = getattr(module, "DATA_FIELDS", {})
    for key, targets in data_fields.items():
        found.setdefault(key, (f"`data.{key}`", frozenset(targets)))
    return found


def dialect_section(product: Any) -> list[str]:
    """What a rule on one product's names may target, match and answer."""
    dialect = product.dialect
    targets = tuple(dialect.targets)
    lines = [f"## Rules on {text(dialect.subject)}", "",
             f"`endpoint`: one of the {len(targets)} names below, a list of them, or "
             + ", ".join(f"{code(name)} ({len(names)} names)"
                         for name, names in dialect.wildcards.items())
             + (". `before_auth: true` is allowed (the rule answers before the signature "
                "checks)." if dialect.allows_before_auth else
                ". `before_auth` does not apply: rules answer after the signature checks."),
             "", codes(targets), "",
             "`match` fields: " + codes(dialect.match_fields) + ".", ""]
    declared = owners(dialect)
    rows = []
    for key in dialect.response_keys:
        if key in declared:
            what, takers = declared[key]
            applies = "every one" if set(takers) >= set(targets) else codes(sorted(takers))
            rows.append([code(key), text(what), applies])
        else:
            rows.append([code(key), text(KEY_MEANINGS.get(key, "")), "every one"])
    lines += ["Response keys (`respond`: one mapping, or a list played in turn):", ""]
    lines += table(["key", "what it sets", "targets"], rows)
    return lines


def render() -> list[str]:
    """The page body: the document's shape, then each product's dialect."""
    from mockface.products import REGISTRY

    lines = shape()
    for product in REGISTRY:
        lines += dialect_section(product)
    return lines
