"""The scenario dialect of API 3.0: rules target actions (``faceid:LivenessCompare``,
``faceid:*``), match their parameters and the decoded media, and answer with a ``Result``,
an ``Error.Code``, the action's values, delays or faults -- all of them as the providers a
product is built with declare (``Tc3Dialect(table)``).  ``Tc3Dialect.facts`` gives a call's
values for ``match``."""
from __future__ import annotations

import difflib
from typing import Any

import re2

from ...core.journal import escape_surrogates
from ...core.media import LaterDigest
from ...core.scenarios.model import Facts, Response
from ...core.scenarios.schema import Checker, as_text
from ...core.yamlsource import show
from .table import ActionTable

FIXED_RESPONSE_KEYS = ("result", "error", "message", "delay_ms", "fault")


class Tc3Dialect:
    """What a rule on the API 3.0 actions of ``table`` may target, match and answer."""

    subject = "API 3.0 actions"
    allows_before_auth = False

    def __init__(self, table: ActionTable) -> None:
        self.table = table
        #: ``service:Action`` for every action, and ``service:*`` for each service's.
        self.targets = table.targets
        self.wildcards = table.wildcards
        self.match_fields = table.text_match_fields + tuple(
            f"{media}.{fact}" for media in table.media_params for fact in ("sha256", "size"))
        self.response_keys = FIXED_RESPONSE_KEYS + tuple(table.data_fields)

    def response(self, c: Checker, entry: dict, line: int,
                 targets: frozenset[str]) -> Response | None:
        """``result`` (a verification outcome), ``error`` (an Error.Code), the action's
        values, ``delay_ms`` or ``fault``."""
        before = len(c.problems)
        c.response_keys(entry, self)
        at = lambda key: c.line(entry, key)  # noqa: E731
        message = c.string(entry["message"], at("message"), "message") \
            if "message" in entry else None
        error = self.error(c, entry["error"], at("error")) if "error" in entry else None
        data: dict[str, Any] = {}
        if "result" in entry:
            result = self.result(c, entry["result"], at("result"), targets)
            if result is not None:
                data["Result"] = result
        for key, (field, owners) in self.table.data_fields.items():
            if key not in entry:
                continue
            if not owners >= targets:
                lacking = sorted(targets - owners)
                c.problem(at(key), f"{key} is not part of the answer of "
                                   f"{'/'.join(lacking)} (it belongs to "
                                   f"{'/'.join(sorted(owners))})")
                continue
            value = self.value(c, field.kind, key, entry[key], at(key))
            if value is not None:
                data[field.field] = value
        delay = c.delay(entry["delay_ms"], at("delay_ms")) if "delay_ms" in entry else None
        fault = c.fault(entry["fault"], at("fault")) if "fault" in entry else None
        answered = [key for key in entry if key not in ("delay_ms", "fault")]
        if fault is not None and answered:
            c.problem(line, f"a fault answers nothing else: remove {', '.join(answered)}")
        elif "error" in entry and len([k for k in answered if k != "message"]) > 1:
            c.problem(line, "an error answers no fields: remove "
                            f"{', '.join(k for k in answered if k not in ('error', 'message'))}")
        elif message is not None and "error" not in entry:
            c.problem(at("message"), "message goes with error (a Result's Description is "
                                     "its catalogue text)")
        if len(c.problems) > before:
            return None
        return Response(message=message, data=data, delay_ms=delay, fault=fault, line=line,
                        error=error)

    def error(self, c: Checker, value: Any, line: int) -> str | None:
        catalogue = self.table.catalogue
        name = c.string(value, line, "error")
        if name is None or name in catalogue:
            return name
        guess = difflib.get_close_matches(name, list(catalogue), n=1, cutoff=0.6)
        hint = f"; did you mean {guess[0]!r}?" if guess else \
            " (mockface codes --api faceid lists them)"
        c.problem(line, f"unknown API 3.0 error {show(name)}{hint}")
        return None

    def result(self, c: Checker, value: Any, line: int, targets: frozenset[str]) -> str | None:
        name = c.string(value, line, "result")
        if name is None:
            return None
        for target in sorted(targets):
            valid = self.table.valid_results(target)
            if not valid:
                c.problem(line, f"{target} has no Result (answer with error: or its values)")
                return None
            if name not in valid:
                guess = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
                hint = f"; did you mean {guess[0]!r}?" if guess else \
                    f" (valid: {', '.join(valid[:8])}, ...)"
                c.problem(line, f"result {show(name)} is not documented for {target}{hint}")
                return None
        return name

    def value(self, c: Checker, kind: str, key: str, value: Any, line: int) -> Any:
        """A value of ``kind`` (provider.KINDS) for the response key ``key``."""
        if kind == "percent":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 <= value <= 100:
                c.problem(line, f"{key} must be a number from 0 to 100, got {show(value)}")
                return None
            return round(float(value), 2)
        if kind == "boolean":
            return c.boolean(value, line, key)
        if kind == "digits":
            return c.digits(value, line, key)
        if not isinstance(value, str) or not re2.fullmatch(r"[0-9](,[0-9])*", value):
            c.problem(line, f"{key} must be digits separated by commas (\"1,2\"), "
                            f"got {show(value)}")
            return None
        return value

    def facts(self, appid: str | None, secret_id: str, params: dict[str, Any],
              media: dict[str, bytes]) -> Facts:
        """The values a rule on API 3.0 actions matches: ``appid``, ``SecretId``, the text
        parameters (lone surrogates escaped, as the journal shows them), and size/sha256 of
        each base64 media parameter's decoded bytes (``media``, as ``decode_media`` gives
        them; a sha256 computed only when a rule reads it)."""
        facts = {name: escape_surrogates(as_text(params[name]))
                 for name in self.table.text_match_fields
                 if params.get(name) is not None and not isinstance(params[name], (dict, list))}
        facts["SecretId"] = secret_id
        if appid is not None:
            facts["appid"] = appid
        for name, data in media.items():
            facts[f"{name}.size"] = str(len(data))
        return Facts(facts, {f"{name}.sha256": LaterDigest(data).hexdigest
                             for name, data in media.items()})
