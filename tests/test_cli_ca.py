"""``mockface ca --certifi``: the CA added to certifi's bundle (what Tencent's API 3.0 Python
SDK verifies with), once; real TLS checks the result.  certifi here is a copy in a temporary
directory: the test never changes this environment's own bundle."""
from __future__ import annotations

import stat
import sys

import certifi
import pytest
import requests
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.config import load_settings
from mockface.web.app import create_app
from mockface.web.server import start_background

REAL_BUNDLE = certifi.where()  # only read, never changed


@pytest.fixture
def certifi_copy(tmp_path, monkeypatch):
    """certifi.where() names a copy of the real bundle (mode 0644)."""
    copy = tmp_path / "cacert.pem"
    copy.write_bytes(open(REAL_BUNDLE, "rb").read())
    copy.chmod(0o644)
    monkeypatch.setattr(certifi, "where", lambda: str(copy))
    return copy


def test_certifi_trusts_the_ca_once(certifi_copy, tmp_path):
    ca_dir = tmp_path / "ca"
    original = certifi_copy.read_bytes()
    first = CliRunner().invoke(main, ["ca", "--ca-dir", str(ca_dir), "--certifi"])
    assert first.exit_code == 0, first.output
    # (click before 8.2 mixes stderr into stdout in CliRunner: read lines of the output)
    assert f"{ca_dir / 'mockface-ca.pem'}" in first.output.splitlines()
    assert f"added the mockface CA to certifi's bundle {certifi_copy} (upgrading certifi " \
           "removes it)\n" in first.output
    pem = (ca_dir / "mockface-ca.pem").read_bytes()
    changed = certifi_copy.read_bytes()
    assert changed.startswith(original.rstrip(b"\n")) and changed.endswith(pem)
    assert changed.count(b"BEGIN CERTIFICATE") == original.count(b"BEGIN CERTIFICATE") + 1
    assert stat.S_IMODE(certifi_copy.stat().st_mode) == 0o644

    again = CliRunner().invoke(main, ["ca", "--ca-dir", str(ca_dir), "--certifi"])
    assert again.exit_code == 0
    assert f"certifi's bundle already trusts the mockface CA: {certifi_copy}\n" in again.output
    assert certifi_copy.read_bytes() == changed


def test_the_extended_certifi_bundle_verifies_a_tls_server(certifi_copy, tmp_path):
    ca_dir = tmp_path / "ca"
    assert CliRunner().invoke(main, ["ca", "--ca-dir", str(ca_dir), "--certifi"]).exit_code == 0
    server = start_background(create_app(load_settings(env={})), tls=True, ca_dir=ca_dir)
    try:
        def session() -> requests.Session:
            # one session per check: requests before 2.32 reuses a pooled connection
            # whatever ``verify`` says
            fresh = requests.Session()
            fresh.trust_env = False
            return fresh

        health = session().get(f"{server.url}/__mockface/health", verify=str(certifi_copy),
                               timeout=10)
        assert health.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            session().get(f"{server.url}/__mockface/health", verify=REAL_BUNDLE, timeout=10)
    finally:
        server.stop()


def test_without_certifi_the_error_says_so(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "certifi", None)
    result = CliRunner().invoke(main, ["ca", "--ca-dir", str(tmp_path), "--certifi"])
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        2, f"Error: --certifi: certifi is not installed in this Python environment "
           f"({sys.executable})")


def test_an_unwritable_certifi_bundle_is_one_line(certifi_copy, tmp_path, monkeypatch):
    monkeypatch.setattr(certifi, "where", lambda: str(tmp_path / "gone" / "cacert.pem"))
    result = CliRunner().invoke(main, ["ca", "--ca-dir", str(tmp_path / "ca"), "--certifi"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: cannot add the CA to certifi's bundle {tmp_path / 'gone' / 'cacert.pem'}: "
        "No such file or directory")
