"""``mockface check`` and ``mockface scenarios``: validate scenarios (and config files) and
list scenarios."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..core.config import ConfigError
from ..core.scenarios.library import SCENARIO_SUFFIXES, UnknownScenario, scenario_files
from ..core.scenarios.model import ScenarioError
from ..scenarios import BUILTIN_LIBRARY, ScenarioEngine, load_scenario
from .common import SCENARIO_DIRS_OPTION, load_config, scenario_engine


@click.command(short_help="Validate scenario files, directories or names, and configs.")
@click.argument("targets", nargs=-1, metavar="[NAME_OR_PATH]...")
@SCENARIO_DIRS_OPTION
@click.option("--config", "configs", multiple=True, type=click.Path(dir_okay=False),
              metavar="PATH", help="Validate this config file too, as mockface serve "
                                   "--config reads it (repeatable).")
def check(targets: tuple[str, ...], scenario_dirs: tuple[str, ...],
          configs: tuple[str, ...]) -> None:
    """Validate scenarios: files, directories (every .yaml/.yml/.json in them) or library
    names; and config files (--config). Prints file:line: message for each problem and
    exits 1 when any has one."""
    if not targets and not configs:
        raise click.UsageError("give scenarios to check (NAME_OR_PATH...) or --config PATH")
    failed = False
    for config in configs:
        try:
            settings = load_config(config)
        except ConfigError as error:
            click.echo(str(error), err=True)
            failed = True
            continue
        count = len(settings.apps)
        click.echo(f"{config}: ok (config, {count} app{'' if count == 1 else 's'})")
    engine = scenario_engine(scenario_dirs)
    for target in targets:
        try:
            paths = _scenario_files(engine, target)
        except UnknownScenario as error:
            click.echo(str(error), err=True)
            failed = True
            continue
        for path in paths:
            try:
                scenario = load_scenario(path)
            except ScenarioError as error:
                failed = True
                for problem in error.problems:
                    click.echo(str(problem), err=True)
                continue
            count = len(scenario.rules)
            click.echo(f"{path}: ok ({scenario.name}, {count} rule{'' if count == 1 else 's'})")
    if failed:
        sys.exit(1)


def _scenario_files(engine: ScenarioEngine, target: str) -> list[Path]:
    """The scenario files a ``check`` argument names: a directory's, a file, a library name."""
    directory = Path(target)
    if directory.is_dir():
        files = scenario_files(directory)
        if not files:
            raise UnknownScenario(f"{target}: no .yaml, .yml or .json files in this directory")
        return files
    if Path(target).suffix in SCENARIO_SUFFIXES or os.sep in target:
        return [Path(target)]  # a path: load_scenario says why it cannot be read
    return [engine.library.find(target)]


@click.command("scenarios", short_help="List the scenario names and descriptions.")
@SCENARIO_DIRS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def scenarios_command(scenario_dirs: tuple[str, ...], as_json: bool) -> None:
    """List the scenarios that names can select: the built-in library and --scenarios
    directories (the first directory holding a name wins)."""
    engine = scenario_engine(scenario_dirs)
    entries = []
    for name, path in engine.library.names().items():
        try:
            description = " ".join(load_scenario(path).description.split())
        except ScenarioError as error:
            description = f"INVALID: {len(error.problems)} problem(s); run mockface check {path}"
        origin = "built-in" if path.parent.resolve() == BUILTIN_LIBRARY else str(path.parent)
        entries.append({"name": name, "description": description, "origin": origin,
                        "path": str(path)})
    if as_json:
        click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        return
    width = max((len(e["name"]) for e in entries), default=0)
    for entry in entries:
        where = "" if entry["origin"] == "built-in" else f"  [{entry['origin']}]"
        click.echo(f"{entry['name']:<{width}}  {entry['description']}{where}")
