"""No page of another origin may frame anything mockface serves (clickjacking: a framed
dashboard is one click from a frozen clock): every answer carries ``X-Frame-Options: DENY``
and ``frame-ancestors 'none'`` in its Content-Security-Policy, and a real browser refuses
to show the dashboard in a frame of another origin."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from mockface.emulator import Emulator
from mockface.products.tc3.signature import sign_tc3
from mockface.scenarios import ScenarioEngine, search_path
from mockface.web.app import create_app, deny_framing
from mockface.web.server import start_background

from . import test_dashboard
from .support import make_settings, signed_now, valid_request

browser = test_dashboard.browser  # the same module-scoped headless Chromium

DENIED = "frame-ancestors 'none'"


@pytest.fixture(scope="module")
def served():
    """A real server with the scenario library, and its emulator (to break on purpose)."""
    emulator = Emulator(make_settings(), scenarios=ScenarioEngine(search_path()))
    server = start_background(create_app(emulator=emulator))
    yield server, emulator
    server.stop()


def assert_denies_framing(response: requests.Response, policy: str = DENIED) -> None:
    """Exactly one X-Frame-Options, DENY, and exactly one policy, ``policy``."""
    raw = response.raw.headers  # urllib3's: keeps repeated headers apart
    assert raw.getlist("X-Frame-Options") == ["DENY"]
    assert raw.getlist("Content-Security-Policy") == [policy]


def legacy(server, endpoint: str = "livegetfour", signed: bool = True) -> requests.Response:
    headers = {"Authorization": signed_now()} if signed else {}
    return requests.post(f"{server.url}/face/{endpoint}", headers=headers, timeout=10,
                         **valid_request(endpoint))


def api3(server, signed: bool = True, action: str = "GetLiveCode") -> requests.Response:
    host = server.url.split("//")[1]
    headers = sign_tc3("AKIDmain", "main-key", service="faceid", host=host, action=action,
                       timestamp=int(time.time()), body=b"{}")
    if not signed:
        del headers["Authorization"]
    return requests.post(f"{server.url}/", data=b"{}", headers=headers, timeout=10)


def admin(server, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{server.url}/__mockface/{path}", timeout=10, **kwargs)


def scripted(respond: dict) -> Callable:
    """A legacy request answered by a scenario rule that responds ``respond``."""
    def send(server):
        document = {"name": "framing", "rules": [{"respond": respond}]}
        assert admin(server, "POST", "scenarios", json={"document": document}).status_code \
            == 201
        try:
            return legacy(server)
        finally:
            admin(server, "DELETE", "scenarios", json={"name": "framing"})
    return send


#: (what, how it is asked, the HTTP status it gets): one of each kind of answer.
KINDS: list[tuple[str, Callable, int]] = [
    ("legacy success", legacy, 200),
    ("legacy signature error", lambda s: legacy(s, signed=False), 401),
    ("legacy wrong method", lambda s: requests.get(f"{s.url}/face/livegetfour", timeout=10),
     405),
    ("legacy unknown endpoint", lambda s: requests.post(f"{s.url}/face/nope", timeout=10),
     404),
    ("unknown path (Flask)", lambda s: requests.post(f"{s.url}/x.php", timeout=10), 404),
    ("path under an endpoint (Flask)",
     lambda s: requests.post(f"{s.url}/face/livegetfour/extra", timeout=10), 404),
    ("legacy host, API 3.0 path",
     lambda s: requests.post(f"{s.url}/", timeout=10,
                             headers={"Host": "recognition.image.myqcloud.com"}), 404),
    ("API 3.0 success", api3, 200),
    ("API 3.0 error", lambda s: api3(s, signed=False), 200),
    ("fault malformed_json", scripted({"fault": "malformed_json"}), 200),
    ("fault empty_body", scripted({"fault": "empty_body"}), 200),
    ("fault raw", scripted({"fault": {"http_status": 502, "body": "<h1>bad gateway</h1>",
                                      "content_type": "text/html"}}), 502),
    ("admin health", lambda s: admin(s, "GET", "health"), 200),
    ("admin journal", lambda s: admin(s, "GET", "requests"), 200),
    ("admin invalid body", lambda s: admin(s, "POST", "clock/advance", json={"seconds": "x"}),
     400),
    ("admin foreign Host", lambda s: admin(s, "GET", "requests", headers={"Host": "evil.x"}),
     403),
    ("admin not JSON", lambda s: admin(s, "POST", "reset", data="x",
                                       headers={"Content-Type": "text/plain"}), 415),
    ("admin unknown route", lambda s: admin(s, "GET", "nope"), 404),
    ("admin wrong method", lambda s: admin(s, "PUT", "requests"), 405),
    ("OpenAPI document", lambda s: admin(s, "GET", "openapi/legacy.json"), 200),
    ("dashboard", lambda s: admin(s, "GET", "ui"), 200),
    ("dashboard rows", lambda s: admin(s, "GET", "ui/rows?after=0"), 200),
    ("dashboard rows refused", lambda s: admin(s, "GET", "ui/rows?after=x"), 400),
    ("dashboard unknown image", lambda s: admin(s, "GET", f"ui/media/{'0' * 64}"), 404),
]


@pytest.mark.parametrize("send,status", [(send, status) for _, send, status in KINDS],
                         ids=[what for what, _, _ in KINDS])
def test_every_kind_of_answer_denies_framing(served, send, status):
    server, _ = served
    response = send(server)
    assert response.status_code == status
    assert_denies_framing(response)


def test_a_thumbnail_keeps_its_policy_and_adds_frame_ancestors(served):
    server, _ = served
    assert legacy(server, "livedetectpicture").json()["code"] == 0
    entry = admin(server, "GET", "requests").json()["requests"][-1]
    thumbnail = admin(server, "GET", f"ui/media/{entry['media']['image']['sha256']}")
    assert (thumbnail.status_code, thumbnail.headers["Content-Type"]) == (200, "image/jpeg")
    assert_denies_framing(thumbnail, "default-src 'none'; frame-ancestors 'none'")


@pytest.mark.parametrize("path,status", [("/face/livegetfour", 500), ("/", 500)])
def test_an_unexpected_error_of_the_emulated_apis_denies_framing(served, monkeypatch, path,
                                                                 status):
    """Answered by EmulatedFront's own net (legacy code 213)."""
    server, emulator = served

    def explode(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(emulator, "serve", explode)
    response = requests.post(f"{server.url}{path}", json={}, timeout=10)
    assert (response.status_code, response.json()) == (
        status, {"code": 213, "message": "internal error"})
    assert_denies_framing(response)


def test_an_unexpected_error_of_the_admin_api_denies_framing(served, monkeypatch):
    """Answered by Flask's error handler (``unexpected``)."""
    server, emulator = served

    def explode(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(emulator.journal, "query", explode)
    response = admin(server, "GET", "requests")
    assert (response.status_code, response.json()) == (
        500, {"code": 213, "message": "internal error"})
    assert_denies_framing(response)


def test_the_admin_token_refusal_denies_framing():
    client = create_app(make_settings(), admin_token="s3cret").test_client()
    response = client.get("/__mockface/ui")
    assert response.status_code == 401
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]
    assert response.headers.getlist("Content-Security-Policy") == [DENIED]


def raw_answer(server, request: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """Send ``request`` (which asks to close) and read until the server closes: the status
    line, the headers in order, the body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, [tuple(line.split(": ", 1)) for line in lines], body


#: What waitress adds to every answer, besides mockface's own headers.
SERVER_HEADERS = {"Connection", "Date", "Server"}


def test_a_legacy_answer_has_exactly_its_own_headers_and_the_framing_ones(served):
    server, _ = served
    body = b'{"appid": "1000001"}'
    status, headers, answer = raw_answer(server, (
        b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nAuthorization: " + signed_now().encode()
        + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body))
    assert status == "HTTP/1.1 200 OK"
    assert {name for name, _ in headers} - SERVER_HEADERS == {
        "Content-Type", "Content-Length", "X-Frame-Options", "Content-Security-Policy"}
    own = {name: value for name, value in headers if name not in SERVER_HEADERS}
    assert own == {"Content-Type": "application/json; charset=utf-8",
                   "Content-Length": str(len(answer)), "X-Frame-Options": "DENY",
                   "Content-Security-Policy": DENIED}
    assert answer.startswith(b'{"code":0,"message":"OK","data":{"validate_data":"')


def test_an_api3_answer_has_exactly_its_own_headers_and_the_framing_ones(served):
    server, _ = served
    signed = sign_tc3("AKIDmain", "main-key", service="faceid", host="x",
                      action="GetLiveCode", timestamp=int(time.time()), body=b"{}")
    head = "".join(f"{name}: {value}\r\n" for name, value in signed.items())
    status, headers, answer = raw_answer(server, (
        f"POST / HTTP/1.1\r\n{head}Connection: close\r\nContent-Length: 2\r\n\r\n{{}}"
    ).encode())
    assert status == "HTTP/1.1 200 OK"
    own = {name: value for name, value in headers if name not in SERVER_HEADERS}
    assert own == {"Content-Type": "application/json", "Content-Length": str(len(answer)),
                   "X-Frame-Options": "DENY", "Content-Security-Policy": DENIED}
    assert answer.startswith(b'{"Response":{"LiveCode":"')


def test_a_refused_proxy_request_denies_framing(served):
    server, _ = served
    status, headers, answer = raw_answer(
        server, b"GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n"
                b"Connection: close\r\n\r\n")
    assert status == "HTTP/1.1 403 Forbidden"
    assert ("X-Frame-Options", "DENY") in headers
    assert ("Content-Security-Policy", DENIED) in headers
    assert b"does not emulate" in answer or b"evil.example" in answer


def test_a_protocol_error_answer_denies_framing(served):
    server, _ = served
    status, headers, answer = raw_answer(
        server, b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    assert status == "HTTP/1.1 400 Bad Request"
    assert answer == b'{"code":3,"message":"invalid request"}'
    assert ("X-Frame-Options", "DENY") in headers
    assert ("Content-Security-Policy", DENIED) in headers


# -- deny_framing ------------------------------------------------------------------------

@pytest.mark.parametrize("given,expected", [
    ([("Content-Type", "text/html")],
     [("Content-Type", "text/html"), ("Content-Security-Policy", DENIED),
      ("X-Frame-Options", "DENY")]),
    ([("Content-Security-Policy", "default-src 'none'")],
     [("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
      ("X-Frame-Options", "DENY")]),
    ([("content-security-policy", "Frame-Ancestors https://evil.example; img-src 'self';")],
     [("content-security-policy", "img-src 'self'; frame-ancestors 'none'"),
      ("X-Frame-Options", "DENY")]),
    ([("X-Frame-Options", "SAMEORIGIN"), ("Content-Type", "text/plain"),
      ("x-frame-options", "ALLOW-FROM x")],
     [("Content-Type", "text/plain"), ("Content-Security-Policy", DENIED),
      ("X-Frame-Options", "DENY")]),
], ids=["no policy", "merged", "weaker directive replaced", "other options replaced"])
def test_deny_framing(given, expected):
    assert deny_framing(given) == expected
    assert deny_framing(expected) == expected  # idempotent: a framed answer stays as it is


# -- in a real browser -------------------------------------------------------------------

class _Pages(BaseHTTPRequestHandler):
    """The other origin: ``/`` frames the dashboard and a page of its own (the control)."""

    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path, b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def other_origin():
    """A second local server on another port: another origin than mockface's."""
    pages = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=pages.serve_forever, daemon=True)
    thread.start()
    yield pages
    pages.shutdown()
    pages.server_close()
    thread.join(10)


def test_a_page_of_another_origin_cannot_frame_the_dashboard(served, browser, other_origin):
    server, _ = served
    port = other_origin.server_address[1]
    _Pages.pages = {
        "/": (f'<!doctype html><script>var loaded = [];</script>'
              f'<iframe id="victim" onload="loaded.push(this.id)" width="1000" height="600" '
              f'src="{server.url}/__mockface/ui"></iframe>'
              f'<iframe id="control" onload="loaded.push(this.id)" '
              f'src="http://127.0.0.1:{port}/control"></iframe>').encode(),
        "/control": b'<!doctype html><p id="hello">framed</p>'}
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{port}/")  # localhost: the control is cross-origin too
        page.wait_for_function("loaded.length === 2", timeout=15_000)
        assert page.frame_locator("#control").locator("#hello").inner_text() == "framed"
        victim = page.frame_locator("#victim")
        assert victim.locator("#journal").count() == 0
        assert victim.locator("button[data-action=freeze]").count() == 0
        [framed] = [frame for frame in page.frames if frame.parent_frame is page.main_frame
                    and "control" not in frame.url]
        # blocked: Chromium shows its error page there (chrome-error://, or no URL at all
        # with older Playwright), never the dashboard
        assert framed.url == "" or framed.url.startswith("chrome-error://"), framed.url
    finally:
        context.close()
    assert admin(server, "GET", "clock").json()["frozen"] is False
