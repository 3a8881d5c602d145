"""The fast path: everything mockface changes in waitress, and everything it reads of waitress
beyond its public API (``waitress.create_server``, its documented adjustments, ``run``).

This is the only module that imports waitress's internals.  ``server.py`` builds the server
(``FastServer`` by default; waitress as it comes with ``stock=True`` or
``MOCKFACE_STOCK_SERVER=1``, see docs/transport.md for what that lacks) and runs, drains and
stops either through the functions at the end of this module.  Checked with waitress 3.0.1 and
3.0.2 (setup.cfg caps waitress below 4 because of this module; the classes and attributes
named below are what a new waitress must keep for it to work).

What the fast path changes, and why:

- ``FastServer`` (a ``TcpWSGIServer``, built as WebTest builds one):
  ``add_task`` answers a request the app can answer at once on the event loop itself, with no
  hand-over to a worker thread and back (bench-peers W1 went from about 1,700 req/s to
  2,600); ``maintenance`` also closes connections whose headers are overdue (a slow-header
  client holds a connection HEADER_TIMEOUT seconds, not ``channel_timeout``).
- ``Channel`` (an ``HTTPChannel``): a ``CONNECT`` head is taken over for proxy mode (tunnels to
  the emulated hosts, see ``proxy.handle_connect``); ``recv`` asks for the rest of a body in
  one receive and ``handle_read`` receives a large body straight into its buffer (fewer turns
  of the one event-loop thread); ``service`` has a net, so a failing error answer closes the
  connection instead of leaving it open with its request queued for good.
- ``Parser``: a body of known length is kept as ``BodyChunks`` (waitress's buffer copies a
  2 MB upload over and over: most of its cost); a chunk whose size line takes the body past
  the cap is refused at once; a head refused before its start line still gets an answer.
- ``DroppableTask``: the app may drop the connection without an answer (scenario faults,
  ``app.DROP_CONNECTION``) and gets the at-once snapshot (``app.AT_ONCE``); answers say
  ``Connection: close`` while the server drains.
- ``JsonErrorTask``: the protocol errors waitress answers itself (malformed heads, bodies too
  large, headers over the limit) in the products' own JSON, not waitress's plain text.

What both paths read (waitress has no public way to drain or stop a server from another
thread): the server's socket map, ``active_channels``, ``trigger``, ``task_dispatcher`` and
``adj``; a channel's ``requests``, ``total_outbufs_len``, ``last_activity`` and
``will_close``; ``wasyncore``'s ``poll``, ``poll2`` and ``close_all``.
"""
from __future__ import annotations

import ctypes
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver, FixedStreamReceiver
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask, WSGITask
from waitress.trigger import trigger
from waitress.utilities import RequestEntityTooLarge

from ..core.product import Rendered
from .app import AT_ONCE, DROP_CONNECTION, FRAMING_HEADERS
from .chunkstream import ChunkStream
from .proxy import (MAX_CONNECT_HEAD, Relay, connect_target, handle_connect, log_refused_tunnel,
                    refusal)

try:
    import fcntl
    import termios
    _FIONREAD: int | None = termios.FIONREAD
except ImportError:  # Windows: no direct receive into one buffer (see BodyChunks)
    _FIONREAD = None

_NEW_BYTEARRAY: Callable[[None, int], bytearray] | None
try:  # a prototype of our own: ctypes.pythonapi's function objects are shared
    _NEW_BYTEARRAY = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.c_ssize_t)(
        ("PyByteArray_FromStringAndSize", ctypes.pythonapi))
except AttributeError:  # not CPython
    _NEW_BYTEARRAY = None

#: Bytes asked of the socket per receive: in general, and while a body of known length is
#: still arriving (up to what remains of it).  Fewer, larger receives mean fewer turns of
#: the one event-loop thread, which shares the GIL with the workers.
RECV_BYTES = 262_144
BODY_RECV_BYTES = 4 * 1024 * 1024
log = logging.getLogger("mockface.server")

#: ``(path or None, status) -> Rendered``: a protocol error in the products' format
#: (``core.product.Registry.protocol_error``).
ProtocolError = Callable[[str | None, int], Rendered]
#: A WSGI application.
WSGIApp = Callable[..., Any]
#: A server made by ``FastServer`` or ``waitress.create_server`` (waitress has no types).
Waitress = Any
#: ``(path, headers, content_length) -> snapshot or None``: which requests to answer on the
#: event loop (``app.EmulatedFront.at_once``).
AtOnce = Callable[[str, Mapping[str, str], int], object]


class DroppableTask(WSGITask):
    """A waitress task whose app may close the client connection without any answer."""

    dropped = False

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[DROP_CONNECTION] = self.drop
        if self.channel.at_once_view is not None:
            environ[AT_ONCE] = self.channel.at_once_view
        return environ

    def drop(self) -> None:
        self.dropped = True
        self.close_on_finish = True
        try:
            self.channel.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def write(self, data: bytes) -> None:
        if not self.dropped:
            super().write(data)

    def finish(self) -> None:
        if not self.dropped:
            super().finish()

    def build_response_header(self) -> bytes:
        if self.channel.server.draining:
            self.set_close_on_finish()  # the server is stopping: no further request here
        return super().build_response_header()


class JsonErrorTask(ErrorTask):
    """Protocol errors waitress answers itself (a body over the cap, a bad Content-Length,
    a malformed head or chunk, headers over the limit) in the format of the product that
    owns the request's path (``FastServer.protocol_error``), instead of plain text: status
    413 for a body too large, waitress's own for the rest (431 for headers over the limit),
    except 501 (an unsupported Transfer-Encoding), which is 400.  The path is None when the
    head was refused before it was parsed."""

    def execute(self) -> None:
        error = self.request.error
        path = self.request.path if self.request.headers_finished else None
        answer = self.channel.server.protocol_error(path, 400 if error.code == 501 else
                                                    error.code)
        self.status = f"{answer.status} {HTTPStatus(answer.status).phrase}"
        if answer.content_type is not None:
            self.response_headers.append(("Content-Type", answer.content_type))
        self.response_headers.extend(answer.headers)
        self.response_headers.extend(FRAMING_HEADERS)
        self.set_close_on_finish()
        self.content_length = len(answer.body)
        self.write(answer.body)


def waiting_bytes(sock: socket.socket) -> int:
    """How many received bytes the kernel holds for ``sock`` (0 where it cannot tell)."""
    if _FIONREAD is None:
        return 0
    try:
        return int.from_bytes(fcntl.ioctl(sock.fileno(), _FIONREAD, bytes(4)), sys.byteorder)
    except OSError:
        return 0


def _unfilled_bytearray(size: int) -> bytearray:
    """A bytearray of ``size`` bytes, not zeroed first where CPython allows (every byte of
    a body buffer is received before anything reads it; zeroing 2 MB was 5 % of an upload's
    CPU)."""
    if _NEW_BYTEARRAY is None:
        return bytearray(size)
    return _NEW_BYTEARRAY(None, size)


class BodyChunks:
    """A request body of known length, kept as the chunks it arrived in, which the app then
    reads without a copy (``ChunkStream``).  (waitress's own buffer appends each chunk to a
    BytesIO that grows by an eighth at a time, copying the body over and over: most of the
    cost of a 2 MB upload.)  Pieces under COALESCE bytes are gathered into one chunk, so a
    client that trickles its body byte by byte costs no more memory than the body.

    A large body (more than RECV_BYTES still to come) moves into one ``bytearray`` of its
    full length as soon as at least half of it has arrived or waits in the socket
    (``wants_buffer``); the rest is then received straight into it (``receive_into``), and
    the app reads the whole body as that one buffer.  So a 2 MB upload is copied once, by
    the kernel, and a client that only announces a large Content-Length gets nothing
    allocated for it.  The receiver protocol of waitress's ``FixedStreamReceiver``, and its
    buffer's ``close``."""

    COALESCE = 65_536
    completed = False
    error = None

    def __init__(self, length: int) -> None:
        self.length = length
        self.remain = length
        self.size = 0
        self.chunks: list[bytes | bytearray] = []
        self.buffer: bytearray | None = None  # the whole body, once it moved there
        self._small = bytearray()  # pieces under COALESCE bytes, not yet a chunk

    def __len__(self) -> int:
        return self.size

    def received(self, data: bytes) -> int:
        taken = min(self.remain, len(data))
        if self.buffer is not None:
            with memoryview(data) as view:
                self.buffer[self.size:self.size + taken] = view[:taken]
        else:
            self._keep(data if taken == len(data) else data[:taken])
        self.remain -= taken
        self.size += taken
        self.completed = self.remain <= 0
        if self.completed:
            self._flush_small()
        return taken

    def _keep(self, data: bytes) -> None:
        if len(data) < self.COALESCE:
            self._small += data
            if len(self._small) >= self.COALESCE:
                self._flush_small()
        else:
            self._flush_small()
            self.chunks.append(data)

    def _flush_small(self) -> None:
        if self._small:
            self.chunks.append(bytes(self._small))
            self._small.clear()

    def wants_buffer(self, sock: socket.socket) -> bool:
        """Whether the rest should be received straight into one buffer: a large body, half
        of it in hand or waiting in ``sock``."""
        if self.buffer is not None:
            return self.remain > 0
        return self.remain > RECV_BYTES and \
            2 * (self.size + waiting_bytes(sock)) >= self.length

    def receive_into(self, sock: socket.socket) -> bytes:
        """Receive what ``sock`` has of the rest straight into the buffer (made on first
        use, holding what came before).  The byte that would complete the body is not
        counted but returned, for the caller to pass to ``received`` the usual way (so the
        request completes through waitress's own path); b"" while more is to come.
        ConnectionError when the peer closed; OSError as from ``recv_into``."""
        if self.buffer is None:
            self._flush_small()
            self.buffer, start = _unfilled_bytearray(self.length), 0
            for chunk in self.chunks:
                self.buffer[start:start + len(chunk)] = chunk
                start += len(chunk)
            self.chunks = [self.buffer]
        with memoryview(self.buffer) as whole, whole[self.size:] as free:
            count = sock.recv_into(free)
        if count == 0:
            raise ConnectionError("closed by the peer")
        held_back = count == self.remain  # this receive brought the last byte
        count -= held_back
        self.size += count
        self.remain -= count
        return bytes(self.buffer[self.size:self.size + 1]) if held_back else b""

    def getfile(self) -> ChunkStream:
        return ChunkStream(self.chunks)

    def getbuf(self) -> BodyChunks:
        return self

    def close(self) -> None:
        """Free the body, also for its ChunkStream (an idle worker thread keeps a reference
        to its last task, and so to that task's environ and stream, until its next task)."""
        self.chunks.clear()
        self.buffer = None
        self._small = bytearray()


def receive_size(request: HTTPRequestParser | None, default: int) -> int:
    """How much to ask of the socket: while a body of known length arrives, as much of it
    as is left (up to BODY_RECV_BYTES); else ``default``."""
    body = request.body_rcv if request is not None else None
    if type(body) is BodyChunks and body.remain > default:
        return min(body.remain, BODY_RECV_BYTES)
    return default


class Parser(HTTPRequestParser):
    """waitress's request parser, with bodies of a known length kept as ``BodyChunks``.

    A head refused before its start line was cracked (a header line without a colon, a
    control character, a bare ``GET``) leaves waitress's parser without ``path``,
    ``command`` and ``query``, which both its error handling and ours read: here they
    default to empty, so such a request is answered (JSON code 3, HTTP 400) and closed."""

    path = ""
    command = ""
    query = ""
    url_scheme = "http"
    body_rcv: Any  # waitress's receiver, or ours

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        if type(self.body_rcv) is FixedStreamReceiver:
            self.body_rcv = BodyChunks(self.content_length)
        elif type(self.body_rcv) is ChunkedReceiver:
            self.body_rcv = CappedChunks(self.body_rcv.buf, self.adj.max_request_body_size)


class CappedChunks(ChunkedReceiver):
    """waitress's chunked-body receiver, except that a chunk whose size line takes the body
    past ``limit`` is refused when that line arrives (as too large, like a declared
    Content-Length over it), instead of the connection waiting for a chunk that may never
    come (``ffffffffffffffff`` and the like)."""

    buf: Any  # waitress's
    error: Exception | None

    def __init__(self, buf: Any, limit: int) -> None:
        super().__init__(buf)
        self.limit = limit

    def received(self, s: bytes) -> int:
        taken = super().received(s)
        if self.error is None and len(self.buf) + self.chunk_remainder >= self.limit:
            self.error = RequestEntityTooLarge(f"a chunk exceeds max_body of {self.limit}")
            self.all_chunks_received = True
        return taken


class Channel(HTTPChannel):
    """waitress's connection, with CONNECT tunnels, large receives, answers on the event loop
    (see ``FastServer.add_task``) and a net under ``service``."""

    parser_class = Parser
    task_class = DroppableTask
    error_task_class = JsonErrorTask
    server: FastServer
    request_started = 0.0  # time.time() of the first byte of the request being read
    connect_head = b""  # a CONNECT request's head, while it arrives
    receiving: int | None = None  # the event loop's thread, while it takes in data
    serve_here = False  # the request just completed is answered on the event loop
    at_once_view: object = None  # what the app gave for it (see FastServer.add_task)
    requests: list[HTTPRequestParser]  # waitress's: complete requests, in order

    def received(self, data: bytes) -> bool:
        if data and self.request is None and not self.connect_head:
            self.request_started = time.time()
        if self.connect_head or (self.request is None and not self.requests and
                                 data[:8].upper() == b"CONNECT "):
            return self._connect(data)
        self.receiving = threading.get_ident()
        try:
            taken = super().received(data)
            while self.serve_here:  # set by add_task, for this request and pipelined ones
                self.serve_here = False
                self.service()
        finally:
            self.receiving = None
        return taken

    def recv(self, buffer_size: int) -> bytes:
        return super().recv(receive_size(self.request, buffer_size))

    def service(self) -> None:
        """waitress's, with a net: should answering a request fail in a way waitress's own
        handling does not catch (its error answer failing too), the connection is still
        released -- closed, its queued requests dropped -- and one line is logged, instead
        of the request staying queued and the socket open for good."""
        try:
            super().service()
        except Exception as error:  # anything: else the connection leaks
            logging.getLogger("mockface.error").error(
                "closing a connection after an error in answering it: %r", error)
            with self.requests_lock:
                for request in self.requests:
                    request.close()
                self.requests = []
            self.will_close = True
            self.server.pull_trigger()

    def handle_read(self) -> None:
        """waitress's, except that the rest of a large body goes straight into its buffer
        (``BodyChunks.receive_into``); the byte that completes it takes waitress's path."""
        request = self.request
        body = request.body_rcv if request is not None else None
        if type(body) is not BodyChunks or not body.wants_buffer(self.socket):
            super().handle_read()
            return
        try:
            last = body.receive_into(self.socket)
        except OSError:  # as waitress: the connection is gone (a closing peer included)
            self.handle_close()
            return
        self.last_activity = time.time()
        request.body_bytes_received = body.size
        if last:
            self.received(last)

    def headers_overdue(self, now: float) -> bool:
        """Whether the request being read has sent its first byte ``header_timeout`` (the
        server's) ago or more and its headers are still not complete (a slow-header
        client)."""
        request = self.request
        reading = bool(self.connect_head) or (request is not None and
                                             not request.headers_finished)
        return reading and now - self.request_started >= self.server.header_timeout

    def _connect(self, data: bytes) -> bool:
        """A CONNECT request (proxy mode): collect its head, then tunnel or refuse it."""
        self.connect_head += data
        end = self.connect_head.find(b"\r\n\r\n")
        if end > MAX_CONNECT_HEAD or end < 0 and len(self.connect_head) > MAX_CONNECT_HEAD:
            log_refused_tunnel(connect_target(self.connect_head), 431,
                               "CONNECT request head too large")
            self._answer_and_close(refusal(431, "Request Header Fields Too Large",
                                           "CONNECT request head too large"))
            return True
        if end < 0:
            return True
        head, leftover = self.connect_head[:end + 4], self.connect_head[end + 4:]
        handle_connect(head, leftover, self._answer_and_close, self._detach, self.server.relay)
        return True

    def _answer_and_close(self, answer: bytes) -> None:
        try:
            self.socket.settimeout(5)
            self.socket.sendall(answer)
        except OSError:
            pass
        self.handle_close()

    def _detach(self) -> socket.socket:
        """Take the socket away from the server (it serves a tunnel from now on)."""
        sock = self.socket
        self.del_channel()
        self.connected = False
        return sock


class FastServer(TcpWSGIServer):
    """waitress's TCP server with mockface's ``Channel``, answering at once on the event loop
    what ``at_once`` allows, and closing slow-header connections after ``header_timeout``
    seconds.  ``protocol_error`` renders the errors waitress answers itself; ``relay`` serves
    CONNECT tunnels; ``draining`` (see ``close_after_answers``) makes every answer close its
    connection.  ``adjustments``: waitress's, with one address to bind (``host`` and
    ``port``) or one listening socket (``sockets``); bound and accepting once made."""

    channel_class = Channel
    draining = False

    def __init__(self, app: WSGIApp, adjustments: Mapping[str, Any], *,
                 protocol_error: ProtocolError, header_timeout: float,
                 at_once: AtOnce | None = None, relay: Relay | None = None) -> None:
        self.protocol_error = protocol_error
        self.header_timeout = header_timeout
        self.at_once = at_once
        self.relay = relay
        adj = Adjustments(**adjustments)
        sock = adj.sockets[0] if adj.sockets else None
        sockinfo = adj.listen[0] if sock is None else \
            (sock.family, sock.type, sock.proto, sock.getsockname())
        super().__init__(app, None, True, sock, adj=adj, sockinfo=sockinfo,
                         bind_socket=sock is None)

    @property
    def host(self) -> str:
        return str(self.effective_host)

    @property
    def port(self) -> int:
        return int(self.effective_port)  # waitress gives a string

    def add_task(self, channel: Channel) -> None:
        """waitress's, for a channel whose next request has fully arrived.  When the app can
        answer it at once (``at_once(path, headers, content_length)`` gives what the app
        needs for that, see ``EmulatedFront.at_once``) and it arrived on the event loop with
        nothing left to send, it is answered right there, when the data that completed it
        has been taken in (``Channel.received``): no hand-over to a worker thread and back,
        which is most of a small request's cost.  Anything else goes to a worker thread, as
        in waitress."""
        view = None
        if self.at_once is not None and channel.receiving == threading.get_ident() and \
                channel.requests and not channel.total_outbufs_len and \
                channel.requests[0].error is None:
            request = channel.requests[0]
            view = self.at_once(request.path, request.headers, request.content_length)
        channel.at_once_view = view
        if view is None:
            super().add_task(channel)
        else:
            channel.serve_here = True

    def maintenance(self, now: float) -> None:
        """waitress's idle-channel clean-up, plus closing slow-header connections."""
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            if isinstance(channel, Channel) and channel.headers_overdue(now):
                channel.will_close = True


class _TunnelListener(wasyncore.dispatcher):
    """A plain server's second listener, on loopback, where its CONNECT tunnels are
    relayed.  It stays open while the server drains, after the public port has closed, so a
    tunnel still in its TLS handshake then can reach the server all the same."""

    def __init__(self, server: FastServer, sock: socket.socket) -> None:
        wasyncore.dispatcher.__init__(self, sock, map=server._map)
        self.accepting = True
        self.server = server
        self.address: tuple[str, int] = sock.getsockname()[:2]

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_accept(self) -> None:
        try:
            pair = self.accept()
        except OSError as error:  # out of descriptors, and the like: try again later
            log.debug("relay listener accept failed: %s", error)
            return
        if pair is not None:
            _add_channel(self.server, *pair)


def add_tunnel_listener(server: FastServer, sock: socket.socket) -> tuple[str, int]:
    """Serve the connections ``sock`` (listening, on loopback) accepts too: where the relay
    sends CONNECT tunnels' decrypted traffic.  Its address."""
    listener = _TunnelListener(server, sock)
    server.adj.connection_limit += 1  # which waitress counts too
    return listener.address


def _add_channel(server: Waitress, conn: socket.socket, addr: Any) -> None:
    """Serve an accepted connection, as waitress's own accept does."""
    server.set_socket_options(conn)
    server.channel_class(server, conn, server.fix_addr(addr), server.adj, map=server._map)


# -- running, draining and stopping a server (fast or stock) ---------------------------------

def address(server: Waitress) -> tuple[str, int]:
    """The host and port ``server`` is bound to (the real port, also when asked for 0)."""
    return str(server.effective_host), int(server.effective_port)


def serve(server: Waitress, stop: Callable[[], bool]) -> None:
    """waitress's event loop, until every socket is closed or ``stop()`` is true (checked
    after each turn; ``wake`` ends a turn early)."""
    adj, channels = server.adj, server._map
    poll = wasyncore.poll2 if adj.asyncore_use_poll else wasyncore.poll
    while channels and not stop():
        poll(adj.asyncore_loop_timeout, channels)


def poll(server: Waitress, timeout: float) -> None:
    """One turn of the event loop, ``timeout`` seconds at most."""
    (wasyncore.poll2 if server.adj.asyncore_use_poll else wasyncore.poll)(timeout, server._map)


def has_sockets(server: Waitress) -> bool:
    """Whether anything of ``server`` is still open (listeners, connections, its trigger)."""
    return bool(server._map)


def connections(server: Waitress) -> int:
    """How many client connections ``server`` has open."""
    return len(server.active_channels)


def wake(server: Waitress) -> None:
    """End the event loop's current turn (writes one byte to its wake-up pipe); OSError
    when the loop is gone."""
    server.pull_trigger()


def close_after_answers(server: Waitress) -> None:
    """Make every answer from now on close its connection (``Connection: close``); the
    fast path only (the stock path answers as usual)."""
    if isinstance(server, FastServer):
        server.draining = True


def stop_accepting(server: Waitress) -> None:
    """Take the connections waiting in the public listener's queue (their clients may have
    sent a request already), then close it: later ones are refused by the system."""
    if server.socket is None:
        return
    while True:
        try:
            pair = server.accept()
        except OSError as error:
            log.debug("accept failed while stopping: %s", error)
            break
        if pair is None:
            break
        _add_channel(server, *pair)
    wasyncore.dispatcher.close(server)  # waitress's close() would close its trigger too


def close_quiet(server: Waitress, now: float, quiet_seconds: float) -> bool:
    """Mark the connections that fell quiet to be closed on the loop's next turn: nothing in
    progress (no request being read, served or sent, nothing waiting in the kernel) and
    nothing arrived for ``quiet_seconds``.  Whether any connection is left."""
    for channel in list(server.active_channels.values()):
        if channel.request is None and not channel.requests and \
                not getattr(channel, "connect_head", b"") and not channel.total_outbufs_len \
                and now - channel.last_activity >= quiet_seconds and \
                not waiting_bytes(channel.socket):
            channel.will_close = True
    return bool(server.active_channels)


def shutdown(server: Waitress, in_loop_thread: bool = False, timeout: float = 5.0) -> None:
    """Stop a server cleanly: let the worker threads finish their requests (``timeout``
    seconds at most), then close every socket from the event loop's own thread so that
    its loop returns."""
    server.task_dispatcher.shutdown(timeout=timeout)
    if in_loop_thread:
        wasyncore.close_all(server._map)
        return
    try:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    except OSError:
        # The loop's wake-up pipe is already gone (seen rarely when many servers start and
        # stop in one test process): give the loop a new one.  It is picked up within the
        # loop's select timeout, and the sockets are still closed from the loop's thread.
        logging.getLogger("mockface.error").warning("server trigger closed early; replacing "
                                                    "it to stop the server")
        server.trigger = trigger(server._map)
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))


def close_all(server: Waitress) -> None:
    """Close whatever of ``server`` is still open, from any thread (once its loop is gone)."""
    wasyncore.close_all(server._map)
