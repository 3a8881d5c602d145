"""``mockface serve``: run the emulator (one process, or --workers sharing --state), with
its start-up banner and ready file."""
from __future__ import annotations

import errno
import logging
import secrets
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import __version__
from ..client import TOKEN_ENV
from ..core.config import DEFAULT_SECRET_KEY, Settings, check_url, mask
from ..core.hosts import is_loopback
from ..core.journal import DEFAULT_JOURNAL_SIZE
from ..core.logs import LOG_FORMATS, LOG_LEVELS, LogWriter
from ..core.logs import configure as configure_logs
from ..core.product import ServeOption
from ..core.scenarios.library import UnknownScenario
from ..core.scenarios.model import ScenarioError
from ..core.scenarios.watcher import ScenarioWatcher
from ..products import REGISTRY
from ..scenarios import ScenarioEngine
from ..web.malloc import keep_freed_memory
from ..web.server import DEFAULT_THREADS, Server
from .common import CA_DIR_OPTION, SCENARIO_DIRS_OPTION, CliError, scenario_engine, settings_for
from .ready import write_ready_file

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

    from ..core.redis_state import RedisState
    from ..core.state import MemoryState

STATE_ENV = "MOCKFACE_STATE"


class PublicUrl(click.ParamType):
    """``--public-url``: checked as the config key ``public_url`` (an http(s) URL without
    query or fragment; a trailing slash dropped)."""

    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        try:
            return check_url(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


class ProductValue(click.ParamType):
    """A product's ``serve`` flag (``core.product.ServeOption``): its ``convert``, a
    ValueError being a usage error (exit status 2)."""

    def __init__(self, option: ServeOption) -> None:
        self.option = option
        self.name = option.metavar

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        try:
            return self.option.convert(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


#: The parameter name of each product flag (its config key, prefixed: never a name of
#: serve's own options).
_PRODUCT_PARAM = "product_{}"


def product_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with the flags of every product (``REGISTRY.serve_options``), each passed
    as the keyword ``product_<config key>`` (None when not given)."""
    for option in reversed(REGISTRY.serve_options):
        command = click.option(option.flag, _PRODUCT_PARAM.format(option.key),
                               type=ProductValue(option), metavar=option.metavar,
                               default=None, help=option.help)(command)
    return command


def with_product_options(settings: Settings, given: dict[str, Any]) -> Settings:
    """``settings`` with the products' flags that were given (``product_options``) set over
    their config keys in ``Settings.sections``."""
    changes = {option.key: given[_PRODUCT_PARAM.format(option.key)]
               for option in REGISTRY.serve_options
               if given.get(_PRODUCT_PARAM.format(option.key)) is not None}
    return replace(settings, sections={**settings.sections, **changes}) if changes else \
        settings


@click.command(short_help="Run the emulator.")
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
@click.option("--public-url", type=PublicUrl(), metavar="URL",
              help="The URL clients reach this server under, for the pages it links to "
                   "(the user pages of verification tokens) [default: config public_url, "
                   "else the URL it listens on, else the request's Host].")
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
@product_options
def serve(host: str, port: int, config: str | None, seed: int | None, loose: bool | None,
          scenario_names: tuple[str, ...], scenario_dirs: tuple[str, ...],
          allow_scenario_header: bool, watch: bool, journal_size: int, admin_token: str | None,
          threads: int, workers: int, state_url: str, ready_file: str | None,
          public_url: str | None, tls: bool, ca_dir: str | None, log_level: str,
          verbose: bool, log_format: str, quiet: bool, **product_flags: Any) -> None:
    """Run the emulator until interrupted (one process with many threads, or --workers
    processes sharing --state).  The port also accepts proxy requests for the emulated
    Tencent hosts (see mockface env)."""
    from ..emulator import Emulator
    from ..web.app import create_app

    settings = with_product_options(settings_for(config).with_overrides(
        seed=seed, loose=loose, public_url=public_url), product_flags)
    if workers > 1 and state_url == "memory":
        raise CliError(f"--workers {workers} needs a shared state: add --state "
                       "redis://HOST:PORT/DB (processes cannot share their memory)")
    state = _state(state_url, settings, journal_size)
    engine = scenario_engine(scenario_dirs, seed=settings.seed, store=state.activations)
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
                            journal_size=journal_size,
                            state=state)
        return _bind(create_app(emulator=emulator, admin_token=admin_token), host, port,
                     threads, tls, ca_dir, listener)

    def announce(url: str, bound_port: int, ca_cert: Path | None) -> None:
        click.echo(banner(settings, url, [a.scenario.name for a in engine.active()],
                          admin_token, ca_cert, workers, state.description))
        sys.stdout.flush()
        if ready_file:
            write_ready_file(Path(ready_file), settings, url, bound_port, admin_token, ca_cert)

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


def _state(url: str, settings: Settings, journal_size: int) -> MemoryState | RedisState:
    """The state backend --state names (MemoryState or RedisState); CliError when it is
    unusable."""
    from ..core.state import MemoryState, StateUnavailable

    if url == "memory":
        return MemoryState(settings, journal_size)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise CliError(f"--state {url!r}: give memory or redis://HOST:PORT/DB")
    try:
        from ..core.redis_state import RedisState
    except ImportError:
        raise CliError("--state redis:// needs the redis client: pip install "
                       "'mockface[redis]'") from None
    try:
        state = RedisState(url, settings, journal_size)
        state.ping()
    except (ValueError, StateUnavailable) as error:
        raise CliError(f"--state: {error}") from None
    return state


def _run(server: Server, log_writer: LogWriter, engine: ScenarioEngine | None,
         ready: Callable[[], None]) -> None:
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


def _serve_workers(build: Callable[[socket.socket | None], Server],
                   announce: Callable[[str, int, Path | None], None], host: str, port: int,
                   workers: int, tls: bool, ca_dir: str | None, level: str, log_format: str,
                   engine: ScenarioEngine | None) -> None:
    """Fork ``workers`` server processes on one port and watch them until interrupted."""
    from ..web.workers import WorkerError, WorkerPool, shared_listeners

    try:
        listeners = shared_listeners(host, port, workers)
    except (OSError, ValueError) as error:
        _bind_failure(error, host, port)
    ca_cert = None
    if tls:  # load (or make) the CA once, before the workers read it
        from ..web.tls import CAError, CertificateAuthority

        try:
            ca_cert = CertificateAuthority(ca_dir).cert_path
        except CAError as error:
            raise CliError(str(error)) from None
    bound_port = listeners[0].getsockname()[1]
    url = Server.url_for(listeners[0].getsockname()[0], bound_port, tls)

    def work(listener: socket.socket, ready: Callable[[], None]) -> None:
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


def _bind(app: WSGIApplication, host: str, port: int, threads: int, tls: bool = False,
          ca_dir: str | None = None, listener: socket.socket | None = None) -> Server:
    """The bound server, or a CliError that says in one line why it cannot bind."""
    from ..web.tls import CAError

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
        *([f"  public URL: {settings.public_url} (the pages it links to)"]
          if settings.public_url else []),
        *REGISTRY.default.example(settings, url, str(ca_cert) if ca_cert else None),
        "",
    ])
