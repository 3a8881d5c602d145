"""The API 3.0 building blocks against Tencent's official Python SDK, over real HTTP on
loopback: the SDK's TC3 and v1 requests pass mockface's verifiers, and the SDK reads
mockface's envelopes (successes, errors, the deprecation warning) as it reads Tencent's.

The WSGI app here is a harness for the signature and envelope modules only; the emulator's
own API 3.0 routes are not served yet."""
from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl

import pytest
from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from mockface.faceid import envelope
from mockface.faceid.signature import SignatureRefused, verify_tc3, verify_v1
from mockface.web.server import start_background

SECRET_ID, SECRET_KEY = "AKIDsdktest0001", "sdk-test-key"


def harness(environ, start_response):
    """Verify the request's signature; answer LiveCode 1234, or the refusal as an error."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
               if key.startswith("HTTP_")}
    headers["content-type"] = environ.get("CONTENT_TYPE", "")
    now = int(headers.get("x-tc-timestamp") or dict(parse_qsl(body.decode())).get(
        "Timestamp", 0))
    try:
        if "authorization" in headers:
            verify_tc3(method=environ["REQUEST_METHOD"], query=environ.get("QUERY_STRING", ""),
                       headers=headers, body=body, services=("faceid",), now=now,
                       secret_key_of={SECRET_ID: SECRET_KEY}.get)
            action = headers.get("x-tc-action")
        else:
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
            verify_v1(method=environ["REQUEST_METHOD"], host=headers["host"], params=params,
                      service="faceid", now=now, secret_key_of={SECRET_ID: SECRET_KEY}.get)
            action = params.get("Action")
        warning = "Liveness is deprecated" if action == "Liveness" else None
        answer = envelope.success({"LiveCode": "1234"}, envelope.request_id(),
                                  deprecated_warning=warning)
    except SignatureRefused as refused:
        answer = envelope.error(refused.code, envelope.request_id(),
                                headers.get("x-tc-language"))
    start_response("200 OK", [("Content-Type", envelope.CONTENT_TYPE),
                              ("Content-Length", str(len(answer)))])
    return [answer]


@pytest.fixture(scope="module")
def server():
    background = start_background(harness)
    yield background
    background.stop()


def client(server, key: str = SECRET_KEY, sign_method: str = "TC3-HMAC-SHA256",
           language: str = "zh-CN") -> CommonClient:
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}")
    profile = ClientProfile(httpProfile=http, signMethod=sign_method, language=language)
    return CommonClient("faceid", "2018-03-01", credential.Credential(SECRET_ID, key), "",
                        profile)


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256"])
def test_the_sdks_signed_requests_pass_and_it_reads_the_success(server, sign_method):
    answer = client(server, sign_method=sign_method).call_json("GetLiveCode", {})
    assert answer["Response"]["LiveCode"] == "1234"
    assert uuid.UUID(answer["Response"]["RequestId"]).version == 4


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA256"])
def test_a_wrong_key_reaches_the_sdk_as_its_error(server, sign_method):
    with pytest.raises(TencentCloudSDKException) as caught:
        client(server, key="not-the-key", sign_method=sign_method).call_json("GetLiveCode", {})
    assert caught.value.get_code() == "AuthFailure.SignatureFailure"
    assert caught.value.get_message() == "签名错误。"
    assert uuid.UUID(caught.value.get_request_id()).version == 4


def test_error_messages_follow_the_language(server):
    with pytest.raises(TencentCloudSDKException) as caught:
        client(server, key="x", language="en-US").call_json("GetLiveCode", {})
    assert caught.value.get_message() == "The signature does not match."


def test_the_sdk_warns_about_a_deprecated_action(server):
    with pytest.warns(DeprecationWarning, match="Liveness is deprecated"):
        client(server).call_json("Liveness", {})


def test_the_envelope_shapes():
    assert json.loads(envelope.success({"Sim": 0}, "r")) == \
        {"Response": {"Sim": 0, "RequestId": "r"}}
    assert json.loads(envelope.error("MissingParameter", "r", "en-US", "IdCard is missing")) \
        == {"Response": {"Error": {"Code": "MissingParameter",
                                   "Message": "IdCard is missing"}, "RequestId": "r"}}
    assert envelope.request_id(7, b"same") == envelope.request_id(7, b"same")
    assert envelope.request_id(7, b"same") != envelope.request_id(7, b"other")
    assert envelope.request_id() != envelope.request_id()
    assert (envelope.STATUS, envelope.CONTENT_TYPE) == (200, "application/json")
