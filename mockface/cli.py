"""The ``mockface`` command: serve, sign, codes."""
from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import shlex
import signal
import socket
import sys
import time
from pathlib import Path
from typing import NoReturn

import click

from . import __version__
from .client import TOKEN_ENV
from .core.config import DEFAULT_SECRET_KEY, ConfigError, Settings, load_settings, mask
from .core.hosts import is_loopback
from .core.journal import DEFAULT_JOURNAL_SIZE
from .core.logs import LOG_FORMATS, LOG_LEVELS
from .core.logs import configure as configure_logs
from .core.scenarios.engine import SCENARIO_SUFFIXES, UnknownScenario, scenario_files
from .core.scenarios.model import ScenarioError
from .core.scenarios.watcher import ScenarioWatcher
from .legacy.errors import CATALOGUE, ENDPOINTS, codes_for
from .legacy.signature import LAYOUTS, sign, time_problem
from .scenarios import BUILTIN_LIBRARY, ScenarioEngine, load_scenario, search_path
from .web.malloc import keep_freed_memory
from .web.server import DEFAULT_THREADS, Server

STATE_ENV = "MOCKFACE_STATE"
CA_DIR_OPTION = click.option(
    "--ca-dir", type=click.Path(file_okay=False), metavar="DIR",
    help="Where the local CA lives (made on first use) [default: $MOCKFACE_CA_DIR, else the "
         "per-user data directory].")
SCENARIO_DIRS_OPTION = click.option(
    "--scenarios", "scenario_dirs", multiple=True, metavar="DIR", type=click.Path(file_okay=False),
    help="Directory searched for scenario names (repeatable) [default: ./scenarios when "
         "present]; the built-in library is always searched last.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mockface")
def main() -> None:
    """mockface: an offline emulator of Tencent Cloud's legacy face-verification API."""


class CliError(click.ClickException):
    """A command cannot do what was asked (e.g. the server cannot start): its message on
    stderr, exit status 2, no traceback."""

    exit_code = 2


def _settings(config: str | None) -> Settings:
    """Load settings or stop with the configuration error on stderr (exit status 2)."""
    try:
        return load_settings(config)
    except ConfigError as error:
        raise CliError(f"invalid configuration: {error}") from None


@main.command(short_help="Run the emulator.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Keep the loopback default unless others must reach it.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to bind; 0 picks a free port (the banner and --ready-file give it).")
@click.option("--config", type=click.Path(dir_okay=False),
              help="YAML file with apps, secrets, buckets, services, identities and settings.")
@click.option("--seed", type=int, help="Seed for generated scores, lip codes and random delays "
                                       "[default: 0].")
@click.option("--loose", is_flag=True, default=None,
              help="Only require a well-formed signature: skip key, HMAC, expiry and access "
                   "checks.")
@click.option("--scenario", "scenario_names", multiple=True, metavar="NAME_OR_PATH",
              help="Activate a scenario (repeatable; rules apply in the order given).")
@SCENARIO_DIRS_OPTION
@click.option("--allow-scenario-header", is_flag=True,
              help="Let a request pick a scenario with the X-Mockface-Scenario header.")
@click.option("--watch", is_flag=True, help="Reload active scenario files when they change.")
@click.option("--journal-size", default=DEFAULT_JOURNAL_SIZE, show_default=True,
              type=click.IntRange(1), help="Requests kept in the journal (oldest dropped).")
@click.option("--admin-token", envvar=TOKEN_ENV, show_envvar=True,
              help="Require this token (X-Mockface-Admin-Token header) on the admin API. "
                   "Generated and printed when --host is not a loopback address.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True,
              type=click.IntRange(1, 1024),
              help="Worker threads per server process, for requests that can wait "
                   "(scripted delays, a slow or unreachable --state redis://), bodies over "
                   "256 KB and the admin API; the other requests are answered on the event "
                   "loop.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (SO_REUSEPORT); more than 1 needs "
                   "--state redis://.")
@click.option("--state", "state_url", default="memory", show_default=True, envvar=STATE_ENV,
              show_envvar=True, metavar="memory|redis://HOST:PORT/DB",
              help="Where what requests change is kept: this process's memory, or a Redis "
                   "server shared by several processes or hosts (needs mockface[redis]; "
                   "add ?prefix=NAME: to share one database).")
@click.option("--ready-file", type=click.Path(dir_okay=False), metavar="PATH",
              help="Once the server answers, write JSON {url, port, appid, secret_id, "
                   "secret_key, admin_token, ca_cert} here (secret_key only for the built-in "
                   "development app, ca_cert only with --tls); removed when the server "
                   "stops.")
@click.option("--tls", is_flag=True,
              help="Serve HTTPS on the port (a certificate from the local CA for localhost, "
                   "127.0.0.1, ::1 and the emulated hosts) instead of plain HTTP.")
@CA_DIR_OPTION
@click.option("--log-level", type=click.Choice(LOG_LEVELS), default="info", show_default=True,
              help="info logs one line per request (with the reason of every non-zero code) "
                   "and every admin action; debug adds more.")
@click.option("-v", "--verbose", is_flag=True, help="Same as --log-level debug.")
@click.option("--log-format", type=click.Choice(LOG_FORMATS), default="text",
              show_default=True, help="json: one JSON object per line, for log collectors.")
@click.option("--quiet", is_flag=True, help="Same as --log-level warning: no per-request "
                                            "lines.")
def serve(host: str, port: int, config: str | None, seed: int | None, loose: bool | None,
          scenario_names: tuple[str, ...], scenario_dirs: tuple[str, ...],
          allow_scenario_header: bool, watch: bool, journal_size: int, admin_token: str | None,
          threads: int, workers: int, state_url: str, ready_file: str | None, tls: bool,
          ca_dir: str | None, log_level: str, verbose: bool, log_format: str,
          quiet: bool) -> None:
    """Run the emulator until interrupted (one process with many threads, or --workers
    processes sharing --state).  The port also accepts proxy requests for the emulated
    Tencent hosts (see mockface env)."""
    from .emulator import Emulator
    from .web.app import create_app

    settings = _settings(config).with_overrides(seed=seed, loose=loose)
    if workers > 1 and state_url == "memory":
        raise CliError(f"--workers {workers} needs a shared state: add --state "
                       "redis://HOST:PORT/DB (processes cannot share their memory)")
    state = _state(state_url, settings, journal_size)
    engine = ScenarioEngine(search_path(scenario_dirs), seed=settings.seed, store=state.activations)
    for name in scenario_names:
        try:
            engine.activate(name)
        except (UnknownScenario, ScenarioError) as error:
            raise CliError(f"invalid scenario {name}:\n{error}") from None
    admin_token = admin_token_for(host, admin_token)
    level = "debug" if verbose else "warning" if quiet else log_level

    def build(listener: socket.socket | None = None) -> Server:
        emulator = Emulator(settings, scenarios=engine,
                            allow_scenario_header=allow_scenario_header,
                            journal_size=journal_size, state=state)
        return _bind(create_app(emulator=emulator, admin_token=admin_token), host, port,
                     threads, tls, ca_dir, listener)

    def announce(url: str, bound_port: int, ca_cert: Path | None) -> None:
        click.echo(banner(settings, url, [a.scenario.name for a in engine.active()],
                          admin_token, ca_cert, workers, state.description))
        sys.stdout.flush()
        if ready_file:
            _write_ready_file(Path(ready_file), settings, url, bound_port, admin_token, ca_cert)

    keep_freed_memory()  # forked workers inherit it
    try:
        if workers > 1:
            _serve_workers(build, announce, host, port, workers, tls, ca_dir, level,
                           log_format, engine if watch else None)
        else:
            server = build()
            _run(server, configure_logs(level, log_format), engine if watch else None,
                 lambda: announce(server.url, server.port, server.ca_cert))
    finally:
        if ready_file:
            Path(ready_file).unlink(missing_ok=True)


def _state(url: str, settings: Settings, journal_size: int):
    """The state backend --state names (MemoryState or RedisState); CliError when it is
    unusable."""
    from .core.state import MemoryState, StateUnavailable

    if url == "memory":
        return MemoryState(settings, journal_size)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise CliError(f"--state {url!r}: give memory or redis://HOST:PORT/DB")
    try:
        from .core.redis_state import RedisState
    except ImportError:
        raise CliError("--state redis:// needs the redis client: pip install "
                       "'mockface[redis]'") from None
    try:
        state = RedisState(url, settings, journal_size)
        state.ping()
    except (ValueError, StateUnavailable) as error:
        raise CliError(f"--state: {error}") from None
    return state


def _run(server: Server, log_writer, engine: ScenarioEngine | None, ready) -> None:
    """Serve in this process until interrupted (SIGTERM stops like Ctrl-C: cleanly), with
    ``engine``'s files watched when given; ``ready()`` once requests are accepted."""
    watcher = ScenarioWatcher(engine).start() if engine is not None else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ready()
    try:
        server.run()
    finally:
        if watcher is not None:
            watcher.stop()
        logging.getLogger("mockface").warning("mockface stopped")
        log_writer.stop()  # last: it flushes everything logged during shutdown


def _serve_workers(build, announce, host: str, port: int, workers: int, tls: bool,
                   ca_dir: str | None, level: str, log_format: str,
                   engine: ScenarioEngine | None) -> None:
    """Fork ``workers`` server processes on one port and watch them until interrupted."""
    from .web.workers import WorkerError, WorkerPool, shared_listeners

    try:
        listeners = shared_listeners(host, port, workers)
    except (OSError, ValueError) as error:
        _bind_failure(error, host, port)
    ca_cert = None
    if tls:  # load (or make) the CA once, before the workers read it
        from .web.tls import CAError, CertificateAuthority

        try:
            ca_cert = CertificateAuthority(ca_dir).cert_path
        except CAError as error:
            raise CliError(str(error)) from None
    bound_port = listeners[0].getsockname()[1]
    url = Server.url_for(listeners[0].getsockname()[0], bound_port, tls)

    def work(listener: socket.socket, ready) -> None:
        server = build(listener)
        _run(server, configure_logs(level, log_format), engine, ready)

    pool = WorkerPool(listeners, work)
    try:
        pool.start()
    except WorkerError as error:
        raise CliError(str(error)) from None
    announce(url, bound_port, ca_cert)
    if pool.wait():  # each worker has said "mockface stopped"
        raise CliError("a worker process exited; all workers were stopped")


def _bind(app, host: str, port: int, threads: int, tls: bool = False,
          ca_dir: str | None = None, listener: socket.socket | None = None) -> Server:
    """The bound server, or a CliError that says in one line why it cannot bind."""
    from .web.tls import CAError

    try:
        return Server(app, host, port, threads, tls, ca_dir, listener)
    except CAError as error:
        raise CliError(str(error)) from None
    except (OSError, ValueError) as error:  # socket.gaierror is an OSError
        _bind_failure(error, host, port)


def _bind_failure(error: Exception, host: str, port: int) -> NoReturn:
    """A CliError that says in one line why ``host:port`` cannot be bound."""
    if isinstance(error, (socket.gaierror, ValueError)):  # waitress: ValueError for a name
        raise CliError(f"cannot bind --host {host!r}: not an address or a known host name"
                       ) from None
    if isinstance(error, OSError):
        if error.errno == errno.EADDRINUSE:
            raise CliError(f"port {port} is in use; try --port 0") from None
        if error.errno == errno.EACCES:
            raise CliError(f"port {port} needs privileges; try a port above 1023 or "
                               "--port 0") from None
        if error.errno == errno.EADDRNOTAVAIL:
            raise CliError(f"cannot bind --host {host!r}: not an address of this machine"
                               ) from None
        raise CliError(f"cannot bind {host}:{port}: {error.strerror or error}") from None
    raise CliError(f"cannot bind {host}:{port}: {error}") from None


def _write_ready_file(path: Path, settings: Settings, url: str, port: int,
                      admin_token: str | None, ca_cert: Path | None = None) -> None:
    """Write the ready file atomically (readers never see half of it), mode 0600 (it holds
    the admin token)."""
    app = settings.default_app
    secret_id, secret_key = app.first_secret
    document = {"url": url, "port": port, "appid": app.appid, "secret_id": secret_id,
                "secret_key": secret_key if secret_key == DEFAULT_SECRET_KEY else None,
                "admin_token": admin_token, "ca_cert": str(ca_cert) if ca_cert else None}
    try:
        write_atomically(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    except OSError as error:
        raise CliError(f"cannot write --ready-file {path}: {error.strerror or error}"
                           ) from None


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


def admin_token_for(host: str, given: str | None) -> str | None:
    """The admin token to require: the one given, else a fresh one for non-loopback binds.
    An empty token means none, which only a loopback bind may have (CliError otherwise)."""
    loopback = is_loopback(host)
    if given == "":
        if not loopback:
            raise CliError(f"--admin-token '' would leave the admin API open to everyone who "
                           f"reaches {host}; give a token or leave it out to get one")
        return None
    if given is not None:
        return given
    return None if loopback else secrets.token_urlsafe(24)


def banner(settings: Settings, url: str, scenarios: list[str] | None = None,
           admin_token: str | None = None, ca_cert: Path | None = None, workers: int = 1,
           state: str = "memory (this process)") -> str:
    """The start-up text: where the server listens, its credentials and a curl to paste
    (``ca_cert``: the CA a client must trust, with --tls)."""
    app = settings.default_app
    secret_id, secret_key = app.first_secret
    authorization = sign(app.appid, secret_id, secret_key, now=int(time.time()),
                         expires_in=30 * 24 * 3600)
    body = json.dumps({"appid": app.appid})
    mode = "loose (only the signature format is checked)" if settings.loose else "strict"
    return "\n".join([
        f"mockface {__version__} listening on {url}",
        f"  config:     {settings.source}",
        f"  appid:      {app.appid}",
        f"  secret id:  {secret_id}",
        f"  secret key: {secret_key if secret_key == DEFAULT_SECRET_KEY else mask(secret_key)}",
        f"  signatures: {mode}; seed {settings.seed}",
        f"  scenarios:  {', '.join(scenarios) if scenarios else 'none'}",
        f"  state:      {state}" + (f"; {workers} worker processes" if workers > 1 else ""),
        f"  admin API:  {url}/__mockface/ "
        + (f"(header X-Mockface-Admin-Token: {admin_token})" if admin_token else "(no token)"),
        f"  proxy:      HTTP_PROXY/HTTPS_PROXY={url} reaches the emulated Tencent hosts "
        "(mockface env)",
        *([f"  TLS CA:     {ca_cert}"] if ca_cert else []),
        "Try it (signature valid for 30 days):",
        f"  curl -s -X POST {url}/face/livegetfour -H 'Content-Type: application/json' \\"
        + (f"\n    --cacert {ca_cert} \\" if ca_cert else ""),
        f"    -H 'Authorization: {authorization}' -d '{body}'",
        "",
    ])


@main.command("sign", short_help="Print a signature (legacy) or signed headers (API 3.0).")
@click.option("--api", type=click.Choice(("legacy", "faceid", "iai")), default="legacy",
              show_default=True, help="legacy: an Authorization value for /face/*; faceid or "
                                      "iai: the TC3-HMAC-SHA256 headers of one API 3.0 call.")
@click.option("--action", help="API 3.0: the action, e.g. GetLiveCode.")
@click.option("--body", default="{}", show_default=True,
              help="API 3.0: the exact JSON body that will be sent.")
@click.option("--version", "api_version", help="API 3.0: X-TC-Version [default: 2018-03-01 "
                                               "for faceid, 2020-03-03 for iai].")
@click.option("--url", "server", default="http://127.0.0.1:8080", show_default=True,
              help="API 3.0: the server the request goes to (its host:port is signed).")
@click.option("--curl", "as_curl", is_flag=True,
              help="API 3.0: print a complete curl command instead of the headers.")
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
def sign_command(api: str, action: str | None, body: str, api_version: str | None,
                 server: str, as_curl: bool, appid: str | None, secret_id: str | None,
                 secret_key: str | None, config: str | None, expires_in: int, once: bool,
                 fileid: str, bucket: str, now: int | None, layout: str) -> None:
    """Print an Authorization header value for the legacy API, or with --api faceid/iai the
    headers of one TC3-signed API 3.0 call (--action, --body), for curl and other clients
    without a Tencent SDK."""
    if api != "legacy":
        _sign_api3(api, action, body, api_version, server_url(server), as_curl,
                   _settings(config), appid, secret_id, secret_key, now)
        return
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
    issued = int(time.time()) if now is None else now
    click.echo(sign(appid, secret_id, secret_key, now=issued, expires_in=expires_in, once=once,
                    fileid=fileid, bucket=bucket, layout=layout))
    problem = time_problem(issued, 0 if once else issued + expires_in, time.time(),
                           settings.clock_skew)
    if problem is not None:
        code, reason = problem
        click.echo(f"warning: a server on the real clock refuses this signature with code "
                   f"{code}: {reason}", err=True)


def _sign_api3(product: str, action: str | None, body: str, version: str | None, url: str,
               as_curl: bool, settings: Settings, appid: str | None, secret_id: str | None,
               secret_key: str | None, now: int | None) -> None:
    """Print the TC3 headers (or a curl command) of one API 3.0 call."""
    from urllib.parse import urlsplit

    from .core.shell import curl
    from .faceid.request import current_version
    from .faceid.signature import sign_tc3

    if not action:
        raise click.UsageError("--api faceid/iai needs --action (e.g. GetLiveCode)")
    app = settings.keyring.app(appid) if appid else settings.default_app
    if app is None and (secret_id is None or secret_key is None):
        raise click.UsageError(f"no app {appid!r} is configured: give --secret-id and "
                               "--secret-key")
    secrets = dict(app.secrets) if app else {}
    secret_id = secret_id or next(iter(secrets))
    secret_key = secret_key or secrets.get(secret_id)
    if secret_key is None:
        raise click.UsageError(f"no key known for secret id {secret_id!r}: give --secret-key")
    headers = sign_tc3(secret_id, secret_key, service=product, host=urlsplit(url).netloc,
                       action=action, timestamp=int(time.time()) if now is None else now,
                       body=body.encode("utf-8"),
                       version=version or current_version(product))
    if as_curl:
        click.echo(curl(f"{url}/", headers, body))
        return
    for name, value in headers.items():
        click.echo(f"{name}: {value}")
    click.echo(f"(send exactly this body to {url}/ within 5 minutes; the Host header "
               f"must be {urlsplit(url).netloc})", err=True)


def server_url(text: str) -> str:
    """``text`` as a server's base URL: ``http(s)://host[:port][/]``, or ``host:port`` (taken
    as http); click.BadParameter (exit 2 at once) for anything else."""
    from urllib.parse import urlsplit

    candidate = text if "://" in text else f"http://{text}"
    try:
        parts = urlsplit(candidate)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a URL: {error}", param_hint="URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise click.BadParameter(f"{text!r} is not a server URL like http://127.0.0.1:8080 "
                                 "or 127.0.0.1:8080", param_hint="URL")
    return candidate.rstrip("/")


@main.command(short_help="Wait until a server is healthy; print its URL.")
@click.argument("url", required=False)
@click.option("--ready-file", type=click.Path(dir_okay=False), metavar="PATH",
              help="Instead of URL: wait for a server started with --ready-file PATH and "
                   "take its URL from that file.")
@click.option("--pid", type=int, help="With --ready-file: fail at once when this process "
                                      "(the server) exits before it is ready.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait before giving up.")
@click.option("--cacert", type=click.Path(dir_okay=False, exists=True), metavar="PATH",
              help="The CA to trust for an https URL (a --ready-file names its own).")
def wait(url: str | None, ready_file: str | None, pid: int | None, timeout: float,
         cacert: str | None) -> None:
    """Wait until a server answers health 200, then print its URL on stdout (exit 0); exit 1
    after --timeout. Give the URL (or host:port), or --ready-file."""
    from .client import AdminClient

    if (url is None) == (ready_file is None):
        raise click.UsageError("give either URL or --ready-file")
    deadline = time.monotonic() + timeout
    if ready_file is not None:
        document = _read_ready_file(Path(ready_file), pid, deadline)
        url, cacert = document["url"], cacert or document["ca_cert"]
    url = server_url(url)
    try:
        AdminClient(url, timeout=min(max(timeout, 0.5), 5.0),
                    cafile=cacert).wait_until_healthy(
            max(deadline - time.monotonic(), 0))
    except TimeoutError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"mockface at {url} is healthy", err=True)
    click.echo(url)


def _read_ready_file(path: Path, pid: int | None, deadline: float) -> dict:
    """What a server's --ready-file holds, once it is there: a dict with str ``url`` and
    ``ca_cert`` / ``admin_token`` (str or None).  ClickException at ``deadline`` saying
    whether the file is missing, unreadable or not a ready file, or as soon as the server
    process ``pid`` is gone."""
    while True:
        try:
            return _ready_document(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problem = f"no server wrote {path} in time"
        except OSError as error:
            problem = f"cannot read {path}: {error.strerror or error}"
        except ValueError:  # UnicodeDecodeError is one
            problem = f"{path} is not the ready file of a mockface server"
        if pid is not None and not _alive(pid):
            raise click.ClickException(f"the server (pid {pid}) exited before writing {path}")
        if time.monotonic() >= deadline:
            raise click.ClickException(problem)
        time.sleep(0.05)  # polling interval


def _ready_document(text: str) -> dict:
    """A ready file's JSON with the fields its readers use checked; ValueError otherwise."""
    document = json.loads(text)
    if not isinstance(document, dict) or not isinstance(document.get("url"), str):
        raise ValueError("not a ready file")
    for key in ("ca_cert", "admin_token"):
        if not isinstance(document.setdefault(key, None), (str, type(None))):
            raise ValueError("not a ready file")
    return document


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@main.command(short_help="Validate scenario files, directories or names.")
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
        files = scenario_files(directory)
        if not files:
            raise UnknownScenario(f"{target}: no .yaml, .yml or .json files in this directory")
        return files
    if Path(target).suffix in SCENARIO_SUFFIXES or os.sep in target:
        return [Path(target)]  # a path: load_scenario says why it cannot be read
    return [engine.find(target)]


@main.command("scenarios", short_help="List the scenario names and descriptions.")
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


@main.command(short_help="Copy the sample image, card and video.")
@click.option("--out", "directory", default=".", show_default=True,
              type=click.Path(file_okay=False), help="Directory to copy the samples into.")
@click.option("--force", is_flag=True,
              help="Replace files of those names that differ from the samples.")
def samples(directory: str, force: bool) -> None:
    """Copy the sample media (face.jpg, card.jpg, video.mp4) into a directory and print
    their paths. Other files of those names are never overwritten without --force (nothing
    is copied then); copies already there are left as they are. In Python:
    mockface.samples.IMAGE, .CARD and .VIDEO are their paths inside the package."""
    from .samples import SamplesExist, copy_samples

    try:
        copied = copy_samples(directory, overwrite=force)
    except SamplesExist as error:
        names = ", ".join(str(path) for path in error.paths)
        raise CliError(f"not overwriting {names} (not the samples); give --force to "
                       "replace, or --out DIR") from None
    except OSError as error:
        raise CliError(f"cannot copy the samples into {directory}: "
                       f"{error.strerror or error}") from None
    for path in copied:
        click.echo(str(path))


@main.command(short_help="Print realistic test identities (needs Faker).")
@click.option("-n", "--count", default=5, show_default=True, type=click.IntRange(1, 10_000),
              help="How many identities.")
@click.option("--seed", type=int, help="Repeatable output (for one Faker version).")
@click.option("--format", "fmt", type=click.Choice(("yaml", "json")), default="yaml",
              show_default=True, help="yaml pastes into a config's identities list.")
def identities(count: int, seed: int | None, fmt: str) -> None:
    """Print realistic identities: zh_CN names with valid GB 11643 ID numbers (real region
    codes, birth dates, check digits). Needs Faker: pip install 'mockface[faker]'."""
    from .identities import generate

    try:
        people = generate(count, seed=seed)
    except RuntimeError as error:
        raise CliError(str(error)) from None
    if fmt == "json":
        click.echo(json.dumps(people, ensure_ascii=False, indent=2))
        return
    click.echo("identities:")
    for person in people:
        click.echo(f'  - {{idcard_number: "{person["idcard_number"]}", '
                   f'idcard_name: {person["idcard_name"]}}}')


def _ca(ca_dir: str | None):
    """The local CA (made when the directory has none), or a one-line CliError."""
    from .web.tls import CAError, CertificateAuthority

    try:
        return CertificateAuthority(ca_dir)
    except CAError as error:
        raise CliError(str(error)) from None


def _bundle(ca, path: str) -> Path:
    """Write the system bundle plus the CA to ``path``."""
    from .web.tls import CAError

    try:
        return ca.write_bundle(path)
    except (CAError, OSError) as error:
        raise CliError(f"cannot write the CA bundle: {error}") from None


@main.command("ca", short_help="Print where the local CA is and how to trust it.")
@CA_DIR_OPTION
@click.option("--bundle", metavar="PATH", type=click.Path(dir_okay=False),
              help="Also write the system's CA bundle plus the mockface CA to PATH (for "
                   "REQUESTS_CA_BUNDLE, which replaces the system store).")
@click.option("--certifi", "into_certifi", is_flag=True,
              help="Also add the CA to this Python environment's certifi bundle, which "
                   "Tencent's API 3.0 Python SDK uses whatever REQUESTS_CA_BUNDLE says (once: "
                   "running it again changes nothing; upgrading certifi undoes it).")
def ca_command(ca_dir: str | None, bundle: str | None, into_certifi: bool) -> None:
    """Print the path of mockface's CA certificate (made on first use, kept afterwards) and
    the settings that make common clients trust it."""
    ca = _ca(ca_dir)
    cert = ca.cert_path
    if ca.created:
        click.echo(f"created a new CA in {ca.directory} (key file mode 0600)", err=True)
    if into_certifi:
        _trust_in_certifi(cert)
    click.echo(str(cert))
    lines = [
        "",
        "Trust it (it signs certificates for the emulated Tencent hosts, localhost, 127.0.0.1):",
        f"  Python requests:  REQUESTS_CA_BUNDLE={_bundle(ca, bundle) if bundle else 'BUNDLE'}"
        "   (a bundle: mockface ca --bundle BUNDLE)",
        "  OpenSSL, Python ssl, Go:  SSL_CERT_FILE=BUNDLE",
        "  Tencent API 3.0 Python SDK:  mockface ca --certifi   (or "
        "HttpProfile(certification=BUNDLE))",
        f"  Node.js:          NODE_EXTRA_CA_CERTS={cert}",
        f"  curl:             curl --cacert {cert} ...   (or CURL_CA_BUNDLE=BUNDLE)",
        f"  Java:             keytool -importcert -noprompt -alias mockface -file {cert} "
        "-keystore mockface.jks -storepass changeit",
        "                    then -Djavax.net.ssl.trustStore=mockface.jks "
        "-Djavax.net.ssl.trustStorePassword=changeit",
        f"  PHP (curl):       curl.cainfo={cert}  (php.ini), or CURLOPT_CAINFO",
    ]
    click.echo("\n".join(lines), err=True)


def _trust_in_certifi(cert: Path) -> None:
    """Append the CA certificate at ``cert`` to certifi's bundle (certifi.where()) unless it
    is in it already; say which on stderr.  The bundle is replaced in one step, keeping its
    mode, so a reader never sees half a certificate."""
    import stat

    try:
        import certifi
    except ImportError:
        raise CliError("--certifi: certifi is not installed in this Python environment "
                       f"({sys.executable})") from None
    bundle = Path(certifi.where())
    pem = cert.read_bytes()
    try:
        current = bundle.read_bytes()
        if pem.strip() in current:
            click.echo(f"certifi's bundle already trusts the mockface CA: {bundle}", err=True)
            return
        write_atomically(bundle, current.rstrip(b"\n") + b"\n\n# mockface local CA (testing "
                      b"only), added by mockface ca --certifi\n" + pem,
                      mode=stat.S_IMODE(bundle.stat().st_mode))
    except OSError as error:
        raise CliError(f"cannot add the CA to certifi's bundle {bundle}: "
                       f"{error.strerror or error}") from None
    click.echo(f"added the mockface CA to certifi's bundle {bundle} (upgrading certifi "
               "removes it)", err=True)


@main.command("env", short_help="Print the environment that points clients at a server.")
@click.option("--url", "server", default="http://127.0.0.1:8080", show_default=True,
              help="The running server (host:port or URL).")
@click.option("--ready-file", type=click.Path(dir_okay=False), metavar="PATH",
              help="Take the URL (and the admin token and, for --tls, the CA to trust) from "
                   "a server's --ready-file instead.")
@click.option("--ca-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Where the bundle goes when --bundle is not given [default: "
                   "$MOCKFACE_CA_DIR, else the per-user data directory].")
@click.option("--bundle", metavar="PATH", type=click.Path(dir_okay=False),
              help="Where to write the CA bundle [default: "
                   "mockface-bundle-<CA digest>.pem in the --ca-dir directory].")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait for a server that is still starting (or its ready file).")
def env_command(server: str, ready_file: str | None, ca_dir: str | None,
                bundle: str | None, timeout: float) -> None:
    """Print shell exports that make unmodified clients reach the emulated Tencent hosts
    through the server: eval "$(mockface env)". The CA bundle holds the system's CAs and
    the server's own CA, asked from the server (GET /__mockface/ca, with the admin token of
    its --ready-file or $MOCKFACE_ADMIN_TOKEN), so it fits a server on another --ca-dir,
    user, host or container. Exit 2 when the server cannot give its CA."""
    from .client import AdminClient, write_proxy_environment

    deadline = time.monotonic() + timeout
    url, token, cafile = server_url(server), os.environ.get(TOKEN_ENV) or None, None
    if ready_file is not None:
        document = _read_ready_file(Path(ready_file), None, deadline)
        url, token = server_url(document["url"]), document["admin_token"] or token
        named = document["ca_cert"]  # a path on the server's side: maybe not on this one
        cafile = named if named and Path(named).is_file() else None
    admin = AdminClient(url, token, timeout=min(max(timeout, 0.5), 5.0),
                        cafile=cafile or _local_ca_cert(url, ca_dir))
    pem = _server_ca(admin, deadline)
    try:
        target = Path(bundle) if bundle else _default_bundle(ca_dir, pem)
        environment = write_proxy_environment(url, pem, target)
    except OSError as error:
        raise CliError(f"cannot write the CA bundle: {error.strerror or error}") from None
    for name, value in environment.items():
        click.echo(f"export {name}={shlex.quote(value)}")


def _server_ca(admin, deadline: float) -> bytes:
    """The CA certificate (PEM) of the server ``admin`` calls, asked again until
    ``deadline`` while nothing answers (it may be starting); CliError saying why not."""
    from .client import ServerCAError, ServerUnreachable

    while True:
        try:
            return admin.ca_pem()
        except ServerUnreachable as error:
            if time.monotonic() >= deadline:
                raise CliError(str(error)) from None
        except ServerCAError as error:
            raise CliError(str(error)) from None
        time.sleep(0.05)  # polling interval


def _local_ca_cert(url: str, ca_dir: str | None) -> str | None:
    """For an https URL, this side's CA certificate when it has one (a --tls server on the
    same CA directory is verified with it); None otherwise (plain HTTP needs none)."""
    if not url.startswith("https://"):
        return None
    from .web.tls import CA_CERT, default_ca_dir

    cert = (Path(ca_dir) if ca_dir else default_ca_dir()) / CA_CERT
    return str(cert) if cert.is_file() else None


def _default_bundle(ca_dir: str | None, pem: bytes) -> Path:
    """Where ``mockface env`` writes the bundle for the CA ``pem`` without --bundle: one file
    per CA (named by its digest), so servers with different CAs never share one."""
    import hashlib

    from .web.tls import default_ca_dir

    directory = Path(ca_dir) if ca_dir else default_ca_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory / f"mockface-bundle-{hashlib.sha256(pem).hexdigest()[:12]}.pem"


@main.command(short_help="List the documented error codes.")
@click.option("--api", type=click.Choice(("legacy", "faceid")), default="legacy",
              show_default=True, help="legacy: the /face/* codes; faceid: the API 3.0 "
                                      "Error.Code and Result names.")
@click.option("--endpoint", type=click.Choice(ENDPOINTS),
              help="Only codes documented for this legacy endpoint.")
@click.option("--action", help="Only the names this API 3.0 action answers (--api faceid).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def codes(api: str, endpoint: str | None, action: str | None, as_json: bool) -> None:
    """List the documented error codes with message, HTTP status and meaning (legacy), or
    the API 3.0 names with their English message and Chinese meaning (faceid)."""
    if api == "faceid":
        if endpoint:
            raise click.UsageError("--endpoint is for --api legacy")
        from .faceid.actions import ACTIONS
        from .faceid.catalogue import CATALOGUE as FACEID
        from .faceid.catalogue import codes_for as faceid_codes_for

        known = sorted({name for _, name in ACTIONS})
        if action is not None and action not in known:
            raise click.BadParameter(f"{action!r} is not one of: {', '.join(known)}",
                                     param_hint="--action")
        entries: list = [FACEID[name] for name in faceid_codes_for(action)]
        line = "{0.name:<48} {0.en}  {0.zh}"
    else:
        if action:
            raise click.UsageError("--action is for --api faceid")
        entries = codes_for(endpoint) if endpoint else list(CATALOGUE.values())
        line = "{0.code:>6}  {0.http_status}  {0.message:<34} {0.meaning}"
    if as_json:
        click.echo(json.dumps([entry.as_dict() for entry in entries], ensure_ascii=False,
                              indent=2))
        return
    for entry in entries:
        click.echo(line.format(entry))


if __name__ == "__main__":  # pragma: no cover
    main()
