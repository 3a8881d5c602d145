"""The scenario dialect of API 3.0: rules target actions (``faceid:LivenessCompare``,
``faceid:*``), match their parameters and the decoded media, and answer with a ``Result``,
an ``Error.Code``, the action's values, delays or faults -- all of them as the providers a
product is built with declare (``Tc3Dialect(table)``).  ``Tc3Dialect.facts`` gives a call's
values for ``match``.

Besides the values of an answer (``DataField``), a provider may declare ``RuleValue``s in its
``rule_values``: structured input some of its actions take from a rule (say, the outcome
of a token issued already finished).  The dialect checks them with the
provider's own check; the chosen values carry them under their key, for the action to read
(``Provider.defaults``), never as an answer field."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import re2

from ...core.journal import escape_surrogates
from ...core.media import LaterDigest
from ...core.scenarios.model import Facts, Response
from ...core.scenarios.schema import Checker, as_text
from ...core.yamlsource import show
from .table import ActionTable

FIXED_RESPONSE_KEYS = ("result", "error", "message", "delay_ms", "fault")


@dataclass(frozen=True)
class RuleValue:
    """A structured value a rule's ``respond`` may give some actions of a provider: its
    ``key`` (lower case, so never an answer field's name), the ``actions`` (names) that
    take it, and ``check(checker, value, line, target)``, which reports each problem of
    ``value`` for the action ``target`` (``service:Action``) through ``checker.problem``
    with its line, and returns the JSON-able value the action gets (None after a
    problem)."""

    key: str
    actions: tuple[str, ...]
    check: Callable[[Checker, Any, int, str], Any]


def rule_values(table: ActionTable) -> dict[str, tuple[RuleValue, frozenset[str]]]:
    """key -> (the value, the targets that take it) of every provider's ``rule_values``;
    ValueError for two providers declaring one key."""
    found: dict[str, tuple[RuleValue, frozenset[str]]] = {}
    for provider in table.providers:
        for value in getattr(provider, "rule_values", ()):
            if value.key in found or value.key in table.data_fields or \
                    value.key in FIXED_RESPONSE_KEYS:
                raise ValueError(f"two response keys are named {value.key}")
            found[value.key] = (value, frozenset(
                f"{provider.service}:{name}" for name in value.actions))
    return found


def plain(value: Any) -> Any:
    """``value`` (from YAML or JSON: mappings and lists that may carry line numbers) as
    plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


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
        #: The structured values rules may give (``RuleValue``), by key.
        self.rule_values = rule_values(table)
        self.response_keys = FIXED_RESPONSE_KEYS + tuple(table.data_fields) + \
            tuple(self.rule_values)

    def response(self, c: Checker, entry: dict, line: int,
                 targets: frozenset[str]) -> Response | None:
        """``result`` (a verification outcome), ``error`` (an Error.Code), the action's
        values, the providers' rule values, ``delay_ms`` or ``fault``."""
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
        for key, (rule_value, takers) in self.rule_values.items():
            if key in entry:
                checked = self.rule_value(c, rule_value, takers, entry[key], at(key), targets)
                if checked is not None:
                    data[key] = checked
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

    @staticmethod
    def rule_value(c: Checker, rule_value: RuleValue, takers: frozenset[str], value: Any,
                   line: int, targets: frozenset[str]) -> Any:
        """``value`` checked by ``rule_value`` for each of ``targets`` (which ``takers``
        must include); None after a problem."""
        if not takers >= targets:
            c.problem(line, f"{rule_value.key} is taken only by {'/'.join(sorted(takers))}, "
                            f"not by {'/'.join(sorted(targets - takers))}")
            return None
        before, checked = len(c.problems), None
        for target in sorted(targets):
            checked = rule_value.check(c, value, line, target)
            if len(c.problems) > before:
                return None
        return plain(checked)

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
