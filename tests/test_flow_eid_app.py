"""The E证通 and app-SDK flows' actions (contract-faceid-flows §1, §4; issue 22 items 2 and
7): GetEidToken, CheckEidTokenStatus, GetEidResult, GetFaceIdToken and GetFaceIdResult,
TC3-signed through Flask's test client on a frozen clock (the 600 s windows and the 3-day
read window passed by advancing it), and once through Tencent's official SDK.  Expected
values come from the contract, the evidence file and the SDK's models, never from the code
under test."""
from __future__ import annotations

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import \
    TencentCloudSDKException

from mockface.products.faceid.flows import flows_of

from .flow_support import (APP_WINDOW, BUILTIN_MERCHANT, EID_WINDOW, IDENTITY, IMAGE,
                           NEVER_ISSUED, OTHER, PUBLIC, READ_WINDOW, RETURNING_MERCHANT, TOKEN,
                           Api, all_null, assert_model, is_image, is_video, sdk_client,
                           sdk_json, sdk_request, sdk_server)
from .support import ID_NAME, ID_NUMBER, NOW, REGISTERED_NAME, REGISTERED_NUMBER

EXPIRED = "InvalidParameterValue.BizTokenExpired"
#: The codes the contract and the SDK allow for "no such token" on the eid and app readers.
UNKNOWN_CODES = ("InvalidParameter", "InvalidParameterValue.BizTokenIllegal")


@pytest.fixture
def api(clock) -> Api:
    return Api(clock)


def eid_token(api: Api, **params) -> str:
    """An EidToken of the built-in merchant (OCR input unless ``params`` say otherwise)."""
    return api.ok("GetEidToken", {"MerchantId": BUILTIN_MERCHANT, **params})["EidToken"]


def status(api: Api, token: str) -> str:
    answer = api.ok("CheckEidTokenStatus", {"EidToken": token})
    assert_model("CheckEidTokenStatusResponse", answer)
    return answer["Status"]


def eid_result(api: Api, token: str, **params) -> dict:
    answer = api.ok("GetEidResult", {"EidToken": token, **params})
    assert_model("GetEidResultResponse", answer)
    return answer


def face_id_token(api: Api, **params) -> str:
    """A FaceIdToken comparing with the authority library (BUSINESS, the identity given)."""
    return api.ok("GetFaceIdToken", {"CompareLib": "BUSINESS", **IDENTITY,
                                     **params})["FaceIdToken"]


def face_id_result(api: Api, token: str, **params) -> dict:
    answer = api.ok("GetFaceIdResult", {"FaceIdToken": token, **params})
    assert_model("GetFaceIdResultResponse", answer)
    return answer


# -- GetEidToken ----------------------------------------------------------------------------

def test_get_eid_token_answers_a_fresh_token_and_a_url_on_mockface(api):
    answer = api.ok("GetEidToken", {"MerchantId": BUILTIN_MERCHANT})
    assert_model("GetEidTokenResponse", answer)
    token = answer["EidToken"]
    assert TOKEN.fullmatch(token) and answer["Url"] == f"{PUBLIC}/h5/eid/{token}"
    record = api.flows.get(token)
    assert (record.flow, record.appid, record.expires_at, record.readable_until) == \
        ("eid", "1000001", NOW + EID_WINDOW, NOW + READ_WINDOW)
    assert eid_token(api) != token


def test_get_eid_token_needs_a_known_merchant(api):
    assert api.code("GetEidToken", {}) == "MissingParameter"
    assert api.code("GetEidToken", {"MerchantId": "0NSJ0000000000000"}) == \
        "InvalidParameterValue.RuleIdNotExist"
    assert TOKEN.fullmatch(eid_token(api, MerchantId=RETURNING_MERCHANT))
    assert api.code("GetEidToken", {"MerchantId": RETURNING_MERCHANT}, app=OTHER) == \
        "InvalidParameterValue.RuleIdNotExist"  # configured for another app


@pytest.mark.parametrize("input_type", ["3", "4"])
@pytest.mark.parametrize("given", [{}, {"IdCard": ID_NUMBER}, {"Name": ID_NAME}])
def test_manual_and_backend_input_need_the_identity(api, input_type, given):
    assert api.code("GetEidToken", {"MerchantId": BUILTIN_MERCHANT, **given,
                                    "Config": {"InputType": input_type}}) == \
        "InvalidParameter"
    assert TOKEN.fullmatch(eid_token(api, Config={"InputType": input_type}, **IDENTITY))


@pytest.mark.parametrize("input_type", [None, "1", "2"])
def test_ocr_input_takes_no_identity(api, input_type):
    config = {} if input_type is None else {"Config": {"InputType": input_type}}
    assert TOKEN.fullmatch(eid_token(api, **config))


@pytest.mark.parametrize("identity", [{"IdCard": "12345", "Name": ID_NAME},
                                      {"IdCard": ID_NUMBER, "Name": "Zhang San"}])
def test_a_malformed_identity_is_an_invalid_value(api, identity):
    assert api.code("GetEidToken", {"MerchantId": BUILTIN_MERCHANT, **identity,
                                    "Config": {"InputType": "4"}}) == "InvalidParameterValue"


@pytest.mark.parametrize("params", [
    {"RedirectUrl": "javascript:alert(1)"}, {"RedirectUrl": "ftp://shop.example/cb"},
    {"RedirectUrl": "https://shop.example/" + "a" * 1004},
    {"Extra": "x" * 1025},
    {"Config": {"InputType": "5"}},
])
def test_unsafe_urls_long_extras_and_unknown_input_types_are_refused(api, params):
    assert api.code("GetEidToken", {"MerchantId": BUILTIN_MERCHANT, **params}) == \
        "InvalidParameterValue"


def test_a_redirect_url_and_extra_at_their_limits_are_taken(api):
    url = "https://shop.example/" + "a" * 1003
    token = eid_token(api, RedirectUrl=url, Extra="e" * 1024)
    assert len(url) == 1024 and api.flows.get(token).data["redirect_url"] == url
    api.complete(token)
    assert eid_result(api, token)["Text"]["Extra"] == "e" * 1024


def test_a_scenario_outcome_issues_an_eid_token_finished(api):
    api.activate("""
rules:
  - endpoint: faceid:GetEidToken
    respond: {outcome: {err_code: 2016}}
""")
    token = eid_token(api)
    assert status(api, token) == "finished"
    assert eid_result(api, token)["Text"]["ErrCode"] == 2016


# -- CheckEidTokenStatus --------------------------------------------------------------------

def test_the_status_goes_init_doing_finished(api, clock):
    token = eid_token(api)
    assert status(api, token) == "init"
    api.open(token)
    assert status(api, token) == "doing"
    clock.advance(EID_WINDOW - 1)
    assert status(api, token) == "doing"
    api.complete(token)
    assert status(api, token) == "finished"
    clock.advance(1)
    assert status(api, token) == "finished"  # a finished token never changes


@pytest.mark.parametrize("opened", [False, True])
def test_an_unfinished_token_times_out_after_600_seconds(api, clock, opened):
    token = eid_token(api)
    if opened:
        api.open(token)
    clock.advance(EID_WINDOW - 1)
    assert status(api, token) == ("doing" if opened else "init")
    clock.advance(1)
    assert status(api, token) == "timeout"


def test_the_status_is_readable_for_three_days(api, clock):
    token = eid_token(api)
    api.complete(token)
    clock.advance(READ_WINDOW - 1)
    assert status(api, token) == "finished"
    clock.advance(1)
    assert api.code("CheckEidTokenStatus", {"EidToken": token}) == EXPIRED


def test_unknown_and_other_apps_tokens_answer_alike(api):
    unknown = api.error("CheckEidTokenStatus", {"EidToken": NEVER_ISSUED})
    assert unknown[0] in UNKNOWN_CODES
    token = eid_token(api)
    assert api.error("CheckEidTokenStatus", {"EidToken": token}, app=OTHER) == unknown
    assert api.code("CheckEidTokenStatus", {"EidToken": "x" * 5000}) in UNKNOWN_CODES
    assert status(api, token) == "init"


# -- GetEidResult ---------------------------------------------------------------------------

def test_an_unfinished_eid_token_reads_null_then_15_or_17(api, clock):
    quiet, opened = eid_token(api), eid_token(api)
    api.open(opened)
    assert all_null(eid_result(api, quiet, InfoType="1")["Text"])
    clock.advance(EID_WINDOW)
    assert eid_result(api, quiet, InfoType="1")["Text"]["ErrCode"] == 15
    assert eid_result(api, opened, InfoType="1")["Text"]["ErrCode"] == 17


def test_a_finished_eid_result_hides_the_name_and_number(api, clock):
    token = eid_token(api, Config={"InputType": "4"}, Extra="order 7", **IDENTITY)
    clock.advance(20)
    api.complete(token)
    answer = eid_result(api, token, InfoType="1")
    text = answer["Text"]
    assert (text["ErrCode"], text["ErrMsg"], text["Extra"]) == (0, "成功", "order 7")
    assert (text["Name"], text["IdCard"]) == ("", "")
    assert 80 <= float(text["Sim"]) < 100
    [detail] = text["LivenessDetail"]
    assert (detail["Errcode"], detail["ReqTime"]) == (0, str((NOW + 20) * 1000))
    assert answer["EidInfo"] is None


def test_eid_info_comes_only_for_a_merchant_that_returns_the_identity(api):
    token = eid_token(api, MerchantId=RETURNING_MERCHANT)
    api.complete(token, identity=IDENTITY)
    info = eid_result(api, token)["EidInfo"]
    assert set(info) == {"EidCode", "EidSign", "DesKey", "UserInfo"}
    assert all(isinstance(value, str) and value for value in info.values())
    plain = eid_token(api)
    api.complete(plain)
    assert eid_result(api, plain)["EidInfo"] is None


def test_eid_result_lists_each_attempt(api):
    token = eid_token(api)
    api.complete(token, attempts=[{"err_code": 1004}, {"err_code": 0}])
    details = eid_result(api, token, InfoType="1")["Text"]["LivenessDetail"]
    assert [d["Errcode"] for d in details] == [1004, 0]
    assert [d["IsNeedCharge"] for d in details] == [False, True]


def test_a_pass_on_eid_for_an_identity_the_registry_refuses_is_2006(api):
    token = eid_token(api, Config={"InputType": "4"}, IdCard=REGISTERED_NUMBER, Name=ID_NAME)
    api.complete(token)
    assert eid_result(api, token)["Text"]["ErrCode"] == 2006
    right = eid_token(api, Config={"InputType": "4"}, IdCard=REGISTERED_NUMBER,
                      Name=REGISTERED_NAME)
    api.complete(right)
    assert eid_result(api, right)["Text"]["ErrCode"] == 0


@pytest.mark.parametrize("info_type, filled", [
    ("1", {"Text"}), ("2", {"IdCardData"}), ("3", {"BestFrame"}),
    ("0", {"Text", "IdCardData", "BestFrame"}),
])
def test_eid_result_blocks_follow_info_type(api, info_type, filled):
    token = eid_token(api)
    api.complete(token)
    answer = eid_result(api, token, InfoType=info_type)
    for block in ("Text", "IdCardData", "BestFrame"):
        assert all_null(answer[block]) == (block not in filled), block
    if "IdCardData" in filled:
        assert is_image(answer["IdCardData"]["OcrFront"])
    if "BestFrame" in filled:
        assert is_image(answer["BestFrame"]["BestFrame"])


def test_eid_best_frames_are_at_most_3(api):
    """The SDK's model: "最大为3，超出3的最多只给3张" (over 3 gives at most 3)."""
    token = eid_token(api)
    api.complete(token)
    frames = eid_result(api, token, InfoType="3", BestFramesCount=2)["BestFrame"]
    assert len(frames["BestFrames"]) == 2
    frames = eid_result(api, token, InfoType="3", BestFramesCount=4)["BestFrame"]
    assert len(frames["BestFrames"]) == 3
    assert api.code("GetEidResult", {"EidToken": token, "InfoType": "3",
                                     "BestFramesCount": -1}) == "InvalidParameterValue"


def test_an_eid_intention_in_the_config_is_verified(api):
    token = eid_token(api, Config={"UseIntentionVerify": True, "IntentionMode": "2",
                                   "IntentionQuestions": [{"Question": "是否本人？",
                                                           "Answers": ["是"]}]})
    api.complete(token)
    answer = eid_result(api, token)
    assert (answer["IsVerifyIntention"], answer["IntentionVerifyType"]) == (True, "0")
    assert answer["IntentionQuestionResult"]["FinalResultCode"] == "0"
    plain = eid_token(api)
    api.complete(plain)
    assert (eid_result(api, plain)["IsVerifyIntention"],
            eid_result(api, plain)["IntentionVerifyType"]) == (False, "")


def test_tokens_of_other_flows_are_unknown_to_the_eid_and_app_readers(api):
    biz = api.ok("DetectAuth", {"RuleId": "1", **IDENTITY})["BizToken"]
    app, eid = face_id_token(api), eid_token(api)
    for token in (biz, app, eid):
        api.complete(token)
    for action, field, token in (("CheckEidTokenStatus", "EidToken", biz),
                                 ("CheckEidTokenStatus", "EidToken", app),
                                 ("GetEidResult", "EidToken", app),
                                 ("GetFaceIdResult", "FaceIdToken", biz),
                                 ("GetFaceIdResult", "FaceIdToken", eid)):
        assert api.code(action, {field: token}) in UNKNOWN_CODES, (action, token)


def test_eid_result_is_readable_for_three_days_and_only_by_its_app(api, clock):
    token = eid_token(api)
    api.complete(token)
    unknown = api.error("GetEidResult", {"EidToken": NEVER_ISSUED})
    assert unknown[0] in UNKNOWN_CODES
    assert api.error("GetEidResult", {"EidToken": token}, app=OTHER) == unknown
    clock.advance(READ_WINDOW - 1)
    assert eid_result(api, token)["Text"]["ErrCode"] == 0
    clock.advance(1)
    assert api.code("GetEidResult", {"EidToken": token}) == EXPIRED


# -- GetFaceIdToken -------------------------------------------------------------------------

def test_get_face_id_token_answers_a_token_and_a_client_config_without_a_url(api):
    answer = api.ok("GetFaceIdToken", {"CompareLib": "BUSINESS", **IDENTITY})
    assert_model("GetFaceIdTokenResponse", answer)
    assert set(answer) == {"FaceIdToken", "ClientConfig", "RequestId"}
    token = answer["FaceIdToken"]
    assert TOKEN.fullmatch(token)
    assert isinstance(answer["ClientConfig"], str) and answer["ClientConfig"]
    record = api.flows.get(token)
    assert (record.flow, record.appid, record.expires_at, record.readable_until) == \
        ("app", "1000001", NOW + APP_WINDOW, NOW + READ_WINDOW)
    assert face_id_token(api) != token


@pytest.mark.parametrize("params", [
    {"CompareLib": "LOCAL"}, {"CompareLib": "LOCAL", **IDENTITY},
    {"CompareLib": "BUSINESS"}, {"CompareLib": "BUSINESS", "IdCard": ID_NUMBER},
    {"CompareLib": "BUSINESS", "Name": ID_NAME}, {"CompareLib": "BUSINESS", "ImageBase64": IMAGE},
])
def test_each_compare_library_needs_its_inputs(api, params):
    assert api.code("GetFaceIdToken", params) == "InvalidParameter"


def test_the_compare_library_is_required_and_one_of_two(api):
    assert api.code("GetFaceIdToken", IDENTITY) == "MissingParameter"
    assert api.code("GetFaceIdToken", {"CompareLib": "OTHER", **IDENTITY}) == \
        "InvalidParameterValue"
    assert TOKEN.fullmatch(api.ok("GetFaceIdToken", {"CompareLib": "LOCAL",
                                                     "ImageBase64": IMAGE})["FaceIdToken"])


def test_extra_of_an_app_token_is_at_most_1000_characters(api):
    assert api.code("GetFaceIdToken", {"CompareLib": "BUSINESS", **IDENTITY,
                                       "Extra": "x" * 1001}) == "InvalidParameterValue"
    token = face_id_token(api, Extra="x" * 1000)
    api.complete(token)
    assert face_id_result(api, token)["Extra"] == "x" * 1000


def test_an_image_over_8_mb_is_too_large(api):
    big = "A" * (8 * 1024 * 1024 + 4)
    assert api.code("GetFaceIdToken", {"CompareLib": "LOCAL", "ImageBase64": big}) == \
        "FailedOperation.ImageSizeTooLarge"


def test_a_scenario_outcome_issues_an_app_token_finished(api):
    api.activate("""
rules:
  - endpoint: faceid:GetFaceIdToken
    match: {Extra: scripted}
    respond: {outcome: {err_code: 2016}}
""")
    assert face_id_result(api, face_id_token(api, Extra="scripted"))["Result"] == "2016"
    assert api.code("GetFaceIdResult", {"FaceIdToken": face_id_token(api)}) == \
        "FailedOperation.UnKnown"


# -- GetFaceIdResult ------------------------------------------------------------------------

def test_an_unfinished_app_token_is_failed_operation_unknown_until_its_window_ends(api, clock):
    token = face_id_token(api)
    code, message = api.error("GetFaceIdResult", {"FaceIdToken": token})
    assert code == "FailedOperation.UnKnown" and message
    api.open(token)
    clock.advance(APP_WINDOW - 1)
    assert api.code("GetFaceIdResult", {"FaceIdToken": token}) == "FailedOperation.UnKnown"
    clock.advance(1)
    answer = face_id_result(api, token)
    assert answer["Result"] == "15"
    assert isinstance(answer["Description"], str) and answer["Description"]


def test_a_pass_answers_result_0_field_by_field(api):
    token = face_id_token(api, Extra="order 9")
    outcome = api.complete(token)
    answer = face_id_result(api, token)
    assert (answer["Result"], answer["Description"]) == ("0", "成功")
    assert (answer["IdCard"], answer["Name"], answer["Extra"]) == (ID_NUMBER, ID_NAME,
                                                                   "order 9")
    assert isinstance(answer["Similarity"], float) and 80 <= answer["Similarity"] < 100
    assert answer["Similarity"] == float(outcome["sim"])
    assert (answer["BestFrameBase64"], answer["VideoBase64"]) == (None, None)


def test_best_frame_and_video_come_when_asked(api):
    token = face_id_token(api)
    api.complete(token)
    answer = face_id_result(api, token, IsNeedBestFrame=True, IsNeedVideo=True)
    assert is_image(answer["BestFrameBase64"]) and is_video(answer["VideoBase64"])


@pytest.mark.parametrize("err_code", [2016, 1004, 1007, 18])
def test_a_failure_is_its_code_as_a_string(api, err_code):
    token = face_id_token(api)
    api.complete(token, err_code=err_code)
    answer = face_id_result(api, token)
    assert answer["Result"] == str(err_code)
    assert isinstance(answer["Description"], str) and answer["Description"]


def test_a_pass_for_an_identity_the_registry_refuses_is_2006_on_the_app_flow(api):
    token = face_id_token(api, IdCard=REGISTERED_NUMBER, Name=ID_NAME)
    api.complete(token)
    assert face_id_result(api, token)["Result"] == "2006"


def test_a_finished_app_result_is_read_for_three_days_by_its_app_only(api, clock):
    token = face_id_token(api)
    api.complete(token)
    unknown = api.error("GetFaceIdResult", {"FaceIdToken": NEVER_ISSUED})
    assert unknown[0] in UNKNOWN_CODES
    assert api.error("GetFaceIdResult", {"FaceIdToken": token}, app=OTHER) == unknown
    clock.advance(APP_WINDOW)
    assert face_id_result(api, token)["Result"] == "0"
    clock.advance(READ_WINDOW - APP_WINDOW - 1)
    assert face_id_result(api, token)["Result"] == "0"
    clock.advance(1)
    assert api.code("GetFaceIdResult", {"FaceIdToken": token}) == EXPIRED


def test_a_second_completion_changes_nothing(api):
    token = face_id_token(api)
    api.complete(token, err_code=2016)
    assert api.flows.complete(token, {"err_code": 0})[0] == "already"
    assert face_id_result(api, token)["Result"] == "2016"


@pytest.mark.parametrize("action, field, issue", [
    ("CheckEidTokenStatus", "EidToken", eid_token),
    ("GetEidResult", "EidToken", eid_token),
    ("GetFaceIdResult", "FaceIdToken", face_id_token),
])
def test_an_unfinished_token_is_expired_for_its_reader_after_three_days(api, clock, action,
                                                                        field, issue):
    token = issue(api)
    api.open(token)
    clock.advance(READ_WINDOW - 1)
    assert "Error" not in api(action, {field: token})  # timeout / ErrCode 17 / Result "15"
    clock.advance(1)
    assert api.code(action, {field: token}) == EXPIRED


def test_an_opened_app_token_past_its_window_reads_as_expired(api, clock):
    token = face_id_token(api)
    api.open(token)
    clock.advance(APP_WINDOW)
    assert face_id_result(api, token)["Result"] == "15"


# -- Tencent's SDK end to end ---------------------------------------------------------------

def test_the_sdk_drives_the_eid_and_app_flows():
    with sdk_server() as (server, emulator):
        client, flows = sdk_client(server), flows_of(emulator)
        eid = client.GetEidToken(sdk_request("GetEidToken", MerchantId=BUILTIN_MERCHANT))
        assert eid.Url == f"{PUBLIC}/h5/eid/{eid.EidToken}"
        check = sdk_request("CheckEidTokenStatus", EidToken=eid.EidToken)
        assert client.CheckEidTokenStatus(check).Status == "init"
        assert flows.complete(eid.EidToken, {"err_code": 0, "identity": IDENTITY})[0] == \
            "finished"
        assert client.CheckEidTokenStatus(check).Status == "finished"
        result = client.GetEidResult(sdk_request("GetEidResult", EidToken=eid.EidToken))
        assert_model("GetEidResultResponse", sdk_json(result))
        assert (result.Text.ErrCode, result.Text.Name, result.Text.IdCard, result.EidInfo) == \
            (0, "", "", None)

        app = client.GetFaceIdToken(sdk_request("GetFaceIdToken", CompareLib="BUSINESS",
                                                **IDENTITY))
        read = sdk_request("GetFaceIdResult", FaceIdToken=app.FaceIdToken)
        with pytest.raises(TencentCloudSDKException) as unfinished:
            client.GetFaceIdResult(read)
        assert unfinished.value.get_code() == "FailedOperation.UnKnown"
        assert flows.complete(app.FaceIdToken, {"err_code": 0})[0] == "finished"
        answer = client.GetFaceIdResult(read)
        assert (answer.Result, answer.Description, answer.IdCard) == ("0", "成功", ID_NUMBER)
        assert isinstance(answer.Similarity, float)
