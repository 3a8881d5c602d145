"""Tencent's Node SDKs, as the npm registry gives them (pinned in tests/node/package.json),
unmodified, on their default endpoints, through mockface's proxy mode over HTTP and HTTPS.

Each test starts a small driver (tests/node/api3.js for ``tencentcloud-sdk-nodejs``,
tests/node/legacy.js for ``image-node-sdk``) as a subprocess whose environment is only
``PATH`` plus what ``mockface env`` exports for the server (``proxy_environment``): the SDK
keeps its real host and reaches mockface only because of that environment.  The proxy refuses
every host it does not emulate, so nothing leaves the machine.

Without ``node`` or tests/node/node_modules (``cd tests/node && npm ci``) these tests skip;
with MOCKFACE_REQUIRE_NODE=1 (set by ``.ci/run``) they fail instead, so CI never passes
without running them.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, load_settings
from mockface.emulator import Emulator
from mockface.web.app import create_app
from mockface.web.proxy import proxy_environment
from mockface.web.server import start_background
from mockface.web.tls import CertificateAuthority
from mockface.products.legacy.stores import LIP_CODES

from .support import FIXTURES, ID_NAME, ID_NUMBER, REGISTERED_NAME, REGISTERED_NUMBER, media

NODE_DIR = Path(__file__).resolve().parent / "node"
PACKAGES = ("tencentcloud-sdk-nodejs", "image-node-sdk")
LEGACY_HOST = "recognition.image.myqcloud.com"  # image-node-sdk's host for /face/*
API3_CREDENTIAL = {"secretId": DEFAULT_SECRET_ID, "secretKey": DEFAULT_SECRET_KEY}
LEGACY_CREDENTIAL = {"AppId": DEFAULT_APPID, "SecretId": DEFAULT_SECRET_ID,
                     "SecretKey": DEFAULT_SECRET_KEY}
UNTRUSTED = "unable to verify the first certificate"  # Node's words for an unknown issuer


def require_node(node_dir: Path = NODE_DIR) -> str:
    """The path of ``node`` when it and the pinned SDKs in ``node_dir`` are installed; else
    skips the test, or fails it when MOCKFACE_REQUIRE_NODE=1."""
    node = shutil.which("node")
    if node is None:
        problem = "node is not installed (apt install nodejs npm)"
    else:
        missing = [name for name in PACKAGES if not (node_dir / "node_modules" / name).is_dir()]
        problem = f"{', '.join(missing)} not installed (cd tests/node && npm ci)" if missing \
            else ""
    if problem:
        if os.environ.get("MOCKFACE_REQUIRE_NODE") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    return node


@pytest.fixture(scope="module")
def node() -> str:
    return require_node()


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ca")


@pytest.fixture(scope="module")
def server(ca_dir):
    """mockface on the built-in credentials, with one registered identity (its number with
    another name is a mismatch), serving the proxy and tunnels with the CA in ``ca_dir``."""
    settings = load_settings(env={}).with_overrides(
        identities={REGISTERED_NUMBER: REGISTERED_NAME})
    emulator = Emulator(settings)
    background = start_background(create_app(emulator=emulator), ca_dir=ca_dir)
    background.emulator = emulator
    yield background
    background.stop()


@pytest.fixture(autouse=True)
def fresh(server):
    """Each test reads a journal and lip codes of its own."""
    server.emulator.reset()


@pytest.fixture(scope="module")
def proxy_env(server, ca_dir, tmp_path_factory) -> dict[str, str]:
    """``PATH`` and what ``mockface env`` exports for ``server``, nothing else."""
    authority = CertificateAuthority(ca_dir)
    bundle = authority.write_bundle(tmp_path_factory.mktemp("bundle") / "bundle.pem")
    return {"PATH": os.environ["PATH"],
            **proxy_environment(server.url, str(bundle), str(authority.cert_path))}


def drive(node: str, script: str, plan: dict, env: dict[str, str]) -> dict:
    """Run tests/node/``script`` with ``plan`` on stdin; its one JSON line of results."""
    done = subprocess.run([node, str(NODE_DIR / script)], input=json.dumps(plan),
                          capture_output=True, text=True, env=env, cwd=NODE_DIR, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def api3(node: str, env: dict[str, str], *calls: tuple[str, dict], product: str = "faceid",
         version: str = "v20180301", protocol: str = "https://",
         sign_method: str = "TC3-HMAC-SHA256", credential: dict | None = None) -> dict:
    """``calls`` (action, params) through one typed client of tencentcloud-sdk-nodejs."""
    plan = {"product": product, "version": version, "protocol": protocol,
            "signMethod": sign_method, "credential": credential or API3_CREDENTIAL,
            "region": "ap-guangzhou",
            "calls": [{"action": action, "params": params} for action, params in calls]}
    return drive(node, "api3.js", plan, env)


def legacy(node: str, env: dict[str, str], *calls: dict, protocol: str = "https:") -> list:
    """``calls`` through one image-node-sdk ImageClient; their results."""
    plan = {"protocol": protocol, "host": LEGACY_HOST, "credential": LEGACY_CREDENTIAL,
            "calls": list(calls)}
    return drive(node, "legacy.js", plan, env)["results"]


def journal(server) -> list[tuple[str, str | None]]:
    """Endpoint and appid of each request the server has answered since the test began."""
    return [(entry.endpoint, entry.appid) for entry in server.emulator.journal.query()]


def untrusting(env: dict[str, str]) -> dict[str, str]:
    """``env`` without the CA for Node."""
    return {key: value for key, value in env.items() if key != "NODE_EXTRA_CA_CERTS"}


def assert_request_id(value: str) -> None:
    assert uuid.UUID(value).version == 4


# -- API 3.0: tencentcloud-sdk-nodejs --------------------------------------------------------

def test_api3_sdk_keeps_its_endpoint_and_is_served_over_https(node, server, proxy_env):
    answer = api3(node, proxy_env, ("GetLiveCode", {}),
                  ("IdCardVerification", {"IdCard": ID_NUMBER, "Name": ID_NAME}),
                  ("IdCardVerification", {"IdCard": REGISTERED_NUMBER, "Name": ID_NAME}))
    assert answer["endpoint"] == "faceid.tencentcloudapi.com"
    code, verified, mismatch = (result["response"] for result in answer["results"])
    assert len(code["LiveCode"]) == 4 and code["LiveCode"].isdigit()
    assert server.emulator.state.store(LIP_CODES).issued(DEFAULT_APPID) == [code["LiveCode"]]
    assert (verified["Result"], verified["Description"]) == ("0", "姓名和身份证号一致")
    assert (mismatch["Result"], mismatch["Description"]) == ("-1", "姓名和身份证号不一致")
    for response in (code, verified, mismatch):
        assert_request_id(response["RequestId"])
    assert journal(server) == [("faceid:GetLiveCode", DEFAULT_APPID),
                               ("faceid:IdCardVerification", DEFAULT_APPID),
                               ("faceid:IdCardVerification", DEFAULT_APPID)]


@pytest.mark.parametrize("sign_method", ["HmacSHA256", "HmacSHA1"])
def test_api3_sdk_v1_signatures_through_the_tunnel(node, server, proxy_env, sign_method):
    answer = api3(node, proxy_env, ("GetLiveCode", {}), sign_method=sign_method)
    [result] = answer["results"]
    assert server.emulator.state.store(LIP_CODES).issued(DEFAULT_APPID) == [result["response"]["LiveCode"]]
    [entry] = server.emulator.journal.query()
    assert (entry.signature["method"], entry.signature["status"]) == (sign_method, "passed")


def test_api3_sdk_lip_liveness_with_the_code_it_was_given(node, server, proxy_env):
    [issued] = api3(node, proxy_env, ("GetLiveCode", {}))["results"]
    code = issued["response"]["LiveCode"]
    video = base64.b64encode(media("video.mp4")).decode()
    [result] = api3(node, proxy_env, ("LivenessRecognition", {
        "IdCard": ID_NUMBER, "Name": ID_NAME, "LivenessType": "LIP", "ValidateData": code,
        "VideoBase64": video}))["results"]
    answer = result["response"]
    assert (answer["Result"], answer["Description"]) == ("Success", "成功")
    assert 80 <= answer["Sim"] < 100
    assert base64.b64decode(answer["BestFrameBase64"])[:3] == b"\xff\xd8\xff"


def test_api3_sdk_iai_photo_liveness_on_its_own_host(node, server, proxy_env):
    """The SDK's iai clients have only DetectLiveFaceAccurate (DetectLiveFace is gone)."""
    image = base64.b64encode(media("face.jpg")).decode()
    answer = api3(node, proxy_env, ("DetectLiveFaceAccurate", {"Image": image}),
                  product="iai", version="v20200303")
    assert answer["endpoint"] == "iai.tencentcloudapi.com"
    [result] = answer["results"]
    assert result["response"]["FaceModelVersion"] == "3.0"
    assert 87 <= result["response"]["Score"] < 100 and "IsLiveness" not in result["response"]
    assert journal(server) == [("iai:DetectLiveFaceAccurate", DEFAULT_APPID)]


def test_api3_errors_reach_the_sdk_as_its_exception(node, server, proxy_env):
    wrong_key = {**API3_CREDENTIAL, "secretKey": "not-the-key"}
    [result] = api3(node, proxy_env, ("GetLiveCode", {}), credential=wrong_key)["results"]
    error = result["error"]
    assert (error["code"], error["message"], error["httpCode"]) == (
        "AuthFailure.SignatureFailure", "签名错误。", None)
    assert_request_id(error["requestId"])


def test_api3_sdk_checks_the_certificate_and_needs_the_ca(node, server, proxy_env):
    [result] = api3(node, untrusting(proxy_env), ("GetLiveCode", {}))["results"]
    assert result["error"]["message"] == \
        f"request to https://faceid.tencentcloudapi.com/ failed, reason: {UNTRUSTED}"
    assert journal(server) == []


def test_api3_sdk_over_plain_http_tunnels_port_80(node, server, proxy_env):
    """Its proxy agent (https-proxy-agent) tunnels plain HTTP too: ``CONNECT host:80``.
    Without the CA, so that only plain HTTP can succeed."""
    answer = api3(node, untrusting(proxy_env), ("GetLiveCode", {}), protocol="http://")
    [result] = answer["results"]
    assert "error" not in result, result  # httpCode 403: the proxy refused CONNECT :80
    assert server.emulator.state.store(LIP_CODES).issued(DEFAULT_APPID) == [result["response"]["LiveCode"]]
    assert journal(server) == [("faceid:GetLiveCode", DEFAULT_APPID)]


# -- legacy: image-node-sdk -------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["https:", "http:"])
def test_legacy_sdk_lip_code_and_id_comparison(node, server, proxy_env, protocol):
    """Certificates checked; over plain HTTP without the CA, so that only plain HTTP (an
    absolute-form request to the proxy) can succeed."""
    env = proxy_env if protocol == "https:" else untrusting(proxy_env)
    four, compared, mismatch = legacy(
        node, env, {"method": "faceLiveGetFour", "rejectUnauthorized": True},
        {"method": "faceIdCardCompare", "rejectUnauthorized": True,
         "data": {"idcard_number": ID_NUMBER, "idcard_name": ID_NAME, "url": "http://x/y.jpg"}},
        {"method": "faceIdCardCompare", "rejectUnauthorized": True,
         "data": {"idcard_number": REGISTERED_NUMBER, "idcard_name": ID_NAME,
                  "url": "http://x/y.jpg"}},
        protocol=protocol)
    assert (four["status"], four["contentType"]) == (200, "application/json; charset=utf-8")
    assert four["body"]["code"] == 0 and four["body"]["message"] == "OK"
    assert server.emulator.state.store(LIP_CODES).issued(DEFAULT_APPID) == \
        [four["body"]["data"]["validate_data"]]
    assert compared["status"] == 200 and compared["body"]["code"] == 0
    similarity = compared["body"]["data"]["similarity"]
    assert isinstance(similarity, float) and 80 <= similarity < 100
    assert round(similarity, 2) == similarity and compared["body"]["data"]["session_id"] == ""
    assert mismatch["status"] == 400 and mismatch["body"]["code"] == -5803
    assert "data" not in mismatch["body"]
    assert journal(server) == [("livegetfour", DEFAULT_APPID),
                               ("idcardcompare", DEFAULT_APPID),
                               ("idcardcompare", DEFAULT_APPID)]


def test_legacy_sdk_lip_video_multipart_through_the_tunnel(node, server, proxy_env):
    [four] = legacy(node, proxy_env, {"method": "faceLiveGetFour", "rejectUnauthorized": True})
    code = four["body"]["data"]["validate_data"]
    [live] = legacy(node, proxy_env, {
        "method": "faceIdCardLiveDetectFour", "rejectUnauthorized": True,
        "formData": {"validate_data": code, "idcard_number": ID_NUMBER, "idcard_name": ID_NAME},
        "files": {"video": str(FIXTURES / "video.mp4")}})
    data = live["body"]["data"]
    assert (live["status"], live["body"]["code"]) == (200, 0)
    assert (data["live_status"], data["live_msg"], data["compare_status"],
            data["compare_msg"]) == (0, "OK", 0, "OK")
    assert isinstance(data["sim"], int) and 80 <= data["sim"] < 100
    assert base64.b64decode(data["video_photo"])[:3] == b"\xff\xd8\xff"
    [entry] = server.emulator.journal.query(endpoint="idcardlivedetectfour")
    assert entry.fields["validate_data"] == code
    assert entry.media["video"]["size"] == len(media("video.mp4"))


def test_legacy_sdk_skips_certificate_checks_unless_asked(node, server, proxy_env):
    unchecked, checked = legacy(node, untrusting(proxy_env), {"method": "faceLiveGetFour"},
                                {"method": "faceLiveGetFour", "rejectUnauthorized": True})
    assert unchecked["body"]["code"] == 0
    assert checked["error"] == {"code": "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "message": UNTRUSTED}
    assert journal(server) == [("livegetfour", DEFAULT_APPID)]


# -- the recipes of docs/clients.md ----------------------------------------------------------

def node_recipes() -> list[str]:
    """The ```js blocks of docs/clients.md, in order: the legacy SDK's, then API 3.0's."""
    text = (NODE_DIR.parent.parent / "docs" / "clients.md").read_text(encoding="utf-8")
    return re.findall(r"^```js\n(.*?)^```$", text, flags=re.S | re.M)


def test_the_node_recipes_of_docs_clients_md_run(node, server, proxy_env, tmp_path):
    """Each block, verbatim, with the environment of ``eval "$(mockface env)"``, prints the
    code the server issued (legacy ``validate_data``, then API 3.0 ``LiveCode``)."""
    recipes = node_recipes()
    assert len(recipes) == 2
    env = {**proxy_env, "NODE_PATH": str(NODE_DIR / "node_modules")}
    printed = []
    for index, recipe in enumerate(recipes):
        script = tmp_path / f"recipe{index}.js"
        script.write_text(recipe, encoding="utf-8")
        done = subprocess.run([node, str(script)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stderr
        printed.append(done.stdout.strip())
    assert all(re.fullmatch(r"\d{4}", code) for code in printed), printed
    assert server.emulator.state.store(LIP_CODES).issued(DEFAULT_APPID) == printed
    assert journal(server) == [("livegetfour", DEFAULT_APPID),
                               ("faceid:GetLiveCode", DEFAULT_APPID)]


# -- skipping and requiring -------------------------------------------------------------------

def outcome_of(node_dir: Path) -> tuple[type, str]:
    """The outcome ``require_node`` raises (skip or fail) and its message."""
    with pytest.raises(BaseException) as caught:  # pytest's outcomes are BaseExceptions
        require_node(node_dir)
    return caught.type, str(caught.value)


def test_missing_sdks_skip_the_tests_locally(tmp_path, monkeypatch):
    stand_in = tmp_path / "bin" / "node"  # a node on PATH, whatever this machine has
    stand_in.parent.mkdir()
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    monkeypatch.setenv("PATH", str(stand_in.parent))
    monkeypatch.delenv("MOCKFACE_REQUIRE_NODE", raising=False)
    assert outcome_of(tmp_path) == (pytest.skip.Exception, "tencentcloud-sdk-nodejs, "
                                    "image-node-sdk not installed (cd tests/node && npm ci)")


def test_missing_node_fails_the_tests_when_required(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCKFACE_REQUIRE_NODE", "1")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert outcome_of(tmp_path) == (pytest.fail.Exception,
                                    "node is not installed (apt install nodejs npm)")
