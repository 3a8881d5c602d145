"""Activations: a scenario made active (for every app or one appid) with its counters, and
where activations live (this process, or a store several processes share); what a
selection chose, or the near miss when nothing matched."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .model import Response, Rule, Scenario

class RuleCounter(Protocol):
    """How many answers each rule of one activation has given."""

    def take(self, index: int, times: int | None) -> int | None:
        """Count one answer of rule ``index`` unless its ``times`` are used up (atomically);
        the number of answers it had given before, or None when none is left."""

    def answered(self) -> list[int]:
        """Answers given so far, per rule."""


class LocalCounter:
    """A RuleCounter in this process's memory."""

    def __init__(self, rules: int) -> None:
        self._used = [0] * rules
        self._lock = threading.Lock()

    def take(self, index: int, times: int | None) -> int | None:
        with self._lock:
            used = self._used[index]
            if times is not None and used >= times:
                return None
            self._used[index] = used + 1
            return used

    def answered(self) -> list[int]:
        with self._lock:
            return list(self._used)


class ActivationStore(Protocol):
    """Where activations and their counters live: this process (``LocalActivations``) or a
    store several processes share.  A shared store keeps each activation as a recipe (how to
    load the scenario again) so that every process can rebuild the same list."""

    shared: bool

    def counter(self, key: str, rules: int) -> RuleCounter:
        """The counter of one activation (``key`` names it across processes)."""

    def locked(self) -> contextlib.AbstractContextManager:
        """Held while the list of activations is read, changed and published."""

    def recipes(self) -> list[dict[str, Any]]:
        """The published list (empty for a store that is not shared)."""

    def publish(self, recipes: list[dict[str, Any]]) -> None:
        """Make ``recipes`` the list every process answers with."""

    def forget(self, keys: list[str] | None) -> None:
        """Drop the counters of these keys (None: every counter)."""

    def announce(self) -> None:
        """Return once every process has adopted the list published last."""


class LocalActivations:
    """The ActivationStore of one process: counters in memory, nothing published."""

    shared = False

    def counter(self, key: str, rules: int) -> RuleCounter:
        return LocalCounter(rules)

    def locked(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def recipes(self) -> list[dict[str, Any]]:
        return []

    def publish(self, recipes: list[dict[str, Any]]) -> None:
        pass

    def forget(self, keys: list[str] | None) -> None:
        pass

    def announce(self) -> None:
        pass


@dataclass
class Activation:
    """One scenario made active, with its own ``times`` and sequence counters.

    ``recipe`` says how to load the scenario again (a path, a document or a text), for
    stores shared by several processes; None for a scenario given already parsed."""

    scenario: Scenario
    appid: str | None = None  # None: every appid
    path: Path | None = None  # the file it came from, for reloads
    counter: RuleCounter | None = None
    recipe: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.counter is None:
            self.counter = LocalCounter(len(self.scenario.rules))

    @property
    def key(self) -> str:
        """Names this activation's counters across processes."""
        return recipe_key(self.recipe)

    def take(self, endpoint: str, facts: Mapping[str, str], before_auth: bool
             ) -> tuple[Rule, Response] | None:
        """The first rule that matches and still has answers left; consumes one answer."""
        assert self.counter is not None
        for rule in self.scenario.rules:
            if rule.before_auth != before_auth:
                continue
            if rule.first_failure(endpoint, facts) is not None:
                continue
            used = self.counter.take(rule.index, rule.times)
            if used is None:
                continue
            count = len(rule.responses)
            step = used % count if rule.cycle else min(used, count - 1)
            return rule, rule.responses[step]
        return None

    def describe(self) -> dict[str, Any]:
        """What is active and how far each rule has got (for the admin API and logs)."""
        assert self.counter is not None
        answered = self.counter.answered()
        rules = []
        for rule in self.scenario.rules:
            used = answered[rule.index]
            rules.append({
                "rule": rule.label, "line": rule.line, "answered": used,
                "remaining": None if rule.times is None else max(rule.times - used, 0),
                "next_step": (used % len(rule.responses) if rule.cycle
                              else min(used, len(rule.responses) - 1)),
                "steps": len(rule.responses),
            })
        return {"name": self.scenario.name, "source": self.scenario.source,
                "appid": self.appid, "rules": rules}


@dataclass(frozen=True)
class Selection:
    """The rule chosen to answer a request, and the response it takes."""

    scenario: str
    rule: Rule
    response: Response

    @property
    def label(self) -> str:
        return f"{self.scenario}#{self.rule.index + 1}"


@dataclass(frozen=True)
class Miss:
    """No rule matched while scenarios were active: the closest rule and why it failed."""

    scenario: str
    rule: Rule
    reason: str
    source: str

    def __str__(self) -> str:
        return (f"no rule matched; closest {self.scenario} {self.rule.label} "
                f"({self.source}:{self.rule.line}): {self.reason}")


def recipe_key(recipe: dict[str, Any] | None) -> str:
    """The name of an activation's counters across processes: its uid and source digest."""
    recipe = recipe or {}
    return f"{recipe.get('uid', '')}:{recipe.get('digest', '')}"
