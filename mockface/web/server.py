"""The production WSGI server behind ``mockface serve`` and the in-process test server.

One process (so once-signatures, lip codes and counters stay consistent), many threads (so a
slow or held request never starves fast ones).  The choice of server lives only here; the one
thing mockface adds to it is a way for the app to close a connection without answering
(scenario faults), offered in the WSGI environ under ``app.DROP_CONNECTION``.  SIGTERM (and
a first Ctrl-C) stop ``mockface serve`` gently: see ``Server.run``.
"""
from __future__ import annotations

import ctypes
import functools
import io
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import time
import types
from collections.abc import Callable, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.receiver import ChunkedReceiver, FixedStreamReceiver
from waitress.server import create_server as _waitress_server
from waitress.task import ErrorTask, WSGITask
from waitress.trigger import trigger
from waitress.utilities import RequestEntityTooLarge

from ..core.config import MAX_BODY_BYTES
from ..products.tc3 import envelope
from ..products.tc3.request import MAX_BODY as API3_MAX_BODY
from ..products.legacy.errors import ApiError
from ..products.legacy.model import Reply
from ..products.legacy.wire import JSON_CONTENT_TYPE, render
from .admin import CA_DIR_CONFIG
from .app import AT_ONCE, DROP_CONNECTION, FRAMING_HEADERS
from .proxy import (MAX_CONNECT_HEAD, Relay, connect_target, handle_connect, log_refused_tunnel,
                    refusal)

try:
    import fcntl
    import termios
    _FIONREAD: int | None = termios.FIONREAD
except ImportError:  # Windows: no direct receive into one buffer (see _BodyChunks)
    _FIONREAD = None

_NEW_BYTEARRAY: Callable[[None, int], bytearray] | None
try:  # a prototype of our own: ctypes.pythonapi's function objects are shared
    _NEW_BYTEARRAY = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.c_ssize_t)(
        ("PyByteArray_FromStringAndSize", ctypes.pythonapi))
except AttributeError:  # not CPython
    _NEW_BYTEARRAY = None

#: Worker threads, for the requests not answered on the event loop (see ``_dispatch``).  A
#: scripted delay holds its thread, so the pool bounds held requests:
#: 256 answers 200 clients behind a 500 ms delay at 94 % of the 400 req/s they can ask for
#: (64 threads gave 31 %; bench-peers W4).  Idle threads cost next to nothing.
DEFAULT_THREADS = 256
#: Open connections; tunnels and --tls connections count too (the relay takes as many).
CONNECTION_LIMIT = 1000
#: Bodies over this are refused by the server before any of it is buffered (a little above
#: the most either API allows -- 6 MB legacy, 10 MB API 3.0 -- so that each answers its own
#: size error up to there).
MAX_REQUEST_BODY = max(MAX_BODY_BYTES, API3_MAX_BODY) + 64 * 1024
#: A client has this long from its first byte to the end of its request headers.
HEADER_TIMEOUT = 10.0
#: Bytes asked of the socket per receive: in general, and while a body of known length is
#: still arriving (up to what remains of it).  Fewer, larger receives mean fewer turns of
#: the one event-loop thread, which shares the GIL with the workers.
RECV_BYTES = 262_144
BODY_RECV_BYTES = 4 * 1024 * 1024
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


class _DroppableTask(WSGITask):
    """A waitress task whose app may close the client connection without any answer."""

    dropped = False

    def get_environment(self):
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

    def build_response_header(self):
        if getattr(self.channel.server, "mockface_draining", False):
            self.set_close_on_finish()  # the server is stopping: no further request here
        return super().build_response_header()


class _JsonErrorTask(ErrorTask):
    """Protocol errors waitress answers itself (a body over the cap, a bad Content-Length,
    a malformed head or chunk, headers over the limit) as the documented JSON instead of
    plain text.  Legacy paths: code 23 with HTTP 400 for a body too large, code 3 for the
    rest, with waitress's status (431 for headers over the limit) or 400 (an unsupported
    Transfer-Encoding, 501 for waitress).  The API 3.0 path ``/``: HTTP 200 with
    ``RequestSizeLimitExceeded`` or ``InvalidRequest`` in the envelope, as the official SDK
    needs."""

    def execute(self) -> None:
        error = self.request.error
        if self.request.headers_finished and self.request.path == "/":
            code = "RequestSizeLimitExceeded" if error.code == 413 else "InvalidRequest"
            status, body = envelope.STATUS, envelope.error(code, envelope.request_id())
            content_type = envelope.CONTENT_TYPE
        else:
            http_status = 400 if error.code == 501 else error.code
            reply = Reply.from_error(ApiError(23) if error.code == 413 else
                                     ApiError(3, http_status=http_status))
            (status, body), content_type = render(reply), JSON_CONTENT_TYPE
        self.status = f"{status} {HTTPStatus(status).phrase}"
        self.response_headers.append(("Content-Type", content_type))
        self.response_headers.extend(FRAMING_HEADERS)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class ChunkStream(io.BufferedIOBase):
    """A read-only binary stream over a list of byte strings.  ``read1`` hands out the
    chunks themselves (no copy: a 2 MB upload is parsed where it was received), and they
    are the reader's to keep: a large body comes as one ``bytearray``, which the reader may
    also trim in place (see ``core.body.take_slice``).  ``read`` always gives ``bytes``,
    joining chunks only when asked for more than one."""

    def __init__(self, chunks: list[bytes | bytearray]) -> None:
        super().__init__()
        self._chunks = chunks
        self._index = 0
        self._offset = 0  # into self._chunks[self._index]

    def readable(self) -> bool:
        return True

    def read1(self, size: int | None = -1) -> bytes | bytearray:  # type: ignore[override]
        while self._index < len(self._chunks) and not self._chunks[self._index]:
            self._index += 1
        if self._index >= len(self._chunks) or size == 0:
            return b""
        chunk, start = self._chunks[self._index], self._offset
        end = len(chunk) if size is None or size < 0 else min(len(chunk), start + size)
        if end >= len(chunk):
            self._index, self._offset = self._index + 1, 0
        else:
            self._offset = end
        return chunk if start == 0 and end == len(chunk) else chunk[start:end]

    def read(self, size: int | None = -1) -> bytes:
        wanted = -1 if size is None or size < 0 else size
        pieces: list[bytes | bytearray] = []
        while wanted != 0:
            piece = self.read1(wanted)
            if not piece:
                break
            pieces.append(piece)
            if wanted > 0:
                wanted -= len(piece)
        if len(pieces) == 1 and type(pieces[0]) is bytes:
            return pieces[0]
        return b"".join(pieces)


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


class _BodyChunks:
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

    def getbuf(self) -> _BodyChunks:
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
    if type(body) is _BodyChunks and body.remain > default:
        return min(body.remain, BODY_RECV_BYTES)
    return default


class _Parser(HTTPRequestParser):
    """waitress's request parser, with bodies of a known length kept as ``_BodyChunks``.

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
            self.body_rcv = _BodyChunks(self.content_length)
        elif type(self.body_rcv) is ChunkedReceiver:
            self.body_rcv = _ChunkedBody(self.body_rcv.buf, self.adj.max_request_body_size)


class _ChunkedBody(ChunkedReceiver):
    """waitress's chunked-body receiver, except that a chunk whose size line takes the body
    past ``limit`` is refused when that line arrives (as too large, like a declared
    Content-Length over it), instead of the connection waiting for a chunk that may never
    come (``ffffffffffffffff`` and the like)."""

    buf: Any  # waitress's
    error: Exception | None

    def __init__(self, buf, limit: int) -> None:
        super().__init__(buf)
        self.limit = limit

    def received(self, s: bytes) -> int:
        taken = super().received(s)
        if self.error is None and len(self.buf) + self.chunk_remainder >= self.limit:
            self.error = RequestEntityTooLarge(f"a chunk exceeds max_body of {self.limit}")
            self.all_chunks_received = True
        return taken


class _Channel(HTTPChannel):
    parser_class = _Parser
    task_class = _DroppableTask
    error_task_class = _JsonErrorTask
    request_started = 0.0  # time.time() of the first byte of the request being read
    connect_head = b""  # a CONNECT request's head, while it arrives
    receiving: int | None = None  # the event loop's thread, while it takes in data
    serve_here = False  # the request just completed is answered on the event loop
    at_once_view: object = None  # what the app gave for it (see _dispatch)
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
            while self.serve_here:  # set by _dispatch, for this request and pipelined ones
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
        (``_BodyChunks.receive_into``); the byte that completes it takes waitress's path."""
        request = self.request
        body = request.body_rcv if request is not None else None
        if type(body) is not _BodyChunks or not body.wants_buffer(self.socket):
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
        """Whether the request being read has sent its first byte HEADER_TIMEOUT ago or more
        and its headers are still not complete (a slow-header client)."""
        request = self.request
        reading = bool(self.connect_head) or (request is not None and
                                             not request.headers_finished)
        return reading and now - self.request_started >= HEADER_TIMEOUT

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
        handle_connect(head, leftover, self._answer_and_close, self._detach,
                       getattr(self.server, "mockface_relay", None))
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

    def quiet(self, now: float) -> bool:
        """Whether nothing is in progress here (no request being read, served or sent,
        nothing waiting in the kernel) and nothing arrived for QUIET_SECONDS."""
        return self.request is None and not self.requests and not self.connect_head and \
            not self.total_outbufs_len and now - self.last_activity >= QUIET_SECONDS and \
            not waiting_bytes(self.socket)


class _RelayListener(wasyncore.dispatcher):
    """A plain server's second listener, on loopback, where its CONNECT tunnels are
    relayed.  It stays open while the server drains, after the public port has closed, so a
    tunnel still in its TLS handshake then can reach the server all the same."""

    def __init__(self, server) -> None:
        sock = listen("127.0.0.1", 0)
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


def _add_channel(server, conn: socket.socket, addr) -> None:
    """Serve an accepted connection, as waitress's own accept does."""
    server.set_socket_options(conn)
    server.channel_class(server, conn, server.fix_addr(addr), server.adj, map=server._map)


def _stop_accepting(server) -> None:
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


def _dispatch(server, at_once, channel: _Channel) -> None:
    """waitress's ``add_task`` for a channel whose next request has fully arrived.  When
    the app can answer it at once (``at_once(path, headers, content_length)`` gives what the
    app needs for that, see ``EmulatedFront.at_once``) and it arrived on the event loop with
    nothing left to send, it is answered right there, when the data that completed it has
    been taken in (``_Channel.received``): no hand-over to a worker thread and back, which is
    most of a small request's cost (bench-peers W1 went from about 1,700 req/s to 2,600 and
    more).  Anything else goes to a worker thread, as in waitress."""
    view = None
    if channel.receiving == threading.get_ident() and channel.requests and \
            not channel.total_outbufs_len and channel.requests[0].error is None:
        request = channel.requests[0]
        view = at_once(request.path, request.headers, request.content_length)
    channel.at_once_view = view
    if view is None:
        type(server).add_task(server, channel)
    else:
        channel.serve_here = True


def _maintenance(server, now: float) -> None:
    """waitress's idle-channel clean-up, plus closing slow-header connections."""
    type(server).maintenance(server, now)
    for channel in list(server.active_channels.values()):
        if isinstance(channel, _Channel) and channel.headers_overdue(now):
            channel.will_close = True


def create_server(app, host: str = "127.0.0.1", port: int = 8080,
                  threads: int = DEFAULT_THREADS, listener: socket.socket | None = None,
                  at_once: Callable[[str, Mapping[str, str], int], object] | None = None):
    """A bound, not yet running server for ``app``; its ``.port`` is the real port (also for 0).
    ``at_once``: which requests to answer on the event loop (see ``_dispatch``).

    A host name is resolved here to one address (IPv4 first): waitress would otherwise bind
    every address of a name such as ``localhost`` (``::1`` and ``127.0.0.1``, each on its own
    free port) behind an object that has none of mockface's channel settings.
    socket.gaierror when the name does not resolve.  ``listener``: serve on this listening
    socket instead of binding one (a worker process of ``--workers``)."""
    where = {"sockets": [listener]} if listener is not None else \
        {"host": _one_address(host, port), "port": port}
    server = _waitress_server(
        app, **where, threads=threads,
        connection_limit=CONNECTION_LIMIT + 2,  # waitress counts its trigger and listener
        recv_bytes=RECV_BYTES, inbuf_overflow=2 * MAX_REQUEST_BODY, ident="mockface",
        channel_timeout=120, cleanup_interval=1, max_request_body_size=MAX_REQUEST_BODY,
        clear_untrusted_proxy_headers=True,
        asyncore_use_poll=True)  # select() stops at descriptor 1023: tunnels take three
    server.channel_class = _Channel
    server.maintenance = types.MethodType(_maintenance, server)
    if at_once is not None:
        server.add_task = functools.partial(_dispatch, server, at_once)
    server.port = int(getattr(server, "effective_port", port))  # waitress gives a string
    server.host = getattr(server, "effective_host", host)
    return server


def _one_address(host: str, port: int) -> str:
    """The address to bind for ``host``: itself when numeric, else its first IPv4 address
    (or first address at all)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return str(infos[0][4][0])


def shutdown(server, in_loop_thread: bool = False, timeout: float = 5.0) -> None:
    """Stop a server cleanly: let the worker threads finish their requests (``timeout``
    seconds at most), then close every socket from the event loop's own thread so that
    ``run()`` returns."""
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


class Server:
    """One bound mockface server: ``run()`` serves in the calling thread until stopped (the
    ``mockface serve`` command), ``start()`` in a daemon thread (the pytest fixtures and
    tests); ``stop()`` ends either at once, ``drain()`` gently (see ``run``).  The app's
    emulator, when it has one, is marked ready once requests are answered and has its held
    requests released on stop.

    The port accepts proxy requests too (``CONNECT`` to an emulated host is decrypted with a
    certificate from the local CA in ``ca_dir``, made on first use).  With ``tls`` the port
    speaks HTTPS only, relayed to an internal plain listener on loopback; the CA is loaded
    at once then (CAError when it cannot be).  One relay thread serves every tunnel and
    ``--tls`` connection, up to CONNECTION_LIMIT of them."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0,
                 threads: int = DEFAULT_THREADS, tls: bool = False,
                 ca_dir: str | os.PathLike[str] | None = None,
                 listener: socket.socket | None = None) -> None:
        self.app = app
        self.ca_dir = ca_dir
        if hasattr(app, "config"):
            app.config[CA_DIR_CONFIG] = ca_dir  # for GET /__mockface/ca
        self._context: ssl.SSLContext | None = None
        self.ca_cert: Path | None = None  # the CA certificate, once the CA is loaded
        self._context_lock = threading.Lock()
        self.relay = Relay(self.tls_context, self.backend, CONNECTION_LIMIT)
        at_once = getattr(app, "extensions", {}).get(AT_ONCE)
        self._tls_listener: socket.socket | None = None
        if tls:
            self.tls_context()
            self.server = create_server(app, "127.0.0.1", 0, threads, at_once=at_once)
            self._tls_listener = listener or listen(host, port)
            self._public: tuple[str, int] = self._tls_listener.getsockname()[:2]
            self._backend = (self.server.host, self.server.port)
        else:
            self.server = create_server(app, host, port, threads, listener, at_once)
            self._public = (self.server.host, self.server.port)
            self._backend = _RelayListener(self.server).address
            self.server.adj.connection_limit += 1  # which waitress counts too
        self.server.mockface_relay = self.relay
        self.emulator = getattr(app, "extensions", {}).get("mockface")
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
        received are answered, with ``Connection: close``, and each connection is closed as
        it falls quiet; after DRAIN_SECONDS at most (held requests are let go
        RELEASE_SECONDS before), or a second Ctrl-C, every socket is closed and this
        returns."""
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
            self.server.pull_trigger()  # wakes the loop (writes one byte to its pipe)
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
                wasyncore.close_all(self.server._map)  # empty unless the loop died

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
        """waitress's event loop, until every socket is closed or a drain is asked for."""
        adj, channels = self.server.adj, self.server._map
        poll = wasyncore.poll2 if adj.asyncore_use_poll else wasyncore.poll
        while channels and not self._drain_asked:
            poll(adj.asyncore_loop_timeout, channels)

    def _drain(self) -> None:
        """See ``run``: in the event loop's thread, until nothing is left or the time is up."""
        channels = self.server._map
        if not channels:  # stop() closed everything already
            return
        deadline = time.monotonic() + DRAIN_SECONDS
        self._stop_taking_connections()
        poll = wasyncore.poll2 if self.server.adj.asyncore_use_poll else wasyncore.poll
        while channels and self._busy():
            now = time.monotonic()
            if now >= deadline:
                log.warning("stopping: %d connections still busy after %g s are closed",
                            len(self.server.active_channels) + self.relay.active,
                            DRAIN_SECONDS)
                return
            if self.emulator is not None and now >= deadline - RELEASE_SECONDS:
                self.emulator.close()  # held requests are answered now
            poll(min(DRAIN_POLL_SECONDS, deadline - now), channels)

    def _stop_taking_connections(self) -> None:
        """Answer with ``Connection: close`` from now on, and close the public port (the
        relay's for --tls) once what waits in its queue is taken."""
        self.server.mockface_draining = True
        self.relay.stop_listening(QUIET_SECONDS)
        if self._tls_listener is None:
            _stop_accepting(self.server)
        clients = self.relay.active if self._tls_listener else len(self.server.active_channels)
        if clients:
            log.info("stopping: answering what the %d open connections sent (%g s at most)",
                     clients, DRAIN_SECONDS)

    def _busy(self) -> bool:
        """Mark the connections that fell quiet to be closed (on the loop's next turn);
        whether any connection is left, here or in the relay."""
        now = time.time()
        for channel in list(self.server.active_channels.values()):
            if isinstance(channel, _Channel) and channel.quiet(now):
                channel.will_close = True
        return bool(self.server.active_channels) or self.relay.active > 0

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


def start_background(app, host: str = "127.0.0.1", port: int = 0,
                     threads: int = DEFAULT_THREADS, tls: bool = False,
                     ca_dir: str | os.PathLike[str] | None = None) -> Server:
    """Start ``app`` on a free loopback port (by default) in a background thread."""
    return Server(app, host, port, threads, tls, ca_dir).start()


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
