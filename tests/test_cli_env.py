"""``mockface env``: the bundle comes from the server it names (``GET /__mockface/ca``), never
from this side's CA directory; real TLS through the proxy checks it.  Every way the server
can fail to give its CA is a one-line error naming the URL (exit 2)."""
from __future__ import annotations

import hashlib
import json
import shlex
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from click.testing import CliRunner

from mockface.cli import main
from mockface.cli.env import _server_ca
from mockface.client import ServerCAError, ServerUnreachable
from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, load_settings
from mockface.products.legacy.signature import sign
from mockface.web.app import create_app
from mockface.web.server import start_background

LEGACY_HOST = "recognition.image.myqcloud.com"
TOKEN = "env-test-token-5f1c"


@pytest.fixture(scope="module")
def server_ca_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("server-ca")


@pytest.fixture(scope="module")
def server(server_ca_dir):
    """A plain-HTTP server (its port is the proxy) whose CA lives in its own directory."""
    running = start_background(create_app(load_settings(env={})), ca_dir=server_ca_dir)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def token_server(server_ca_dir):
    running = start_background(create_app(load_settings(env={}), admin_token=TOKEN),
                               ca_dir=server_ca_dir)
    yield running
    running.stop()


@pytest.fixture
def elsewhere(tmp_path):
    """This side's CA directory: another one than the server's (empty)."""
    directory = tmp_path / "client-ca"
    directory.mkdir()
    return directory


def run_env(*args: str, ca_dir, **env: str):
    """``mockface env ARGS`` with MOCKFACE_CA_DIR=ca_dir (and no admin token unless given)."""
    variables = {"MOCKFACE_CA_DIR": str(ca_dir), "MOCKFACE_ADMIN_TOKEN": None, **env}
    return CliRunner().invoke(main, ["env", *args], env=variables)


def exports(output: str) -> dict[str, str]:
    pairs = (shlex.split(line.removeprefix("export "))[0].split("=", 1)
             for line in output.splitlines())
    return dict(pairs)


def through_the_proxy(proxy_url: str, bundle: str) -> dict:
    """A legacy call to the real host name, tunnelled through ``proxy_url`` and verified
    against ``bundle`` alone."""
    session = requests.Session()
    session.trust_env = False  # only the proxy and the bundle given here
    authorization = sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                         now=int(time.time()))
    answer = session.post(f"https://{LEGACY_HOST}/face/livegetfour",
                          json={"appid": DEFAULT_APPID}, headers={"Authorization": authorization},
                          proxies={"https": proxy_url}, verify=bundle, timeout=15)
    return answer.json()


def test_the_bundle_trusts_the_servers_ca_not_this_sides(server, server_ca_dir, elsewhere,
                                                         tmp_path):
    result = run_env("--url", server.url, "--bundle", str(tmp_path / "b.pem"), ca_dir=elsewhere)
    assert result.exit_code == 0, result.output
    environment = exports(result.output)
    assert environment["HTTPS_PROXY"] == server.url
    assert environment["REQUESTS_CA_BUNDLE"] == str(tmp_path / "b.pem")
    server_pem = (server_ca_dir / "mockface-ca.pem").read_bytes()
    assert (tmp_path / "b-ca-only.pem").read_bytes() == server_pem
    assert environment["NODE_EXTRA_CA_CERTS"] == str(tmp_path / "b-ca-only.pem")
    assert list(elsewhere.iterdir()) == []  # no CA was made on this side
    assert through_the_proxy(server.url, environment["REQUESTS_CA_BUNDLE"])["code"] == 0


def test_this_sides_own_ca_would_not_have_verified(server, elsewhere, tmp_path):
    """The control for the test above: a bundle of another CA fails the same handshake."""
    from mockface.web.tls import CertificateAuthority

    other = CertificateAuthority(elsewhere).write_bundle(tmp_path / "other.pem")
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        through_the_proxy(server.url, str(other))


def test_the_ca_only_file_verifies_a_raw_tls_handshake(server, elsewhere, tmp_path):
    result = run_env("--url", server.url, "--bundle", str(tmp_path / "b.pem"), ca_dir=elsewhere)
    context = ssl.create_default_context(cafile=exports(result.output)["NODE_EXTRA_CA_CERTS"])
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"CONNECT {LEGACY_HOST}:443 HTTP/1.1\r\nHost: {LEGACY_HOST}\r\n\r\n".encode())
        assert sock.recv(1000).startswith(b"HTTP/1.1 200")
        with context.wrap_socket(sock, server_hostname=LEGACY_HOST) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_the_default_bundle_is_one_file_per_ca(server, server_ca_dir, elsewhere):
    result = run_env("--url", server.url, ca_dir=elsewhere)
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256((server_ca_dir / "mockface-ca.pem").read_bytes()).hexdigest()[:12]
    bundle = elsewhere / f"mockface-bundle-{digest}.pem"
    assert exports(result.output)["REQUESTS_CA_BUNDLE"] == str(bundle)
    assert sorted(p.name for p in elsewhere.iterdir()) == [
        f"mockface-bundle-{digest}-ca-only.pem", f"mockface-bundle-{digest}.pem"]


def test_a_token_server_takes_the_token_from_the_ready_file(token_server, elsewhere, tmp_path):
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"url": token_server.url, "port": token_server.port,
                                 "admin_token": TOKEN, "ca_cert": None}))
    result = run_env("--ready-file", str(ready), "--bundle", str(tmp_path / "b.pem"),
                     ca_dir=elsewhere)
    assert result.exit_code == 0, result.output
    assert exports(result.output)["HTTPS_PROXY"] == token_server.url
    assert through_the_proxy(token_server.url, str(tmp_path / "b.pem"))["code"] == 0


def test_a_token_server_takes_the_token_from_the_environment(token_server, elsewhere, tmp_path):
    result = run_env("--url", token_server.url, "--bundle", str(tmp_path / "b.pem"),
                     ca_dir=elsewhere, MOCKFACE_ADMIN_TOKEN=TOKEN)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("token,refusal", [
    (None, "requires the admin token"),
    ("wrong", "refused the admin token it was given"),
], ids=["none", "wrong"])
def test_without_the_right_token_the_error_says_where_to_get_it(token_server, elsewhere,
                                                                 tmp_path, token, refusal):
    extra = {} if token is None else {"MOCKFACE_ADMIN_TOKEN": token}
    result = run_env("--url", token_server.url, "--bundle", str(tmp_path / "b.pem"),
                     ca_dir=elsewhere, **extra)
    url = token_server.url
    assert (result.exit_code, result.output) == (2, (
        f"Error: mockface at {url} {refusal} (GET {url}/__mockface/ca -> 401): set "
        "$MOCKFACE_ADMIN_TOKEN to the token its banner shows, or read it from the server's "
        "--ready-file\n"))
    assert not (tmp_path / "b.pem").exists()


def test_nothing_listening_is_named_after_the_timeout(elsewhere):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = placeholder.getsockname()[1]
        result = run_env("--url", f"127.0.0.1:{port}", "--timeout", "0", ca_dir=elsewhere)
    url = f"http://127.0.0.1:{port}"
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot reach mockface at {url} to ask for its CA "
                                    f"(GET {url}/__mockface/ca): [Errno 111] Connection refused")


def test_a_missing_ready_file_is_named(elsewhere, tmp_path):
    result = run_env("--ready-file", str(tmp_path / "nope.json"), "--timeout", "0",
                     ca_dir=elsewhere)
    assert (result.exit_code, result.output) == (
        1, f"Error: no server wrote {tmp_path / 'nope.json'} in time\n")


def test_a_ready_file_that_is_not_one_is_named(elsewhere, tmp_path):
    bogus = tmp_path / "ready.json"
    bogus.write_text('{"url": 5, "admin_token": "hunter2"}')
    result = run_env("--ready-file", str(bogus), "--timeout", "0", ca_dir=elsewhere)
    assert (result.exit_code, result.output) == (
        1, f"Error: {bogus} is not the ready file of a mockface server\n")


def test_a_server_whose_ca_is_broken_says_so(elsewhere, tmp_path):
    half = tmp_path / "half-ca"
    half.mkdir()
    (half / "mockface-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    broken = start_background(create_app(load_settings(env={})), ca_dir=half)
    try:
        result = run_env("--url", broken.url, ca_dir=elsewhere)
    finally:
        broken.stop()
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: mockface at {broken.url} has no usable CA (GET "
                                    f"{broken.url}/__mockface/ca -> 500: '{half}/mockface-ca.pem "
                                    f"exists but {half}/mockface-ca-key.pem does not;")


def stranger(status: int, body: bytes) -> ThreadingHTTPServer:
    """A server that is not mockface: every GET answers ``status`` and ``body``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


NO_PEM = "is not a mockface server: GET /__mockface/ca answered without a PEM certificate"


@pytest.mark.parametrize("status,body,problem", [
    (404, b"<html>hello</html>", "is not a mockface server (GET {url}/__mockface/ca -> 404)"),
    (200, b"<html>hello</html>", NO_PEM),
    (200, b'{"pem": "hello"}', NO_PEM),
    (200, b'["-----BEGIN CERTIFICATE-----"]', NO_PEM),
], ids=["404", "html", "json-without-pem", "json-list"])
def test_a_server_that_is_not_mockface_is_named(elsewhere, status, body, problem):
    other = stranger(status, body)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{other.server_port}"
    try:
        result = run_env("--url", url, ca_dir=elsewhere)
    finally:
        other.shutdown()
        other.server_close()
        thread.join(10)
    assert (result.exit_code, result.output) == (2, f"Error: {url} " + problem.format(url=url)
                                                 + "\n")


class _Starting:
    """An admin client whose server answers on the third try."""

    def __init__(self) -> None:
        self.tries = 0

    def ca_pem(self) -> bytes:
        self.tries += 1
        if self.tries < 3:
            raise ServerUnreachable("not yet")
        return b"PEM"


def test_a_starting_server_is_asked_again_until_the_deadline():
    starting = _Starting()
    assert _server_ca(starting, time.monotonic() + 30) == b"PEM"
    assert starting.tries == 3


def test_a_refusal_is_not_asked_again():
    from mockface.cli.common import CliError

    class Refusing:
        tries = 0

        def ca_pem(self) -> bytes:
            Refusing.tries += 1
            raise ServerCAError("refused")

    with pytest.raises(CliError, match="^refused$"):
        _server_ca(Refusing(), time.monotonic() + 30)
    assert Refusing.tries == 1


def test_a_served_ready_file_gives_url_token_and_ca_across_ca_directories(tmp_path):
    """The whole recipe with real processes: a server on one CA directory with a token, and
    ``mockface env --ready-file`` run with MOCKFACE_CA_DIR pointing elsewhere."""
    import os
    import subprocess
    import sys

    ready, theirs, mine = tmp_path / "ready.json", tmp_path / "theirs", tmp_path / "mine"
    server = subprocess.Popen(
        [sys.executable, "-m", "mockface", "serve", "--port", "0", "--quiet", "--ca-dir",
         str(theirs), "--admin-token", TOKEN, "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mockface", "env", "--ready-file", str(ready),
             "--timeout", "30"], capture_output=True, text=True, timeout=60,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("MOCKFACE_")},
                 "MOCKFACE_CA_DIR": str(mine)})
        assert done.returncode == 0, done.stderr
        environment = exports(done.stdout)
        url = json.loads(ready.read_text())["url"]
        assert environment["HTTPS_PROXY"] == url
        assert environment["REQUESTS_CA_BUNDLE"].startswith(f"{mine}/mockface-bundle-")
        assert not (mine / "mockface-ca.pem").exists()
        assert through_the_proxy(url, environment["REQUESTS_CA_BUNDLE"])["code"] == 0
    finally:
        server.terminate()
        server.communicate(timeout=15)


def test_a_refusal_shows_the_servers_words_bounded_and_escaped():
    from mockface.client import AdminCallError, AdminClient

    hostile = {"error": "\x1b[2J" + "x" * 5000}
    message = AdminClient("http://127.0.0.1:9")._ca_refusal(
        AdminCallError("GET", "ca", 403, hostile))
    assert message.startswith("mockface at http://127.0.0.1:9 refused GET "
                              "http://127.0.0.1:9/__mockface/ca (403: '\\x1b[2Jxxx")
    assert "\x1b" not in message and message.endswith("...)") and len(message) < 600


@pytest.fixture(scope="module")
def tls_server(server_ca_dir):
    running = start_background(create_app(load_settings(env={})), tls=True, ca_dir=server_ca_dir)
    yield running
    running.stop()


def test_a_tls_server_is_verified_with_the_ca_its_ready_file_names(tls_server, server_ca_dir,
                                                                   elsewhere, tmp_path):
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"url": tls_server.url, "admin_token": None,
                                 "ca_cert": str(server_ca_dir / "mockface-ca.pem")}))
    result = run_env("--ready-file", str(ready), "--bundle", str(tmp_path / "b.pem"),
                     ca_dir=elsewhere)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b-ca-only.pem").read_bytes() == \
        (server_ca_dir / "mockface-ca.pem").read_bytes()


def test_a_tls_server_on_this_sides_ca_directory_is_verified_with_it(tls_server,
                                                                       server_ca_dir, tmp_path):
    result = run_env("--url", tls_server.url, "--bundle", str(tmp_path / "b.pem"),
                     ca_dir=server_ca_dir)
    assert result.exit_code == 0, result.output


def test_a_tls_server_of_another_ca_says_how_to_trust_it(tls_server, elsewhere, tmp_path):
    started = time.monotonic()
    result = run_env("--url", tls_server.url, "--timeout", "60", ca_dir=elsewhere)
    url = tls_server.url
    assert time.monotonic() - started < 30  # at once: waiting cannot make it trusted
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot reach mockface at {url} to ask for its CA "
                                    f"(GET {url}/__mockface/ca): [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert result.output.endswith("; trust the CA of that --tls server (its --ready-file names "
                                  "it)\n")


def test_a_ready_file_naming_a_ca_path_not_on_this_side_is_a_tls_error(tls_server, elsewhere,
                                                                        tmp_path):
    ready = tmp_path / "ready.json"
    ready.write_text(json.dumps({"url": tls_server.url, "admin_token": None,
                                 "ca_cert": "/in/another/container/mockface-ca.pem"}))
    result = run_env("--ready-file", str(ready), ca_dir=elsewhere)
    assert result.exit_code == 2
    assert "[SSL: CERTIFICATE_VERIFY_FAILED]" in result.output
    assert result.output.endswith("; trust the CA of that --tls server (its --ready-file names "
                                  "it)\n")
