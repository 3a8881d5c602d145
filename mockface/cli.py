"""The ``mockface`` command: serve, sign, codes."""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import logging.handlers
import queue
import secrets
import signal
import sys
import time
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, Settings, load_settings
from .errors import CATALOGUE, ENDPOINTS, codes_for
from .journal import DEFAULT_JOURNAL_SIZE
from .scenario_engine import (BUILTIN_LIBRARY, SCENARIO_SUFFIXES, ScenarioEngine,
                              ScenarioWatcher, UnknownScenario, search_path)
from .scenarios import ScenarioError, load_scenario
from .server import DEFAULT_THREADS, create_server, shutdown
from .signature import LAYOUTS, sign


def _settings(config: str | None) -> Settings:
    """Load settings or stop with the configuration error on stderr (exit status 2)."""
    try:
        return load_settings(config)
    except ConfigError as error:
        raise click.ClickException(f"invalid configuration: {error}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mockface")
def main() -> None:
    """mockface: an offline emulator of Tencent Cloud's legacy face-verification API."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Keep the loopback default unless others must reach it.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind; 0 picks a free port (the banner prints it).")
@click.option("--config", type=click.Path(dir_okay=False),
              help="YAML file with apps, secrets, buckets, services, identities and settings.")
@click.option("--seed", type=int, help="Seed for generated scores, lip codes and random delays "
                                       "[default: 0].")
@click.option("--loose", is_flag=True, default=None,
              help="Only require a well-formed signature: skip key, HMAC, expiry and access "
                   "checks.")
@click.option("--scenario", "scenario_names", multiple=True, metavar="NAME_OR_PATH",
              help="Activate a scenario (repeatable; rules apply in the order given).")
@click.option("--scenarios", "scenario_dirs", multiple=True, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Directory searched for scenario names (repeatable) [default: ./scenarios "
                   "when present].")
@click.option("--allow-scenario-header", is_flag=True,
              help="Let a request pick a scenario with the X-Mockface-Scenario header.")
@click.option("--watch", is_flag=True, help="Reload active scenario files when they change.")
@click.option("--journal-size", default=DEFAULT_JOURNAL_SIZE, show_default=True,
              type=click.IntRange(1), help="Requests kept in the journal (oldest dropped).")
@click.option("--admin-token", help="Require this token (X-Mockface-Admin-Token header) on the "
                                    "admin API. Generated and printed when --host is not a "
                                    "loopback address.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True,
              type=click.IntRange(1, 1024), help="Worker threads.")
@click.option("--quiet", is_flag=True, help="No per-request log lines.")
def serve(host: str, port: int, config: str | None, seed: int | None, loose: bool | None,
          scenario_names: tuple[str, ...], scenario_dirs: tuple[str, ...],
          allow_scenario_header: bool, watch: bool, journal_size: int, admin_token: str | None,
          threads: int, quiet: bool) -> None:
    """Run the emulator until interrupted (one process, many threads)."""
    from .app import create_app
    from .emulator import Emulator

    settings = _settings(config).with_overrides(seed=seed, loose=loose)
    log_writer = _log_to_stderr(logging.WARNING if quiet else logging.INFO)
    engine = ScenarioEngine(search_path(scenario_dirs), seed=settings.seed)
    for name in scenario_names:
        try:
            engine.activate(name)
        except (UnknownScenario, ScenarioError) as error:
            raise click.ClickException(f"invalid scenario {name}:\n{error}") from None
    emulator = Emulator(settings, scenarios=engine, allow_scenario_header=allow_scenario_header,
                        journal_size=journal_size)
    admin_token = admin_token_for(host, admin_token)
    server = create_server(create_app(emulator=emulator, admin_token=admin_token), host, port,
                           threads)
    watcher = ScenarioWatcher(engine).start() if watch else None
    click.echo(banner(settings, f"http://{_url_host(server.host)}:{server.port}",
                      [a.scenario.name for a in engine.active()], admin_token))
    sys.stdout.flush()
    emulator.ready.set()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop like Ctrl-C: cleanly
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if watcher is not None:
            watcher.stop()
        emulator.close()
        shutdown(server, in_loop_thread=True)
        logging.getLogger("mockface").warning("mockface stopped")
        log_writer.stop()  # last: it flushes everything logged during shutdown


def _log_to_stderr(level: int) -> logging.handlers.QueueListener:
    """Route log records through a queue to one writer thread, so that request threads never
    wait on each other for stderr (at 64 connections a shared stream handler cut throughput
    by three quarters)."""
    records: queue.SimpleQueue = queue.SimpleQueue()
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)
    logging.getLogger("waitress").setLevel(logging.WARNING)
    listener = logging.handlers.QueueListener(records, writer, respect_handler_level=True)
    listener.start()
    return listener


def admin_token_for(host: str, given: str | None) -> str | None:
    """The admin token to require: the one given, else a fresh one for non-loopback binds."""
    if given is not None:
        return given
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return None if loopback else secrets.token_urlsafe(24)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def banner(settings: Settings, url: str, scenarios: list[str] | None = None,
           admin_token: str | None = None) -> str:
    """The start-up text: where the server listens, its credentials and a curl to paste."""
    app = settings.default_app
    secret_id, secret_key = next(iter(app.secrets.items()))
    authorization = sign(app.appid, secret_id, secret_key, now=int(time.time()),
                         expires_in=30 * 24 * 3600)
    body = json.dumps({"appid": app.appid})
    mode = "loose (only the signature format is checked)" if settings.loose else "strict"
    return "\n".join([
        f"mockface {__version__} listening on {url}",
        f"  config:     {settings.source}",
        f"  appid:      {app.appid}",
        f"  secret id:  {secret_id}",
        f"  secret key: {secret_key}",
        f"  signatures: {mode}; seed {settings.seed}",
        f"  scenarios:  {', '.join(scenarios) if scenarios else 'none'}",
        f"  admin API:  {url}/__mockface/ "
        + (f"(header X-Mockface-Admin-Token: {admin_token})" if admin_token else "(no token)"),
        "Try it (signature valid for 30 days):",
        f"  curl -s -X POST {url}/face/livegetfour -H 'Content-Type: application/json' \\",
        f"    -H 'Authorization: {authorization}' -d '{body}'",
        "",
    ])


@main.command("sign")
@click.option("--appid", help="Appid to sign for [default: the configured first app].")
@click.option("--secret-id", help="Secret id [default: the app's first secret id].")
@click.option("--secret-key", help="Secret key [default: the key of --secret-id].")
@click.option("--config", type=click.Path(dir_okay=False), help="Take defaults from this file.")
@click.option("--expires-in", default=3600, show_default=True, type=click.IntRange(1),
              help="Lifetime of a multi-use signature, in seconds.")
@click.option("--once", is_flag=True, help="A once-signature (e=0); needs --fileid.")
@click.option("--fileid", default="", help="File id (f) to bind.")
@click.option("--bucket", default="", help="Bucket (b) to sign.")
@click.option("--now", type=int, help="Issue time t as a Unix timestamp [default: now].")
@click.option("--layout", type=click.Choice(LAYOUTS), default="seed", show_default=True,
              help="Plaintext layout of a real client: seed/PHP/Python, Java/C++ or Node.")
def sign_command(appid: str | None, secret_id: str | None, secret_key: str | None,
                 config: str | None, expires_in: int, once: bool, fileid: str, bucket: str,
                 now: int | None, layout: str) -> None:
    """Print an Authorization header value."""
    if once and not fileid:
        raise click.UsageError("--once needs --fileid")
    settings = _settings(config)
    app = settings.keyring.app(appid) if appid else settings.default_app
    secrets = dict(app.secrets) if app else {}
    if secret_id is None:
        secret_id = next(iter(secrets), None)
    if secret_key is None:
        secret_key = secrets.get(secret_id or "")
    if not appid:
        appid = settings.default_app.appid
    if secret_id is None or secret_key is None:
        raise click.UsageError("no secret id/key known for this appid: give --secret-id and "
                               "--secret-key")
    click.echo(sign(appid, secret_id, secret_key, now=int(time.time()) if now is None else now,
                    expires_in=expires_in, once=once, fileid=fileid, bucket=bucket,
                    layout=layout))


@main.command()
@click.argument("url")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait before giving up.")
def wait(url: str, timeout: float) -> None:
    """Wait until the server at URL answers health 200 (exit 0), or fail after --timeout."""
    from .client import AdminClient

    try:
        AdminClient(url, timeout=min(max(timeout, 0.5), 5.0)).wait_until_healthy(timeout)
    except TimeoutError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"mockface at {url} is healthy")


SCENARIO_DIRS_OPTION = click.option(
    "--scenarios", "scenario_dirs", multiple=True, metavar="DIR", type=click.Path(file_okay=False),
    help="Directory searched for scenario names (repeatable) [default: ./scenarios when "
         "present]; the built-in library is always searched last.")


@main.command()
@click.argument("targets", nargs=-1, required=True, metavar="NAME_OR_PATH...")
@SCENARIO_DIRS_OPTION
def check(targets: tuple[str, ...], scenario_dirs: tuple[str, ...]) -> None:
    """Validate scenarios: files, directories (every .yaml/.yml/.json in them) or library
    names. Prints file:line: message for each problem and exits 1 when any has one."""
    engine = ScenarioEngine(search_path(scenario_dirs))
    failed = False
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
        files = sorted(p for p in directory.iterdir()
                       if p.suffix in SCENARIO_SUFFIXES and p.is_file())
        if not files:
            raise UnknownScenario(f"{target}: no .yaml, .yml or .json files in this directory")
        return files
    if Path(target).suffix in SCENARIO_SUFFIXES or os.sep in target:
        return [Path(target)]  # a path: load_scenario says why it cannot be read
    return [engine.find(target)]


@main.command("scenarios")
@SCENARIO_DIRS_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def scenarios_command(scenario_dirs: tuple[str, ...], as_json: bool) -> None:
    """List the scenarios that names can select: the built-in library and --scenarios
    directories (the first directory holding a name wins)."""
    engine = ScenarioEngine(search_path(scenario_dirs))
    entries = []
    for name, path in engine.library().items():
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


@main.command()
@click.option("--out", "directory", default=".", show_default=True,
              type=click.Path(file_okay=False), help="Directory to copy the samples into.")
def samples(directory: str) -> None:
    """Copy the sample media (face.jpg, card.jpg, video.mp4) into a directory. In Python:
    mockface.samples.IMAGE, .CARD and .VIDEO are their paths inside the package."""
    from .samples import copy_samples

    for path in copy_samples(directory):
        click.echo(str(path))


@main.command()
@click.option("--endpoint", type=click.Choice(ENDPOINTS), help="Only codes documented for it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def codes(endpoint: str | None, as_json: bool) -> None:
    """List the documented error codes with message, HTTP status and meaning."""
    entries = codes_for(endpoint) if endpoint else list(CATALOGUE.values())
    if as_json:
        click.echo(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False,
                              indent=2))
        return
    for e in entries:
        click.echo(f"{e.code:>6}  {e.http_status}  {e.message:<34} {e.meaning}")


if __name__ == "__main__":  # pragma: no cover
    main()
