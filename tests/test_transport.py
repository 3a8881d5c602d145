"""The two transports of ``web/server.py``: the fast path (``web/fastpath.py``, the default)
and the stock path (waitress through its public API only, ``stock=True`` or
``MOCKFACE_STOCK_SERVER=1``).  Ordinary requests get the same answers on both; what the stock
path lacks is the table of docs/transport.md, which ``test_the_documented_differences_hold``
reads and checks row by row, so the document cannot drift from the code."""
from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from mockface.products.tc3.signature import sign_tc3
from mockface.web import fastpath
from mockface.web import server as server_module
from mockface.web.app import create_app
from mockface.web.server import Server, start_background, stock_requested

from .support import MAIN, make_settings, media, read_to_close, signed_now, valid_request

DOC = Path(__file__).resolve().parent.parent / "docs" / "transport.md"
PATHS = ("fast", "stock")
API3_HOST = "faceid.tencentcloudapi.com"
#: How long a probe waits for the server to close the connection before calling it open
#: (the slow-header probe: SLOW_OPEN_AFTER, past the deadline and the server's next clean-up).
OPEN_AFTER = 3.0
SLOW_OPEN_AFTER = 5.0
#: The header deadline of the servers the differences are probed on (instead of 10 s).
HEADER_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def servers():
    """One server per path, each over its own emulator with the same settings; a scenario
    drops every ``idcardcompare`` request (the ``drop-fault`` probe)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_module, "HEADER_TIMEOUT", HEADER_TIMEOUT)
        both = {path: start_background(create_app(make_settings()), stock=path == "stock")
                for path in PATHS}
    document = {"name": "drop", "rules": [{"endpoint": "idcardcompare",
                                           "respond": {"fault": "connection_reset"}}]}
    try:
        for server in both.values():
            assert requests.post(f"{server.url}/__mockface/scenarios", timeout=10,
                                 json={"document": document}).status_code == 201
        yield both
    finally:
        for server in both.values():
            server.stop()


def exchange(server: Server, request: bytes) -> bytes:
    """Everything ``server`` answers to ``request`` on a new connection, until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        return read_to_close(sock)


def comparable(answer: bytes) -> tuple[list[bytes], bytes]:
    """The head lines and body of ``answer`` without what differs between any two servers:
    the Date header, the random RequestId of an API 3.0 answer, the uptime in the admin
    health answer (and so the Content-Length, checked here against the body)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    [length] = [line for line in lines if line.lower().startswith(b"content-length:")]
    assert int(length.split(b":")[1]) == len(body)
    body = re.sub(rb'"RequestId":"[0-9a-f-]{36}"', b'"RequestId":"-"', body)
    body = re.sub(rb'"uptime":[0-9.]+', b'"uptime":0', body)
    return [line for line in lines if line.lower().split(b":")[0] not in
            (b"date", b"content-length")], body


def json_post(endpoint: str, fields: dict[str, str]) -> bytes:
    """A signed legacy request to ``endpoint`` with ``fields`` as its JSON body."""
    body = json.dumps(fields).encode()
    return (f"POST /face/{endpoint} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Authorization: {signed_now()}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def legacy_post() -> bytes:
    return json_post("livegetfour", {"appid": MAIN.appid})


def api3_post() -> bytes:
    body = b"{}"
    headers = sign_tc3("AKIDmain", "main-key", service="faceid", host=API3_HOST,
                       action="GetLiveCode", timestamp=int(time.time()), body=body)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()
                   if name.lower() != "host")
    return (f"POST / HTTP/1.1\r\nHost: {API3_HOST}\r\nConnection: close\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def admin_health() -> bytes:
    return b"GET /__mockface/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def large_upload() -> bytes:
    """A signed ``livedetectfour`` with a video of about 2 MB (bench-peers W3's size)."""
    boundary = uuid.uuid4().hex
    fields = {"appid": MAIN.appid, "validate_data": "1234", "compare_flag": "false"}
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode() for name, value in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="video"; '
             f'filename="v.mp4"\r\nContent-Type: video/mp4\r\n\r\n').encode()
    body += media("video.mp4") + bytes(range(256)) * 8192 + f"\r\n--{boundary}--\r\n".encode()
    return (f"POST /face/livedetectfour HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Authorization: {signed_now()}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize("request_of", [legacy_post, api3_post, admin_health, large_upload],
                         ids=["legacy", "api3", "admin-health", "large-body"])
def test_both_paths_answer_ordinary_requests_alike(servers, request_of):
    request = request_of()
    answers = {path: exchange(servers[path], request) for path in PATHS}
    assert answers["fast"].startswith(b"HTTP/1.1 200 OK\r\n")
    assert comparable(answers["stock"]) == comparable(answers["fast"])


# -- what differs: docs/transport.md's table -------------------------------------------------

LEGACY_HEAD = b"POST /face/livegetfour HTTP/1.1\r\nHost: 127.0.0.1\r\n"
#: What each probe sends on a new connection, by the name its row of the table gives it.
PROBES: dict[str, Callable[[], bytes]] = {
    "connect": lambda: (f"CONNECT {API3_HOST}:443 HTTP/1.1\r\nHost: {API3_HOST}:443\r\n\r\n"
                        .encode()),
    "drop-fault": lambda: json_post("idcardcompare", valid_request("idcardcompare")["json"]),
    "malformed-head": lambda: LEGACY_HEAD + b"Garbage\r\n\r\n",
    "body-over-the-cap": lambda: LEGACY_HEAD + b"Content-Length: %d\r\n\r\n" % (
        server_module.MAX_REQUEST_BODY + 1),
    "chunk-over-the-cap": lambda: LEGACY_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" +
    b"f" * 40 + b"\r\n",
    "unsupported-transfer-encoding": lambda: LEGACY_HEAD + b"Transfer-Encoding: gzip\r\n\r\n",
    "headers-over-the-limit": lambda: LEGACY_HEAD + b"X-Long: " + b"a" * 300_000 +
    b"\r\n\r\n",
    "slow-headers": lambda: LEGACY_HEAD,
}


def outcome(server: Server, request: bytes, wait: float) -> str:
    """What ``request`` gets, as the table says it: ``<status> <JSON|text>`` (or ``no
    answer``), then ``closed`` or ``kept open`` (still open ``wait`` seconds after the
    request was sent)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        sock.settimeout(wait)
        answer, end = b"", "closed"
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except socket.timeout:
            end = "kept open"
        except ConnectionResetError:
            pass
    if not answer:
        return f"no answer, {end}"
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    kind = " JSON" if "content-type: application/json" in head else \
        " text" if "content-type: text/plain" in head else ""
    return f"{head.split()[1]}{kind}, {end}"


def documented_rows() -> dict[str, tuple[str, str]]:
    """The table of docs/transport.md: probe name -> (fast path, stock path)."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = (cells[2], cells[3])
    return rows


def test_the_documented_differences_hold(servers):
    rows = documented_rows()
    assert sorted(rows) == sorted(PROBES)  # every probe documented, every row probed

    def probe(asked: tuple[str, str]) -> tuple[tuple[str, str], str]:
        name, path = asked
        wait = SLOW_OPEN_AFTER if name == "slow-headers" else OPEN_AFTER
        return asked, outcome(servers[path], PROBES[name](), wait)

    asked = [(name, path) for name in PROBES for path in PATHS]
    with ThreadPoolExecutor(len(asked)) as pool:  # the kept-open ones wait in parallel
        seen = dict(pool.map(probe, asked))
    expected = {(name, path): rows[name][index] for name in PROBES
                for index, path in enumerate(PATHS)}
    assert seen == expected


def test_the_flag_and_the_environment_pick_the_path(monkeypatch):
    monkeypatch.setenv("MOCKFACE_STOCK_SERVER", "1")
    assert stock_requested()
    app = create_app(make_settings())
    chosen = {stock: server_module.create_server(app, "127.0.0.1", 0, stock=stock)
              for stock in (None, False)}
    try:
        assert not isinstance(chosen[None], fastpath.FastServer)
        assert isinstance(chosen[False], fastpath.FastServer)
    finally:
        for server in chosen.values():
            fastpath.shutdown(server, in_loop_thread=True)  # never ran: close it here
    monkeypatch.setenv("MOCKFACE_STOCK_SERVER", "0")
    assert not stock_requested()
