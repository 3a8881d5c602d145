"""Scenarios for this server: the parser with every registered product's dialect, the
ready-made library and the search path, and the engine bound to them.

Everything protocol-free lives in ``mockface.core.scenarios``; this module only puts the
pieces together.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .core.scenarios.activations import ActivationStore
from .core.scenarios.engine import ScenarioEngine as _Engine
from .core.scenarios.model import Scenario
from .core.emulator import parser_of
from .packaged import packaged_folder
from .products import REGISTRY

#: Reads scenario documents whose rules target any registered product's endpoints.
PARSER = parser_of(REGISTRY)
#: The ready-made library: shipped in the package, or the checkout's top-level folder.
BUILTIN_LIBRARY = packaged_folder("scenarios").resolve()


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a YAML or JSON scenario file (ScenarioError with every problem)."""
    return PARSER.load(path)


def parse_scenario_text(text: str, source: str = "<inline>",
                        default_name: str = "inline") -> Scenario:
    """Parse and validate YAML or JSON text; problems name ``source`` and their lines."""
    return PARSER.parse_text(text, source, default_name)


def parse_scenario(document: Any, source: str = "<inline>",
                   default_name: str = "inline") -> Scenario:
    """Validate a parsed document (dicts and lists, located or plain) into a Scenario."""
    return PARSER.parse(document, source, default_name)


def search_path(directories: list[str | Path] | tuple[str | Path, ...] = (),
                cwd: Path | None = None) -> list[Path]:
    """Where scenario names are looked up: the given directories, else ``./scenarios`` when
    present; the built-in library always comes last."""
    paths = [Path(d) for d in directories]
    if not paths:
        local = (cwd or Path.cwd()) / "scenarios"
        if local.is_dir():
            paths.append(local)
    if BUILTIN_LIBRARY.is_dir() and all(p.resolve() != BUILTIN_LIBRARY for p in paths):
        paths.append(BUILTIN_LIBRARY)
    return paths


class ScenarioEngine(_Engine):
    """The scenario engine with this server's parser."""

    def __init__(self, search_paths: list[str | Path] | None = None, seed: int = 0,
                 store: ActivationStore | None = None) -> None:
        super().__init__(PARSER, search_paths, seed, store)
