"""API 3.0 served by the emulator (``POST /`` and ``GET /``), in-process with a frozen clock:
the envelope, the check order on the wire, each action's answers, the state shared with the
legacy API, scenarios on actions and the journal."""
from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import urlencode

import pytest

from mockface.products.faceid.encryption import encrypt_fields
from mockface.products import REGISTRY
from mockface.products.tc3.signature import sign_tc3, sign_v1
from mockface.scenarios import parse_scenario_text
from mockface.products.legacy.stores import LIP_CODES

from .support import (
    ID_NAME,
    ID_NUMBER,
    LIMITED,
    MAIN,
    NOW,
    REGISTERED_NAME,
    REGISTERED_NUMBER,
    SUSPENDED,
    THROTTLED,
    auth,
    media,
)

SECRET_ID, SECRET_KEY = next(iter(MAIN.secrets.items()))
HOST = "faceid.tencentcloudapi.com"
IMAGE = base64.b64encode(media("face.jpg")).decode()
VIDEO = base64.b64encode(media("video.mp4")).decode()

CATALOGUE = REGISTRY["tc3"].catalogue


def api3(client, action: str, params: dict | None = None, *, app=MAIN, service="faceid",
         timestamp: int = NOW, version: str = "2018-03-01", key: str | None = None,
         headers: dict | None = None):
    """POST one TC3-signed call; returns (HTTP status, Content-Type, the Response object)."""
    secret_id, secret_key = next(iter(app.secrets.items()))
    body = json.dumps(params or {}).encode()
    signed = sign_tc3(secret_id, key or secret_key, service=service, host=HOST, action=action,
                      timestamp=timestamp, body=body, version=version)
    response = client.post("/", data=body, headers={**signed, **(headers or {})})
    return response.status_code, response.headers["Content-Type"], \
        response.get_json()["Response"]


def activate(emulator, text: str) -> None:
    """Activate an inline scenario (YAML text)."""
    emulator.scenarios.activate(parse_scenario_text(text))


def error_of(answer: dict) -> str:
    return answer["Error"]["Code"]


# -- the envelope -------------------------------------------------------------------------

def test_a_success_is_http_200_json_without_charset_with_a_uuid4(client):
    status, content_type, answer = api3(client, "GetLiveCode")
    assert (status, content_type) == (200, "application/json")
    assert set(answer) == {"LiveCode", "RequestId"}
    assert uuid.UUID(answer["RequestId"]).version == 4


def test_an_error_is_http_200_too_with_code_message_and_request_id(client):
    status, content_type, answer = api3(client, "GetLiveCode", key="wrong")
    assert (status, content_type) == (200, "application/json")
    assert answer["Error"] == {"Code": "AuthFailure.SignatureFailure",
                               "Message": CATALOGUE["AuthFailure.SignatureFailure"].zh}
    assert uuid.UUID(answer["RequestId"]).version == 4


def test_request_ids_are_unique(client):
    ids = {api3(client, "GetLiveCode")[2]["RequestId"] for _ in range(5)}
    assert len(ids) == 5


def test_messages_follow_x_tc_language(client):
    answer = api3(client, "GetLiveCode", key="wrong", headers={"X-TC-Language": "en-US"})[2]
    assert answer["Error"]["Message"] == CATALOGUE["AuthFailure.SignatureFailure"].en


# -- the check order ----------------------------------------------------------------------

def test_method_other_than_get_or_post_is_unsupported_protocol(client):
    answer = client.put("/", data=b"{}").get_json()["Response"]
    assert error_of(answer) == "UnsupportedProtocol"


def test_no_signature_at_all_is_invalid_authorization(client):
    answer = client.post("/", data=b"{}", content_type="application/json").get_json()
    assert error_of(answer["Response"]) == "AuthFailure.InvalidAuthorization"


@pytest.mark.parametrize("offset,code", [(301, "AuthFailure.SignatureExpire"),
                                         (-301, "AuthFailure.SignatureExpire"),
                                         (300, None), (-300, None)])
def test_timestamps_more_than_300_s_from_the_server_clock_expire(client, offset, code):
    answer = api3(client, "GetLiveCode", timestamp=NOW + offset)[2]
    assert answer.get("Error", {}).get("Code") == code


def test_unknown_secret_id_is_not_found(client):
    body = b"{}"
    signed = sign_tc3("AKIDnobody", "k", service="faceid", host=HOST, action="GetLiveCode",
                      timestamp=NOW, body=body)
    answer = client.post("/", data=body, headers=signed).get_json()["Response"]
    assert error_of(answer) == "AuthFailure.SecretIdNotFound"


def test_a_token_is_refused(client):
    answer = api3(client, "GetLiveCode", headers={"X-TC-Token": "tok"})[2]
    assert error_of(answer) == "AuthFailure.TokenFailure"


def test_unknown_version_and_action(client):
    assert error_of(api3(client, "GetLiveCode", version="2020-01-01")[2]) == "NoSuchVersion"
    assert error_of(api3(client, "DescribeInstances")[2]) == "InvalidAction"


def test_an_app_without_the_product_is_nonactivated(client):
    answer = api3(client, "GetLiveCode", app=LIMITED)[2]
    assert error_of(answer) == "UnauthorizedOperation.Nonactivated"


def test_a_suspended_app_is_in_arrears(client):
    answer = api3(client, "GetLiveCode", app=SUSPENDED)[2]
    assert error_of(answer) == "UnauthorizedOperation.Arrears"


def test_the_rate_limit_is_the_apps(client):
    codes = [api3(client, "GetLiveCode", app=THROTTLED)[2].get("Error", {}).get("Code")
             for _ in range(3)]
    assert codes == [None, None, "RequestLimitExceeded"]


def test_a_body_that_is_not_a_json_object_is_invalid_request(client):
    for body in (b"[1]", b"{", "\u00ff".encode("latin-1")):
        signed = sign_tc3(SECRET_ID, SECRET_KEY, service="faceid", host=HOST,
                          action="GetLiveCode", timestamp=NOW, body=body)
        answer = client.post("/", data=body, headers=signed).get_json()["Response"]
        assert error_of(answer) == "InvalidRequest", body


def test_a_body_over_10_mb_is_request_size_limit_exceeded(client):
    body = json.dumps({"ImageBase64": "A" * (10 * 1024 * 1024)}).encode()
    signed = sign_tc3(SECRET_ID, SECRET_KEY, service="faceid", host=HOST,
                      action="ImageRecognitionV2", timestamp=NOW, body=body)
    answer = client.post("/", data=body, headers=signed).get_json()["Response"]
    assert error_of(answer) == "RequestSizeLimitExceeded"


def test_parameters_missing_wrong_typed_unknown(client):
    missing = api3(client, "IdCardVerification", {"IdCard": ID_NUMBER})[2]
    assert missing["Error"] == {"Code": "MissingParameter",
                                "Message": "The parameter `Name` is missing."}
    typed = api3(client, "IdCardVerification", {"IdCard": 1, "Name": ID_NAME})[2]
    assert error_of(typed) == "InvalidParameter"
    value = api3(client, "Liveness", {"VideoBase64": VIDEO, "LivenessType": "DANCE"})[2]
    assert error_of(value) == "InvalidParameterValue"
    unknown = api3(client, "GetLiveCode", {"Foo": 1})[2]
    assert unknown["Error"] == {"Code": "UnknownParameter",
                                "Message": "The parameter `Foo` is not recognised."}


def test_signature_v1_form_post_is_served(client):
    params = {"Action": "GetLiveCode", "Version": "2018-03-01", "Timestamp": str(NOW),
              "Nonce": "42", "SecretId": SECRET_ID, "SignatureMethod": "HmacSHA256"}
    params["Signature"] = sign_v1(SECRET_KEY, "POST", "localhost", params, "HmacSHA256")
    response = client.post("/", data=params)
    answer = response.get_json()["Response"]
    assert len(answer["LiveCode"]) == 4 and response.status_code == 200


def test_signature_v1_get_with_nested_parameters_is_unflattened(client):
    params = {"Action": "LivenessCompare", "Version": "2018-03-01", "Timestamp": str(NOW),
              "Nonce": "7", "SecretId": SECRET_ID, "LivenessType": "SILENT",
              "ImageUrl": "https://example.invalid/a.jpg",
              "VideoUrl": "https://example.invalid/a.mp4",
              "Optional": json.dumps({"BestFrameNum": 3})}
    params["Signature"] = sign_v1(SECRET_KEY, "GET", "localhost", params)
    answer = client.get("/", query_string=params).get_json()["Response"]
    assert answer["Result"] == "Success" and len(answer["BestFrameList"]) == 3


def tc3_get(client, action: str, query: str, *, signed_query: str | None = None) -> dict:
    """GET one TC3-signed call as the SDKs send it: the parameters in the query (signed as
    ``signed_query`` when given), a form Content-Type, no body."""
    signed = sign_tc3(SECRET_ID, SECRET_KEY, service="faceid", host=HOST, action=action,
                      timestamp=NOW, method="GET", query=query if signed_query is None
                      else signed_query, content_type="application/x-www-form-urlencoded")
    return client.get(f"/?{query}", headers=signed).get_json()["Response"]


def test_a_tc3_get_is_answered_from_its_query(client, emulator):
    sent, _ = encrypt_fields({"IdCard": REGISTERED_NUMBER}, ("IdCard",))
    query = urlencode({"IdCard": sent["IdCard"], "Name": "王五",
                       "Encryption.EncryptList.0": "IdCard",
                       "Encryption.CiphertextBlob": sent["Encryption"]["CiphertextBlob"],
                       "Encryption.Iv": sent["Encryption"]["Iv"]})
    answer = tc3_get(client, "IdCardVerification", query)
    assert (answer["Result"], answer["Description"]) == ("-1", "姓名和身份证号不一致")
    entry = emulator.journal.query()[-1]
    assert (entry.endpoint, entry.code, entry.fields) == (
        "faceid:IdCardVerification", "-1", {"IdCard": REGISTERED_NUMBER, "Name": "王五"})
    assert entry.signature == {"status": "passed", "method": "TC3-HMAC-SHA256",
                               "secret_id": SECRET_ID}


def test_a_tc3_get_checks_the_parameters_of_its_query(client):
    assert tc3_get(client, "GetLiveCode", "Foo=1")["Error"] == {
        "Code": "UnknownParameter", "Message": "The parameter `Foo` is not recognised."}
    assert tc3_get(client, "IdCardVerification", "IdCard=1")["Error"] == {
        "Code": "MissingParameter", "Message": "The parameter `Name` is missing."}
    assert "LiveCode" in tc3_get(client, "GetLiveCode", "")
    forged = tc3_get(client, "GetLiveCode", "Foo=1", signed_query="")
    assert forged["Error"]["Code"] == "AuthFailure.SignatureFailure"


# -- hostile parameters of signed calls -----------------------------------------------------

@pytest.mark.parametrize("action,params", [
    ("LivenessCompare", {"LivenessType": "SILENT", "ImageUrl": "u", "VideoUrl": "v"}),
    ("LivenessRecognition", {"IdCard": ID_NUMBER, "Name": ID_NAME, "LivenessType": "SILENT",
                             "VideoUrl": "v"}),
])
def test_an_optional_nested_past_the_stack_is_an_invalid_parameter_value(client, emulator,
                                                                          action, params):
    answer = api3(client, action, {**params, "Optional": "[" * 100_000})[2]
    assert answer["Error"] == {"Code": "InvalidParameterValue",
                               "Message": "The value of the parameter `Optional` is invalid."}
    assert emulator.journal.query()[-1].code == "InvalidParameterValue"


def v1_signed(client, method: str, names: dict) -> dict:
    """One v1 call of IdCardVerification with ``names`` beside its parameters."""
    params = {"Action": "IdCardVerification", "Version": "2018-03-01", "Timestamp": str(NOW),
              "Nonce": "5", "SecretId": SECRET_ID, "IdCard": ID_NUMBER, "Name": ID_NAME,
              **names}
    params["Signature"] = sign_v1(SECRET_KEY, method, "localhost", params)
    if method == "GET":
        return client.get(f"/?{urlencode(params)}").get_json()["Response"]
    return client.post("/", data=urlencode(params),
                       content_type="application/x-www-form-urlencoded").get_json()["Response"]


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name,error", [
    ("X.²", {"Code": "UnknownParameter", "Message": "The parameter `X` is not recognised."}),
    ("X." + "7" * 5000, {"Code": "UnknownParameter",
                         "Message": "The parameter `X` is not recognised."}),
    ("X" + ".a" * 3000, {"Code": "InvalidParameter", "Message": "The parameter "
                         f"`{('X' + '.a' * 3000)[:60]}` has more than 16 dotted parts."}),
    ("Encryption.EncryptList.01", {"Code": "InvalidParameter", "Message": "The type of the "
                                   "parameter `Encryption.EncryptList` is wrong."}),
], ids=["superscript-digit", "5000-digits", "3000-levels", "leading-zero"])
def test_hostile_v1_parameter_names_get_documented_errors(client, emulator, method, name,
                                                          error):
    answer = v1_signed(client, method, {name: "v"})
    assert answer.get("Error") == error
    entry = emulator.journal.query()[-1]
    assert (entry.endpoint, entry.code, entry.signature["status"]) == (
        "faceid:IdCardVerification", error["Code"] if error else "0", "passed")


# -- the actions ----------------------------------------------------------------------------

def test_get_live_code_is_remembered_like_livegetfour(client, emulator):
    code = api3(client, "GetLiveCode")[2]["LiveCode"]
    assert emulator.state.store(LIP_CODES).issued(MAIN.appid) == [code]


def test_image_recognition_v2_answers_sim_and_echoes_extra(client):
    params = {"IdCard": ID_NUMBER, "Name": ID_NAME, "ImageBase64": IMAGE, "Extra": "ctx-1"}
    answer = api3(client, "ImageRecognitionV2", params)[2]
    assert answer["Result"] == "Success" and answer["Description"] == "成功"
    assert 80 <= answer["Sim"] < 100 and round(answer["Sim"], 2) == answer["Sim"]
    assert answer["Extra"] == "ctx-1"
    assert api3(client, "ImageRecognitionV2", params)[2]["Sim"] == answer["Sim"]


def test_the_deprecated_image_recognition_warns(client):
    params = {"IdCard": ID_NUMBER, "Name": ID_NAME, "ImageBase64": IMAGE}
    answer = api3(client, "ImageRecognition", params)[2]
    assert answer["DeprecatedWarning"].startswith("ImageRecognition is deprecated")
    assert "Extra" not in answer and answer["Result"] == "Success"


@pytest.mark.parametrize("params,result", [
    ({"IdCard": "123", "Name": ID_NAME}, "FailedOperation.IdFormatError"),
    ({"IdCard": ID_NUMBER, "Name": "Zhang"}, "FailedOperation.NameFormatError"),
    ({"IdCard": REGISTERED_NUMBER, "Name": ID_NAME}, "FailedOperation.IdNameMisMatch"),
    ({"IdCard": ID_NUMBER, "Name": ID_NAME, "ImageBase64": base64.b64encode(b"GIF89a").decode()},
     "FailedOperation.ImageDecodeFailed"),
])
def test_image_recognition_failures_are_results_with_sim_0(client, params, result):
    answer = api3(client, "ImageRecognitionV2", {"ImageBase64": IMAGE, **params})[2]
    assert (answer["Result"], answer["Sim"]) == (result, 0.0)
    assert answer["Description"] == CATALOGUE[result].zh and "Error" not in answer


def test_media_that_is_not_base64_is_an_invalid_parameter_value(client):
    answer = api3(client, "ImageRecognitionV2", {"IdCard": ID_NUMBER, "Name": ID_NAME,
                                                 "ImageBase64": "not base64!"})[2]
    assert answer["Error"] == {"Code": "InvalidParameterValue",
                               "Message": "The value of the parameter `ImageBase64` is invalid."}


def test_an_image_over_3_mb_is_a_size_error(client):
    big = base64.b64encode(media("face.jpg") + bytes(3 * 1024 * 1024)).decode()
    answer = api3(client, "ImageRecognitionV2", {"IdCard": ID_NUMBER, "Name": ID_NAME,
                                                 "ImageBase64": big})[2]
    assert answer["Result"] == "FailedOperation.LifePhotoSizeError"


def test_liveness_recognition_lip_needs_an_issued_code(client):
    params = {"IdCard": ID_NUMBER, "Name": ID_NAME, "LivenessType": "LIP",
              "VideoBase64": VIDEO, "ValidateData": "0000"}
    refused = api3(client, "LivenessRecognition", params)[2]
    assert (refused["Result"], refused["Sim"]) == ("FailedOperation.LipVoiceRecognize", 0.0)
    params["ValidateData"] = api3(client, "GetLiveCode")[2]["LiveCode"]
    passed = api3(client, "LivenessRecognition", params)[2]
    assert passed["Result"] == "Success" and 80 <= passed["Sim"] < 100
    assert base64.b64decode(passed["BestFrameBase64"])[:2] == b"\xff\xd8"
    assert "BestFrameList" not in passed


def test_a_code_issued_by_livegetfour_serves_api3_too(client, call):
    code = call.json("livegetfour", {"appid": MAIN.appid})[1]["data"]["validate_data"]
    answer = api3(client, "LivenessCompare", {"LivenessType": "LIP", "ValidateData": code,
                                              "ImageBase64": IMAGE, "VideoBase64": VIDEO})[2]
    assert answer["Result"] == "Success"


def test_liveness_action_checks_the_issued_sequence(client):
    params = {"LivenessType": "ACTION", "VideoBase64": VIDEO, "ImageBase64": IMAGE,
              "ValidateData": "9,9"}
    assert api3(client, "LivenessCompare", params)[2]["Result"] == \
        "FailedOperation.ActionFirstAction"
    params["ValidateData"] = api3(client, "GetActionSequence")[2]["ActionSequence"]
    assert api3(client, "LivenessCompare", params)[2]["Result"] == "Success"


def test_liveness_lip_without_validate_data_is_missing(client):
    answer = api3(client, "Liveness", {"VideoBase64": VIDEO, "LivenessType": "LIP"})[2]
    assert answer["Error"]["Code"] == "MissingParameter"


@pytest.mark.parametrize("number", [2, 10])
def test_best_frame_num_gives_that_many_frames(client, number):
    answer = api3(client, "Liveness", {"VideoBase64": VIDEO, "LivenessType": "SILENT",
                                       "Optional": json.dumps({"BestFrameNum": number})})[2]
    assert len(answer["BestFrameList"]) == number
    assert "Sim" not in answer and answer["DeprecatedWarning"]


@pytest.mark.parametrize("optional", ['{"BestFrameNum": 11}', '{"BestFrameNum": 1}', "[2]",
                                      "{", '{"BestFrameNum": "2"}'])
def test_a_bad_optional_is_an_invalid_parameter_value(client, optional):
    answer = api3(client, "Liveness", {"VideoBase64": VIDEO, "LivenessType": "SILENT",
                                       "Optional": optional})[2]
    assert answer["Error"]["Code"] == "InvalidParameterValue"


def test_a_video_that_is_no_video_is_lip_video_invalid(client):
    answer = api3(client, "LivenessCompare", {
        "LivenessType": "SILENT", "ImageBase64": IMAGE,
        "VideoBase64": base64.b64encode(b"plain text").decode()})[2]
    assert answer["Result"] == "FailedOperation.LipVideoInvalid"


def test_liveness_compare_needs_an_image_and_a_video(client):
    answer = api3(client, "LivenessCompare", {"LivenessType": "SILENT", "VideoBase64": VIDEO})[2]
    assert answer["Error"] == {"Code": "MissingParameter", "Message":
                               "The parameter `ImageBase64` or `ImageUrl` is missing."}


def test_id_card_verification_uses_the_identity_registry(client):
    ok = api3(client, "IdCardVerification", {"IdCard": REGISTERED_NUMBER,
                                             "Name": REGISTERED_NAME})[2]
    wrong = api3(client, "IdCardVerification", {"IdCard": REGISTERED_NUMBER, "Name": ID_NAME})[2]
    assert (ok["Result"], wrong["Result"]) == ("0", "-1")


@pytest.mark.parametrize("version,warned,model", [("2018-03-01", True, "2.0"),
                                                  ("2020-03-03", False, "3.0")])
def test_iai_detect_live_face(client, version, warned, model):
    answer = api3(client, "DetectLiveFace", {"Image": IMAGE}, service="iai", version=version)[2]
    assert 87 <= answer["Score"] < 100 and answer["IsLiveness"] is True
    assert answer["FaceModelVersion"] == model
    assert ("DeprecatedWarning" in answer) is warned


def test_iai_accurate_has_no_is_liveness_and_only_exists_in_2020(client):
    answer = api3(client, "DetectLiveFaceAccurate", {"Image": IMAGE}, service="iai",
                  version="2020-03-03")[2]
    assert set(answer) == {"Score", "FaceModelVersion", "RequestId"}
    old = api3(client, "DetectLiveFaceAccurate", {"Image": IMAGE}, service="iai")[2]
    assert old["Error"]["Code"] == "InvalidAction"


def test_iai_problems_are_errors(client):
    answer = api3(client, "DetectLiveFace", {"Image": base64.b64encode(b"xx").decode()},
                  service="iai", version="2020-03-03")[2]
    assert answer["Error"]["Code"] == "FailedOperation.ImageDecodeFailed"


def test_a_faceid_signature_does_not_open_iai(client):
    secret_id, secret_key = SECRET_ID, SECRET_KEY
    signed = sign_tc3(secret_id, secret_key, service="faceid", host=HOST,
                      action="DetectLiveFace", timestamp=NOW, body=b"{}",
                      version="2020-03-03")
    answer = client.post("/", data=b"{}", headers=signed).get_json()["Response"]
    assert answer["Error"]["Code"] == "NoSuchVersion"


# -- loose mode, the journal, scenarios ----------------------------------------------------

def test_loose_mode_skips_the_signature_but_not_the_parameters(client, emulator):
    emulator.loose_appids.add(MAIN.appid)
    assert "LiveCode" in api3(client, "GetLiveCode", key="wrong")[2]
    assert api3(client, "GetLiveCode", {"X": 1}, key="wrong")[2]["Error"]["Code"] == \
        "UnknownParameter"


def test_the_journal_records_actions(client, emulator):
    api3(client, "ImageRecognitionV2", {"IdCard": ID_NUMBER, "Name": "Zhang",
                                        "ImageBase64": IMAGE})
    api3(client, "GetLiveCode", key="wrong")
    refused, failed = emulator.journal.query()
    assert (refused.endpoint, refused.appid, refused.code, refused.http_status) == (
        "faceid:ImageRecognitionV2", MAIN.appid, "FailedOperation.NameFormatError", 200)
    assert refused.fields == {"IdCard": ID_NUMBER, "Name": "Zhang"}
    assert refused.media["ImageBase64"]["size"] == len(media("face.jpg"))
    assert refused.signature == {"status": "passed", "method": "TC3-HMAC-SHA256",
                                 "secret_id": SECRET_ID}
    assert "Name 'Zhang'" in refused.detail
    assert (failed.endpoint, failed.code, failed.signature["status"]) == (
        "faceid:GetLiveCode", "AuthFailure.SignatureFailure", "failed")
    assert emulator.journal.query(endpoint="faceid:GetLiveCode") == [failed]
    assert emulator.journal.query(code="AuthFailure.SignatureFailure") == [failed]


def test_the_admin_api_filters_the_journal_by_action_and_name(client):
    api3(client, "GetLiveCode")
    api3(client, "GetActionSequence")
    listed = client.get("/__mockface/requests?endpoint=faceid:GetActionSequence").get_json()
    assert [entry["endpoint"] for entry in listed["requests"]] == ["faceid:GetActionSequence"]
    unknown = client.get("/__mockface/requests?endpoint=faceid:Nope")
    assert unknown.status_code == 400


def test_a_rule_answers_an_action_with_a_result_and_sim(client, emulator):
    activate(emulator, """
rules:
  - endpoint: faceid:LivenessCompare
    match: {LivenessType: SILENT}
    respond: {result: FailedOperation.CompareLowSimilarity, sim: 42.5}
""")
    answer = api3(client, "LivenessCompare", {"LivenessType": "SILENT", "ImageBase64": IMAGE,
                                              "VideoBase64": VIDEO})[2]
    assert (answer["Result"], answer["Sim"]) == ("FailedOperation.CompareLowSimilarity", 42.5)
    assert answer["Description"] == CATALOGUE["FailedOperation.CompareLowSimilarity"].zh
    assert answer["BestFrameBase64"] == ""
    entry = emulator.journal.query()[-1]
    assert (entry.rule, entry.code) == ("inline#1", "FailedOperation.CompareLowSimilarity")


def test_a_rule_answers_an_error_with_its_message(client, emulator):
    activate(emulator, """
rules:
  - endpoint: faceid:*
    match: {appid: "1000001"}
    respond: {error: AuthFailure.SignatureExpire}
""")
    answer = api3(client, "GetLiveCode")[2]
    assert answer["Error"] == {"Code": "AuthFailure.SignatureExpire",
                               "Message": CATALOGUE["AuthFailure.SignatureExpire"].zh}


def test_a_rule_matches_decoded_media_facts(client, emulator):
    import hashlib
    digest = hashlib.sha256(media("face.jpg")).hexdigest()
    activate(emulator, f"""
rules:
  - endpoint: iai:DetectLiveFace
    match: {{Image.sha256: "{digest}"}}
    respond: {{score: 12.5}}
""")
    answer = api3(client, "DetectLiveFace", {"Image": IMAGE}, service="iai",
                  version="2020-03-03")[2]
    assert (answer["Score"], answer["IsLiveness"]) == (12.5, False)


def test_a_scripted_live_code_is_remembered(client, emulator):
    activate(emulator, """
rules:
  - endpoint: faceid:GetLiveCode
    respond: {live_code: "1234"}
""")
    assert api3(client, "GetLiveCode")[2]["LiveCode"] == "1234"
    assert emulator.state.store(LIP_CODES).issued(MAIN.appid) == ["1234"]


def test_a_legacy_rule_does_not_answer_api3(client, emulator):
    activate(emulator, """
rules:
  - respond: {code: -5008}
""")
    assert "LiveCode" in api3(client, "GetLiveCode")[2]


def test_unexpected_errors_are_internal_error_and_journaled(client, emulator, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(emulator.handlers["tc3"].actions, "answer", broken)
    answer = api3(client, "GetLiveCode")[2]
    assert answer["Error"]["Code"] == "InternalError"
    assert "boom" not in json.dumps(answer)
    assert emulator.journal.query()[-1].code == "InternalError"


def test_legacy_signatures_do_not_open_api3(client):
    answer = client.post("/", data=b"{}", headers={"Authorization": auth()}).get_json()
    assert answer["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def v1_call(client, nonce: str = "42") -> dict:
    params = {"Action": "GetLiveCode", "Version": "2018-03-01", "Timestamp": str(NOW),
              "Nonce": nonce, "SecretId": SECRET_ID}
    params["Signature"] = sign_v1(SECRET_KEY, "POST", "localhost", params)
    return client.post("/", data=params).get_json()["Response"]


def test_a_repeated_v1_nonce_is_accepted_by_default(client):
    assert "LiveCode" in v1_call(client) and "LiveCode" in v1_call(client)


@pytest.mark.parametrize("where", ["server", "app"])
def test_nonce_replay_check_refuses_a_repeated_v1_nonce(clock, where):
    from mockface.core.config import App
    from mockface.emulator import Emulator
    from mockface.web.app import create_app

    from .support import make_settings

    settings = make_settings(nonce_replay_check=True) if where == "server" else \
        make_settings(apps=(App(MAIN.appid, dict(MAIN.secrets), nonce_replay_check=True),))
    client = create_app(emulator=Emulator(settings, clock)).test_client()
    assert "LiveCode" in v1_call(client)
    replay = v1_call(client)
    assert replay["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert "LiveCode" in v1_call(client, nonce="43")



def test_the_journal_keeps_summaries_of_the_best_frames(client, emulator):
    import hashlib
    from pathlib import Path

    photo = (Path(__file__).resolve().parent.parent / "mockface" / "data" / "photo.jpg"
             ).read_bytes()
    api3(client, "Liveness", {"VideoBase64": VIDEO, "LivenessType": "SILENT",
                              "Optional": json.dumps({"BestFrameNum": 3})})
    data = emulator.journal.query()[-1].data
    summary = {"size": len(photo), "sha256": hashlib.sha256(photo).hexdigest(), "type": "jpeg",
               "width": 96, "height": 128}  # as `file mockface/data/photo.jpg` says
    assert data["BestFrameBase64"] == summary
    assert data["BestFrameList"] == [summary] * 3


def test_a_256_kb_authorization_is_refused_in_linear_time(client, emulator):
    import time
    header = "Credential=" * 23_000  # each a place a searching regex would restart
    started = time.perf_counter()
    answer = client.post("/", data=b"{}", headers={
        "Authorization": header, "X-TC-Action": "GetLiveCode",
        "Content-Type": "application/json"}).get_json()["Response"]
    elapsed = time.perf_counter() - started
    assert answer["Error"]["Code"] == "AuthFailure.InvalidAuthorization"
    assert elapsed < 5, f"{elapsed:.1f} s (a quadratic scan takes about 30 s)"
    entry = emulator.journal.query()[-1]
    assert (entry.endpoint, entry.signature) == (
        "faceid:GetLiveCode", {"status": "failed", "method": None, "secret_id": None})
