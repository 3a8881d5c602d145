"""Active scenarios: activation (global, per appid, per request header), counters, reloads.

``ScenarioEngine`` is the one place that activates, deactivates and resets scenarios; the CLI,
the admin API and the pytest fixtures all call it.  ``select`` picks the rule that answers a
request and takes its next response atomically, so two concurrent requests never take the
same step of a sequence.

Protocol-free: a request is an endpoint name and a dict of facts; scenario files are
read by the ``ScenarioParser`` the engine is given.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import re
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..yamlsource import show
from .model import Response, Rule, Scenario, ScenarioError
from .schema import ScenarioParser

log = logging.getLogger("mockface.scenarios")
SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def scenario_files(directory: Path) -> list[Path]:
    """The .yaml, .yml and .json files directly in ``directory``, sorted (none when it is
    not a directory)."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir()
                  if path.suffix in SCENARIO_SUFFIXES and path.is_file())


class UnknownScenario(LookupError):
    """A scenario name that is neither a file nor found on the search path."""


class ForbiddenScenario(UnknownScenario):
    """A path the admin API may not read: outside the search directories and the files
    given on the command line, or not a .yaml/.yml/.json file."""


#: What a scenario name looks like: a file name without its extension, no path in it.
SCENARIO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


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
        return _recipe_key(self.recipe)

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


class ScenarioEngine:
    """Holds the active scenarios and the generator used for random delays."""

    def __init__(self, parser: ScenarioParser, search_paths: list[str | Path] | None = None,
                 seed: int = 0, store: ActivationStore | None = None) -> None:
        self.parser = parser
        self.search_paths = [Path(p) for p in (search_paths or [])]
        self.store: ActivationStore = store or LocalActivations()
        self._activations: list[Activation] = []
        self._header_activations: dict[str, Activation] = {}
        self._lock = threading.RLock()
        self._random = random.Random(f"delays:{seed}")
        self._random_lock = threading.Lock()
        self.reload_errors: dict[str, str] = {}  # path -> problems, while a reload fails
        self.given_files: set[Path] = set()  # files named on the command line (resolved)

    # -- the library -----------------------------------------------------------------------

    def library(self) -> dict[str, Path]:
        """Scenario names found on the search path (first directory wins), sorted."""
        found: dict[str, Path] = {}
        for directory in self.search_paths:
            for path in scenario_files(directory):
                found.setdefault(path.stem, path)
        return dict(sorted(found.items()))

    def find(self, name_or_path: str | os.PathLike[str]) -> Path:
        """The file for a scenario name (searched on the path) or any existing file path:
        for the command line, whose user may read any file.  Such files may later be
        activated by path over the admin API too."""
        candidate = Path(name_or_path)
        if candidate.is_file():
            self.given_files.add(candidate.resolve())
            return candidate
        path = self.library().get(str(name_or_path))
        if path is None:
            raise UnknownScenario(f"unknown scenario {show(str(name_or_path))}: not a file and "
                                  f"not found in {self._searched()}")
        return path

    def find_name(self, name: str) -> Path:
        """The library file of a scenario name: for names that arrive over the network
        (admin API, X-Mockface-Scenario header), which must never reach another file."""
        if not SCENARIO_NAME.fullmatch(name):
            raise UnknownScenario(f"unknown scenario {show(name)}: a name is a file name "
                                  "without extension (letters, digits, '.', '_', '-')")
        path = self.library().get(name)
        if path is None:
            raise UnknownScenario(f"unknown scenario {show(name)}: not found in "
                                  f"{self._searched()}")
        return path

    def find_path(self, path: str) -> Path:
        """A scenario file named by path over the admin API: only .yaml/.yml/.json files
        inside the search directories, or files given on the command line."""
        candidate = Path(path).resolve()
        if candidate.suffix not in SCENARIO_SUFFIXES:
            raise ForbiddenScenario("only .yaml, .yml and .json files can be scenarios")
        inside = any(candidate.is_relative_to(directory.resolve())
                     for directory in self.search_paths)
        if not inside and candidate not in self.given_files:
            raise ForbiddenScenario(f"{show(path)} is outside the scenario directories "
                                    f"({self._searched()}); send the file's text instead")
        if not candidate.is_file():
            raise UnknownScenario(f"unknown scenario {show(path)}: no such file")
        return candidate

    def _searched(self) -> str:
        return ", ".join(str(p) for p in self.search_paths) or "no directories"

    def load(self, source: str | os.PathLike[str] | dict | Scenario
             ) -> tuple[Scenario, Path | None]:
        """A validated scenario from a name, a path, an inline document or a parsed one."""
        if isinstance(source, Scenario):
            return source, None
        if isinstance(source, dict):
            return self.parser.parse(source, "<inline>",
                                     default_name=str(source.get("name", "inline"))), None
        path = self.find(source)
        return self.parser.load(path), path

    def _recipe(self, source: str | os.PathLike[str] | dict | Scenario | Path,
                path: Path | None) -> dict[str, Any] | None:
        """How another process loads the same scenario again (None for a parsed one)."""
        if path is not None:
            return {"kind": "path", "value": str(path), "digest": _file_digest(path)}
        if isinstance(source, dict):
            return {"kind": "document", "value": source, "digest": _digest(source)}
        return None

    def _from_recipe(self, recipe: dict[str, Any]) -> tuple[Scenario, Path | None]:
        kind, value = recipe["kind"], recipe["value"]
        if kind == "text":
            label = recipe.get("label", "<text>")
            return self.parser.parse_text(value, label, Path(label).stem or "text"), None
        if kind == "document":
            return self.load(value)
        path = Path(value)
        return self.parser.load(path), path

    def _activation(self, scenario: Scenario, appid: str | None, path: Path | None,
                    recipe: dict[str, Any] | None) -> Activation:
        counter = self.store.counter(_recipe_key(recipe), len(scenario.rules))
        return Activation(scenario, appid, path, counter, recipe)

    # -- activation -----------------------------------------------------------------------

    def activate(self, source: str | os.PathLike[str] | dict | Scenario,
                 appid: str | None = None, first: bool = False) -> Activation:
        """Make a scenario active (for one appid, or all) with fresh counters.

        Activating a scenario that is already active in the same scope replaces it in place;
        otherwise it goes after the active ones (before them with ``first=True``).
        Raises UnknownScenario or ScenarioError (ValueError for a parsed Scenario when the
        store is shared: other processes could not load it).
        """
        scenario, path = self.load(source)
        return self._install(scenario, appid, path, self._recipe(source, path), first)

    def activate_text(self, text: str, label: str = "<text>", appid: str | None = None,
                      first: bool = False) -> Activation:
        """``activate`` for a scenario sent as YAML or JSON text (the admin API)."""
        scenario = self.parser.parse_text(text, label, Path(label).stem or "text")
        recipe = {"kind": "text", "value": text, "label": label, "digest": _digest(text)}
        return self._install(scenario, appid, None, recipe, first)

    def _install(self, scenario: Scenario, appid: str | None, path: Path | None,
                 recipe: dict[str, Any] | None, first: bool) -> Activation:
        if recipe is None and self.store.shared:
            raise ValueError("a parsed Scenario cannot be shared with other processes; "
                             "activate it by name, path, document or text")
        if recipe is not None:
            recipe = {**recipe, "uid": secrets.token_hex(8), "appid": appid}
        activation = self._activation(scenario, appid, path, recipe)
        with self._changing():
            for index, current in enumerate(self._activations):
                if current.scenario.name == scenario.name and current.appid == appid:
                    self.store.forget([current.key])
                    self._activations[index] = activation
                    break
            else:
                if first:
                    self._activations.insert(0, activation)
                else:
                    self._activations.append(activation)
        log.info("activated scenario %s%s", scenario.name, f" for appid {appid}" if appid else "")
        return activation

    def deactivate(self, name: str | None = None, appid: str | None = None,
                   everywhere: bool = False) -> int:
        """Remove activations by name and/or scope; returns how many were removed.

        ``appid=None`` with ``everywhere=False`` means the global scope only.
        """
        with self._changing():
            keep = [a for a in self._activations
                    if not ((name is None or a.scenario.name == name) and
                            (everywhere or a.appid == appid))]
            self.store.forget([a.key for a in self._activations if a not in keep])
            removed = len(self._activations) - len(keep)
            self._activations = keep
        return removed

    def reset(self, appid: str | None = None) -> None:
        """Forget activations and counters: all of them, or those scoped to one appid."""
        with self._changing():
            if appid is None:
                self._activations = []
                self._header_activations = {}
                self.store.forget(None)
            else:
                self.store.forget([a.key for a in self._activations if a.appid == appid])
                self._activations = [a for a in self._activations if a.appid != appid]

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Change the list of activations: under the store's lock, starting from what is
        published, and publishing the result."""
        with self._lock, self.store.locked():
            if self.store.shared:
                self._adopt(self.store.recipes())
            yield
            if self.store.shared:
                self.store.publish([a.recipe for a in self._activations
                                    if a.recipe is not None])
        self.store.announce()  # outside the locks: other processes' adoption takes them

    def adopt_shared(self) -> None:
        """Bring this process's activations up to date with the published ones (for a
        shared store; after another process changed them)."""
        if self.store.shared:
            with self._lock:
                self._adopt(self.store.recipes())

    def _adopt(self, recipes: list[dict[str, Any]]) -> None:
        current = {a.key: a for a in self._activations}
        adopted = []
        for recipe in recipes:
            activation = current.get(_recipe_key(recipe))
            if activation is None:
                try:
                    scenario, path = self._from_recipe(recipe)
                except (OSError, ScenarioError, UnknownScenario) as error:
                    log.error("cannot load shared scenario %s here: %s",
                              show(str(recipe.get("value"))[:200]), error)
                    continue
                activation = self._activation(scenario, recipe.get("appid"), path, recipe)
            adopted.append(activation)
        self._activations = adopted

    def active(self) -> list[Activation]:
        with self._lock:
            return list(self._activations)

    def snapshot(self) -> tuple[Activation, ...]:
        """The active scenarios as of now, for ``select(..., active=)``: a request answered
        under a snapshot is not affected by scenarios activated while it is answered."""
        with self._lock:
            return tuple(self._activations)

    @staticmethod
    def waits(activations: Iterable[Activation]) -> bool:
        """Whether any rule of these activations may make a request wait
        (``Response.waits``)."""
        return any(activation.scenario.waits for activation in activations)

    def header_activation(self, name: str) -> Activation:
        """The per-request activation for ``X-Mockface-Scenario: name`` (counters kept)."""
        with self._lock:
            activation = self._header_activations.get(name)
            if activation is None:  # only library names: the cache stays that small
                scenario, path = self.load(self.find_name(name))
                assert path is not None
                recipe = {"kind": "path", "value": str(path), "digest": _file_digest(path),
                          "uid": f"header={name}"}
                activation = self._header_activations[name] = self._activation(
                    scenario, None, path, recipe)
            return activation

    # -- answering ------------------------------------------------------------------------

    def select(self, endpoint: str, facts: Mapping[str, str], appid: str | None,
               before_auth: bool, header: str | None = None,
               active: tuple[Activation, ...] | None = None) -> Selection | Miss | None:
        """The rule answering this request; a Miss when scenarios apply but none matched;
        None when no scenario applies at all.  ``active``: a ``snapshot()`` to choose from
        instead of the scenarios active now."""
        candidates = self._candidates(appid, header, active)
        if not candidates:
            return None
        for activation in candidates:
            taken = activation.take(endpoint, facts, before_auth)
            if taken is not None:
                return Selection(activation.scenario.name, *taken)
        return self._closest(candidates, endpoint, facts, before_auth)

    def idle(self, header: str | None = None,
             active: tuple[Activation, ...] | None = None) -> bool:
        """True when no scenario could answer a request (none active, or none in the
        snapshot ``active``, and none named by a header): the caller may skip gathering the
        request's facts."""
        return header is None and not (self._activations if active is None else active)

    def _candidates(self, appid: str | None, header: str | None,
                    active: tuple[Activation, ...] | None = None) -> list[Activation]:
        activations = self.snapshot() if active is None else active
        scoped = [a for a in activations if a.appid is not None and a.appid == appid]
        shared = [a for a in activations if a.appid is None]
        if header is not None:
            return [self.header_activation(header)] + scoped + shared
        return scoped + shared

    @staticmethod
    def _closest(candidates: list[Activation], endpoint: str, facts: Mapping[str, str],
                 before_auth: bool) -> Miss | None:
        best: tuple[int, Activation, Rule] | None = None
        for activation in candidates:
            for rule in activation.scenario.rules:
                if rule.before_auth != before_auth:
                    continue
                score = rule.satisfied_count(facts) + (100 if endpoint in rule.endpoints else 0)
                if best is None or score > best[0]:
                    best = (score, activation, rule)
        if best is None:
            return None
        _, activation, rule = best
        reason = rule.first_failure(endpoint, facts) or "its times are used up"
        return Miss(activation.scenario.name, rule, reason, activation.scenario.source)

    def draw_delay(self, bounds: tuple[int, int] | None) -> int:
        """Milliseconds to wait for a response's ``delay_ms`` (seeded draw for ranges)."""
        if bounds is None:
            return 0
        low, high = bounds
        if low == high:
            return low
        with self._random_lock:
            return self._random.randint(low, high)

    # -- reloading ------------------------------------------------------------------------

    def reload_changed(self, changed: set[Path]) -> None:
        """Re-read the given files; valid new versions replace (and reset) their activations,
        invalid ones are logged and the last valid version stays active."""
        for path in changed:
            key = str(path)
            try:
                scenario = self.parser.load(path)
            except ScenarioError as error:
                self.reload_errors[key] = str(error)
                log.error("reload of %s failed; keeping the last valid version:\n%s", path, error)
                continue
            self.reload_errors.pop(key, None)
            digest = _file_digest(path)
            with self._changing():
                self._activations = [
                    self._activation(scenario, a.appid, a.path,
                                     a.recipe and {**a.recipe, "digest": digest})
                    if a.path == path else a for a in self._activations]
                self._header_activations = {n: a for n, a in self._header_activations.items()
                                            if a.path != path}
            log.info("reloaded scenario %s from %s", scenario.name, path)

    def watched_files(self) -> set[Path]:
        with self._lock:
            return {a.path for a in self._activations if a.path is not None}


def _recipe_key(recipe: dict[str, Any] | None) -> str:
    """The name of an activation's counters across processes: its uid and source digest."""
    recipe = recipe or {}
    return f"{recipe.get('uid', '')}:{recipe.get('digest', '')}"


def _digest(value: Any) -> str:
    """A short digest of a scenario's source (text or JSON document)."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _file_digest(path: Path) -> str:
    """A short digest of a file's bytes ("" when it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""
