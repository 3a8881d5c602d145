"""Scenario files: their schema, validation (with ``file:line`` messages) and rule matching.

A scenario is a mapping with ``name``, ``description`` and an ordered list of ``rules``; the
first rule that matches a request answers it.  ``load_scenario`` reads a YAML or JSON file,
``parse_scenario`` checks an already-parsed document; both raise ScenarioError listing every
problem found.  Nothing here knows about HTTP or keeps state between requests.
"""
from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import re2
import yaml

from .core import yamlsource
from .core.yamlsource import show
from .faceid.actions import ACTIONS as API3_ACTIONS
from .faceid.actions import ID_RESULTS, SUCCESS, decode_base64
from .faceid.catalogue import CATALOGUE as API3_CATALOGUE
from .faceid.catalogue import results_for
from .legacy.errors import CATALOGUE, ENDPOINTS, Placement, codes_for, in_band_codes, placement_on
from .legacy.model import RequestBody

TEXT_MATCH_FIELDS = ("appid", "idcard_number", "idcard_name", "seq", "session_id",
                     "validate_data", "compare_flag", "url", "bucket")
MEDIA_MATCH_FIELDS = tuple(f"{media}.{fact}" for media in ("image", "video", "card")
                           for fact in ("sha256", "size"))
MATCH_FIELDS = TEXT_MATCH_FIELDS + MEDIA_MATCH_FIELDS
#: API 3.0 targets are ``product:Action``; ``product:*`` is every action of the product.
API3_TARGETS: tuple[str, ...] = tuple(f"{product}:{action}" for product, action in API3_ACTIONS)
API3_WILDCARDS = ("faceid:*", "iai:*")
API3_TEXT_MATCH_FIELDS = ("appid", "SecretId", "IdCard", "Name", "ValidateData",
                          "LivenessType", "ActionType", "ImageUrl", "VideoUrl", "Url",
                          "FaceModelVersion", "Extra")
API3_MEDIA_PARAMS = ("ImageBase64", "VideoBase64", "Image")
API3_MATCH_FIELDS = API3_TEXT_MATCH_FIELDS + tuple(
    f"{media}.{fact}" for media in API3_MEDIA_PARAMS for fact in ("sha256", "size"))
#: API 3.0 response keys -> (the Response field they set, the actions that have it).
API3_DATA_FIELDS: dict[str, tuple[str, frozenset[str]]] = {
    "sim": ("Sim", frozenset({"faceid:ImageRecognition", "faceid:ImageRecognitionV2",
                              "faceid:LivenessRecognition", "faceid:LivenessCompare"})),
    "score": ("Score", frozenset({"iai:DetectLiveFace", "iai:DetectLiveFaceAccurate"})),
    "is_liveness": ("IsLiveness", frozenset({"iai:DetectLiveFace"})),
    "live_code": ("LiveCode", frozenset({"faceid:GetLiveCode"})),
    "action_sequence": ("ActionSequence", frozenset({"faceid:GetActionSequence"})),
}
_API3_RESPONSE_KEYS = ("result", "error", "message", "delay_ms", "fault") + \
    tuple(API3_DATA_FIELDS)

#: Data values a response may set, and the endpoints whose ``data`` carries each.
DATA_FIELDS: dict[str, frozenset[str]] = {
    "similarity": frozenset({"idcardcompare"}),
    "session_id": frozenset({"idcardcompare"}),
    "score": frozenset({"livedetectpicture"}),
    "validate_data": frozenset({"livegetfour"}),
    "live_status": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "live_msg": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "compare_status": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "compare_msg": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "sim": frozenset({"idcardlivedetectfour", "livedetectfour"}),
    "photo": frozenset({"livedetectfour"}),
    "video_photo": frozenset({"idcardlivedetectfour"}),
}
COMPARE_ONLY_FIELDS = ("sim", "photo", "video_photo")
FAULT_NAMES = ("malformed_json", "empty_body", "connection_reset")

_SCENARIO_KEYS = ("name", "description", "rules")
_RULE_KEYS = ("name", "endpoint", "match", "times", "respond", "cycle", "before_auth")
_RESPONSE_KEYS = ("code", "message", "http_status", "allow_undocumented", "delay_ms",
                  "fault") + tuple(DATA_FIELDS)

_CONDITION_KEYS = ("regex", "present")
#: User patterns run on RE2 (time linear in the input, no catastrophic backtracking) and see
#: values of at most MAX_MATCHED characters.
MAX_MATCHED = 4096
MAX_PATTERN = 1000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RAW_FAULT_KEYS = ("http_status", "body", "content_type")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario document."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


# -- the model ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """One ``match`` entry: equals (strings), any of a list, a full regex, or presence."""

    field: str
    equals: tuple[str, ...] | None = None
    regex: Any = None  # a compiled RE2 pattern (linear time, whatever the input)
    present: bool | None = None

    def test(self, facts: dict[str, str]) -> str | None:
        """None when the condition holds, else why it does not (for the log)."""
        value = facts.get(self.field)
        if self.present is not None:
            if (value is not None) == self.present:
                return None
            return f"{self.field} is {'absent' if self.present else 'present'}"
        if value is None:
            return f"{self.field} is absent"
        if self.equals is not None:
            if value in self.equals:
                return None
            wanted = self.equals[0] if len(self.equals) == 1 else f"one of {list(self.equals)}"
            return f"{self.field} is {show(value)}, not {show(wanted)}"
        if self.regex is not None:
            if len(value) > MAX_MATCHED:
                return f"{self.field} is longer than {MAX_MATCHED} characters (a regex never " \
                       "matches it)"
            if self.regex.fullmatch(value) is None:
                return f"{self.field} {show(value)} does not match /{show(self.regex.pattern)}/"
        return None


@dataclass(frozen=True)
class Fault:
    """A broken answer: a named fault, a raw HTTP answer, or a held-then-dropped connection."""

    kind: str  # malformed_json, empty_body, connection_reset, raw, timeout
    http_status: int = 200
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    timeout_ms: int = 0


@dataclass(frozen=True)
class Response:
    """What a rule answers with, as validated values."""

    code: int | None = None
    message: str | None = None
    http_status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    delay_ms: tuple[int, int] | None = None
    fault: Fault | None = None
    line: int = 0
    error: str | None = None  # API 3.0: the Error.Code to answer with


@dataclass(frozen=True)
class Rule:
    """One ordered rule of a scenario."""

    index: int
    endpoints: frozenset[str]
    conditions: tuple[Condition, ...]
    responses: tuple[Response, ...]
    times: int | None = None
    cycle: bool = False
    before_auth: bool = False
    name: str = ""
    line: int = 0

    @property
    def label(self) -> str:
        return self.name or f"rule {self.index + 1}"

    def first_failure(self, endpoint: str, facts: dict[str, str]) -> str | None:
        """None when the rule applies to this request, else the first condition that fails."""
        if endpoint not in self.endpoints:
            return f"endpoint is {endpoint}, not {'/'.join(sorted(self.endpoints))}"
        for condition in self.conditions:
            failure = condition.test(facts)
            if failure is not None:
                return failure
        return None

    def satisfied_count(self, facts: dict[str, str]) -> int:
        return sum(condition.test(facts) is None for condition in self.conditions)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario document."""

    name: str
    description: str
    rules: tuple[Rule, ...]
    source: str = "<inline>"


# -- loading ---------------------------------------------------------------------------------

def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML or JSON scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([Problem(str(path), 1, f"cannot read: {exc.strerror or exc}")]) \
            from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(str(path), 1, "not UTF-8 text")]) from None
    return parse_scenario_text(text, str(path), default_name=path.stem)


def parse_scenario_text(text: str, source: str = "<inline>",
                        default_name: str = "inline") -> Scenario:
    """Parse and validate YAML or JSON text; problems name ``source`` and their lines."""
    try:
        document = yamlsource.load(text)
    except yaml.YAMLError as exc:
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError([Problem(source, yamlsource.line_of_error(exc),
                                     f"not valid YAML/JSON: {reason}")]) from None
    return parse_scenario(document, source, default_name)


def parse_scenario(document: Any, source: str = "<inline>",
                   default_name: str = "inline") -> Scenario:
    """Validate a parsed document (dicts and lists, located or plain) into a Scenario."""
    return _Checker(source).scenario(document, default_name)


class _Checker:
    """Walks a scenario document, collecting every problem with its line."""

    def __init__(self, source: str) -> None:
        self.source = source
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
        self.problem(line, f"{what} must be a mapping, got {_type_name(value)}")
        return False

    def integer(self, value: Any, line: int, what: str, low: int | None = None,
                high: int | None = None) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(line, f"{what} must be an integer, got {_type_name(value)} {show(value)}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f">= {low}"
            self.problem(line, f"{what} must be {bounds}, got {value}")
            return None
        return value

    def boolean(self, value: Any, line: int, what: str) -> bool:
        if isinstance(value, bool):
            return value
        self.problem(line, f"{what} must be true or false, got {_type_name(value)} {show(value)}")
        return False

    def string(self, value: Any, line: int, what: str) -> str | None:
        if isinstance(value, str):
            return value
        self.problem(line, f"{what} must be a string, got {_type_name(value)} {show(value)}")
        return None

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
                         f"rules must be a list, got {_type_name(document['rules'])}")
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
        endpoints = self.endpoints(item.get("endpoint", "*"), self.line(item, "endpoint"))
        api3 = all(":" in target for target in endpoints)
        if not api3 and any(":" in target for target in endpoints):
            self.problem(self.line(item, "endpoint"), "a rule targets either legacy endpoints "
                                                      "or API 3.0 actions, not both")
        conditions = self.conditions(item.get("match", {}), self.line(item, "match"),
                                     API3_MATCH_FIELDS if api3 else MATCH_FIELDS)
        times = None
        if item.get("times") is not None:
            times = self.integer(item["times"], self.line(item, "times"), "times", 1)
        cycle = self.boolean(item.get("cycle", False), self.line(item, "cycle"), "cycle")
        before_auth = self.boolean(item.get("before_auth", False),
                                   self.line(item, "before_auth"), "before_auth")
        if before_auth and api3:
            self.problem(self.line(item, "before_auth"), "before_auth applies to legacy "
                         "endpoints; a rule on API 3.0 actions answers after the signature "
                         "checks (script error: AuthFailure.* to fail them)")
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
                response = self.api3_response(entry, entry_line, endpoints) if api3 else \
                    self.response(entry, entry_line, endpoints)
                if response is not None:
                    responses.append(response)
        if len(self.problems) > before:
            return None
        return Rule(index, endpoints, tuple(conditions), tuple(responses), times, cycle,
                    before_auth, name, line)

    def endpoints(self, value: Any, line: int) -> frozenset[str]:
        names = value if isinstance(value, list) else [value]
        if value == "*":
            return frozenset(ENDPOINTS)
        chosen = set()
        for name in names:
            if name in ENDPOINTS or name in API3_TARGETS:
                chosen.add(name)
                continue
            if name in API3_WILDCARDS:
                chosen.update(t for t in API3_TARGETS if t.startswith(name[:-1]))
                continue
            known = ENDPOINTS + API3_TARGETS + API3_WILDCARDS
            guess = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"; did you mean {guess[0]!r}?" if guess else \
                f" (expected one of: {', '.join(ENDPOINTS)}, \"*\", or an API 3.0 action " \
                f"such as faceid:LivenessCompare, or faceid:*)"
            self.problem(line, f"unknown endpoint {show(name)}{hint}")
        if not names:
            self.problem(line, "endpoint must not be an empty list")
        if chosen:
            return frozenset(chosen)
        api3 = any(":" in str(name) for name in names)  # keep checking as the rule's API
        return frozenset(API3_TARGETS) if api3 else frozenset(ENDPOINTS)

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
                                   f"{{regex: ...}} or {{present: ...}}, got {_type_name(value)}")
                return None
            texts.append(_as_text(value))
        if not texts:
            self.problem(line, f"match.{name} must not be an empty list")
            return None
        return Condition(name, equals=tuple(texts))

    def response(self, entry: Any, line: int, endpoints: frozenset[str]) -> Response | None:
        if not self.expect_mapping(entry, line, "a response"):
            return None
        before = len(self.problems)
        for key in entry:
            if key in _API3_RESPONSE_KEYS and key not in _RESPONSE_KEYS:
                self.problem(self.line(entry, key), f"{show(key)} answers API 3.0 actions; "
                             f"a rule on legacy endpoints answers with code, data fields, "
                             f"delay_ms or fault")
        self.unknown_keys(entry, _RESPONSE_KEYS, "a response", ignore=_API3_RESPONSE_KEYS)
        at = lambda key: self.line(entry, key)  # noqa: E731
        message = None
        if "message" in entry:
            message = self.string(entry["message"], at("message"), "message")
        allow_undocumented = self.boolean(entry.get("allow_undocumented", False),
                                          at("allow_undocumented"), "allow_undocumented")
        code = None
        if "code" in entry:
            code = self.code(entry["code"], at("code"), endpoints, allow_undocumented, message)
        http_status = None
        if "http_status" in entry:
            http_status = self.integer(entry["http_status"], at("http_status"), "http_status",
                                       100, 599)
        data = self.data(entry, endpoints, at)
        delay = self.delay(entry["delay_ms"], at("delay_ms")) if "delay_ms" in entry else None
        fault = self.fault(entry["fault"], at("fault")) if "fault" in entry else None
        if len(self.problems) == before:
            self.combinations(entry, code, data, fault, endpoints, line)
        if len(self.problems) > before:
            return None
        return Response(code, message, http_status, data, delay, fault, line)

    def api3_response(self, entry: Any, line: int, targets: frozenset[str]) -> Response | None:
        """A response of a rule on API 3.0 actions: ``result`` (a verification outcome),
        ``error`` (an Error.Code), the action's values, ``delay_ms`` or ``fault``."""
        if not self.expect_mapping(entry, line, "a response"):
            return None
        before = len(self.problems)
        for key in entry:
            if key in _RESPONSE_KEYS and key not in _API3_RESPONSE_KEYS:
                self.problem(self.line(entry, key), f"{show(key)} answers legacy endpoints; "
                             f"a rule on API 3.0 actions answers with "
                             f"{', '.join(_API3_RESPONSE_KEYS)}")
        self.unknown_keys(entry, _API3_RESPONSE_KEYS, "a response", ignore=_RESPONSE_KEYS)
        at = lambda key: self.line(entry, key)  # noqa: E731
        message = self.string(entry["message"], at("message"), "message") \
            if "message" in entry else None
        error = self.api3_error(entry["error"], at("error")) if "error" in entry else None
        data: dict[str, Any] = {}
        if "result" in entry:
            result = self.api3_result(entry["result"], at("result"), targets)
            if result is not None:
                data["Result"] = result
        for key, (name, owners) in API3_DATA_FIELDS.items():
            if key not in entry:
                continue
            if not owners >= targets:
                lacking = sorted(targets - owners)
                self.problem(at(key), f"{key} is not part of the answer of "
                                      f"{'/'.join(lacking)} (it belongs to "
                                      f"{'/'.join(sorted(owners))})")
                continue
            value = self.api3_value(key, entry[key], at(key))
            if value is not None:
                data[name] = value
        delay = self.delay(entry["delay_ms"], at("delay_ms")) if "delay_ms" in entry else None
        fault = self.fault(entry["fault"], at("fault")) if "fault" in entry else None
        answered = [key for key in entry if key not in ("delay_ms", "fault")]
        if fault is not None and answered:
            self.problem(line, f"a fault answers nothing else: remove {', '.join(answered)}")
        elif "error" in entry and len([k for k in answered if k != "message"]) > 1:
            self.problem(line, "an error answers no fields: remove "
                               f"{', '.join(k for k in answered if k not in ('error', 'message'))}")
        elif message is not None and "error" not in entry:
            self.problem(at("message"), "message goes with error (a Result's Description is "
                                        "its catalogue text)")
        if len(self.problems) > before:
            return None
        return Response(message=message, data=data, delay_ms=delay, fault=fault, line=line,
                        error=error)

    def api3_error(self, value: Any, line: int) -> str | None:
        name = self.string(value, line, "error")
        if name is None or name in API3_CATALOGUE:
            return name
        guess = difflib.get_close_matches(name, list(API3_CATALOGUE), n=1, cutoff=0.6)
        hint = f"; did you mean {guess[0]!r}?" if guess else \
            " (mockface codes --api faceid lists them)"
        self.problem(line, f"unknown API 3.0 error {show(name)}{hint}")
        return None

    def api3_result(self, value: Any, line: int, targets: frozenset[str]) -> str | None:
        name = self.string(value, line, "result")
        if name is None:
            return None
        for target in sorted(targets):
            action = target.split(":")[1]
            valid = tuple(ID_RESULTS) if action == "IdCardVerification" else \
                (SUCCESS,) + results_for(action) if results_for(action) else ()
            if not valid:
                self.problem(line, f"{target} has no Result (answer with error: or its values)")
                return None
            if name not in valid:
                guess = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
                hint = f"; did you mean {guess[0]!r}?" if guess else \
                    f" (valid: {', '.join(valid[:8])}, ...)"
                self.problem(line, f"result {show(name)} is not documented for {target}{hint}")
                return None
        return name

    def api3_value(self, key: str, value: Any, line: int) -> Any:
        if key in ("sim", "score"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 <= value <= 100:
                self.problem(line, f"{key} must be a number from 0 to 100, got {show(value)}")
                return None
            return round(float(value), 2)
        if key == "is_liveness":
            return self.boolean(value, line, key)
        if key == "live_code":
            if not isinstance(value, str) or not value.isascii() or not value.isdigit():
                self.problem(line, f"live_code must be a quoted string of digits, got "
                                   f"{show(value)}")
                return None
            return value
        if not isinstance(value, str) or not re2.fullmatch(r"[0-9](,[0-9])*", value):
            self.problem(line, f"action_sequence must be digits separated by commas (\"1,2\"), "
                               f"got {show(value)}")
            return None
        return value

    def code(self, value: Any, line: int, endpoints: frozenset[str], allow_undocumented: bool,
             message: str | None) -> int | None:
        code = self.integer(value, line, "code")
        if code is None or code == 0:
            return code
        if allow_undocumented:
            if message is None:
                self.problem(line, f"code {code} is undocumented: allow_undocumented needs a "
                                   f"message")
            return code
        for endpoint in sorted(endpoints, key=ENDPOINTS.index):
            valid = [entry.code for entry in codes_for(endpoint)]
            if code not in valid:
                self.problem(line, f"code {code} is not documented for {endpoint} (valid: "
                                   f"0, {', '.join(map(str, valid))}); set allow_undocumented: "
                                   f"true and a message to use it anyway")
                return None
        return code

    def data(self, entry: dict, endpoints: frozenset[str], at) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, allowed in DATA_FIELDS.items():
            if key not in entry:
                continue
            value, line = entry[key], at(key)
            if not allowed & endpoints:
                self.problem(line, f"{key} is not part of the answer of "
                                   f"{'/'.join(sorted(endpoints))} (it belongs to "
                                   f"{'/'.join(sorted(allowed))})")
                continue
            checked = self.data_value(key, value, line, endpoints & allowed)
            if checked is not None:
                data[key] = checked
        return data

    def data_value(self, key: str, value: Any, line: int, endpoints: frozenset[str]) -> Any:
        if key == "similarity":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not 0 <= value <= 100:
                self.problem(line, f"similarity must be a number from 0 to 100, got {show(value)}")
                return None
            return round(float(value), 2)
        if key in ("score", "sim"):
            return self.integer(value, line, key, 0, 100)
        if key == "validate_data":
            if not isinstance(value, str) or not value.isascii() or not value.isdigit():
                self.problem(line, f"validate_data must be a quoted string of digits, got "
                                   f"{show(value)}")
                return None
            return value
        if key in ("live_status", "compare_status"):
            return self.status(key, value, line, endpoints)
        if key in ("photo", "video_photo"):
            text = self.string(value, line, key)
            if text is None:
                return None
            try:
                base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                self.problem(line, f"{key} must be base64 text")
                return None
            return text
        return self.string(value, line, key)  # session_id, live_msg, compare_msg

    def status(self, key: str, value: Any, line: int, endpoints: frozenset[str]) -> int | None:
        status = self.integer(value, line, key)
        if status is None or status == 0:
            return status
        placement = Placement.LIVE if key == "live_status" else Placement.COMPARE
        for endpoint in sorted(endpoints, key=ENDPOINTS.index):
            valid = in_band_codes(endpoint, placement)
            if status not in valid:
                self.problem(line, f"{key} {status} is not a documented {placement.value} code "
                                   f"for {endpoint} (valid: 0, {', '.join(map(str, valid))})")
                return None
        return status

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

    def combinations(self, entry: dict, code: int | None, data: dict, fault: Fault | None,
                     endpoints: frozenset[str], line: int) -> None:
        if fault is not None:
            extra = [key for key in entry if key in DATA_FIELDS or key in ("code", "message")]
            if extra:
                self.problem(line, f"a fault answers nothing else: remove {', '.join(extra)}")
            return
        top_level = code not in (None, 0) and any(
            code not in CATALOGUE or placement_on(endpoint, code) is Placement.TOP
            for endpoint in endpoints)
        if top_level and data:
            self.problem(line, f"code {code} is a top-level error with no data: remove "
                               f"{', '.join(data)}")
        failing_compare = data.get("compare_status") not in (None, 0) or (
            code not in (None, 0) and code in CATALOGUE and
            all(placement_on(e, code) is Placement.COMPARE for e in endpoints))
        if failing_compare:
            present = [key for key in COMPARE_ONLY_FIELDS if key in data]
            if present:
                self.problem(line, f"{', '.join(present)} cannot be set with a failing "
                                   f"compare_status (they exist only when it is 0)")
        if data.get("live_status") not in (None, 0) and code not in (None, 0) and \
                code in CATALOGUE and any(placement_on(e, code) is Placement.LIVE
                                          for e in endpoints):
            self.problem(line, "set either code or live_status, not both")


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return type(value).__name__


def request_facts(body: RequestBody) -> dict[str, str]:
    """The values a rule's ``match`` sees: text fields, and size/sha256 of each media part."""
    facts = {name: value for name, value in body.text.items() if name in TEXT_MATCH_FIELDS}
    for name, data in body.media.items():
        facts[f"{name}.size"] = str(len(data))
        facts[f"{name}.sha256"] = body.sha256(name)
    return facts


def call_facts(appid: str | None, secret_id: str, params: dict[str, Any]) -> dict[str, str]:
    """The values a rule on API 3.0 actions matches: ``appid``, ``SecretId``, the text
    parameters, and size/sha256 of each base64 media parameter's decoded bytes."""
    facts = {name: _as_text(params[name]) for name in API3_TEXT_MATCH_FIELDS
             if params.get(name) is not None and not isinstance(params[name], (dict, list))}
    facts["SecretId"] = secret_id
    if appid is not None:
        facts["appid"] = appid
    for name in API3_MEDIA_PARAMS:
        data = decode_base64(params.get(name))
        if data is not None and params.get(name):
            facts[f"{name}.size"] = str(len(data))
            facts[f"{name}.sha256"] = hashlib.sha256(data).hexdigest()
    return facts
