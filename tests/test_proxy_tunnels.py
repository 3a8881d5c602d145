"""CONNECT tunnels on port 80 (plain HTTP inside, as Tencent's Node SDK sends its http
calls), the log line of every refused tunnel, and the one relay thread that serves tunnels
and ``--tls`` connections far past the 256 threads it used to take, with real sockets."""
from __future__ import annotations

import http.client
import json
import logging
import select
import socket
import ssl
import subprocess
import sys
import threading
import time

import pytest

from mockface.core.config import (DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                                  load_settings)
from mockface.products.tc3.signature import sign_tc3
from mockface.products.legacy.signature import sign
from mockface.web import proxy
from mockface.web.app import create_app
from mockface.web.server import start_background
from mockface.web.tls import CertificateAuthority

LEGACY_HOST = "recognition.image.myqcloud.com"
API3_HOST = "faceid.tencentcloudapi.com"
PORTS_NOTE = ("CONNECT is tunnelled to port 443 (TLS, ended by mockface) and port 80 (plain "
              "HTTP) of those hosts only")


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ca")


@pytest.fixture(scope="module")
def ca_context(ca_dir):
    return ssl.create_default_context(cafile=str(CertificateAuthority(ca_dir).cert_path))


@pytest.fixture(scope="module")
def plain(ca_dir):
    server = start_background(create_app(load_settings(env={})), ca_dir=ca_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls(ca_dir):
    server = start_background(create_app(load_settings(env={})), tls=True, ca_dir=ca_dir)
    yield server
    server.stop()


@pytest.fixture
def bystander():
    """A listener nothing should ever connect to: proof that mockface does not forward."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    yield listener
    listener.close()


def legacy_request(host: str) -> bytes:
    body = json.dumps({"appid": DEFAULT_APPID}).encode()
    authorization = sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                         now=int(time.time()))
    return (f"POST /face/livegetfour HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
            f"{authorization}\r\nContent-Type: application/json\r\nContent-Length: "
            f"{len(body)}\r\n\r\n").encode() + body


def read_answer(sock: socket.socket) -> tuple[bytes, dict]:
    """One HTTP answer with a Content-Length: its head and its JSON body."""
    buffered = b""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the end of the head: {buffered!r}"
        buffered += chunk
    head, _, body = buffered.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed before the end of the body"
        body += chunk
    return head, json.loads(body[:length])


def open_tunnel(server, target: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    assert sock.recv(1024) == b"HTTP/1.1 200 Connection Established\r\n\r\n"
    return sock


def refused(server, line: bytes) -> tuple[bytes, dict]:
    """Send a CONNECT head; the answer's status line and JSON body (read until close)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(line + b"\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)


def proxy_lines(caplog) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "mockface.proxy"]


# -- CONNECT host:80 ---------------------------------------------------------------------

@pytest.mark.parametrize("host", [LEGACY_HOST, "service.image.myqcloud.com"])
def test_connect_port_80_relays_plain_http_for_a_legacy_host(plain, host):
    with open_tunnel(plain, f"{host}:80") as sock:
        for _ in range(2):  # keep-alive inside the tunnel
            sock.sendall(legacy_request(host))
            head, body = read_answer(sock)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert body["code"] == 0 and len(body["data"]["validate_data"]) == 4


def test_connect_port_80_relays_api3_with_the_hosts_signature(plain):
    body = b"{}"
    headers = sign_tc3(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, service="faceid", host=API3_HOST,
                       action="GetLiveCode", timestamp=int(time.time()), body=body)
    conn = http.client.HTTPConnection("127.0.0.1", plain.port, timeout=10)
    conn.set_tunnel(API3_HOST, 80)  # http.client sends CONNECT faceid...:80, then plain HTTP
    try:
        conn.request("POST", "/", body=body, headers=headers)
        answer = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    assert len(answer["Response"]["LiveCode"]) == 4


def test_a_port_80_tunnel_keeps_the_host_rules(plain):
    with open_tunnel(plain, f"{LEGACY_HOST}:80") as sock:
        sock.sendall(f"GET /__mockface/requests HTTP/1.1\r\nHost: {LEGACY_HOST}\r\n\r\n"
                     .encode())
        head, _ = read_answer(sock)
    assert head.startswith(b"HTTP/1.1 403 ")


# -- refused tunnels: the answer and the log line ---------------------------------------------

def test_an_emulated_host_on_another_port_is_refused_naming_the_tunnelled_ports(plain,
                                                                              caplog):
    with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
        status, body = refused(plain, f"CONNECT {LEGACY_HOST}:8443 HTTP/1.1".encode())
    assert status == b"HTTP/1.1 403 Forbidden"
    assert body["error"] == f"mockface does not tunnel port 8443 of {LEGACY_HOST}: {PORTS_NOTE}"
    assert LEGACY_HOST in body["emulated_hosts"]
    assert proxy_lines(caplog) == [
        (logging.WARNING, f'CONNECT refused target={LEGACY_HOST}:8443 status=403 '
                          f'reason="port 8443 is not tunnelled"')]


def test_another_host_on_port_80_is_refused_logged_and_never_contacted(plain, caplog,
                                                                       bystander):
    port = bystander.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
        status, body = refused(plain, f"CONNECT 127.0.0.1:{port} HTTP/1.1".encode())
        other_status, other = refused(plain, b"CONNECT example.com:80 HTTP/1.1")
    assert status == other_status == b"HTTP/1.1 403 Forbidden"
    assert body["error"].startswith(f"mockface does not proxy '127.0.0.1:{port}': it answers "
                                    f"only for {LEGACY_HOST}, ")
    assert other["error"].endswith(f"(and never connects anywhere else); {PORTS_NOTE}")
    assert proxy_lines(caplog) == [
        (logging.WARNING, f'CONNECT refused target=127.0.0.1:{port} status=403 '
                          f'reason="not an emulated host"'),
        (logging.WARNING, 'CONNECT refused target=example.com:80 status=403 '
                          'reason="not an emulated host"')]
    readable, _, _ = select.select([bystander], [], [], 0.3)
    assert readable == [], "mockface opened a connection to a host it does not emulate"


@pytest.mark.parametrize("line,why,logged", [
    (f"CONNECT {LEGACY_HOST} HTTP/1.1", f"CONNECT needs host:port, got '{LEGACY_HOST}'",
     f'target={LEGACY_HOST} status=400 reason="CONNECT needs host:port, got '
     f'\'{LEGACY_HOST}\'"'),
    ("CONNECT  HTTP/1.1", "malformed CONNECT line",
     'status=400 reason="malformed CONNECT line"'),
])
def test_a_malformed_connect_is_logged_with_its_reason(plain, caplog, line, why, logged):
    with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
        status, body = refused(plain, line.encode())
    assert status == b"HTTP/1.1 400 Bad Request" and body["error"] == why
    assert proxy_lines(caplog) == [(logging.WARNING, f"CONNECT refused {logged}")]


def test_an_oversized_connect_head_is_logged(plain, caplog):
    with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
        status, body = refused(plain, f"CONNECT {LEGACY_HOST}:443 HTTP/1.1\r\nX: ".encode() +
                               b"a" * 10_000)
    assert status.startswith(b"HTTP/1.1 431 ")
    assert proxy_lines(caplog) == [
        (logging.WARNING, f'CONNECT refused target={LEGACY_HOST}:443 status=431 '
                          f'reason="CONNECT request head too large"')]


def test_a_refused_target_cannot_forge_a_log_line(plain, caplog):
    with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
        refused(plain, b"CONNECT evil\x01\"x=1.example:443 HTTP/1.1")
    [(_, line)] = proxy_lines(caplog)
    assert line == ('CONNECT refused target="evil\\u0001\\"x=1.example:443" status=403 '
                    'reason="not an emulated host"')


def test_data_sent_before_the_tunnel_is_refused_and_logged(plain, caplog):
    with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
        status, body = refused(plain, f"CONNECT {LEGACY_HOST}:80 HTTP/1.1\r\n\r\nGET /"
                                      .encode())
    assert status.startswith(b"HTTP/1.1 400 ")
    assert body["error"] == "data sent before the tunnel was established"
    assert proxy_lines(caplog) == [
        (logging.WARNING, f'CONNECT refused target={LEGACY_HOST}:80 status=400 '
                          f'reason="data sent before the tunnel was established"')]


def test_serve_logs_refused_tunnels_by_default_and_with_quiet(tmp_path):
    """The line reaches ``mockface serve``'s stderr at the default level and with --quiet
    (a warning, like the other loggers' warnings), and not with --log-level error."""
    options = {"default": [], "quiet": ["--quiet"], "error": ["--log-level", "error"]}
    procs = {}
    for name, extra in options.items():
        with open(tmp_path / f"{name}.err", "w") as stderr:
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "mockface", "serve", "--port", "0", "--ready-file",
                 str(tmp_path / f"{name}.json"), *extra],
                stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        for name, proc in procs.items():
            ready, deadline = tmp_path / f"{name}.json", time.monotonic() + 60
            while not ready.exists():
                assert proc.poll() is None and time.monotonic() < deadline, name
                time.sleep(0.02)  # polling for the ready file
            port = json.loads(ready.read_text())["port"]
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\n\r\n")
                assert sock.recv(100).startswith(b"HTTP/1.1 403 ")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=30)
    logs = {name: (tmp_path / f"{name}.err").read_text() for name in options}
    line = 'mockface.proxy CONNECT refused target=example.com:443 status=403 reason="not an ' \
           'emulated host"'
    assert line in logs["default"] and line in logs["quiet"]
    assert "CONNECT refused" not in logs["error"]


# -- one relay thread, up to the connection limit ---------------------------------------------

def legacy_over(way: str, server, context: ssl.SSLContext) -> ssl.SSLSocket:
    """A TLS connection to ``server`` by ``way``, its handshake done."""
    if way == "tls":
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        return context.wrap_socket(sock, server_hostname="localhost")
    sock = open_tunnel(server, f"{LEGACY_HOST}:443")
    sock.settimeout(30)
    return context.wrap_socket(sock, server_hostname=LEGACY_HOST)


@pytest.mark.parametrize("way", ["tls", "tunnel"])
def test_300_connections_at_once_are_all_answered(way, plain, tls, ca_context):
    """More than the 256 relay threads there used to be: all 300 are open at once, each
    through its handshake, and each is answered; one relay thread serves them all."""
    server = tls if way == "tls" else plain
    connections: list[ssl.SSLSocket] = []
    threads = threading.active_count()
    try:
        for _ in range(300):
            connections.append(legacy_over(way, server, ca_context))
        assert server.relay.active == 300
        new_threads = threading.active_count() - threads
        host = "localhost" if way == "tls" else LEGACY_HOST
        for secure in connections:
            secure.sendall(legacy_request(host))
        codes = [read_answer(secure)[1]["code"] for secure in connections]
    finally:
        for secure in connections:
            secure.close()
    assert codes == [0] * 300
    assert new_threads <= 1  # the relay's, if it started just now: none per connection


def test_past_the_limit_tls_connections_wait_instead_of_being_reset(ca_dir, ca_context,
                                                                     monkeypatch):
    """At its limit the relay stops accepting: the next connection waits in the kernel's
    queue and is served as soon as another closes."""
    server = start_background(create_app(load_settings(env={})), tls=True, ca_dir=ca_dir)
    server.relay.limit = 2
    try:
        first, second = (legacy_over("tls", server, ca_context) for _ in range(2))
        waiting = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        third = ca_context.wrap_socket(waiting, server_hostname="localhost",
                                       do_handshake_on_connect=False)
        third.setblocking(False)
        with pytest.raises(ssl.SSLWantReadError):
            third.do_handshake()  # its ClientHello goes out
        readable, _, _ = select.select([third], [], [], 0.5)
        assert readable == []  # no ServerHello (and no reset): it waits in the queue
        assert server.relay.active == 2
        first.close()
        third.settimeout(30)
        third.do_handshake()
        third.sendall(legacy_request("localhost"))
        assert read_answer(third)[1]["code"] == 0
        second.sendall(legacy_request("localhost"))
        assert read_answer(second)[1]["code"] == 0
        for sock in (second, third):
            sock.close()
    finally:
        server.stop()


def test_a_silent_tls_client_is_closed_after_the_handshake_time(ca_dir, monkeypatch):
    monkeypatch.setattr(proxy, "HANDSHAKE_SECONDS", 0.3)
    monkeypatch.setattr(proxy, "SWEEP_SECONDS", 0.05)
    server = start_background(create_app(load_settings(env={})), tls=True, ca_dir=ca_dir)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as silent:
            started = time.monotonic()
            assert silent.recv(1) == b""  # closed by the relay, not by the client's timeout
            assert 0.25 <= time.monotonic() - started <= 5
    finally:
        server.stop()


def test_an_idle_tunnel_is_closed(plain, ca_context, monkeypatch):
    monkeypatch.setattr(proxy, "IDLE_SECONDS", 0.3)
    monkeypatch.setattr(proxy, "SWEEP_SECONDS", 0.05)
    server = start_background(create_app(load_settings(env={})), ca_dir=None)
    try:
        with open_tunnel(server, f"{LEGACY_HOST}:80") as sock:
            sock.sendall(legacy_request(LEGACY_HOST))
            assert read_answer(sock)[1]["code"] == 0
            started = time.monotonic()
            assert sock.recv(1) == b""
            assert 0.25 <= time.monotonic() - started <= 5
    finally:
        server.stop()


def test_a_large_upload_through_a_tunnel_is_relayed_whole(plain, ca_context):
    """More than the relay holds for one direction (1 MB), both ways round a TLS tunnel: it
    waits for the server to take the bytes instead of buffering without bound, and every
    byte arrives (a lost one would leave the JSON unparsable or the body incomplete)."""
    body = json.dumps({"appid": DEFAULT_APPID, "padding": "x" * (3 << 20)}).encode()
    authorization = sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                         now=int(time.time()))
    head = (f"POST /face/livegetfour HTTP/1.1\r\nHost: {LEGACY_HOST}\r\nAuthorization: "
            f"{authorization}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with legacy_over("tunnel", plain, ca_context) as secure:
        secure.sendall(head + body)
        _, answer = read_answer(secure)
    assert answer["code"] == 0 and len(answer["data"]["validate_data"]) == 4


def test_a_tls_connection_the_server_closes_ends_with_close_notify(tls, ca_context):
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as sock, \
            ca_context.wrap_socket(sock, server_hostname="localhost",
                                   suppress_ragged_eofs=False) as secure:
        head, body = legacy_request("localhost").split(b"\r\n\r\n", 1)
        secure.sendall(head + b"\r\nConnection: close\r\n\r\n" + body)
        assert read_answer(secure)[1]["code"] == 0
        assert secure.recv(1) == b""  # a clean TLS close, not a bare TCP one


def test_a_side_that_stops_reading_stops_the_other(bystander):
    """The relay holds at most RELAY_BUFFER_BYTES for one direction: a client writing to a
    listener that never reads is held back by TCP instead of filling mockface's memory."""
    relay = proxy.Relay(lambda: None, lambda: bystander.getsockname()[:2], limit=10)
    ours, theirs = socket.socketpair()
    try:
        relay.tunnel(ours, LEGACY_HOST, tls=False)
        assert theirs.recv(100).startswith(b"HTTP/1.1 200 ")
        reader, _ = bystander.accept()  # the relay's connection, never read
        theirs.setblocking(False)
        chunk, sent, stalled_since = b"x" * 65536, 0, time.monotonic()
        while sent < 64 << 20 and time.monotonic() - stalled_since < 1.0:
            try:
                sent += theirs.send(chunk)
                stalled_since = time.monotonic()
            except BlockingIOError:
                select.select([], [theirs], [], 0.05)
        assert sent < 64 << 20  # held back: kernel buffers and 1 MB, not everything
        reader.close()
    finally:
        relay.stop()
        theirs.close()


def test_an_error_in_one_relayed_connection_closes_only_that_one(plain, monkeypatch, caplog):
    relayed = proxy._Link._to_client
    failed: list = []

    def broken_once(link, data):
        if not failed:
            failed.append(link)
            raise RuntimeError("a bug")
        relayed(link, data)

    monkeypatch.setattr(proxy._Link, "_to_client", broken_once)
    with caplog.at_level(logging.ERROR, logger="mockface.proxy"), \
            open_tunnel(plain, f"{LEGACY_HOST}:80") as first, \
            open_tunnel(plain, f"{LEGACY_HOST}:80") as second:
        first.sendall(legacy_request(LEGACY_HOST))
        assert first.recv(65536) == b""  # its answer hit the bug: closed
        second.sendall(legacy_request(LEGACY_HOST))
        assert read_answer(second)[1]["code"] == 0  # the relay goes on
    assert proxy_lines(caplog) == [
        (logging.ERROR, "closing a relayed connection after an error: RuntimeError('a bug')")]
