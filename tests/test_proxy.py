"""Proxy mode and TLS with real sockets and real TLS (no mocks): CONNECT tunnels and
absolute-form requests for the emulated hosts, refusals for every other host without any
outbound connection, ``--tls``, the local CA, and unmodified clients (requests, curl,
Tencent's legacy Python SDK, the API 3.0 SDK) that only have proxy settings."""
from __future__ import annotations

import json
import logging
import os
import select
import shutil
import socket
import ssl
import stat
import subprocess
import time

import pytest
import requests
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.config import (DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY,
                                  load_settings)
from mockface.products.tc3.signature import sign_tc3
from mockface.products.legacy.signature import sign
from mockface.web.app import create_app
from mockface.web.server import start_background
from mockface.web.tls import CAError, CertificateAuthority

LEGACY_HOST = "recognition.image.myqcloud.com"


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ca")


@pytest.fixture(scope="module")
def ca_cert(ca_dir):
    return str(CertificateAuthority(ca_dir).cert_path)


@pytest.fixture(scope="module")
def proxy(ca_dir, ca_cert):
    server = start_background(create_app(load_settings(env={})), ca_dir=ca_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_server(ca_dir, ca_cert):
    server = start_background(create_app(load_settings(env={})), tls=True, ca_dir=ca_dir)
    yield server
    server.stop()


def authorization() -> str:
    return sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, now=int(time.time()))


def legacy_call(base: str, **options) -> requests.Response:
    return requests.post(f"{base}/face/livegetfour", json={"appid": DEFAULT_APPID},
                         headers={"Authorization": authorization()}, timeout=10, **options)


def raw(server, data: bytes) -> bytes:
    """Send raw bytes to the server's port; read until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture
def bystander():
    """A listener nothing should ever connect to: proof that mockface does not forward."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    yield listener
    listener.close()


def assert_never_contacted(listener: socket.socket) -> None:
    readable, _, _ = select.select([listener], [], [], 0.3)
    assert readable == [], "mockface opened a connection to a host it does not emulate"


# -- proxy mode on the normal port ---------------------------------------------------------

@pytest.mark.parametrize("host", ["recognition.image.myqcloud.com",
                                  "service.image.myqcloud.com"])
def test_connect_tunnels_the_legacy_hosts(proxy, ca_cert, host):
    answer = legacy_call(f"https://{host}", proxies={"https": proxy.url}, verify=ca_cert)
    assert answer.status_code == 200 and answer.json()["code"] == 0


def test_connect_tunnels_api3_with_the_hosts_signature(proxy, ca_cert):
    body = b"{}"
    headers = sign_tc3(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, service="faceid",
                       host="faceid.tencentcloudapi.com", action="GetLiveCode",
                       timestamp=int(time.time()), body=body)
    answer = requests.post("https://faceid.tencentcloudapi.com/", data=body, headers=headers,
                           proxies={"https": proxy.url}, verify=ca_cert, timeout=10)
    assert len(answer.json()["Response"]["LiveCode"]) == 4


def test_absolute_form_requests_for_emulated_hosts_are_served(proxy):
    answer = legacy_call(f"http://{LEGACY_HOST}", proxies={"http": proxy.url})
    assert answer.json()["code"] == 0


def test_absolute_form_for_another_host_is_refused_and_never_forwarded(proxy, bystander):
    port = bystander.getsockname()[1]
    answer = requests.get(f"http://127.0.0.1:{port}/x", proxies={"http": proxy.url},
                          timeout=10)
    assert answer.status_code == 403
    assert answer.json()["error"].startswith(f"mockface does not proxy '127.0.0.1:{port}'")
    assert LEGACY_HOST in answer.json()["emulated_hosts"]
    assert_never_contacted(bystander)


def test_connect_to_another_host_is_refused_and_never_forwarded(proxy, bystander):
    port = bystander.getsockname()[1]
    answer = raw(proxy, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 403 Forbidden")
    assert json.loads(body)["error"].startswith(f"mockface does not proxy '127.0.0.1:{port}'")
    assert_never_contacted(bystander)


@pytest.mark.parametrize("line,status", [
    (f"CONNECT {LEGACY_HOST}:8443 HTTP/1.1", b"403"),
    ("CONNECT example.com:443 HTTP/1.1", b"403"),
    (f"CONNECT {LEGACY_HOST} HTTP/1.1", b"400"),
    ("CONNECT  HTTP/1.1", b"400"),
])
def test_bad_connect_targets_are_refused(proxy, line, status):
    answer = raw(proxy, line.encode() + b"\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 " + status)
    assert b"Content-Type: application/json" in answer


def test_an_endless_connect_head_is_refused(proxy):
    answer = raw(proxy, b"CONNECT " + LEGACY_HOST.encode() + b":443 HTTP/1.1\r\n" +
                 b"X: " + b"a" * 10_000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431")


def test_a_legacy_host_serves_only_the_face_paths(proxy):
    answer = requests.post(f"http://{LEGACY_HOST}/", data=b"{}", proxies={"http": proxy.url},
                           timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (404, 3)


def test_the_admin_api_refuses_emulated_hosts(proxy):
    answer = requests.get(f"http://{LEGACY_HOST}/__mockface/requests",
                          proxies={"http": proxy.url}, timeout=10)
    assert answer.status_code == 403


def test_the_tunnel_certificate_fails_for_other_names(proxy, ca_cert):
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(f"CONNECT {LEGACY_HOST}:443 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=ca_cert)
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(sock, server_hostname="www.example.com")


# -- --tls ------------------------------------------------------------------------------------

def test_tls_serves_both_apis_over_https(tls_server, ca_cert):
    assert tls_server.url.startswith("https://127.0.0.1:")
    assert legacy_call(tls_server.url, verify=ca_cert).json()["code"] == 0
    body = b"{}"
    headers = sign_tc3(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, service="faceid",
                       host=tls_server.url.split("//")[1], action="GetLiveCode",
                       timestamp=int(time.time()), body=body)
    answer = requests.post(f"{tls_server.url}/", data=body, headers=headers, verify=ca_cert,
                           timeout=10)
    assert "LiveCode" in answer.json()["Response"]


@pytest.mark.parametrize("name,valid", [("localhost", True), ("127.0.0.1", True),
                                        ("faceid.tencentcloudapi.com", True),
                                        ("iai.tencentcloudapi.com", True),
                                        ("evil.example.com", False)])
def test_tls_certificate_chain_validates_only_for_its_names(tls_server, ca_cert, name, valid):
    context = ssl.create_default_context(cafile=ca_cert)
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as sock:
        if valid:
            with context.wrap_socket(sock, server_hostname=name) as secure:
                assert secure.version() in ("TLSv1.2", "TLSv1.3")
        else:
            with pytest.raises(ssl.SSLCertVerificationError):
                context.wrap_socket(sock, server_hostname=name)


def test_plain_http_on_a_tls_port_gets_no_answer(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as sock:
        sock.sendall(b"GET /__mockface/health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = sock.recv(1000)
        except ConnectionResetError:
            answer = b""
    assert b"HTTP/1.1 200" not in answer


# -- curl, when installed ----------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_through_the_proxy_and_over_tls(proxy, tls_server, ca_cert):
    common = ["curl", "-sS", "--max-time", "10", "--cacert", ca_cert,
              "-H", f"Authorization: {authorization()}", "-H", "Content-Type: application/json",
              "-d", json.dumps({"appid": DEFAULT_APPID})]
    env = {"PATH": os.environ["PATH"]}
    tunnelled = subprocess.run(common + ["-x", proxy.url,
                                         f"https://{LEGACY_HOST}/face/livegetfour"],
                               capture_output=True, env=env, timeout=30)
    assert json.loads(tunnelled.stdout)["code"] == 0, tunnelled.stderr
    direct = subprocess.run(common + [f"{tls_server.url}/face/livegetfour"],
                            capture_output=True, env=env, timeout=30)
    assert json.loads(direct.stdout)["code"] == 0, direct.stderr
    refused = subprocess.run(["curl", "-sS", "--max-time", "10", "-x", proxy.url,
                              "https://www.example.com/"], capture_output=True, env=env,
                             timeout=30)
    assert refused.returncode != 0 and b"403" in refused.stderr


# -- unmodified official SDKs ------------------------------------------------------------------

def test_the_legacy_python_sdk_with_only_http_proxy(proxy, monkeypatch):
    from qcloud_image import Client

    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = Client(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, "bucket")
    answer = client.face_livegetfour()
    assert answer["code"] == 0 and len(answer["data"]["validate_data"]) == 4


def test_the_api3_sdk_keeps_its_endpoint_behind_https_proxy(proxy, ca_dir, monkeypatch,
                                                            tmp_path):
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.faceid.v20180301 import faceid_client, models

    bundle = CertificateAuthority(ca_dir).write_bundle(tmp_path / "bundle.pem")
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    profile = ClientProfile(httpProfile=HttpProfile(certification=str(bundle)))
    client = faceid_client.FaceidClient(
        credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", profile)
    assert client._get_endpoint() == "faceid.tencentcloudapi.com"  # the real host, kept
    answer = client.GetLiveCode(models.GetLiveCodeRequest())
    assert len(answer.LiveCode) == 4


# -- the CA ----------------------------------------------------------------------------------

def test_the_ca_is_made_once_with_a_private_key(tmp_path):
    first = CertificateAuthority(tmp_path / "ca")
    assert first.created
    assert stat.S_IMODE(os.stat(first.key_path).st_mode) == 0o600
    again = CertificateAuthority(tmp_path / "ca")
    assert not again.created and again.cert == first.cert


def test_half_a_ca_is_never_replaced_silently(tmp_path):
    authority = CertificateAuthority(tmp_path)
    authority.key_path.unlink()
    with pytest.raises(CAError, match="never replaces a CA silently"):
        CertificateAuthority(tmp_path)
    assert authority.cert_path.exists()


def test_a_ca_key_that_cannot_sign_is_refused_naming_its_kind(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import x25519

    authority = CertificateAuthority(tmp_path)
    authority.key_path.write_bytes(x25519.X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(CAError) as refused:
        CertificateAuthority(tmp_path)
    assert str(refused.value) == (f"the CA in {tmp_path} has a key of a kind that cannot sign "
                                  f"certificates (X25519PrivateKey)")


def test_the_bundle_holds_the_system_store_and_the_ca(tmp_path, ca_dir, ca_cert):
    bundle = CertificateAuthority(ca_dir).write_bundle(tmp_path / "bundle.pem").read_bytes()
    mine = open(ca_cert, "rb").read()
    assert bundle.endswith(mine) and bundle.count(b"BEGIN CERTIFICATE") > 10


def test_mockface_ca_prints_the_path_and_recipes(ca_dir, ca_cert):
    result = CliRunner().invoke(main, ["ca", "--ca-dir", str(ca_dir)])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == ca_cert
    for recipe in ("REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "--cacert", "keytool",
                   "curl.cainfo"):
        assert recipe in result.output


def test_mockface_env_makes_curl_reach_the_emulated_host(proxy, ca_dir, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    exports = CliRunner().invoke(main, ["env", "--url", proxy.url, "--ca-dir", str(ca_dir),
                                        "--bundle", str(tmp_path / "b.pem")]).output
    assert f"export HTTPS_PROXY={proxy.url}" in exports
    script = exports + (f"\ncurl -sS --max-time 10 -H 'Authorization: {authorization()}' "
                        "-H 'Content-Type: application/json' "
                        f"-d '{{\"appid\": \"{DEFAULT_APPID}\"}}' "
                        f"https://{LEGACY_HOST}/face/livegetfour")
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=30,
                          env={"PATH": os.environ["PATH"]})
    assert json.loads(done.stdout)["code"] == 0, done.stderr


def test_admin_api_serves_the_ca_certificate(proxy, ca_cert):
    answer = requests.get(f"{proxy.url}/__mockface/ca", timeout=10,
                          proxies={"http": None, "https": None}).json()
    assert answer == {"path": ca_cert, "pem": open(ca_cert).read()}


def test_tunnels_beyond_the_limit_are_refused_with_503(caplog):
    from mockface.web.proxy import Relay

    relay = Relay(lambda: ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
                  lambda: ("127.0.0.1", 9), limit=1)
    first_ours, first_theirs = socket.socketpair()
    second_ours, second_theirs = socket.socketpair()
    try:
        with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
            relay.tunnel(first_ours, LEGACY_HOST)      # holds the only slot (waits for TLS)
            assert first_theirs.recv(100).startswith(b"HTTP/1.1 200")
            relay.tunnel(second_ours, LEGACY_HOST)
            assert second_theirs.recv(1000).startswith(b"HTTP/1.1 503")
        assert [r.getMessage() for r in caplog.records] == [
            f'CONNECT refused target={LEGACY_HOST}:443 status=503 '
            f'reason="1 tunnels and --tls connections are open"']
    finally:
        relay.stop()
        for sock in (first_theirs, second_theirs):
            sock.close()


def test_a_ca_that_cannot_be_used_is_a_502_naming_the_problem(caplog):
    from mockface.web.proxy import Relay

    def broken():
        raise CAError("the CA key is missing")

    relay = Relay(broken, lambda: ("127.0.0.1", 9), limit=10)
    ours, theirs = socket.socketpair()
    try:
        with caplog.at_level(logging.WARNING, logger="mockface.proxy"):
            relay.tunnel(ours, LEGACY_HOST)
            answer = theirs.recv(1000)
        assert answer.startswith(b"HTTP/1.1 502")
        assert b"mockface cannot make a TLS certificate: the CA key is missing" in answer
        assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
            (logging.ERROR, f'CONNECT refused target={LEGACY_HOST}:443 status=502 '
                            f'reason="no TLS certificate: the CA key is missing"')]
    finally:
        relay.stop()
        theirs.close()


def test_serve_tls_end_to_end_with_the_ready_file(tmp_path):
    """`mockface serve --tls` as a real process: the banner and ready file name the CA,
    `mockface wait --ready-file` trusts it, and curl/requests work with it."""
    import sys

    ready = tmp_path / "ready.json"
    env = {**os.environ, "MOCKFACE_CA_DIR": str(tmp_path / "ca")}
    server = subprocess.Popen([sys.executable, "-m", "mockface", "serve", "--tls", "--port",
                               "0", "--quiet", "--ready-file", str(ready)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        waited = subprocess.run([sys.executable, "-m", "mockface", "wait", "--ready-file",
                                 str(ready), "--pid", str(server.pid), "--timeout", "30"],
                                capture_output=True, text=True, env=env, timeout=60)
        assert waited.returncode == 0, waited.stderr
        url = waited.stdout.strip()
        document = json.loads(ready.read_text())
        assert url.startswith("https://127.0.0.1:") and document["url"] == url
        assert document["ca_cert"] == str(tmp_path / "ca" / "mockface-ca.pem")
        banner = server.stdout.readline() + "".join(server.stdout.readline() for _ in range(12))
        assert f"TLS CA:     {document['ca_cert']}" in banner
        assert legacy_call(url, verify=document["ca_cert"]).json()["code"] == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
