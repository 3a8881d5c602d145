"""Scenario documents checked into Scenarios, with every problem's ``file:line``.

The checker knows the document's shape (scenario, rules, ``match`` conditions, delays,
faults); what a rule may target, match and answer belongs to a *dialect*, one per protocol
(the legacy endpoints, the API 3.0 actions), given to ``ScenarioParser``.  A rule targets the
names of one dialect; a file may hold rules of several.
"""
from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import re2
import yaml

from .. import yamlsource
from ..yamlsource import show
from .model import Condition, Fault, Problem, Response, Rule, Scenario, ScenarioError

FAULT_NAMES = ("malformed_json", "empty_body", "connection_reset")
MAX_PATTERN = 1000
_SCENARIO_KEYS = ("name", "description", "rules")
_RULE_KEYS = ("name", "endpoint", "match", "times", "respond", "cycle", "before_auth")
_CONDITION_KEYS = ("regex", "present")
_RAW_FAULT_KEYS = ("http_status", "body", "content_type")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


class Dialect(Protocol):
    """What one protocol lets a rule target, match and answer."""

    #: What rules of this dialect are about, for messages ("legacy endpoints").
    subject: str
    #: The names a rule's ``endpoint`` may list.
    targets: tuple[str, ...]
    #: Shorthands for several targets (``"*"`` or ``"faceid:*"``) and what they stand for.
    wildcards: dict[str, tuple[str, ...]]
    #: The names a rule's ``match`` may test.
    match_fields: tuple[str, ...]
    #: The keys a response may have.
    response_keys: tuple[str, ...]
    #: Whether ``before_auth: true`` is meaningful.
    allows_before_auth: bool

    def response(self, checker: Checker, entry: dict, line: int,
                 targets: frozenset[str]) -> Response | None:
        """One checked response of a rule on ``targets`` (None after reporting problems)."""


class Checker:
    """Walks a scenario document, collecting every problem with its line; the helpers
    (``integer``, ``string`` ...) are for dialects too."""

    def __init__(self, source: str, dialects: Sequence[Dialect]) -> None:
        self.source = source
        self.dialects = tuple(dialects)
        self.problems: list[Problem] = []

    # helpers

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.source, line, message))

    @staticmethod
    def line(container: Any, key: Any = None) -> int:
        if key is not None and hasattr(container, "line_of"):
            return container.line_of(key)
        return getattr(container, "line", 1) or 1

    def unknown_keys(self, mapping: dict, allowed: tuple[str, ...], where: str,
                     ignore: tuple[str, ...] = ()) -> None:
        for key in mapping:
            if key in allowed or key in ignore:
                continue
            guess = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {guess[0]!r}?" if guess else \
                f" (allowed: {', '.join(allowed)})"
            self.problem(self.line(mapping, key), f"unknown key {show(key)} in {where}{hint}")

    def expect_mapping(self, value: Any, line: int, what: str) -> bool:
        if isinstance(value, dict):
            return True
        self.problem(line, f"{what} must be a mapping, got {type_name(value)}")
        return False

    def integer(self, value: Any, line: int, what: str, low: int | None = None,
                high: int | None = None) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(line, f"{what} must be an integer, got {type_name(value)} {show(value)}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f">= {low}"
            self.problem(line, f"{what} must be {bounds}, got {value}")
            return None
        return value

    def boolean(self, value: Any, line: int, what: str) -> bool:
        if isinstance(value, bool):
            return value
        self.problem(line, f"{what} must be true or false, got {type_name(value)} {show(value)}")
        return False

    def string(self, value: Any, line: int, what: str) -> str | None:
        if isinstance(value, str):
            return value
        self.problem(line, f"{what} must be a string, got {type_name(value)} {show(value)}")
        return None

    def digits(self, value: Any, line: int, what: str) -> str | None:
        """A quoted string of ASCII digits (a lip code), else a problem."""
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return value
        self.problem(line, f"{what} must be a quoted string of digits, got {show(value)}")
        return None

    def response_keys(self, entry: dict, dialect: Dialect) -> None:
        """Report keys another dialect answers with, then unknown ones (did-you-mean)."""
        foreign = tuple(key for other in self.dialects if other is not dialect
                        for key in other.response_keys if key not in dialect.response_keys)
        for key in entry:
            if key in foreign:
                self.problem(self.line(entry, key), f"{show(key)} answers another API; a rule "
                             f"on {dialect.subject} answers with "
                             f"{', '.join(dialect.response_keys)}")
        self.unknown_keys(entry, dialect.response_keys, "a response", ignore=foreign)

    # the document

    def scenario(self, document: Any, default_name: str) -> Scenario:
        if not isinstance(document, dict) or "rules" not in document:
            # Not scenario-shaped (say, some other file): one problem, none of its content.
            self.problem(self.line(document), "not a scenario: the top level must be a "
                                              "mapping with a 'rules' list")
            raise ScenarioError(self.problems)
        self.unknown_keys(document, _SCENARIO_KEYS, "the scenario")
        name = default_name
        if "name" in document:
            name = self.string(document["name"], self.line(document, "name"), "name") or name
        description = ""
        if "description" in document:
            description = self.string(document["description"],
                                      self.line(document, "description"), "description") or ""
        rules: list[Rule] = []
        if not isinstance(document["rules"], list):
            self.problem(self.line(document, "rules"),
                         f"rules must be a list, got {type_name(document['rules'])}")
        else:
            for index, item in enumerate(document["rules"]):
                rule = self.rule(item, index, self.line(document["rules"], index))
                if rule is not None:
                    rules.append(rule)
        if self.problems:
            raise ScenarioError(self.problems)
        return Scenario(name, description, tuple(rules), self.source)

    def rule(self, item: Any, index: int, line: int) -> Rule | None:
        where = f"rule {index + 1}"
        if not self.expect_mapping(item, line, where):
            return None
        before = len(self.problems)
        self.unknown_keys(item, _RULE_KEYS, where)
        dialect, endpoints = self.endpoints(item.get("endpoint", "*"),
                                            self.line(item, "endpoint"))
        conditions = self.conditions(item.get("match", {}), self.line(item, "match"),
                                     dialect.match_fields)
        times = None
        if item.get("times") is not None:
            times = self.integer(item["times"], self.line(item, "times"), "times", 1)
        cycle = self.boolean(item.get("cycle", False), self.line(item, "cycle"), "cycle")
        before_auth = self.boolean(item.get("before_auth", False),
                                   self.line(item, "before_auth"), "before_auth")
        if before_auth and not dialect.allows_before_auth:
            self.problem(self.line(item, "before_auth"), f"before_auth does not apply to "
                         f"{dialect.subject}: they answer after the signature checks (script "
                         f"an error to fail them)")
        name = ""
        if "name" in item:
            name = self.string(item["name"], self.line(item, "name"), "name") or ""
        responses: list[Response] = []
        if "respond" not in item:
            self.problem(line, f"{where} has no 'respond'")
        else:
            respond = item["respond"]
            listed = respond if isinstance(respond, list) else [respond]
            if not listed:
                self.problem(self.line(item, "respond"), "respond must not be an empty list")
            for position, entry in enumerate(listed):
                entry_line = self.line(respond, position) if isinstance(respond, list) \
                    else self.line(item, "respond")
                if self.expect_mapping(entry, entry_line, "a response"):
                    response = dialect.response(self, entry, entry_line, endpoints)
                    if response is not None:
                        responses.append(response)
        if len(self.problems) > before:
            return None
        return Rule(index, endpoints, tuple(conditions), tuple(responses), times, cycle,
                    before_auth, name, line)

    def endpoints(self, value: Any, line: int) -> tuple[Dialect, frozenset[str]]:
        """The rule's dialect and targets.  Names of two dialects in one rule, unknown
        names and an empty list are problems; the rule is then still checked as the dialect
        its names resemble most, so its other problems are reported too."""
        names = value if isinstance(value, list) else [value]
        chosen: dict[Dialect, set[str]] = {}
        for name in names:
            dialect = next((d for d in self.dialects
                            if name in d.targets or name in d.wildcards), None)
            if dialect is None:
                self.unknown_endpoint(name, line)
                continue
            targets = dialect.wildcards.get(name, (name,))
            chosen.setdefault(dialect, set()).update(targets)
        if not names:
            self.problem(line, "endpoint must not be an empty list")
        if len(chosen) > 1:
            self.problem(line, "a rule targets the names of one API: "
                               + " or ".join(d.subject for d in chosen) + ", not both")
        if chosen:
            dialect, named = next(iter(chosen.items()))
            return dialect, frozenset(named)
        dialect = self.resembling(names)
        return dialect, frozenset(dialect.targets)

    def unknown_endpoint(self, name: Any, line: int) -> None:
        known = [n for d in self.dialects for n in (*d.targets, *d.wildcards)]
        guess = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
        if guess:
            hint = f"; did you mean {guess[0]!r}?"
        else:
            examples = " or ".join(f"{d.subject} such as {d.targets[0]} or "
                                   f"{next(iter(d.wildcards))}" for d in self.dialects)
            hint = f" (expected {examples})"
        self.problem(line, f"unknown endpoint {show(name)}{hint}")

    def resembling(self, names: list) -> Dialect:
        """The dialect whose names are closest to ``names`` (the first one when none is)."""
        def closeness(dialect: Dialect) -> float:
            return max((difflib.SequenceMatcher(None, str(name), target).ratio()
                        for name in names for target in (*dialect.targets, *dialect.wildcards)),
                       default=0.0)
        return max(self.dialects, key=closeness)

    def conditions(self, match: Any, line: int, fields: tuple[str, ...]) -> list[Condition]:
        if not self.expect_mapping(match, line, "match"):
            return []
        conditions = []
        for name, spec in match.items():
            at = self.line(match, name)
            if name not in fields:
                guess = difflib.get_close_matches(str(name), fields, n=1, cutoff=0.6)
                hint = f"; did you mean {guess[0]!r}?" if guess else \
                    f" (allowed: {', '.join(fields)})"
                self.problem(at, f"unknown match field {show(name)}{hint}")
                continue
            condition = self.condition(name, spec, at)
            if condition is not None:
                conditions.append(condition)
        return conditions

    def condition(self, name: str, spec: Any, line: int) -> Condition | None:
        if isinstance(spec, dict):
            self.unknown_keys(spec, _CONDITION_KEYS, f"match.{name}")
            if len(spec) != 1 or not set(spec) <= set(_CONDITION_KEYS):
                if set(spec) <= set(_CONDITION_KEYS):
                    self.problem(line, f"match.{name} takes one of 'regex' or 'present'")
                return None
            if "present" in spec:
                return Condition(name, present=self.boolean(spec["present"], line,
                                                            f"match.{name}.present"))
            pattern = self.string(spec["regex"], line, f"match.{name}.regex")
            if pattern is None:
                return None
            if len(pattern) > MAX_PATTERN:
                self.problem(line, f"match.{name}.regex is longer than {MAX_PATTERN} characters")
                return None
            try:
                return Condition(name, regex=re2.compile(pattern, options=_RE2_OPTIONS))
            except re2.error as exc:
                reason = exc.args[0].decode("utf-8", "replace") if exc.args and \
                    isinstance(exc.args[0], bytes) else str(exc)
                self.problem(line, f"match.{name}.regex is not a valid RE2 regular expression: "
                                   f"{reason}")
                return None
        values = spec if isinstance(spec, list) else [spec]
        texts = []
        for value in values:
            if value is None or isinstance(value, (dict, list)):
                self.problem(line, f"match.{name} must be a scalar, a list of scalars, "
                                   f"{{regex: ...}} or {{present: ...}}, got {type_name(value)}")
                return None
            texts.append(as_text(value))
        if not texts:
            self.problem(line, f"match.{name} must not be an empty list")
            return None
        return Condition(name, equals=tuple(texts))

    def delay(self, value: Any, line: int) -> tuple[int, int] | None:
        if isinstance(value, list):
            if len(value) != 2:
                self.problem(line, f"delay_ms must be a number or [min, max], got {show(value)}")
                return None
            low = self.integer(value[0], line, "delay_ms min", 0, 600_000)
            high = self.integer(value[1], line, "delay_ms max", 0, 600_000)
            if low is None or high is None:
                return None
            if low > high:
                self.problem(line, f"delay_ms min {low} is above max {high}")
                return None
            return low, high
        delay = self.integer(value, line, "delay_ms", 0, 600_000)
        return None if delay is None else (delay, delay)

    def fault(self, value: Any, line: int) -> Fault | None:
        if isinstance(value, str):
            if value in FAULT_NAMES:
                return Fault(value)
            guess = difflib.get_close_matches(value, FAULT_NAMES, n=1, cutoff=0.6)
            hint = f"; did you mean {guess[0]!r}?" if guess else ""
            self.problem(line, f"unknown fault {show(value)}{hint} (expected one of: "
                               f"{', '.join(FAULT_NAMES)}, {{http_status: ...}} or "
                               f"{{timeout_ms: ...}})")
            return None
        if not self.expect_mapping(value, line, "fault"):
            return None
        if "timeout_ms" in value:
            if len(value) != 1:
                self.problem(line, "fault {timeout_ms: ...} takes no other keys")
                return None
            timeout = self.integer(value["timeout_ms"], line, "fault.timeout_ms", 1, 600_000)
            return None if timeout is None else Fault("timeout", timeout_ms=timeout)
        self.unknown_keys(value, _RAW_FAULT_KEYS + ("timeout_ms",), "fault")
        if "http_status" not in value:
            self.problem(line, "fault mapping needs http_status (or timeout_ms)")
            return None
        status = self.integer(value["http_status"], line, "fault.http_status", 100, 599)
        body = self.string(value.get("body", ""), line, "fault.body")
        content_type = self.string(value.get("content_type", "text/plain; charset=utf-8"), line,
                                   "fault.content_type")
        if status is None or body is None or content_type is None:
            return None
        return Fault("raw", http_status=status, body=body, content_type=content_type)


#: A scenario file larger than this is refused unread (``mockface check /dev/zero``).
MAX_SCENARIO_BYTES = 16 * 1024 * 1024


class ScenarioParser:
    """Reads and checks scenario documents against a set of dialects."""

    def __init__(self, dialects: Sequence[Dialect]) -> None:
        self.dialects = tuple(dialects)

    def load(self, path: str | Path) -> Scenario:
        """Read and validate a YAML or JSON scenario file."""
        path = Path(path)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_SCENARIO_BYTES + 1)
        except OSError as exc:
            raise ScenarioError([Problem(str(path), 1, f"cannot read: {exc.strerror or exc}")]) \
                from None
        if len(data) > MAX_SCENARIO_BYTES:
            raise ScenarioError([Problem(str(path), 1, f"larger than "
                                         f"{MAX_SCENARIO_BYTES // 2**20} MB: not read")])
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError([Problem(str(path), 1, "not UTF-8 text")]) from None
        return self.parse_text(text, str(path), default_name=path.stem)

    def parse_text(self, text: str, source: str = "<inline>",
                   default_name: str = "inline") -> Scenario:
        """Parse and validate YAML or JSON text; problems name ``source`` and their lines."""
        try:
            document = yamlsource.load(text, known_keys=("rules",))
        except yaml.YAMLError as exc:
            reason = getattr(exc, "problem", None) or str(exc)
            raise ScenarioError([Problem(source, yamlsource.line_of_error(exc),
                                         f"not valid YAML/JSON: {reason}")]) from None
        return self.parse(document, source, default_name)

    def parse(self, document: Any, source: str = "<inline>",
              default_name: str = "inline") -> Scenario:
        """Validate a parsed document (dicts and lists, located or plain) into a Scenario."""
        return Checker(source, self.dialects).scenario(document, default_name)


def as_text(value: Any) -> str:
    """A scalar as ``match`` compares it: ``true``/``false``, ``5`` for 5.0, else str."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return type(value).__name__

