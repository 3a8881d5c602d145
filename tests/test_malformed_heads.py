"""Malformed request heads and chunked bodies, sent as raw bytes on every kind of port
(plain, inside a CONNECT tunnel, ``--tls``): each gets the documented JSON answer and a
closed connection, nothing is logged as a traceback, and a flood of them leaves the server
answering.  (Such requests used to stay queued with their sockets open: a thousand of them
filled the connection limit and the server stopped answering for good.)"""
from __future__ import annotations

import logging
import socket
import ssl

import pytest

from mockface.core.config import load_settings
from mockface.web.app import create_app
from mockface.web.server import MAX_REQUEST_BODY, start_background
from mockface.web.tls import CertificateAuthority

from .support import read_to_close, status_and_json

LEGACY = b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\n"
CODE_3 = (400, {"code": 3, "message": "invalid request"})
CODE_23 = (400, {"code": 23, "message": "request body too large"})

#: Heads waitress refuses (some before it reads the start line, so the request has no path).
MALFORMED_HEADS = {
    "header-without-colon": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nGarbage\r\n\r\n",
    "legacy-header-without-colon": LEGACY + b"Garbage\r\n\r\n",
    "space-in-a-header-name": b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
    "empty-header-name": b"GET / HTTP/1.1\r\nHost: x\r\n: value\r\n\r\n",
    "control-character-in-a-value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    "bare-cr-in-a-header": b"GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
    "bare-request-line": b"GET\r\n\r\n",
    "unsupported-transfer-encoding": LEGACY + b"Transfer-Encoding: gzip\r\n\r\n",
    "bad-chunk-size": LEGACY + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
}


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


def exchange_plain(server, data: bytes, _context=None) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        return read_to_close(sock)


def exchange_in_tunnel(server, data: bytes, context: ssl.SSLContext) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"CONNECT faceid.tencentcloudapi.com:443 HTTP/1.1\r\n"
                     b"Host: faceid.tencentcloudapi.com:443\r\n\r\n")
        assert sock.recv(1024).startswith(b"HTTP/1.1 200 ")
        with context.wrap_socket(sock, server_hostname="faceid.tencentcloudapi.com") as secure:
            secure.sendall(data)
            return read_to_close(secure)


def exchange_over_tls(server, data: bytes, context: ssl.SSLContext) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock, \
            context.wrap_socket(sock, server_hostname="localhost") as secure:
        secure.sendall(data)
        return read_to_close(secure)


@pytest.fixture(params=["plain", "tunnel", "tls"])
def port(request, plain, tls, ca_context):
    """One way to reach a server, as ``send(bytes) -> everything answered until close``."""
    server, exchange = {"plain": (plain, exchange_plain),
                        "tunnel": (plain, exchange_in_tunnel),
                        "tls": (tls, exchange_over_tls)}[request.param]
    return lambda data: exchange(server, data, ca_context)


@pytest.mark.parametrize("kind", list(MALFORMED_HEADS))
def test_a_malformed_head_is_code_3_and_closes_the_connection(port, kind, caplog):
    with caplog.at_level(logging.DEBUG, logger="waitress"):
        answer = port(MALFORMED_HEADS[kind])
    assert status_and_json(answer) == CODE_3
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


@pytest.mark.parametrize("path,size_line", [
    (b"/face/livegetfour", b"f" * 40),
    (b"/face/livegetfour", b"%x" % MAX_REQUEST_BODY),
], ids=["forty-hex-digits", "the-cap-itself"])
def test_a_chunk_larger_than_the_cap_is_refused_when_its_size_line_arrives(port, path,
                                                                             size_line):
    answer = port(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\n")
    assert status_and_json(answer) == CODE_23


def test_a_chunk_larger_than_the_cap_on_api3_is_request_size_limit_exceeded(plain):
    answer = exchange_plain(plain, b"POST / HTTP/1.1\r\nHost: x\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n")
    status, body = status_and_json(answer)
    assert status == 200
    assert body["Response"]["Error"]["Code"] == "RequestSizeLimitExceeded"


def test_a_chunk_within_the_cap_is_still_awaited_and_served(plain):
    body = b'{"appid": "x"}'
    answer = exchange_plain(plain, LEGACY + b"Content-Type: application/json\r\n"
                            b"Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    status, reply = status_and_json(answer)
    assert (status, reply["code"]) == (401, 4)  # reached the endpoint: no Authorization


def test_two_thousand_malformed_heads_leave_the_server_answering(ca_dir):
    """The repro of the outage: more malformed heads than the connection limit (1,000),
    each from a client that goes away at once; then a good request must be answered."""
    server = start_background(create_app(load_settings(env={})), ca_dir=ca_dir)
    try:
        for _ in range(2000):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(MALFORMED_HEADS["header-without-colon"])
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"GET /__mockface/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Connection: close\r\n\r\n")
            status, health = status_and_json(read_to_close(sock))
        assert status == 200 and health["status"] == "ok"
    finally:
        server.stop()


def test_an_error_in_answering_an_error_still_closes_the_connection(plain, monkeypatch,
                                                                      caplog):
    """The net under the server's own error answers: should one fail, the connection is
    closed and one line logged, not left open with the request queued."""
    from mockface.web import fastpath

    def broken(self):
        raise RuntimeError("broken error answer")

    monkeypatch.setattr(fastpath.JsonErrorTask, "execute", broken)
    with caplog.at_level(logging.ERROR, logger="mockface.error"):
        answer = exchange_plain(plain, MALFORMED_HEADS["bare-request-line"])
    assert answer == b""
    assert any("closing a connection after an error in answering it" in r.getMessage()
               for r in caplog.records)
