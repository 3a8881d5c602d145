"""A real ``redis-server`` for the tests of the Redis state backend, on a free loopback port,
and the states and emulators the tests open on it (each closed when its test ends).

Missing redis-server skips those tests locally (``apt install redis-server``); with
MOCKFACE_REQUIRE_REDIS=1 (set by ``.ci/run``) it fails them instead, so CI never passes
without running them.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from mockface.core.config import Settings
from mockface.core.redis_state import RedisState
from mockface.emulator import Emulator
from mockface.scenarios import ScenarioEngine

from .support import make_settings

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server() -> str:
    if REDIS_SERVER is None:
        message = "redis-server is not installed (apt install redis-server)"
        if os.environ.get("MOCKFACE_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_SERVER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """One redis-server process without persistence; ``stop()`` and ``start()`` again on
    the same port simulate an outage."""

    def __init__(self, directory: Path) -> None:
        self.binary = require_redis_server()
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self, timeout: float = 10) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory),
             "--unixsocket", str(self.directory / "redis.sock"), "--unixsocketperm", "700"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited ({self.proc.returncode}) on port "
                                     f"{self.port}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)  # polling interval while redis-server starts
        raise AssertionError("redis-server did not answer")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def url(self, prefix: str | None = None) -> str:
        """A URL with a fresh key prefix: each test sees an empty emulator."""
        prefix = prefix or f"t{uuid.uuid4().hex[:12]}:"
        return f"redis://127.0.0.1:{self.port}/0?prefix={prefix}"

    def unix_url(self, prefix: str | None = None) -> str:
        """``url`` over the server's Unix socket."""
        prefix = prefix or f"t{uuid.uuid4().hex[:12]}:"
        return f"unix://{self.directory / 'redis.sock'}?db=0&prefix={prefix}"


# -- states and emulators on it, each closed (its listener joined) when its test ends -------

_opened: list[RedisState] = []


def open_state(url: str, settings: Settings | None = None, **options) -> RedisState:
    """A RedisState on ``url`` (the test apps unless ``settings``), closed by
    ``close_opened`` after the test."""
    state = RedisState(url, settings or make_settings(), **options)
    _opened.append(state)
    return state


def shared_emulator(url: str, **options) -> Emulator:
    """An emulator with the test apps whose state lives at ``url`` (as a process would)."""
    settings = make_settings(**options)
    state = open_state(url, settings)
    engine = ScenarioEngine(seed=settings.seed, store=state.activations)
    return Emulator(settings, scenarios=engine, state=state)


def close_opened() -> None:
    """Close every state the test opened, each listener thread joined, so that no thread of
    one test logs into the next one's captured logs (call it from an autouse fixture)."""
    while _opened:
        state = _opened.pop()
        state.close()
        assert state._listener is None or not state._listener.is_alive(), \
            "a state listener outlived close()"
