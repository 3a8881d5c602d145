"""The journal and the access line of API 3.0 calls, read as users' tests read them: through
the admin API (``GET /__mockface/requests``) and the ``mockface.access`` log.  A refused call
is journaled under the action it names, with the signature method, SecretId and appid it
claims; a success without a ``Result`` has the code ``Success``."""
from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import pytest

from mockface.products.tc3.signature import sign_tc3, sign_v1

from .support import MAIN, NOW, THROTTLED, media

SECRET_ID, SECRET_KEY = next(iter(MAIN.secrets.items()))
HOST = "faceid.tencentcloudapi.com"


def tc3_post(client, action: str, params: dict | None = None, *, app=MAIN, key=None,
             service="faceid", version="2018-03-01", secret_id=None) -> dict:
    """POST one TC3-signed call; returns its Response object."""
    own_id, own_key = next(iter(app.secrets.items()))
    body = json.dumps(params or {}).encode()
    signed = sign_tc3(secret_id or own_id, key or own_key, service=service, host=HOST,
                      action=action, timestamp=NOW, body=body, version=version)
    return client.post("/", data=body, headers=signed).get_json()["Response"]


def v1_form(client, action: str, key: str = SECRET_KEY, **extra: str) -> dict:
    """POST one v1 (HmacSHA256) form call; returns its Response object."""
    params = {"Action": action, "Version": "2018-03-01", "Timestamp": str(NOW), "Nonce": "9",
              "SecretId": SECRET_ID, "SignatureMethod": "HmacSHA256", **extra}
    params["Signature"] = sign_v1(key, "POST", "localhost", params, "HmacSHA256")
    return client.post("/", data=urlencode(params),
                       content_type="application/x-www-form-urlencoded").get_json()["Response"]


def journal(client, query: str = "") -> list[dict]:
    """The journal as the admin API lists it, without each entry's latency."""
    listed = client.get(f"/__mockface/requests{query}")
    assert listed.status_code == 200
    entries = listed.get_json()["requests"]
    for entry in entries:
        assert entry.pop("latency_ms") >= 0
        # checked on their own (test_the_journal_keeps_the_error_message_and_headers_read)
        message = entry.pop("message")
        assert isinstance(message, str) if "Error" in (entry["data"] or {}) else \
            message is None
        assert isinstance(entry.pop("headers"), dict)
    return entries


def entry(number: int, endpoint: str, code: str, signature: dict, detail: str | None,
          appid: str | None = None, fields: dict | None = None, data: dict | None = None
          ) -> dict:
    """A journal entry as the admin API lists it (without its latency)."""
    return {"id": number, "time": NOW, "endpoint": endpoint, "appid": appid,
            "fields": fields or {}, "media": {}, "signature": signature, "rule": "default",
            "http_status": 200, "code": code,
            "data": data if data is not None else {"Error": {"Code": code}},
            "fault": None, "detail": detail, "miss": None}


FAILED = {"status": "failed", "method": None, "secret_id": None}


# -- refused before the signature passed: what the request claims ------------------------------

def test_an_unsigned_call_is_journaled_under_the_action_its_header_names(client):
    client.post("/", data=b"{}", headers={"X-TC-Action": "GetLiveCode",
                                          "Content-Type": "application/json"})
    client.post("/", data=urlencode({"Action": "GetActionSequence"}),
                content_type="application/x-www-form-urlencoded")
    client.post("/", data=b"{}", headers={"X-TC-Action": "DescribeInstances",
                                          "Content-Type": "application/json"})
    no_signature = "no Authorization header and no Signature parameter"
    assert journal(client) == [
        entry(1, "faceid:GetLiveCode", "AuthFailure.InvalidAuthorization", FAILED,
              no_signature),
        entry(2, "faceid:GetActionSequence", "AuthFailure.InvalidAuthorization", FAILED,
              no_signature),
        entry(3, "faceid", "AuthFailure.InvalidAuthorization", FAILED, no_signature)]


def test_a_tc3_signature_failure_names_the_method_secret_id_and_appid_it_claims(client):
    tc3_post(client, "GetLiveCode", key="wrong")
    tc3_post(client, "DetectLiveFace", service="iai", version="2020-03-03", key="wrong")
    assert journal(client) == [
        entry(1, "faceid:GetLiveCode", "AuthFailure.SignatureFailure",
              {"status": "failed", "method": "TC3-HMAC-SHA256", "secret_id": SECRET_ID},
              f"TC3-HMAC-SHA256 does not match the secret key of {SECRET_ID}", MAIN.appid),
        entry(2, "iai:DetectLiveFace", "AuthFailure.SignatureFailure",
              {"status": "failed", "method": "TC3-HMAC-SHA256", "secret_id": SECRET_ID},
              f"TC3-HMAC-SHA256 does not match the secret key of {SECRET_ID}", MAIN.appid)]


def test_a_v1_signature_failure_names_its_method_secret_id_and_appid(client):
    v1_form(client, "IdCardVerification", key="wrong", IdCard="1", Name="n")
    assert journal(client) == [entry(
        1, "faceid:IdCardVerification", "AuthFailure.SignatureFailure",
        {"status": "failed", "method": "HmacSHA256", "secret_id": SECRET_ID},
        f"HmacSHA256 does not match the secret key of {SECRET_ID}", MAIN.appid)]


def test_an_unknown_secret_id_is_named_without_an_appid(client):
    tc3_post(client, "GetLiveCode", secret_id="AKIDnobody", key="k")
    assert journal(client) == [entry(
        1, "faceid:GetLiveCode", "AuthFailure.SecretIdNotFound",
        {"status": "failed", "method": "TC3-HMAC-SHA256", "secret_id": "AKIDnobody"},
        "secret id AKIDnobody")]


def test_a_claimed_secret_id_is_clipped_like_any_journaled_text(client):
    long_id = "AKID" + "x" * 2000
    tc3_post(client, "GetLiveCode", secret_id=long_id, key="k")
    [refused] = journal(client)
    assert refused["signature"]["secret_id"] == f"{long_id[:1000]}...(1004 more characters)"
    assert refused["detail"] == f"secret id {long_id[:40]}"


def test_the_action_and_appid_filters_find_refused_calls(client):
    tc3_post(client, "GetLiveCode")
    tc3_post(client, "GetLiveCode", key="wrong")
    tc3_post(client, "GetActionSequence", key="wrong")
    found = journal(client, "?endpoint=faceid:GetLiveCode&appid=1000001"
                            "&code=AuthFailure.SignatureFailure")
    assert [(e["id"], e["endpoint"], e["code"]) for e in found] == [
        (2, "faceid:GetLiveCode", "AuthFailure.SignatureFailure")]
    assert [e["id"] for e in journal(client, "?appid=1000001")] == [1, 2, 3]


# -- refused after the signature passed: the verdict -------------------------------------------

def test_a_call_refused_after_its_signature_passed_says_so(client):
    codes = [tc3_post(client, "GetLiveCode", app=THROTTLED).get("Error", {}).get("Code")
             for _ in range(3)]
    assert codes == [None, None, "RequestLimitExceeded"]
    tc3_post(client, "GetLiveCode", version="1999-01-01")
    passed = {"status": "passed", "method": "TC3-HMAC-SHA256"}
    assert journal(client, "?after=2") == [
        entry(3, "faceid:GetLiveCode", "RequestLimitExceeded",
              {**passed, "secret_id": "AKIDthrottled"}, "over the app's requests per second",
              THROTTLED.appid),
        entry(4, "faceid:GetLiveCode", "NoSuchVersion", {**passed, "secret_id": SECRET_ID},
              "faceid has no version '1999-01-01'", MAIN.appid)]


def test_a_loose_call_refused_by_a_later_check_is_journaled_as_loose(client, emulator):
    emulator.loose_appids.add(MAIN.appid)
    tc3_post(client, "GetLiveCode", key="wrong", version="1999-01-01")
    [refused] = journal(client)
    assert (refused["endpoint"], refused["code"], refused["appid"], refused["signature"]) == (
        "faceid:GetLiveCode", "NoSuchVersion", MAIN.appid,
        {"status": "loose", "method": "TC3-HMAC-SHA256", "secret_id": SECRET_ID})


# -- successes: their code -----------------------------------------------------------------------

def test_answers_without_a_result_have_the_code_success(client):
    image = base64.b64encode(media("face.jpg")).decode()
    tc3_post(client, "DetectLiveFace", {"Image": image}, service="iai", version="2020-03-03")
    tc3_post(client, "GetLiveCode")
    tc3_post(client, "IdCardVerification", {"IdCard": "1", "Name": "n"})
    assert [(e["endpoint"], e["code"]) for e in journal(client)] == [
        ("iai:DetectLiveFace", "Success"), ("faceid:GetLiveCode", "Success"),
        ("faceid:IdCardVerification", "-2")]
    assert [e["id"] for e in journal(client, "?code=Success")] == [1, 2]


def access_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mockface.access"]


def test_the_access_line_of_an_iai_success_logs_its_code(client, caplog):
    with caplog.at_level("INFO", logger="mockface.access"):
        tc3_post(client, "DetectLiveFace", {"Url": "https://example.invalid/a.jpg"},
                 service="iai", version="2020-03-03")
        tc3_post(client, "LivenessCompare", {"LivenessType": "SILENT", "ImageUrl": "u",
                                             "VideoUrl": "v"})
    fields = [line.split() for line in access_lines(caplog)]
    assert [line[:5] + line[6:] for line in fields] == [
        ["POST", "iai:DetectLiveFace", "appid=1000001", "code=Success", "status=200",
         "rule=default"],
        ["POST", "faceid:LivenessCompare", "appid=1000001", "code=Success", "status=200",
         "rule=default"]]


def test_the_access_line_of_a_refused_call_names_its_action_and_appid(client, caplog):
    with caplog.at_level("INFO", logger="mockface.access"):
        tc3_post(client, "GetLiveCode", key="wrong")
    [line] = access_lines(caplog)
    head, _, reason = line.partition(" reason=")
    method, path, appid, code, status, millis, rule = head.split()
    assert (method, path, appid, code, status, rule) == (
        "POST", "faceid:GetLiveCode", "appid=1000001", "code=AuthFailure.SignatureFailure",
        "status=200", "rule=default")
    assert millis.endswith("ms")
    assert reason == f'"TC3-HMAC-SHA256 does not match the secret key of {SECRET_ID}"'


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_get_or_post_is_journaled_alike(client, method):
    params = {"Action": "GetLiveCode", "Version": "2018-03-01", "Timestamp": str(NOW),
              "Nonce": "1", "SecretId": SECRET_ID}
    params["Signature"] = sign_v1("wrong", method, "localhost", params)
    if method == "GET":
        client.get("/", query_string=params)
    else:
        client.post("/", data=params)
    assert journal(client) == [entry(
        1, "faceid:GetLiveCode", "AuthFailure.SignatureFailure",
        {"status": "failed", "method": "HmacSHA1", "secret_id": SECRET_ID},
        f"HmacSHA1 does not match the secret key of {SECRET_ID}", MAIN.appid)]


# -- lone surrogates (JSON allows "\ud800"; UTF-8 pages and logs cannot carry one) -------------

SURROGATE_BODY = b'{"LivenessType": "SILENT", "ImageUrl": "x\\ud800", "VideoUrl": "v", ' \
                 b'"ImageBase64": "\\udfff"}'


def post_raw(client, action: str, body: bytes) -> dict:
    signed = sign_tc3(SECRET_ID, SECRET_KEY, service="faceid", host=HOST, action=action,
                      timestamp=NOW, body=body)
    return client.post("/", data=body, headers=signed).get_json()["Response"]


def test_text_with_a_lone_surrogate_is_answered_and_journaled_escaped(client):
    answer = post_raw(client, "LivenessCompare", SURROGATE_BODY)
    assert (answer["Result"], answer["Description"]) == ("Success", "成功")
    assert 80 <= answer["Sim"] < 100
    [journaled] = journal(client)
    assert journaled["fields"] == {"LivenessType": "SILENT", "ImageUrl": "x\\ud800",
                                   "VideoUrl": "v", "ImageBase64": "\\udfff"}
    assert journaled["code"] == "Success"


def test_a_rule_matches_text_with_a_lone_surrogate_as_the_journal_shows_it(client, emulator):
    from mockface.scenarios import parse_scenario_text
    emulator.scenarios.activate(parse_scenario_text(r"""
rules:
  - endpoint: faceid:LivenessCompare
    match: {ImageUrl: {regex: 'x\\ud800'}}
    respond: {result: FailedOperation.CompareLowSimilarity, sim: 12.5}
"""))
    answer = post_raw(client, "LivenessCompare", SURROGATE_BODY)
    assert (answer["Result"], answer["Sim"]) == ("FailedOperation.CompareLowSimilarity", 12.5)
    assert journal(client)[-1]["rule"] == "inline#1"


def test_the_dashboard_shows_a_journaled_lone_surrogate(client):
    post_raw(client, "ImageRecognitionV2", b'{"IdCard": "1", "Name": "n", "ImageBase64": "AA",'
                                           b' "Extra": "e\\ud800"}')
    page = client.get("/__mockface/ui")
    assert page.status_code == 200
    assert "e\\ud800" in page.get_data(as_text=True)
    assert journal(client)[-1]["data"]["Extra"] == "e\\ud800"


# -- the pytest plugin sees refused calls ------------------------------------------------------

PLUGIN_SUITE = '''
import pytest
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.faceid.v20180301 import models

def test_a_refused_call_is_in_this_tests_journal(mockface):
    client = mockface.faceid_client()
    client.credential = credential.Credential(mockface.credentials.secret_id, "not-the-key")
    with pytest.raises(TencentCloudSDKException) as caught:
        client.GetLiveCode(models.GetLiveCodeRequest())
    assert caught.value.get_code() == "AuthFailure.SignatureFailure"
    [entry] = mockface.assert_called("faceid:GetLiveCode", times=1,
                                     code="AuthFailure.SignatureFailure")
    assert entry["appid"] == mockface.appid
    assert entry["signature"] == {"status": "failed", "method": "TC3-HMAC-SHA256",
                                  "secret_id": mockface.credentials.secret_id}
'''


@pytest.fixture(scope="module")
def serve_process():
    from .support import ServeProcess
    server = ServeProcess("--quiet")
    yield server
    server.stop()


@pytest.mark.parametrize("attached", [False, True], ids=["in-process", "attached"])
def test_the_plugin_finds_a_refused_call_by_its_action(pytester, request, attached):
    pytester.makepyfile(test_refused=PLUGIN_SUITE)
    options = ["--mockface-url", request.getfixturevalue("serve_process").url] \
        if attached else []
    pytester.runpytest_subprocess(*options).assert_outcomes(passed=1)


def test_the_journal_keeps_the_error_message_and_headers_read(client):
    body = b"{}"
    signed = sign_tc3(SECRET_ID, "wrong key", service="faceid", host=HOST,
                      action="GetLiveCode", timestamp=NOW, body=body)
    client.post("/", data=body, headers={**signed, "X-TC-Language": "en-US",
                                         "X-Unread": "not journaled"})
    [refused] = client.get("/__mockface/requests").get_json()["requests"]
    assert refused["message"] == "The signature does not match."
    authorization = signed["Authorization"]
    assert refused["headers"] == {
        "host": HOST, "content-type": signed["Content-Type"], "content-length": "2",
        "authorization": "*" * (len(authorization) - 4) + authorization[-4:],
        "x-tc-action": "GetLiveCode", "x-tc-version": signed["X-TC-Version"],
        "x-tc-timestamp": str(NOW), "x-tc-language": "en-US"}


def test_a_success_has_no_message(client):
    tc3_post(client, "GetLiveCode")
    [answered] = client.get("/__mockface/requests").get_json()["requests"]
    assert answered["message"] is None and answered["code"] == "Success"
