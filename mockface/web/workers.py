"""``--workers N``: a pre-fork master and N server processes sharing one port.

Each worker process gets its own listening socket, bound to the same port with
SO_REUSEPORT, so the kernel spreads incoming connections over the workers.  The master only
starts, watches and stops them: it serves nothing itself.  Stopping, it sends each worker
SIGTERM, on which the worker drains (``Server.run``: the requests it received are answered,
DRAIN_SECONDS at most) and exits.
"""
from __future__ import annotations

import logging
import os
import select
import signal
import socket
import time
import traceback
from collections.abc import Callable

from .server import DRAIN_SECONDS, listen

log = logging.getLogger("mockface.error")
#: How long stopping workers have to exit before they are killed: their drain and a margin.
STOP_GRACE = DRAIN_SECONDS + 5.0
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class WorkerError(RuntimeError):
    """A worker process did not start."""


class _Stopping(Exception):
    """Raised in the master by SIGTERM or SIGINT."""


def shared_listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one port (a free one for port 0), each for a worker."""
    first = listen(host, port, share_port=True)
    sockets = [first]
    try:
        for _ in range(count - 1):
            sockets.append(listen(host, first.getsockname()[1], share_port=True))
    except OSError:
        for each in sockets:
            each.close()
        raise
    return sockets


class WorkerPool:
    """Forks ``len(listeners)`` workers; worker ``i`` runs ``work(listener_i, ready)`` and
    calls ``ready()`` once it accepts requests.  Fork before any thread is started."""

    def __init__(self, listeners: list[socket.socket],
                 work: Callable[[socket.socket, Callable[[], None]], None]) -> None:
        self.listeners = listeners
        self.work = work
        self.pids: list[int] = []

    def start(self, timeout: float = 60.0) -> None:
        """Fork the workers and return once each said it is ready; WorkerError (with the
        workers stopped) when one exits first or ``timeout`` passes."""
        read_end, write_end = os.pipe()
        for listener in self.listeners:
            pid = os.fork()
            if pid == 0:  # the worker
                os.close(read_end)
                for other in self.listeners:  # else a stopping worker's port stays open
                    if other is not listener:
                        other.close()
                self._run_worker(listener, lambda: _say_ready(write_end))
            self.pids.append(pid)
        os.close(write_end)
        for listener in self.listeners:
            listener.close()  # the workers hold them
        try:
            self._await_ready(read_end, timeout)
        except WorkerError:
            self.stop()
            raise
        finally:
            os.close(read_end)

    def _run_worker(self, listener: socket.socket, ready: Callable[[], None]) -> None:
        code = 0
        try:
            self.work(listener, ready)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)

    def _await_ready(self, read_end: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ready = 0
        while ready < len(self.pids):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerError(f"only {ready} of {len(self.pids)} workers were ready "
                                  f"after {timeout:g} s")
            readable, _, _ = select.select([read_end], [], [], min(remaining, 0.1))
            if readable:
                ready += len(os.read(read_end, 64))
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid:
                self.pids.remove(pid)
                raise WorkerError(f"worker {pid} exited before it was ready "
                                  f"(status {os.waitstatus_to_exitcode(status)})")

    def wait(self) -> int:
        """Block until SIGTERM or SIGINT (stop the workers; 0) or until a worker exits
        (stop the others; 1).  Signals that come while the workers stop are ignored here
        (a second Ctrl-C reaches the workers themselves, which then stop at once)."""
        def stopping(*_: object) -> None:
            raise _Stopping

        previous = {sig: signal.signal(sig, stopping) for sig in _SIGNALS}
        try:
            try:
                pid, status = os.waitpid(-1, 0)
            except _Stopping:
                self._stop_ignoring_signals()
                return 0
            self.pids.remove(pid)
            log.error("worker %d exited (status %d); stopping the others", pid,
                      os.waitstatus_to_exitcode(status))
            self._stop_ignoring_signals()
            return 1
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop_ignoring_signals(self) -> None:
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        self.stop()

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM every worker; SIGKILL those still running after ``grace`` seconds."""
        for pid in self.pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.pids and time.monotonic() < deadline:
            for pid in list(self.pids):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    self.pids.remove(pid)
            time.sleep(0.02)
        for pid in self.pids:
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.pids = []


def _say_ready(write_end: int) -> None:
    os.write(write_end, b"r")


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
