"""The scenario library: the directories scenarios are searched in, and which files a name
or a path may reach (a name from the network never reaches a file outside the library; a path
only one inside the search directories or given on the command line)."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..yamlsource import show

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


class ScenarioLibrary:
    """The search path of scenario files, and the files named on the command line."""

    def __init__(self, search_paths: list[str | Path] | None = None) -> None:
        self.search_paths = [Path(p) for p in (search_paths or [])]
        self.given_files: set[Path] = set()  # files named on the command line (resolved)

    def names(self) -> dict[str, Path]:
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
        path = self.names().get(str(name_or_path))
        if path is None:
            raise UnknownScenario(f"unknown scenario {show(str(name_or_path))}: not a file and "
                                  f"not found in {self.searched()}")
        return path

    def find_name(self, name: str) -> Path:
        """The library file of a scenario name: for names that arrive over the network
        (admin API, X-Mockface-Scenario header), which must never reach another file."""
        if not SCENARIO_NAME.fullmatch(name):
            raise UnknownScenario(f"unknown scenario {show(name)}: a name is a file name "
                                  "without extension (letters, digits, '.', '_', '-')")
        path = self.names().get(name)
        if path is None:
            raise UnknownScenario(f"unknown scenario {show(name)}: not found in "
                                  f"{self.searched()}")
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
                                    f"({self.searched()}); send the file's text instead")
        if not candidate.is_file():
            raise UnknownScenario(f"unknown scenario {show(path)}: no such file")
        return candidate

    def searched(self) -> str:
        """The search directories, for messages."""
        return ", ".join(str(p) for p in self.search_paths) or "no directories"
