"""What several ``mockface`` commands share: their error, options and small helpers."""
from __future__ import annotations

import os
from pathlib import Path

import click

from ..core.config import ConfigError, Settings, load_settings
from ..core.scenarios.activations import ActivationStore
from ..products import REGISTRY
from ..scenarios import ScenarioEngine, search_path

CA_DIR_OPTION = click.option(
    "--ca-dir", type=click.Path(file_okay=False), metavar="DIR",
    help="Where the local CA lives (made on first use) [default: $MOCKFACE_CA_DIR, else the "
         "per-user data directory].")
SCENARIO_DIRS_OPTION = click.option(
    "--scenarios", "scenario_dirs", multiple=True, metavar="DIR", type=click.Path(file_okay=False),
    help="Directory searched for scenario names (repeatable) [default: ./scenarios when "
         "present]; the built-in library is always searched last.")


class CliError(click.ClickException):
    """A command cannot do what was asked (e.g. the server cannot start): its message on
    stderr, exit status 2, no traceback."""

    exit_code = 2


def load_config(config: str | None) -> Settings:
    """The settings of the config file ``config`` (built-in ones for None) with every
    product's config keys; ConfigError (``file:line: key: problem``) when it is invalid."""
    return load_settings(config, services=REGISTRY.services, sections=REGISTRY.config_keys,
                         app_sections=REGISTRY.app_config_keys)


def settings_for(config: str | None) -> Settings:
    """Load settings or stop with the configuration error on stderr (exit status 2)."""
    try:
        return load_config(config)
    except ConfigError as error:
        raise CliError(f"invalid configuration: {error}") from None


def scenario_engine(scenario_dirs: tuple[str, ...], seed: int = 0,
                    store: ActivationStore | None = None) -> ScenarioEngine:
    """A scenario engine searching ``scenario_dirs`` (the --scenarios option) and then the
    built-in library."""
    paths: list[str | Path] = list(search_path(scenario_dirs))
    return ScenarioEngine(paths, seed=seed, store=store)


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Put ``data`` at ``path`` in one step, as a file of ``mode`` (default: only its owner
    may read it): written under a fresh random name beside it (made with O_EXCL and mode
    0600, so never readable by others nor through a planted link), then renamed over
    ``path`` (a link there is replaced, never followed)."""
    import tempfile

    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                           suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            if mode != 0o600:
                os.fchmod(handle.fileno(), mode)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
