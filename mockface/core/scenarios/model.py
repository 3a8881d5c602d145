"""What a scenario is, once validated: rules with conditions and responses, and the
problems a document can have.  Protocol-free: a response's ``code``/``data`` are legacy
values, ``error``/``data`` API 3.0 ones; the protocol that answers reads them."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..yamlsource import show

#: User patterns run on RE2 (time linear in the input, no catastrophic backtracking) and see
#: values of at most MAX_MATCHED characters.
MAX_MATCHED = 4096


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


class Facts(Mapping[str, str]):
    """A request's values for rules to match: ``values``, and values computed only when a
    rule asks for them (``later``: name -> function giving the value, called at most once),
    such as the sha256 of a large upload."""

    def __init__(self, values: dict[str, str],
                 later: dict[str, Callable[[], str]] | None = None) -> None:
        self._values = values
        self._later = later or {}

    def __getitem__(self, name: str) -> str:
        if name not in self._values and name in self._later:
            self._values[name] = self._later[name]()
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values.keys() | self._later.keys())

    def __len__(self) -> int:
        return len(self._values.keys() | self._later.keys())


@dataclass(frozen=True)
class Condition:
    """One ``match`` entry: equals (strings), any of a list, a full regex, or presence."""

    field: str
    equals: tuple[str, ...] | None = None
    regex: Any = None  # a compiled RE2 pattern (linear time, whatever the input)
    present: bool | None = None

    def test(self, facts: Mapping[str, str]) -> str | None:
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

    @property
    def drops_connection(self) -> bool:
        """Whether the connection is closed without any answer.  The one place that decides
        it: the web layer drops the connection when this says so, and the journal and the
        access line report no HTTP status for it."""
        return self.kind in DROPPING_FAULTS


#: The fault kinds that close the connection without an answer (see Fault.drops_connection).
DROPPING_FAULTS = frozenset({"connection_reset", "timeout"})


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

    @property
    def waits(self) -> bool:
        """Whether answering with it may make the request wait: a delay that can be above
        zero, or a timeout fault."""
        return (self.delay_ms is not None and self.delay_ms[1] > 0) or \
            (self.fault is not None and self.fault.kind == "timeout")


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

    def first_failure(self, endpoint: str, facts: Mapping[str, str]) -> str | None:
        """None when the rule applies to this request, else the first condition that fails."""
        if endpoint not in self.endpoints:
            return f"endpoint is {endpoint}, not {'/'.join(sorted(self.endpoints))}"
        for condition in self.conditions:
            failure = condition.test(facts)
            if failure is not None:
                return failure
        return None

    def satisfied_count(self, facts: Mapping[str, str]) -> int:
        return sum(condition.test(facts) is None for condition in self.conditions)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario document."""

    name: str
    description: str
    rules: tuple[Rule, ...]
    source: str = "<inline>"

    @functools.cached_property
    def waits(self) -> bool:
        """Whether any of its responses may make a request wait (worked out once: a
        scenario does not change)."""
        return any(response.waits for rule in self.rules for response in rule.responses)
