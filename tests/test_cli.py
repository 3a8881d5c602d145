"""The ``mockface`` command: serve (as a real subprocess), sign, codes, config errors."""
from __future__ import annotations

import json
import re
import time

import pytest
import requests
from click.testing import CliRunner

from mockface.cli import main
from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, load_settings
from mockface.core.state import OnceSignatureStore, RateLimiter
from mockface.products.legacy.signature import parse, verify

from .support import DOCUMENTED_CODES, ServeProcess, run_mockface


def test_serve_zero_config_banner_curl_example_works():
    server = ServeProcess()
    try:
        banner = server.banner
        assert f"appid:      {DEFAULT_APPID}" in banner
        assert f"secret id:  {DEFAULT_SECRET_ID}" in banner
        assert re.match(r"http://127\.0\.0\.1:\d+$", server.url) and not server.url.endswith(":0")
        authorization = re.search(r"Authorization: (\S+)'", banner).group(1)
        body = re.search(r"-d '(.*)'", banner).group(1)
        response = requests.post(f"{server.url}/face/livegetfour", data=body, timeout=10,
                                 headers={"Authorization": authorization,
                                          "Content-Type": "application/json"})
        assert response.status_code == 200 and response.json()["code"] == 0
    finally:
        log = server.stop()
    assert re.search(r"POST /face/livegetfour appid=123456 code=0 status=200 [\d.]+ms", log)


def test_serve_with_config_seed_and_loose(tmp_path):
    config = tmp_path / "apps.yaml"
    config.write_text("apps:\n  - appid: '42'\n    secrets: [{secret_id: AKIDx, secret_key: kx}]\n")
    server = ServeProcess("--config", str(config), "--loose", "--seed", "9", "--quiet")
    try:
        assert "appid:      42" in server.banner and "loose" in server.banner
        assert "seed 9" in server.banner
        from mockface.products.legacy.signature import sign
        header = sign("nobody", "AKIDnone", "wrong", now=int(time.time()))
        response = requests.post(f"{server.url}/face/livegetfour", json={"appid": "nobody"},
                                 headers={"Authorization": header}, timeout=10)
        assert response.json()["code"] == 0
    finally:
        log = server.stop()
    assert "POST /face/livegetfour" not in log  # --quiet


def test_serve_refuses_a_bad_config(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("apps:\n  - appid: 1\n    secrets: []\n")
    result = run_mockface("serve", "--config", str(config))
    assert (result.returncode, result.stderr) == (
        2, f"Error: invalid configuration: {config}:3: apps[0].secrets: must hold at least one "
           "secret_id/secret_key\n")


def test_serve_env_credentials():
    server = ServeProcess(env={"MOCKFACE_APPID": "555", "MOCKFACE_SECRET_ID": "AKIDenv",
                               "MOCKFACE_SECRET_KEY": "envkey"})
    try:
        assert "appid:      555" in server.banner and "secret key: ****vkey\n" in server.banner
        assert "envkey" not in server.banner  # a real key is never printed in full
    finally:
        server.stop()


def _verify_default(header: str, now: float, **kwargs):
    return verify(header, endpoint="livegetfour", body_appid=kwargs.pop("appid", DEFAULT_APPID),
                  body_bucket=None, keyring=load_settings(env={}).keyring, now=now,
                  once_store=OnceSignatureStore(), rate_limiter=RateLimiter(), **kwargs)


def test_sign_prints_a_signature_the_server_accepts(monkeypatch):
    for name in ("MOCKFACE_APPID", "MOCKFACE_SECRET_ID", "MOCKFACE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["sign", "--now", "1800000000", "--expires-in", "60"])
    assert result.exit_code == 0
    header = result.stdout.splitlines()[0]
    fields = parse(header).fields
    assert (fields["t"], fields["e"], fields["a"]) == ("1800000000", "1800000060", DEFAULT_APPID)
    assert _verify_default(header, 1_800_000_030).appid == DEFAULT_APPID


def test_sign_once_bucket_and_layout():
    result = CliRunner().invoke(main, ["sign", "--once", "--fileid", "f1", "--bucket", "b1",
                                       "--now", "1800000000", "--layout", "seed"], env={})
    fields = parse(result.stdout.splitlines()[0]).fields
    assert (fields["e"], fields["f"], fields["b"]) == ("0", "f1", "b1")
    java = CliRunner().invoke(main, ["sign", "--layout", "java", "--now", "1"], env={})
    assert list(parse(java.stdout.splitlines()[0]).fields) == ["a", "b", "k", "t", "e"]


def test_sign_explicit_credentials_and_usage_errors():
    result = CliRunner().invoke(main, ["sign", "--appid", "9", "--secret-id", "AKIDnine",
                                       "--secret-key", "nine", "--now", "5"], env={})
    assert parse(result.stdout.splitlines()[0]).fields["k"] == "AKIDnine"
    once = CliRunner().invoke(main, ["sign", "--once"], env={})
    assert once.exit_code == 2 and "--once needs --fileid" in once.output
    unknown = CliRunner().invoke(main, ["sign", "--appid", "9"], env={})
    assert unknown.exit_code == 2 and "give --secret-id and --secret-key" in unknown.output


def test_codes_lists_catalogue_and_filters_by_endpoint():
    everything = json.loads(CliRunner().invoke(main, ["codes", "--json"]).output)
    assert {entry["code"] for entry in everything} == DOCUMENTED_CODES
    assert len(everything) == len(DOCUMENTED_CODES)  # no code twice
    picture = json.loads(CliRunner().invoke(main, ["codes", "--json", "--endpoint",
                                                   "livedetectpicture"]).output)
    codes = {entry["code"] for entry in picture}
    assert -5807 in codes and -5016 not in codes
    entry = next(e for e in everything if e["code"] == 14)
    assert entry == {"code": 14, "message": "sign no pass", "http_status": 401,
                     "constant": "SIGN_NO_PASS", "meaning": "签名校验失败", "in_band": None,
                     "endpoints": ["idcardcompare", "livedetectpicture", "livegetfour",
                                   "idcardlivedetectfour", "livedetectfour"]}
    table = CliRunner().invoke(main, ["codes", "--endpoint", "livegetfour"]).output
    assert re.search(r"^\s+14\s+401\s+sign no pass\s+签名校验失败$", table, re.M)
    bad = CliRunner().invoke(main, ["codes", "--endpoint", "ocr"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["sign", "--help"],
                                  ["codes", "--help"], ["--version"]])
def test_python_dash_m_and_help(args):
    result = run_mockface(*args)
    assert result.returncode == 0 and result.stdout.strip()
