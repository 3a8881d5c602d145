"""How the Redis backend sends its commands: ``Batcher``, the fast path, or
``DirectCalls``, the stock one (``RedisState(..., batching=False)``).

The Batcher is the one place in mockface that touches redis-py's internals: it takes a
connection of its own from the client's pool (``connection_pool.make_connection``) and
writes and reads it with the connection layer (``pack_command``, ``pack_commands``,
``send_packed_command``, ``read_response``, ``disconnect``, and ``_sock`` to see whether Redis
closed it), so that the commands of concurrent callers share round trips and the replies
nobody waits for (``post``) are read later.  That is what pins ``redis<9``.  DirectCalls
offers the same operations through redis-py's public ``execute_command`` alone, one round
trip per command on the client's pool, every reply waited for; the two answer alike, so a
test can run the stores on both.
"""
from __future__ import annotations

import hashlib
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis

log = logging.getLogger("mockface.state")


class Script:
    """A Lua script and its SHA1 digest."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


class RedisCalls(Protocol):
    """What the Redis stores send their commands through (``Batcher`` or ``DirectCalls``)."""

    #: Seconds a round trip takes (an average that falls at once to a faster one's time and
    #: rises by an eighth of the way to a slower one's; 0 before the first).
    round_trip: float
    #: time.monotonic() of Redis's last reply (0 before the first).
    answered_at: float

    def call(self, *args: Any) -> Any:
        """The result of one Redis command (its arguments as for ``execute_command``);
        raises what redis-py raises for it."""

    def post(self, *args: Any) -> None:
        """Send one command whose reply nobody waits for: Redis runs it before anything this
        process sends later.  A command Redis refuses is logged, not raised; an unreachable
        Redis raises."""

    def script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua script by its digest; loaded again when Redis lost it (a restart)."""

    def post_script(self, script: Script, keys: list[str], args: list[Any]) -> None:
        """``post`` a Lua script, sent whole (``EVAL``)."""

    def reconnect(self) -> None:
        """Use new connections from the next command on (Redis may have restarted)."""

    def close(self) -> None:
        """Close the connections of this sender (a later command opens new ones)."""


def sender(client: redis.Redis, batching: bool = True) -> RedisCalls:
    """The commands' way to Redis through ``client``: a Batcher, or with ``batching`` off
    DirectCalls (public redis-py calls only)."""
    return Batcher(client) if batching else DirectCalls(client)


class _PostRefusals:
    """Logs a command posted without waiting that Redis refused, once until one succeeds."""

    def __init__(self) -> None:
        self._failed = False

    def take(self, reply: Callable[[], Any]) -> None:
        """Take a posted command's reply (``reply()``); a refusal is logged, not raised."""
        try:
            reply()
        except redis.exceptions.ResponseError as error:
            if not self._failed:
                log.error("Redis refused a command sent without waiting (a journal entry, "
                          "an issued code or a thumbnail is not stored): %s", error)
            self._failed = True
        else:
            self._failed = False


def _averaged(current: float, took: float) -> float:
    """The round-trip average after one that took ``took`` seconds (see RedisCalls)."""
    return min(took, current + (took - current) / 8)


def _raw(response: Any, **options: Any) -> Any:
    return response


class DirectCalls:
    """Every command a round trip of its own through redis-py's public API, on the client's
    connection pool (a ``RedisCalls``); ``post`` waits for the reply too.  Replies come as
    Redis sent them (no response callbacks: ``PING`` is ``b"PONG"``), as the Batcher's do."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = redis.Redis(connection_pool=client.connection_pool)
        for command in list(self._client.response_callbacks):
            self._client.set_response_callback(command, _raw)
        self.round_trip = 0.0
        self.answered_at = 0.0
        self._refusals = _PostRefusals()

    def call(self, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            value = self._client.execute_command(*args)
        except redis.exceptions.ResponseError:
            self.answered_at = time.monotonic()
            raise
        finally:
            self.round_trip = _averaged(self.round_trip, time.perf_counter() - started)
        self.answered_at = time.monotonic()
        return value

    def post(self, *args: Any) -> None:
        self._refusals.take(lambda: self.call(*args))

    def script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        try:
            return self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            self.call("SCRIPT", "LOAD", script.source)
            return self.call("EVALSHA", script.sha, len(keys), *keys, *args)

    def post_script(self, script: Script, keys: list[str], args: list[Any]) -> None:
        self.post("EVAL", script.source, len(keys), *keys, *args)

    def reconnect(self) -> None:
        self._client.connection_pool.disconnect(inuse_connections=False)

    def close(self) -> None:
        """Nothing of its own to close: the client's pool is the RedisState's."""


# -- the fast path: auto-pipelining on redis-py's connection layer ---------------------------

class _Call:
    """One command waiting in a Batcher; ``wake`` is held until the command is done or
    its caller is to send the next round trip."""

    __slots__ = ("args", "done", "value", "wake")

    def __init__(self, args: tuple) -> None:
        self.args = args
        self.done = False
        self.value: Any = None
        self.wake = threading.Lock()
        self.wake.acquire()


#: poll() flag for "the peer closed its side", where the system has one (Linux).
_PEER_CLOSED = getattr(select, "POLLRDHUP", 0)


def closed_by_peer(sock: socket.socket | None) -> bool:
    """Whether the other end closed this connection, even with data still to read from it
    (always False where poll() cannot tell: the next round trip finds out)."""
    if sock is None or not _PEER_CLOSED:
        return False
    poller = select.poll()
    poller.register(sock, _PEER_CLOSED)
    return bool(poller.poll(0))


class Batcher:
    """Sends the commands of concurrent callers to Redis together (auto-pipelining), on
    one connection of its own.

    A caller whose command finds no round trip in flight sends it at once; commands that
    arrive meanwhile wait and go together in the next round trip, sent by the first of
    their callers.  Each caller gets its own result (or its own exception) back, as if it
    had sent its command alone; every command is sent after its caller asked, so a read
    sees every write that completed before it was asked for.

    ``post`` writes a command without waiting for its reply: the bytes are on the socket
    when it returns, and Redis runs one connection's commands in the order they arrive, so
    it runs before anything this process sends later; its reply is read (and dropped) by
    the next round trip."""

    #: Posted replies left unread before a post waits for them (a round trip): bounds what
    #: Redis holds for this connection when nothing but posts is sent for a while.
    UNREAD_LIMIT = 64
    #: How recently Redis must have answered for a command to be posted without waiting.
    FRESH_SECONDS = 1.0

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        #: Seconds a round trip takes when nothing queues (0 before the first): falls at
        #: once to a faster round trip's time, rises by an eighth of the way to a slower
        #: one's (failures count as long as they took).  Queueing behind other callers
        #: makes single round trips slow, but not all of them.
        self.round_trip = 0.0
        self._pending: list[_Call] = []
        self._sending = False
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # what goes on the socket, in what order
        self._connection: Any = None
        self._pid = 0
        self._unread = 0  # replies to posts, on the socket before the next round trip's
        self._stale = False  # reconnect before the next round trip
        self.answered_at = 0.0  # time.monotonic() of Redis's last reply
        self._refusals = _PostRefusals()

    def call(self, *args: Any) -> Any:
        """The result of one Redis command (its arguments as for ``execute_command``)."""
        call = _Call(args)
        with self._lock:
            self._pending.append(call)
            waits, self._sending = self._sending, True
        if waits:
            call.wake.acquire()  # done, or our turn to send
        if not call.done:
            with self._lock:
                batch, self._pending = self._pending, []
            self._send(batch)
            for each in batch:
                if each is not call:
                    each.wake.release()
            with self._lock:
                if self._pending:
                    self._pending[0].wake.release()  # its caller sends the next round trip
                else:
                    self._sending = False
        if isinstance(call.value, Exception):
            raise call.value
        return call.value

    def post(self, *args: Any) -> None:
        """Send one command whose reply nobody waits for (see the class); raises what an
        unreachable Redis raises.  A command Redis refuses is logged, not raised.

        Only while Redis answered within FRESH_SECONDS and fewer than UNREAD_LIMIT replies
        are unread; otherwise the command makes a round trip, so that a Redis that stopped
        answering (a network partition sends no sign) is noticed before much is posted.  A
        connection Redis closed (it was stopped) is noticed before anything is written to
        it (``_connected``): the first write to it would seem to succeed."""
        if self._unread >= self.UNREAD_LIMIT or \
                time.monotonic() - self.answered_at > self.FRESH_SECONDS:
            self._refusals.take(lambda: self.call(*args))
            return
        with self._write_lock:
            connection = self._connected()
            try:
                connection.send_packed_command(connection.pack_command(*args))
            except Exception:
                self._drop(connection)
                raise
            self._unread += 1

    def close(self) -> None:
        """Close the batcher's connection (a later command opens a new one)."""
        with self._write_lock:
            if self._connection is not None and self._pid == os.getpid():
                self._drop(self._connection)

    def reconnect(self) -> None:
        """Use a new connection from the next round trip on (the current one may lead to a
        Redis that is gone: a first command on it would fail after Redis restarted)."""
        self._stale = True

    def _connected(self) -> Any:
        """The batcher's connection (under ``_write_lock``): made in each process, since a
        forked worker must not share its parent's socket; closed, to be opened again on
        its first use, when Redis closed it or after ``reconnect`` (a round trip still
        reading from it was failing anyway: Redis went away)."""
        if self._pid != os.getpid():
            self._connection = self._client.connection_pool.make_connection()
            self._pid = os.getpid()
            self._unread = 0
        elif self._stale or closed_by_peer(self._connection._sock):
            self._stale = False
            self._drop(self._connection)
        return self._connection

    def _drop(self, connection: Any) -> None:
        """Close the connection after a failure (under ``_write_lock``); replies still owed
        on it are gone with it."""
        connection.disconnect()
        self._unread = 0

    def _send(self, batch: list[_Call]) -> None:
        """One round trip for ``batch``: the replies to earlier posts are read and dropped
        first (redis-py's connection layer, without its per-command pipeline machinery)."""
        started = time.perf_counter()
        try:
            with self._write_lock:
                connection = self._connected()
                posted, self._unread = self._unread, 0
                try:
                    connection.send_packed_command(connection.pack_commands(
                        [each.args for each in batch]))
                except Exception:
                    self._drop(connection)
                    raise
            try:
                for _ in range(posted):
                    self._refusals.take(connection.read_response)
                for each in batch:
                    try:
                        each.value = connection.read_response()
                    except redis.exceptions.ResponseError as error:
                        each.value = error
                    each.done = True
                self.answered_at = time.monotonic()
            except Exception:
                with self._write_lock:
                    self._drop(connection)
                raise
        except Exception as error:  # the round trip failed: each caller left gets the error
            for each in batch:
                if not each.done:
                    each.value, each.done = error, True
        finally:
            self.round_trip = _averaged(self.round_trip, time.perf_counter() - started)

    def script(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """Run a Lua script by its digest; loaded again when Redis lost it (a restart)."""
        try:
            return self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # on this connection, which just answered
            self.call("SCRIPT", "LOAD", script.source)
            return self.call("EVALSHA", script.sha, len(keys), *keys, *args)

    def post_script(self, script: Script, keys: list[str], args: list[Any]) -> None:
        """``post`` a Lua script, sent whole (``EVAL``): a reply nobody reads cannot say
        that Redis lost a script by its digest."""
        self.post("EVAL", script.source, len(keys), *keys, *args)
