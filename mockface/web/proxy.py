"""Proxy mode and TLS: how unmodified clients reach mockface.

- ``CONNECT <emulated host>:443`` on the normal port: mockface answers 200, terminates TLS
  inside the tunnel with a certificate from its local CA, and relays the decrypted bytes to
  its own plain listener, where they are served like any request.
- ``CONNECT <emulated host>:80`` (what Tencent's Node SDK sends for its plain-http calls):
  200, and the bytes are relayed as they are, plain HTTP inside the tunnel.
- Any other target is refused with a JSON answer that names the emulated hosts and the
  tunnelled ports, and one WARNING line on the ``mockface.proxy`` logger says which target
  was refused and why.  Absolute-form requests (``POST http://<host>/...``) are filtered in
  the app (``app.py``).
- ``--tls``: the public port speaks TLS only; each connection is decrypted and relayed to an
  internal plain listener on loopback.

One thread relays every tunnel and ``--tls`` connection of a server (``Relay``):
non-blocking sockets on a selector, TLS through ``ssl.MemoryBIO``, so they are bounded by
the server's connection limit, not by a thread each.  Nothing here opens a connection
anywhere but to mockface's own listener.
"""
from __future__ import annotations

import collections
import errno
import json
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable

from ..core.hosts import host_name
from ..core.logs import log_fields
from ..products import REGISTRY

log = logging.getLogger("mockface.proxy")
MAX_CONNECT_HEAD = 8192
IDLE_SECONDS = 120.0
HANDSHAKE_SECONDS = 10.0
TLS_PORT = 443
PLAIN_PORT = 80
#: Bytes taken from a socket at a time, and held for one direction at most: past that the
#: relay stops reading the side that sends until the other side has taken them.
RELAY_RECV_BYTES = 65_536
RELAY_BUFFER_BYTES = 1 << 20
#: How often the relay looks for handshakes and connections past their time.
SWEEP_SECONDS = 1.0
DRAIN_SWEEP_SECONDS = 0.05
#: The relay says it is full at most this often.
FULL_WARNING_SECONDS = 60.0
TUNNEL_NOTE = (f"CONNECT is tunnelled to port {TLS_PORT} (TLS, ended by mockface) and port "
               f"{PLAIN_PORT} (plain HTTP) of those hosts only")
CONNECTED = b"HTTP/1.1 200 Connection Established\r\n\r\n"


def refusal(status: int, reason: str, message: str) -> bytes:
    """A complete HTTP/1.1 answer with a JSON ``{"error": ...}`` body; the connection closes."""
    body = json.dumps({"error": message, "emulated_hosts": list(REGISTRY.hosts)}).encode()
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def refused_host_message(target: str, hosts: tuple[str, ...] = REGISTRY.hosts) -> str:
    """Why a request for ``target`` is refused: mockface answers only for ``hosts``."""
    return (f"mockface does not proxy {target[:100]!r}: it answers only for "
            f"{', '.join(hosts)} (and never connects anywhere else)")


def log_refused_tunnel(target: str, status: int, why: str, level: int = logging.WARNING
                       ) -> None:
    """The one line logged for each refused tunnel: its target (as the client sent it,
    escaped) and why it was refused."""
    fields = {"target": target or None, "status": status, "reason": why}
    log.log(level, "CONNECT refused %s", log_fields(**fields), extra={"fields": fields})


def connect_target(head: bytes) -> str:
    """The request target of a CONNECT head as the client sent it ("" when there is none)."""
    parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
    if len(parts) > 2 or len(parts) == 2 and not parts[1].startswith("HTTP/"):
        return parts[1]
    return ""


def proxy_environment(url: str, bundle: str, ca_cert: str) -> dict[str, str]:
    """The environment that sends unmodified clients to the server at ``url`` as their
    proxy: ``HTTP(S)_PROXY`` in both cases, ``NO_PROXY`` for loopback (the server itself),
    the CA ``bundle`` (system CAs plus mockface's) for requests, OpenSSL and curl, and the
    CA certificate alone for Node, which adds it to its own store."""
    loopback = "localhost,127.0.0.1,::1"
    return {"HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
            "NO_PROXY": loopback, "no_proxy": loopback, "REQUESTS_CA_BUNDLE": bundle,
            "SSL_CERT_FILE": bundle, "CURL_CA_BUNDLE": bundle, "NODE_EXTRA_CA_CERTS": ca_cert}


def parse_connect(head: bytes) -> tuple[str, int] | str:
    """``(host, port)`` of a CONNECT request head, or why it is malformed."""
    first_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first_line.split()
    if len(parts) != 3 or parts[0].upper() != "CONNECT" or not parts[2].startswith("HTTP/"):
        return "malformed CONNECT line"
    authority = parts[1]
    host = host_name(authority)
    port_text = authority.rsplit(":", 1)[1] if authority.count(":") == 1 or \
        authority.startswith("[") and "]:" in authority else ""
    if not port_text.isdigit():
        return f"CONNECT needs host:port, got {authority[:100]!r}"
    return host, int(port_text)


def handle_connect(head: bytes, leftover: bytes, send: Callable[[bytes], None],
                   detach: Callable[[], socket.socket], relay_: Relay | None) -> None:
    """Answer a CONNECT request whose head (through the blank line) is ``head``: tunnel an
    emulated host on port 443 (TLS) or 80 (plain), refuse anything else with a JSON answer
    (``send``, then the channel closes) and one log line.  ``detach`` takes the socket away
    from the HTTP server."""
    target = connect_target(head)

    def refuse(status: int, reason: str, message: str, why: str) -> None:
        log_refused_tunnel(target, status, why)
        send(refusal(status, reason, message))

    parsed = parse_connect(head)
    if isinstance(parsed, str):
        refuse(400, "Bad Request", parsed, parsed)
        return
    host, port = parsed
    if host_name(host) not in REGISTRY.hosts:
        refuse(403, "Forbidden", f"{refused_host_message(f'{host}:{port}')}; {TUNNEL_NOTE}",
               "not an emulated host")
        return
    if port not in (TLS_PORT, PLAIN_PORT):
        refuse(403, "Forbidden", f"mockface does not tunnel port {port} of {host}: "
                                 f"{TUNNEL_NOTE}", f"port {port} is not tunnelled")
        return
    if leftover:
        refuse(400, "Bad Request", "data sent before the tunnel was established",
               "data sent before the tunnel was established")
        return
    if relay_ is None:
        refuse(502, "Bad Gateway", "this server does not relay tunnels",
               "this server does not relay tunnels")
        return
    relay_.tunnel(detach(), host, tls=port == TLS_PORT)


class Relay:
    """Relays every CONNECT tunnel and ``--tls`` connection of one server to the plain
    listener at ``backend()``, in one thread (started on first use): each connection's
    sockets are non-blocking and wait on one selector, and TLS is ended with memory BIOs,
    the handshake included (``HANDSHAKE_SECONDS`` to finish it).  A connection on which
    nothing moves for ``IDLE_SECONDS`` is closed.  At most ``limit`` connections at once:
    past that a tunnel is answered 503, and the ``--tls`` listener stops accepting (the
    kernel queues the rest) until some close.

    ``tunnel``, ``listen``, ``stop_listening`` and ``stop`` may be called from any thread;
    everything else happens in the relay's own."""

    def __init__(self, context: Callable[[], ssl.SSLContext],
                 backend: Callable[[], tuple[str, int]], limit: int) -> None:
        self._context = context
        self._backend = backend
        self.limit = limit
        self._links: set[_Link] = set()
        self._handovers: collections.deque[Callable[[], None]] = collections.deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_in: socket.socket | None = None
        self._wake_out: socket.socket | None = None
        self._listener: socket.socket | None = None
        self._accepting = False
        self._draining = False
        self._quiet = 0.0  # while draining: close a link not yet relaying, quiet this long
        self._stopped = False
        self._next_full_warning = 0.0

    @property
    def active(self) -> int:
        """Connections being relayed now (refused ones are not counted)."""
        return len(self._links)

    # -- from any thread ------------------------------------------------------------------

    def tunnel(self, sock: socket.socket, host: str, tls: bool = True) -> None:
        """Serve one accepted CONNECT to ``host``: 200, then TLS as ``host`` (``tls``) or
        plain bytes, relayed; a 503 JSON answer when ``limit`` connections are open, 502
        when no certificate can be made.  The socket is the relay's from now on."""
        self._hand_over(lambda: self._open_tunnel(sock, host, tls), sock)

    def listen(self, listener: socket.socket) -> None:
        """Accept ``--tls`` connections on ``listener`` (the relay closes it when stopped)."""
        self._hand_over(lambda: self._start_listening(listener), listener)

    def stop_listening(self, quiet: float) -> None:
        """Start draining: take the connections already waiting on the ``--tls`` listener
        (if any), then close it; from then on close each connection that is not relaying
        yet (a handshake not finished) once nothing arrived on it for ``quiet`` seconds.
        Connections relaying end when mockface's side closes them."""
        self._quiet, self._draining = quiet, True
        with self._lock:
            running = self._thread is not None and not self._stopped
        if running:
            self._hand_over(self._close_listener, None)

    def stop(self) -> None:
        """Close every connection and the listener handed over, and end the relay's thread
        (anything handed over later is closed at once)."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        if thread is not None:
            self._wake()
            thread.join(timeout=5)

    def _hand_over(self, step: Callable[[], None], sock: socket.socket | None) -> None:
        with self._lock:
            if self._stopped:
                if sock is not None:
                    sock.close()
                return
            if self._thread is None:
                self._selector = selectors.DefaultSelector()
                self._wake_in, self._wake_out = socket.socketpair()
                for end in (self._wake_in, self._wake_out):
                    end.setblocking(False)
                self._selector.register(self._wake_in, selectors.EVENT_READ, self._woken)
                self._thread = threading.Thread(target=self._run, name="mockface-relay",
                                                daemon=True)
                self._thread.start()
            self._handovers.append(step)
        self._wake()

    def _wake(self) -> None:
        try:
            if self._wake_out is not None:
                self._wake_out.send(b"\0")
        except OSError:  # full (the relay will look anyway) or closed (it stopped)
            pass

    # -- the relay's thread ---------------------------------------------------------------

    def _run(self) -> None:
        selector = self._selector
        assert selector is not None
        swept = time.monotonic()
        try:
            while not self._stopped:
                period = DRAIN_SWEEP_SECONDS if self._draining else SWEEP_SECONDS
                for key, mask in selector.select(max(0.0, swept + period - time.monotonic())):
                    self._dispatch(key.data, mask)
                now = time.monotonic()
                if now >= swept + period:
                    self._sweep(now)
                    swept = now
        except Exception as error:  # a bug outside any one connection: release them all
            log.error("the relay stopped after an error: %r", error)
        finally:
            self._close_everything()

    @staticmethod
    def _dispatch(callback: Callable[[int], None], mask: int) -> None:
        """Run one event's callback; should it fail (a bug), close only the connection it
        was for, log one line, and keep relaying the others."""
        try:
            callback(mask)
        except Exception as error:
            log.error("closing a relayed connection after an error: %r", error)
            owner = getattr(callback, "__self__", None)
            if isinstance(owner, _Link):
                owner.close()

    def _woken(self, _mask: int) -> None:
        assert self._wake_in is not None
        try:
            while self._wake_in.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while self._handovers:
            step = self._handovers.popleft()
            try:
                step()
            except Exception as error:  # a bug: the others are still taken
                log.error("a connection handed to the relay failed: %r", error)

    def _open_tunnel(self, sock: socket.socket, host: str, tls: bool) -> None:
        target = f"{host}:{TLS_PORT if tls else PLAIN_PORT}"
        if len(self._links) >= self.limit:
            log_refused_tunnel(target, 503, f"{self.limit} tunnels and --tls connections "
                                            f"are open")
            _answer_and_close(sock, refusal(503, "Service Unavailable",
                                            "too many open tunnels"))
            return
        context = None
        if tls:
            try:
                context = self._context()
            except Exception as error:  # the CA cannot be used (CAError): say why
                log_refused_tunnel(target, 502, f"no TLS certificate: {error}", logging.ERROR)
                _answer_and_close(sock, refusal(502, "Bad Gateway", f"mockface cannot make "
                                                                    f"a TLS certificate: "
                                                                    f"{error}"))
                return
        self._add(_Link(self, sock, context, CONNECTED))

    def _start_listening(self, listener: socket.socket) -> None:
        listener.setblocking(False)
        self._listener = listener
        self._resume_accepting()

    def _resume_accepting(self) -> None:
        if self._listener is not None and not self._accepting and \
                len(self._links) < self.limit:
            assert self._selector is not None
            self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
            self._accepting = True

    def _pause_accepting(self) -> None:
        if self._accepting:
            assert self._selector is not None and self._listener is not None
            self._selector.unregister(self._listener)
            self._accepting = False

    def _accept(self, _mask: int = 0) -> None:
        """Take what waits on the ``--tls`` listener, up to the limit."""
        if self._listener is None:  # an event of the same select, for a listener closed
            return
        while len(self._links) < self.limit:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # the peer gave up before it was taken, and the like
                log.debug("--tls accept failed: %s", error)
                return
            try:
                context = self._context()
            except Exception as error:  # the CA cannot be used (CAError)
                log.error("--tls connection closed: %s", error)
                sock.close()
                continue
            self._add(_Link(self, sock, context, b""))
        now = time.monotonic()
        if now >= self._next_full_warning:
            self._next_full_warning = now + FULL_WARNING_SECONDS
            log.warning("%d tunnels and --tls connections are open: no longer accepting "
                        "--tls connections until some close", self.limit)
        self._pause_accepting()

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._accept()
            self._pause_accepting()
            self._listener.close()
            self._listener = None

    def _add(self, link: _Link) -> None:
        self._links.add(link)
        link.start()

    def _forget(self, link: _Link) -> None:
        self._links.discard(link)
        if not self._stopped:
            self._resume_accepting()

    def _sweep(self, now: float) -> None:
        for link in list(self._links):
            link.check_time(now, self._quiet if self._draining else None)

    def _close_everything(self) -> None:
        for link in list(self._links):
            link.close()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            self._stopped = True
            for sock in (self._wake_in, self._wake_out):
                if sock is not None:
                    sock.close()
            self._wake_out = None
        while self._handovers:  # handed over after the end: their sockets are closed
            self._handovers.popleft()
        if self._selector is not None:
            self._selector.close()


class _Link:
    """One relayed connection: the client's socket (TLS ended here when ``context`` is
    given) and, once the client is through its handshake, a connection to mockface's own
    listener.  When either side closes, what is still owed to the other is sent, then both
    close."""

    def __init__(self, relay: Relay, client: socket.socket, context: ssl.SSLContext | None,
                 greeting: bytes) -> None:
        self.relay = relay
        self.client = client
        client.setblocking(False)
        _no_delay(client)
        self.upstream: socket.socket | None = None
        self.connecting = False
        self.to_client = bytearray(greeting)
        self.to_upstream = bytearray()
        self.tls: ssl.SSLObject | None = None
        if context is not None:
            self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.handshaken = context is None
        self.client_done = self.upstream_done = self.closed = False
        self.started = self.last_activity = time.monotonic()
        self._masks: dict[socket.socket, int] = {}

    def start(self) -> None:
        """Begin relaying: a plain tunnel connects to mockface's listener at once."""
        if self.handshaken:
            self._connect_upstream()
        self.update()

    # -- events ---------------------------------------------------------------------------

    def on_client(self, mask: int) -> None:
        if self.closed:  # an event of the same select, for a link closed meanwhile
            return
        if mask & selectors.EVENT_WRITE:
            self._send(self.client, self.to_client)
        if mask & selectors.EVENT_READ and not self.closed:
            data = self._receive(self.client)
            if data is not None:
                if self.tls is not None:
                    self._decrypt(data)
                elif data:
                    self.to_upstream += data
                else:
                    self.client_done = True
        self.update()

    def on_upstream(self, mask: int) -> None:
        if self.closed or self.upstream is None:
            return
        if self.connecting and mask & (selectors.EVENT_WRITE | selectors.EVENT_READ):
            failure = self.upstream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if failure:
                self._unreachable(OSError(failure, errno.errorcode.get(failure, "")))
                return
            self.connecting = False
        if mask & selectors.EVENT_WRITE and not self.closed:
            self._send(self.upstream, self.to_upstream)
        if mask & selectors.EVENT_READ and not self.closed:
            data = self._receive(self.upstream)
            if data:
                self._to_client(data)
            elif data is not None:
                self.upstream_done = True
                self._say_goodbye()
        self.update()

    def check_time(self, now: float, quiet: float | None) -> None:
        """Close the connection when its handshake or its silence lasted too long (while
        draining: ``quiet`` seconds, for a connection not relaying yet)."""
        if not self.handshaken and now - self.started >= HANDSHAKE_SECONDS:
            log.debug("TLS handshake not finished in %g s", HANDSHAKE_SECONDS)
            self.close()
        elif now - self.last_activity >= IDLE_SECONDS:
            self.close()
        elif quiet is not None and self.upstream is None and \
                now - self.last_activity >= quiet:
            self.close()

    # -- work -----------------------------------------------------------------------------

    def _receive(self, sock: socket.socket) -> bytes | None:
        """What ``sock`` has (b"" at its end), or None when nothing could be read (and the
        link is closed if the socket failed)."""
        try:
            data = sock.recv(RELAY_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as error:
            log.debug("relay ended: %s", error)
            self.close()
            return None
        self.last_activity = time.monotonic()
        return data

    def _send(self, sock: socket.socket, pending: bytearray) -> None:
        if not pending:
            return
        try:
            sent = sock.send(pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            log.debug("relay ended: %s", error)
            self.close()
            return
        del pending[:sent]
        self.last_activity = time.monotonic()

    def _decrypt(self, data: bytes) -> None:
        """Feed what the client sent (b"": its end) to TLS; keep what it decrypts for the
        upstream and what it answers (handshake, alerts) for the client."""
        assert self.tls is not None
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()
        try:
            if not self.handshaken:
                self.tls.do_handshake()
                self.handshaken = True
                self._connect_upstream()
            while True:
                plain = self.tls.read(RELAY_RECV_BYTES)
                if not plain:
                    self.client_done = True
                    break
                self.to_upstream += plain
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            self.client_done = True
        except ssl.SSLError as error:
            log.debug("TLS failed: %s", error)
            self.client_done = True
        self.to_client += self._outgoing.read()
        if not data and not self.handshaken:
            self.close()

    def _to_client(self, data: bytes) -> None:
        if self.tls is None:
            self.to_client += data
            return
        with memoryview(data) as view:
            while view:
                view = view[self.tls.write(view):]
        self.to_client += self._outgoing.read()

    def _say_goodbye(self) -> None:
        """mockface's side closed: end TLS properly after what is still to send."""
        if self.tls is not None and self.handshaken:
            try:
                self.tls.unwrap()
            except ssl.SSLError:  # its close_notify is written even so
                pass
            self.to_client += self._outgoing.read()

    def _connect_upstream(self) -> None:
        address = self.relay._backend()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        upstream = socket.socket(family, socket.SOCK_STREAM)
        upstream.setblocking(False)
        _no_delay(upstream)
        failure = upstream.connect_ex(address)
        self.upstream = upstream
        if failure not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            self._unreachable(OSError(failure, errno.errorcode.get(failure, "")))
            return
        self.connecting = failure != 0

    def _unreachable(self, error: OSError) -> None:
        log.warning("cannot reach mockface's own listener %s: %s", self.relay._backend(),
                    error)
        self.close()

    def update(self) -> None:
        """Wait for what each socket can do next, or close the link when it is over."""
        if self.closed:
            return
        if self.upstream_done and not self.to_client or \
                self.client_done and not self.to_upstream or \
                self.client_done and self.upstream is None:
            self.close()
            return
        reading = not (self.client_done or self.upstream_done)
        self._want(self.client, self.on_client,
                   (selectors.EVENT_READ if reading and
                    len(self.to_upstream) < RELAY_BUFFER_BYTES else 0) |
                   (selectors.EVENT_WRITE if self.to_client else 0))
        if self.upstream is not None:
            self._want(self.upstream, self.on_upstream,
                       selectors.EVENT_WRITE if self.connecting else
                       (selectors.EVENT_READ if reading and
                        len(self.to_client) < RELAY_BUFFER_BYTES else 0) |
                       (selectors.EVENT_WRITE if self.to_upstream else 0))

    def _want(self, sock: socket.socket, callback: Callable[[int], None], mask: int) -> None:
        selector = self.relay._selector
        assert selector is not None
        current = self._masks.get(sock, 0)
        if mask == current:
            return
        if not mask:
            selector.unregister(sock)
        elif not current:
            selector.register(sock, mask, callback)
        else:
            selector.modify(sock, mask, callback)
        self._masks[sock] = mask

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        selector = self.relay._selector
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            if self._masks.get(sock) and selector is not None:
                selector.unregister(sock)
            try:
                sock.close()
            except OSError:
                pass
        self._masks.clear()
        self.relay._forget(self)


def _no_delay(sock: socket.socket) -> None:
    """Relayed answers are small: no Nagle delay."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not TCP (a socketpair in tests)
        pass


def _answer_and_close(sock: socket.socket, answer: bytes) -> None:
    """Send a short answer on a fresh socket without waiting (it fits in the socket's send
    buffer), then close it."""
    try:
        sock.setblocking(False)
        sock.send(answer)
    except OSError:
        pass
    sock.close()
