"""Stopping gently: on SIGTERM (or ``Server.drain``) the server stops accepting, answers
every request it has received (plain, in CONNECT tunnels, over ``--tls``, in ``--workers``
processes) with ``Connection: close``, closes connections as they fall quiet, and exits 0
within its grace period.  (SIGTERM used to reset 7 to 9 of 1,600 requests in flight.)"""
from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from mockface.emulator import Emulator
from mockface.products.legacy.signature import sign
from mockface.scenarios import ScenarioEngine
from mockface.web import server as server_module
from mockface.web.app import create_app
from mockface.web.server import DRAIN_SECONDS, Server

from .redis_server import RedisServer, require_redis_server
from .support import MAIN, make_settings, read_answers, read_to_close, signed_now, wait_until

LEGACY_HOST = "recognition.image.myqcloud.com"
HELD = 2.0  # seconds each request is held by the scenario: in flight when SIGTERM comes


def legacy_request(host: str, appid: str = DEFAULT_APPID, authorization: str | None = None,
                   **fields: str) -> tuple[bytes, bytes]:
    """A signed ``livegetfour`` request (with ``fields`` in its body): head and body."""
    body = json.dumps({"appid": appid, **fields}).encode()
    authorization = authorization or sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                                          now=int(time.time()))
    head = (f"POST /face/livegetfour HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
            f"{authorization}\r\nContent-Type: application/json\r\nContent-Length: "
            f"{len(body)}\r\n\r\n").encode()
    return head, body


def assert_full_answer(answer: bytes) -> None:
    """A whole 200 answer with code 0, telling the client the connection closes."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b"\r\nconnection: close" in head.lower()
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    assert len(body) == length and json.loads(body)["code"] == 0


def healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /__mockface/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Connection: close\r\n\r\n")
            return read_to_close(sock).startswith(b"HTTP/1.1 200 ")
    except OSError:
        return False


def refused(port: int) -> bool:
    """Whether ``port`` refuses connections (a connection reset while the listener is being
    closed, with that connection still in its queue, means not yet: ask again)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False
    return False


# -- mockface serve as a process ---------------------------------------------------------------

class Serving:
    """``mockface serve --quiet`` in a subprocess with ``args``, ready once its ready file
    exists; its stderr goes to a file."""

    def __init__(self, tmp_path, *args: str) -> None:
        ready = tmp_path / "ready.json"
        self.stderr_path = tmp_path / "stderr.txt"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("MOCKFACE_") or k == "MOCKFACE_CA_DIR"}
        with open(self.stderr_path, "w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mockface", "serve", "--port", "0", "--quiet",
                 "--ready-file", str(ready), *args],
                stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"serve did not start: {self.stderr_path.read_text()}")
            time.sleep(0.02)  # polling for the ready file
        self.port = json.loads(ready.read_text())["port"]
        self.ca_cert = os.path.join(env["MOCKFACE_CA_DIR"], "mockface-ca.pem")  # conftest's

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


def send_in_flight(way: str, serving: Serving, head: bytes, body: bytes) -> socket.socket:
    """Open a connection by ``way`` and send a whole request on it."""
    sock = socket.create_connection(("127.0.0.1", serving.port), timeout=30)
    if way in ("tunnel", "tunnel80"):
        port = 443 if way == "tunnel" else 80
        sock.sendall(f"CONNECT {LEGACY_HOST}:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200 ")
    if way in ("tunnel", "tls"):
        context = ssl.create_default_context(cafile=serving.ca_cert)
        sock = context.wrap_socket(sock, server_hostname=LEGACY_HOST if way == "tunnel"
                                   else "localhost")
    sock.sendall(head + body)
    return sock


@pytest.fixture
def held_scenario(tmp_path):
    scenario = tmp_path / "held.yaml"
    scenario.write_text(f"name: held\nrules:\n  - endpoint: livegetfour\n    respond:\n"
                        f"      delay_ms: {int(HELD * 1000)}\n")
    return str(scenario)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    require_redis_server()
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    yield redis.url()
    redis.stop()


@pytest.mark.parametrize("setup", [
    pytest.param(("plain",) * 20, id="plain"),
    pytest.param(("tunnel",) * 10 + ("tunnel80",) * 10, id="tunnels"),
    pytest.param(("tls",) * 20, id="tls"),
    pytest.param(("plain",) * 20, id="workers"),
])
def test_sigterm_answers_every_request_in_flight_and_exits_0(request, tmp_path, held_scenario,
                                                             setup):
    options = ["--scenario", held_scenario]
    if "tls" in setup:
        options.append("--tls")
    if request.node.callspec.id == "workers":
        options += ["--workers", "2", "--state", request.getfixturevalue("redis_url")]
    serving = Serving(tmp_path, *options)
    try:
        host = "localhost" if "tls" in setup else LEGACY_HOST
        head, body = legacy_request(host)
        first_sent = time.monotonic()
        in_flight = [send_in_flight(way, serving, head, body) for way in setup]
        half_sent = None
        if setup[0] == "plain":  # and one still sending its body when SIGTERM comes
            half_sent = send_in_flight("plain", serving, head, body[:5])
        serving.proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert stopped - first_sent < HELD  # so none can have been answered before SIGTERM
        wait_until(lambda: refused(serving.port), seconds=10)
        # refusing new connections while every request is still held (so: draining)
        assert time.monotonic() - first_sent < HELD and serving.proc.poll() is None
        if "--workers" in options:
            serving.proc.send_signal(signal.SIGTERM)  # a second one changes nothing
        if half_sent is not None:
            half_sent.sendall(body[5:])
            in_flight.append(half_sent)
        for sock in in_flight:
            assert_full_answer(read_to_close(sock))
        serving.proc.wait(timeout=30)
        took = time.monotonic() - stopped
    finally:
        serving.kill()
    log = serving.stderr_path.read_text()
    assert serving.proc.returncode == 0, log
    assert took < DRAIN_SECONDS + 3, log  # the grace, and the process's own exit
    assert "mockface stopped" in log and "Traceback" not in log


# -- Server.run, drained from another thread ---------------------------------------------------

@pytest.fixture
def running():
    """A factory: a Server with the test apps (and ``rules`` as a scenario) serving in
    ``run()`` on a thread of its own (``before(server)`` first); ``drain()`` it, then
    ``join`` the thread."""
    started: list[tuple[Server, threading.Thread]] = []

    def start(rules: list | None = None, before=None, **options
              ) -> tuple[Server, threading.Thread]:
        engine = ScenarioEngine()
        if rules:
            engine.activate({"name": "t", "rules": rules})
        server = Server(create_app(emulator=Emulator(make_settings(), scenarios=engine)),
                        **options)
        if before is not None:
            before(server)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append((server, thread))
        return server, thread

    yield start
    for server, thread in started:
        server.stop()
        thread.join(timeout=10)


def main_request(**fields: str) -> bytes:
    """A whole signed request for the test app."""
    head, body = legacy_request("127.0.0.1", MAIN.appid, signed_now(), **fields)
    return head + body


def busy(server: Server) -> bool:
    """Whether a request has been received and is being served."""
    return any(channel.requests for channel in list(server.server.active_channels.values()))


def test_held_requests_are_let_go_before_the_grace_ends(running, monkeypatch):
    monkeypatch.setattr(server_module, "DRAIN_SECONDS", 3.0)
    monkeypatch.setattr(server_module, "RELEASE_SECONDS", 2.0)
    server, thread = running([{"endpoint": "livegetfour", "respond": {"delay_ms": 60_000}}])
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(main_request())
        wait_until(lambda: busy(server))
        server.drain()
        asked = time.monotonic()
        assert_full_answer(read_to_close(sock))
        answered = time.monotonic() - asked
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert 0.8 <= answered < 2.5  # let go 1 s into the drain: not at its end, nor in 60 s


def test_a_quiet_connection_is_closed_and_a_busy_one_answered(running, monkeypatch):
    monkeypatch.setattr(server_module, "QUIET_SECONDS", 0.1)
    server, thread = running([{"endpoint": "livegetfour", "match": {"seq": "held"},
                               "respond": {"delay_ms": 1500}}])
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    idle.sendall(main_request())  # answered at once, and its connection kept alive
    assert json.loads(read_answers(idle, 1)[0])["code"] == 0
    with idle, socket.create_connection(("127.0.0.1", server.port), timeout=10) as held:
        held.sendall(main_request(seq="held"))
        wait_until(lambda: busy(server))
        server.drain()
        assert idle.recv(1) == b""  # closed by the server, while the other is still held
        assert thread.is_alive()
        assert_full_answer(read_to_close(held))
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.mark.parametrize("quiet", [server_module.QUIET_SECONDS, 0.0])
def test_connections_waiting_to_be_accepted_are_served(running, monkeypatch, quiet):
    """Taken from the listener's queue before it closes; and, quiet time or not, a
    connection whose request waits unread in the kernel is not quiet."""
    monkeypatch.setattr(server_module, "QUIET_SECONDS", quiet)
    server, thread = running(before=lambda server: monkeypatch.setattr(
        server.server, "readable", lambda: False))  # its loop never accepts
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as queued:
        queued.sendall(main_request())  # in the listener's queue, not yet accepted
        server.drain()
        assert_full_answer(read_to_close(queued))
    thread.join(timeout=10)
    assert not thread.is_alive() and refused(server.port)


def test_a_connection_open_before_the_drain_may_still_send_its_request(running, monkeypatch):
    monkeypatch.setattr(server_module, "QUIET_SECONDS", 3.0)  # its window to send in
    server, thread = running()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as early:
        wait_until(lambda: server.server.active_channels)  # accepted, nothing sent yet
        server.drain()
        wait_until(lambda: refused(server.port))
        early.sendall(main_request())
        assert_full_answer(read_to_close(early))
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_silent_tls_client_does_not_hold_the_drain(running, monkeypatch):
    monkeypatch.setattr(server_module, "QUIET_SECONDS", 0.1)
    server, thread = running(tls=True)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as silent:
        wait_until(lambda: server.relay.active == 1)
        server.drain()
        started = time.monotonic()
        assert silent.recv(1) == b""
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - started < DRAIN_SECONDS - 2  # not held to the grace's end


RUN_IN_MAIN_THREAD = """
import sys
from mockface.emulator import Emulator
from mockface.scenarios import ScenarioEngine
from mockface.web.app import create_app
from mockface.web.server import Server
from tests.support import make_settings

engine = ScenarioEngine()
engine.activate({"name": "held", "rules": [{"endpoint": "livegetfour",
                                            "respond": {"delay_ms": %d}}]})
server = Server(create_app(emulator=Emulator(make_settings(), scenarios=engine)))
print(server.port, flush=True)
server.run()
print("run returned", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_in_the_main_thread_drains_on_sigterm_and_a_first_ctrl_c(sig):
    """Server.run itself takes SIGTERM and SIGINT (here with Python's defaults around it:
    SIGTERM would kill the process, SIGINT raise KeyboardInterrupt anywhere)."""
    proc = subprocess.Popen([sys.executable, "-c", RUN_IN_MAIN_THREAD % (HELD * 1000)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    try:
        port = int(proc.stdout.readline())
        wait_until(lambda: healthy(port), seconds=30)  # run() has taken the signals
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(main_request())
            sent = time.monotonic()
            proc.send_signal(sig)
            assert time.monotonic() - sent < HELD  # in flight when the signal came
            assert_full_answer(read_to_close(sock))
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert (proc.returncode, out) == (0, "run returned\n"), err
