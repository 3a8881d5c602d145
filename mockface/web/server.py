"""The production WSGI server behind ``mockface serve`` and the in-process test server.

One process (so once-signatures, lip codes and counters stay consistent), many threads (so a
slow or held request never starves fast ones).  The server is waitress, on one of two paths:
the *fast path* by default (``fastpath.FastServer``: answers on the event loop, CONNECT
tunnels, dropped-connection faults, JSON protocol errors, bodies received without copies),
or the *stock path* -- waitress as it comes, built through its public API, nothing of it
changed -- with ``stock=True`` or ``MOCKFACE_STOCK_SERVER=1`` in the environment
(docs/transport.md: what it lacks).  Either is run, drained and stopped through
``fastpath``'s functions, the one module that knows waitress's internals.  SIGTERM (and a
first Ctrl-C) stop ``mockface serve`` gently: see ``Server.run``.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from waitress import create_server as waitress_server

from ..products import REGISTRY
from . import fastpath
from .admin import CA_DIR_CONFIG
from .app import AT_ONCE
from .fastpath import shutdown
from .proxy import Relay

#: The environment variable that puts every server of a process on the stock path ("1").
STOCK_ENV = "MOCKFACE_STOCK_SERVER"
#: Worker threads, for the requests not answered on the event loop (see
#: ``FastServer.add_task``).  A scripted delay holds its thread, so the pool bounds held
#: requests: 256 answers 200 clients behind a 500 ms delay at 94 % of the 400 req/s they can
#: ask for (64 threads gave 31 %; bench-peers W4).  Idle threads cost next to nothing.
DEFAULT_THREADS = 256
#: Open connections; tunnels and --tls connections count too (the relay takes as many).
CONNECTION_LIMIT = 1000
#: Bodies over this are refused by the server before any of it is buffered (a little above
#: the most any product reads -- 6 MB legacy, 10 MB API 3.0 -- so that each answers its own
#: size error up to there).
MAX_REQUEST_BODY = REGISTRY.max_body + 64 * 1024
#: A client has this long from its first byte to the end of its request headers (fast path).
HEADER_TIMEOUT = 10.0
#: Stopping (SIGTERM, Ctrl-C): the requests already received have this long to be answered;
#: requests held by a scripted delay or timeout are let go RELEASE_SECONDS before its end,
#: and a connection with nothing in progress is closed once quiet for QUIET_SECONDS (one
#: just accepted gets that long to send its request).
DRAIN_SECONDS = 5.0
RELEASE_SECONDS = 1.0
QUIET_SECONDS = 0.5
#: How often a drain looks for connections that fell quiet.
DRAIN_POLL_SECONDS = 0.02
log = logging.getLogger("mockface.server")


def stock_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``environ`` asks for the stock path (``MOCKFACE_STOCK_SERVER`` set to 1)."""
    return environ.get(STOCK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def create_server(app: fastpath.WSGIApp, host: str = "127.0.0.1", port: int = 8080,
                  threads: int = DEFAULT_THREADS, listener: socket.socket | None = None,
                  at_once: fastpath.AtOnce | None = None,
                  relay: Relay | None = None, stock: bool | None = None) -> fastpath.Waitress:
    """A bound, not yet running waitress server for ``app`` (its real address:
    ``fastpath.address``).  The fast path unless ``stock`` (by default: ``stock_requested()``),
    with ``at_once`` (which requests to answer on the event loop, see
    ``FastServer.add_task``) and ``relay`` (where CONNECT tunnels go); the stock path is
    ``waitress.create_server`` with the same adjustments.

    A host name is resolved here to one address (IPv4 first): waitress would otherwise bind
    every address of a name such as ``localhost`` (``::1`` and ``127.0.0.1``, each on its own
    free port) behind an object that has none of mockface's channel settings.
    socket.gaierror when the name does not resolve.  ``listener``: serve on this listening
    socket instead of binding one (a worker process of ``--workers``)."""
    where = {"sockets": [listener]} if listener is not None else \
        {"host": _one_address(host, port), "port": port}
    adjustments = dict(
        where, threads=threads,
        connection_limit=CONNECTION_LIMIT + 2,  # waitress counts its trigger and listener
        recv_bytes=fastpath.RECV_BYTES, inbuf_overflow=2 * MAX_REQUEST_BODY, ident="mockface",
        channel_timeout=120, cleanup_interval=1, max_request_body_size=MAX_REQUEST_BODY,
        clear_untrusted_proxy_headers=True,
        asyncore_use_poll=True)  # select() stops at descriptor 1023: tunnels take three
    if stock_requested() if stock is None else stock:
        return waitress_server(app, **adjustments)
    return fastpath.FastServer(app, adjustments, protocol_error=REGISTRY.protocol_error,
                               header_timeout=HEADER_TIMEOUT, at_once=at_once, relay=relay)


def _one_address(host: str, port: int) -> str:
    """The address to bind for ``host``: itself when numeric, else its first IPv4 address
    (or first address at all)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return str(infos[0][4][0])


class Server:
    """One bound mockface server: ``run()`` serves in the calling thread until stopped (the
    ``mockface serve`` command), ``start()`` in a daemon thread (the pytest fixtures and
    tests); ``stop()`` ends either at once, ``drain()`` gently (see ``run``).  The app's
    emulator, when it has one, is told the URL it listens on once bound (``listen_url``),
    is marked ready once requests are answered and has its held requests released on stop.

    The port accepts proxy requests too (``CONNECT`` to an emulated host is decrypted with a
    certificate from the local CA in ``ca_dir``, made on first use; the fast path only).  With
    ``tls`` the port speaks HTTPS only, relayed to an internal plain listener on loopback;
    the CA is loaded at once then (CAError when it cannot be).  One relay thread serves every
    tunnel and ``--tls`` connection, up to CONNECTION_LIMIT of them.  ``stock``: serve on the
    stock path (see ``create_server``)."""

    def __init__(self, app: fastpath.WSGIApp, host: str = "127.0.0.1", port: int = 0,
                 threads: int = DEFAULT_THREADS, tls: bool = False,
                 ca_dir: str | os.PathLike[str] | None = None,
                 listener: socket.socket | None = None, stock: bool | None = None) -> None:
        self.app = app
        self.ca_dir = ca_dir
        if hasattr(app, "config"):
            app.config[CA_DIR_CONFIG] = ca_dir  # for GET /__mockface/ca
        self._context: ssl.SSLContext | None = None
        self.ca_cert: Path | None = None  # the CA certificate, once the CA is loaded
        self._context_lock = threading.Lock()
        self.relay = Relay(self.tls_context, self.backend, CONNECTION_LIMIT)
        self.stock = stock_requested() if stock is None else stock
        at_once = getattr(app, "extensions", {}).get(AT_ONCE)
        self._tls_listener: socket.socket | None = None
        if tls:
            self.tls_context()
            self.server = create_server(app, "127.0.0.1", 0, threads, at_once=at_once,
                                        relay=self.relay, stock=self.stock)
            self._tls_listener = listener or listen(host, port)
            self._public: tuple[str, int] = self._tls_listener.getsockname()[:2]
            self._backend = fastpath.address(self.server)
        else:
            self.server = create_server(app, host, port, threads, listener, at_once,
                                        self.relay, self.stock)
            self._public = fastpath.address(self.server)
            # The stock path takes no CONNECT, so nothing is relayed to a backend.
            self._backend = self._public if self.stock else \
                fastpath.add_tunnel_listener(self.server, listen("127.0.0.1", 0))
        self.emulator = getattr(app, "extensions", {}).get("mockface")
        if self.emulator is not None:
            self.emulator.listen_url = self.listen_url
        self.thread: threading.Thread | None = None
        self._drain_asked = False
        self._closed = False

    @property
    def host(self) -> str:
        return self._public[0]

    @property
    def port(self) -> int:
        return self._public[1]

    @property
    def url(self) -> str:
        return self.url_for(self.host, self.port, self._tls_listener is not None)

    @property
    def listen_url(self) -> str | None:
        """The URL a client reaches this server under, as far as the server knows: ``url``;
        on every address (``0.0.0.0``, ``::``), its loopback address (what a browser on the
        same machine reaches; ``--public-url`` names it for the others)."""
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:  # not an address (never from getsockname): name it as it is
            return self.url
        if address.is_unspecified:
            loopback = "127.0.0.1" if address.version == 4 else "::1"
            return self.url_for(loopback, self.port, self._tls_listener is not None)
        return self.url

    @staticmethod
    def url_for(host: str, port: int, tls: bool) -> str:
        """The base URL of a server on ``host:port``."""
        host = f"[{host}]" if ":" in host else host
        return f"{'https' if tls else 'http'}://{host}:{port}"

    def backend(self) -> tuple[str, int]:
        """Where relayed traffic goes: the plain listener (with --tls) or the loopback one
        kept for tunnels."""
        return self._backend

    def tls_context(self) -> ssl.SSLContext:
        """The TLS server context (certificate from the local CA), made on first use."""
        with self._context_lock:
            if self._context is None:
                from .tls import CertificateAuthority

                authority = CertificateAuthority(self.ca_dir)
                self.ca_cert = authority.cert_path
                self._context = authority.server_context()
            return self._context

    def run(self) -> None:
        """Serve in this thread until ``stop()``, ``drain()``, SIGTERM or Ctrl-C.

        SIGTERM and a first Ctrl-C (in the main thread) drain: the port stops accepting
        (connections already waiting in its queue are taken first), the requests already
        received are answered, with ``Connection: close`` (the fast path), and each
        connection is closed as it falls quiet; after DRAIN_SECONDS at most (held requests
        are let go RELEASE_SECONDS before), or a second Ctrl-C, every socket is closed and
        this returns."""
        restore = self._take_signals()
        self._begin()
        try:
            try:
                self._serve()
            except (KeyboardInterrupt, SystemExit):
                pass
            self._drain()
        except KeyboardInterrupt:  # a second Ctrl-C: stop now
            pass
        finally:
            self._close(in_loop_thread=True)
            restore()

    def start(self) -> Server:
        """Serve in a daemon thread; returns at once (requests are accepted already)."""
        self.thread = threading.Thread(target=self._loop, name=f"mockface-{self.port}",
                                       daemon=True)
        self.thread.start()
        self._begin()
        return self

    def drain(self) -> None:
        """Ask the serving thread to drain and stop, as SIGTERM does (see ``run``); returns
        at once.  Safe in a signal handler."""
        self._drain_asked = True
        try:
            fastpath.wake(self.server)
        except OSError:  # the loop is gone already
            pass

    def stop(self) -> None:
        """Stop the server at once and wait for a started one's thread; the sockets are
        closed even when the event loop died first."""
        if not self._closed:
            self._close(in_loop_thread=False)
        if self.thread is not None:
            self.thread.join(timeout=10)
            if not self.thread.is_alive():
                fastpath.close_all(self.server)  # nothing left unless the loop died

    def _begin(self) -> None:
        if self._tls_listener is not None:
            self.relay.listen(self._tls_listener)
        if self.emulator is not None:
            self.emulator.ready.set()

    def _take_signals(self) -> Callable[[], None]:
        """In the main thread: SIGTERM and a first Ctrl-C drain the server until ``run()``
        returns (a second Ctrl-C interrupts, as usual); what puts the handlers back."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def asked(signum: int, _frame: object) -> None:
            if signum == signal.SIGINT:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            self.drain()

        previous = {sig: signal.signal(sig, asked) for sig in (signal.SIGTERM, signal.SIGINT)}

        def restore() -> None:
            for sig, handler in previous.items():
                if handler is not None:
                    signal.signal(sig, handler)
        return restore

    def _serve(self) -> None:
        """The event loop, until every socket is closed or a drain is asked for."""
        fastpath.serve(self.server, lambda: self._drain_asked)

    def _drain(self) -> None:
        """See ``run``: in the event loop's thread, until nothing is left or the time is up."""
        if not fastpath.has_sockets(self.server):  # stop() closed everything already
            return
        deadline = time.monotonic() + DRAIN_SECONDS
        self._stop_taking_connections()
        while fastpath.has_sockets(self.server) and self._busy():
            now = time.monotonic()
            if now >= deadline:
                log.warning("stopping: %d connections still busy after %g s are closed",
                            fastpath.connections(self.server) + self.relay.active,
                            DRAIN_SECONDS)
                return
            if self.emulator is not None and now >= deadline - RELEASE_SECONDS:
                self.emulator.close()  # held requests are answered now
            fastpath.poll(self.server, min(DRAIN_POLL_SECONDS, deadline - now))

    def _stop_taking_connections(self) -> None:
        """Answer with ``Connection: close`` from now on, and close the public port (the
        relay's for --tls) once what waits in its queue is taken."""
        fastpath.close_after_answers(self.server)
        self.relay.stop_listening(QUIET_SECONDS)
        if self._tls_listener is None:
            fastpath.stop_accepting(self.server)
        clients = self.relay.active if self._tls_listener else \
            fastpath.connections(self.server)
        if clients:
            log.info("stopping: answering what the %d open connections sent (%g s at most)",
                     clients, DRAIN_SECONDS)

    def _busy(self) -> bool:
        """Mark the connections that fell quiet to be closed (on the loop's next turn);
        whether any connection is left, here or in the relay."""
        left = fastpath.close_quiet(self.server, time.time(), QUIET_SECONDS)
        return left or self.relay.active > 0

    def _close(self, in_loop_thread: bool) -> None:
        """Close the relay, let held requests go and close every socket (again: no harm)."""
        self._closed = True
        self.relay.stop()
        if self._tls_listener is not None:
            self._tls_listener.close()
        if self.emulator is not None:
            self.emulator.close()
        shutdown(self.server, in_loop_thread,
                 timeout=RELEASE_SECONDS if self._drain_asked else 5.0)

    def _loop(self) -> None:
        """The event loop of a started server.  A loop that fails (waitress's select on a
        descriptor closed under it) is logged, and ``stop()`` closes what it left open."""
        try:
            self._serve()
            if self._drain_asked and not self._closed:
                self._drain()
                self._close(in_loop_thread=True)
        except OSError as error:
            logging.getLogger("mockface.error").warning("server loop stopped: %s", error)


def start_background(app: fastpath.WSGIApp, host: str = "127.0.0.1", port: int = 0,
                     threads: int = DEFAULT_THREADS, tls: bool = False,
                     ca_dir: str | os.PathLike[str] | None = None,
                     stock: bool | None = None) -> Server:
    """Start ``app`` on a free loopback port (by default) in a background thread; ``stock``:
    on the stock path (by default as ``MOCKFACE_STOCK_SERVER`` says)."""
    return Server(app, host, port, threads, tls, ca_dir, stock=stock).start()


def listen(host: str, port: int, share_port: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port`` (one address, as ``create_server``);
    ``share_port``: with SO_REUSEPORT, so that several processes' sockets take turns
    accepting the connections of one port (``--workers``)."""
    address = _one_address(host, port)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if share_port:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind((address, port))
        listener.listen(1024)
    except OSError:
        listener.close()
        raise
    return listener
