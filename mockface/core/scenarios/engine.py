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
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..yamlsource import show
from .activations import (
    Activation,
    ActivationStore,
    LocalActivations,
    Miss,
    Selection,
    recipe_key,
)
from .library import ScenarioLibrary, UnknownScenario
from .model import Rule, Scenario, ScenarioError
from .schema import ScenarioParser

log = logging.getLogger("mockface.scenarios")
class ScenarioEngine:
    """Holds the active scenarios and the generator used for random delays."""

    def __init__(self, parser: ScenarioParser, search_paths: list[str | Path] | None = None,
                 seed: int = 0, store: ActivationStore | None = None) -> None:
        self.parser = parser
        self.library = ScenarioLibrary(search_paths)
        self.store: ActivationStore = store or LocalActivations()
        self._activations: list[Activation] = []
        self._header_activations: dict[str, Activation] = {}
        self._lock = threading.RLock()
        self._random = random.Random(f"delays:{seed}")
        self._random_lock = threading.Lock()
        self.reload_errors: dict[str, str] = {}  # path -> problems, while a reload fails

    def load(self, source: str | os.PathLike[str] | dict | Scenario
             ) -> tuple[Scenario, Path | None]:
        """A validated scenario from a name, a path, an inline document or a parsed one."""
        if isinstance(source, Scenario):
            return source, None
        if isinstance(source, dict):
            return self.parser.parse(source, "<inline>",
                                     default_name=str(source.get("name", "inline"))), None
        path = self.library.find(source)
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
        counter = self.store.counter(recipe_key(recipe), len(scenario.rules))
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
            activation = current.get(recipe_key(recipe))
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
                scenario, path = self.load(self.library.find_name(name))
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
