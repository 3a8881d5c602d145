"""The detect flow's actions (contract-faceid-flows §1, §3; issue 22 items 2 and 7):
DetectAuth, GetDetectInfoEnhanced, GetDetectInfo and GetWeChatBillDetails, TC3-signed
through Flask's test client on a frozen clock (the windows passed by advancing it), and
once end to end through Tencent's official SDK.  Expected values come from the contract,
the evidence file and the SDK's models, never from the code under test."""
from __future__ import annotations

import datetime
import json

import pytest

from mockface.products.faceid.flows import flows_of

from .flow_support import (DETECT_WINDOW, IDENTITY, IMAGE, MASKED_NAME, MASKED_NUMBER,
                           NEVER_ISSUED, OTHER, PUBLIC, READ_WINDOW, TOKEN, Api, all_null,
                           assert_model, is_image, is_video, ms, sdk_client, sdk_json,
                           sdk_request, sdk_server)
from .support import ID_NAME, ID_NUMBER, NOW, REGISTERED_NAME, REGISTERED_NUMBER

ILLEGAL = ("InvalidParameter", "非法BizToken。")
BLOCKS = ("IdCardData", "BestFrame", "VideoData")
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def api(clock) -> Api:
    return Api(clock)


def detect_auth(api: Api, **params) -> str:
    """A BizToken of RuleId "1" (the identity passed in) unless ``params`` say otherwise."""
    return api.ok("DetectAuth", {"RuleId": "1", **IDENTITY, **params})["BizToken"]


def enhanced(api: Api, token: str, rule_id: str = "1", **params) -> dict:
    return api.ok("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": rule_id, **params})


def text_of(api: Api, token: str, rule_id: str = "1") -> dict:
    return enhanced(api, token, rule_id, InfoType="1")["Text"]


# -- DetectAuth -----------------------------------------------------------------------------

def test_detect_auth_answers_a_fresh_token_and_a_url_on_mockface(api):
    answer = api.ok("DetectAuth", {"RuleId": "1", **IDENTITY})
    assert_model("DetectAuthResponse", answer)
    token = answer["BizToken"]
    assert TOKEN.fullmatch(token)
    assert answer["Url"] == f"{PUBLIC}/h5/detect/{token}"
    assert detect_auth(api) != token  # never derived from the request


def test_detect_auth_issues_a_detect_token_of_the_calling_app(api):
    token = detect_auth(api, Extra="order 42")
    record = api.flows.get(token)
    assert (record.flow, record.appid, record.state) == ("detect", "1000001", "issued")
    assert (record.expires_at, record.readable_until) == (NOW + DETECT_WINDOW,
                                                          NOW + READ_WINDOW)


@pytest.mark.parametrize("rule_id, code", [
    ("99", "InvalidParameterValue.RuleIdNotExist"),
    ("5", "InvalidParameterValue.RuleIdDisabled"),
])
def test_detect_auth_refuses_unknown_and_disabled_rules(api, rule_id, code):
    assert api.code("DetectAuth", {"RuleId": rule_id, **IDENTITY}) == code


def test_detect_auth_needs_a_rule_id(api):
    assert api.code("DetectAuth", IDENTITY) == "MissingParameter"


@pytest.mark.parametrize("given", [{}, {"IdCard": ID_NUMBER}, {"Name": ID_NAME}])
def test_a_rule_that_needs_the_identity_refuses_a_call_without_it(api, given):
    assert api.code("DetectAuth", {"RuleId": "1", **given}) == "InvalidParameter"
    assert api.code("DetectAuth", {"RuleId": "3", **given}) == "InvalidParameter"


def test_an_ocr_rule_takes_no_identity(api):
    assert TOKEN.fullmatch(api.ok("DetectAuth", {"RuleId": "2"})["BizToken"])
    assert TOKEN.fullmatch(api.ok("DetectAuth", {"RuleId": "4"})["BizToken"])


@pytest.mark.parametrize("identity", [
    {"IdCard": ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"), "Name": ID_NAME},
    {"IdCard": "12345", "Name": ID_NAME},
    {"IdCard": ID_NUMBER, "Name": "Zhang San"},
    {"IdCard": ID_NUMBER, "Name": "张" * 33},
])
def test_a_malformed_id_number_or_name_is_an_invalid_value(api, identity):
    assert api.code("DetectAuth", {"RuleId": "1", **identity}) == "InvalidParameterValue"


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "ftp://shop.example/cb", "//shop.example/cb", "shop.example/cb",
    "data:text/html,<script>alert(1)</script>",
    "https://shop.example/" + "a" * (1025 - len("https://shop.example/")),
])
def test_an_unsafe_or_too_long_redirect_url_is_refused_at_issue(api, url):
    assert api.code("DetectAuth", {"RuleId": "1", **IDENTITY, "RedirectUrl": url}) == \
        "InvalidParameterValue"


def test_a_redirect_url_of_1024_characters_is_taken(api):
    url = "https://shop.example/cb?" + "a" * (1024 - len("https://shop.example/cb?"))
    token = detect_auth(api, RedirectUrl=url)
    assert api.flows.get(token).data["redirect_url"] == url


def test_extra_is_at_most_1024_characters(api):
    assert api.code("DetectAuth", {"RuleId": "1", **IDENTITY, "Extra": "x" * 1025}) == \
        "InvalidParameterValue"
    token = detect_auth(api, Extra="é" * 1024)
    api.complete(token)
    assert text_of(api, token)["Extra"] == "é" * 1024


def test_an_image_over_3_mb_or_not_base64_is_refused(api):
    for image in ("A" * (3 * 1024 * 1024 + 4), "not base64!"):
        assert api.code("DetectAuth", {"RuleId": "1", **IDENTITY, "ImageBase64": image}) in \
            ("InvalidParameterValue", "FailedOperation.ImageSizeTooLarge")


@pytest.mark.parametrize("params", [
    {"IntentionVerifyText": "读" * 121},
    {"IntentionQuestions": [{"Question": "同意吗", "Answers": ["同意"]}] * 11},
    {"IntentionQuestions": [{"Question": "问" * 251, "Answers": ["同意"]}]},
    {"IntentionQuestions": [{"Question": "同意吗", "Answers": ["是"] * 51}]},
    {"IntentionQuestions": [{"Question": "同意吗", "Answers": ["同" * 11]}]},
    {"IntentionActions": [{"Text": "请点头"}] * 11},
    {"IntentionActions": [{"Text": "点" * 251}]},
    {"Config": {"Speed": 4}},
    {"Config": {"IntentionType": 7}},
])
def test_intention_sizes_and_counts_are_checked(api, params):
    assert api.code("DetectAuth", {"RuleId": "1", **IDENTITY, **params}) in \
        ("InvalidParameter", "InvalidParameterValue")


def test_intention_settings_within_their_limits_are_taken(api):
    answer = api("DetectAuth", {
        "RuleId": "1", **IDENTITY, "IntentionVerifyText": "读" * 120,
        "IntentionQuestions": [{"Question": "问" * 250, "Answers": ["同" * 10] * 50}] * 10,
        "Config": {"IntentionRecognition": True, "IntentionType": 0, "Speed": 3,
                   "MouthOpenRecognition": False}})
    assert "Error" not in answer and TOKEN.fullmatch(answer["BizToken"])


def test_a_scenario_outcome_issues_the_token_finished(api):
    api.activate("""
rules:
  - endpoint: faceid:DetectAuth
    match: {Extra: scripted}
    respond: {outcome: {err_code: 2016}}
""")
    token = detect_auth(api, Extra="scripted")
    assert api.flows.get(token).state == "finished"
    text = text_of(api, token)
    assert (text["ErrCode"], text["ErrMsg"]) == (2016, "无法判断为同一人（相似度未达到通过阈值）")
    assert api.flows.complete(token, {"err_code": 0})[0] == "already"
    assert api.flows.get(detect_auth(api, Extra="other")).state == "issued"


# -- GetDetectInfoEnhanced: the token's life ------------------------------------------------

def test_an_unfinished_token_reads_as_every_text_member_null(api, clock):
    token = detect_auth(api)
    answer = enhanced(api, token)
    assert_model("GetDetectInfoEnhancedResponse", answer)
    assert all_null(answer["Text"])
    api.open(token)
    clock.advance(DETECT_WINDOW - 1)
    assert all_null(text_of(api, token))


@pytest.mark.parametrize("opened, err_code", [(False, 15), (True, 17)])
def test_an_unfinished_token_past_its_window_reads_15_or_17_if_opened(api, clock, opened,
                                                                       err_code):
    token = detect_auth(api)
    if opened:
        api.open(token)
    clock.advance(DETECT_WINDOW)
    answer = enhanced(api, token, InfoType="1")
    assert_model("GetDetectInfoEnhancedResponse", answer)
    assert answer["Text"]["ErrCode"] == err_code
    assert api.flows.complete(token, {"err_code": 0})[0] == "expired"


def test_a_finished_token_reads_the_same_for_three_days_then_biz_token_expired(api, clock):
    token = detect_auth(api)
    clock.advance(DETECT_WINDOW - 1)
    api.complete(token)
    first = text_of(api, token)
    assert first["ErrCode"] == 0
    clock.advance(READ_WINDOW - DETECT_WINDOW)  # one second before the read window ends
    assert text_of(api, token) == first
    clock.advance(1)
    assert api.code("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"}) == \
        "InvalidParameterValue.BizTokenExpired"


def test_an_unfinished_token_reads_biz_token_expired_after_three_days(api, clock):
    token = detect_auth(api)
    clock.advance(READ_WINDOW)
    assert api.code("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"}) == \
        "InvalidParameterValue.BizTokenExpired"
    assert api.code("GetDetectInfo", {"BizToken": token, "RuleId": "1"}) == \
        "InvalidParameterValue.BizTokenExpired"


@pytest.mark.parametrize("token", [NEVER_ISSUED, "garbage", "x" * 5000, "<script>"])
def test_an_unknown_token_is_an_illegal_biz_token(api, token):
    assert api.error("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"}) == ILLEGAL
    assert api.error("GetDetectInfo", {"BizToken": token, "RuleId": "1"}) == ILLEGAL


def test_another_apps_token_is_an_illegal_biz_token(api):
    token = detect_auth(api)
    api.complete(token)
    assert api.error("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"},
                     app=OTHER) == ILLEGAL
    assert api.error("GetDetectInfo", {"BizToken": token, "RuleId": "1"}, app=OTHER) == \
        ILLEGAL
    assert text_of(api, token)["ErrCode"] == 0  # still its own app's


def test_the_rule_id_must_exist_and_be_the_tokens(api):
    token = detect_auth(api)
    assert api.code("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "99"}) == \
        "InvalidParameterValue.RuleIdNotExist"
    assert api.code("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "3"}) == \
        "InvalidParameter"
    assert api.code("GetDetectInfo", {"BizToken": token, "RuleId": "3"}) == \
        "InvalidParameter"
    assert api.code("GetDetectInfoEnhanced", {"BizToken": token}) == "MissingParameter"


# -- GetDetectInfoEnhanced: the finished answer ---------------------------------------------

def test_a_pass_fills_text_field_by_field(api, clock):
    token = detect_auth(api, Extra="order 42")
    clock.advance(100)
    api.complete(token)
    answer = enhanced(api, token, InfoType="1")
    assert_model("GetDetectInfoEnhancedResponse", answer)
    text = answer["Text"]
    assert (text["ErrCode"], text["ErrMsg"]) == (0, "成功")
    assert (text["IdCard"], text["Name"], text["Extra"], text["Mobile"]) == \
        (ID_NUMBER, ID_NAME, "order 42", "")
    assert (text["LiveStatus"], text["Comparestatus"]) == (0, 0)
    assert 80 <= float(text["Sim"]) < 100 and len(text["Sim"].split(".")[1]) == 2
    assert (text["LivenessMode"], text["CompareLibType"]) == (3, "权威库")
    [detail] = text["LivenessDetail"]
    assert (detail["Errcode"], detail["Livestatus"], detail["Comparestatus"]) == (0, 0, 0)
    assert (detail["ReqTime"], detail["IsNeedCharge"], detail["Sim"]) == \
        (ms(NOW + 100), True, text["Sim"])
    assert (detail["Idcard"], detail["Name"], detail["CompareLibType"],
            detail["LivenessMode"]) == (ID_NUMBER, ID_NAME, "权威库", 3)
    assert (answer["IsVerifyIntention"], answer["IntentionVerifyType"]) == (False, "")


def test_a_completion_through_the_admin_route_is_what_the_reader_answers(api):
    token = detect_auth(api)
    response = api.client.post(f"/__mockface/verifications/{token}/complete",
                               json={"attempts": [{"err_code": 1004}, {"err_code": 2016}],
                                     "sim": "41.50"})
    assert response.status_code == 200
    text = text_of(api, token)
    assert (text["ErrCode"], text["Sim"], text["Comparestatus"]) == (2016, "41.50", 2016)
    assert [d["Errcode"] for d in text["LivenessDetail"]] == [1004, 2016]


def test_sim_is_deterministic_from_the_identity_and_the_seed(clock):
    first, second = Api(clock), Api(clock)
    tokens = [detect_auth(first), detect_auth(second)]
    first.complete(tokens[0])
    second.complete(tokens[1])
    assert text_of(first, tokens[0])["Sim"] == text_of(second, tokens[1])["Sim"]
    other = Api(clock, seed=7)
    token = detect_auth(other)
    other.complete(token)
    assert 80 <= float(text_of(other, token)["Sim"]) < 100


def test_liveness_detail_has_one_entry_per_attempt_with_its_code_and_charge(api, clock):
    token = detect_auth(api)
    clock.advance(30)
    api.complete(token, attempts=[{"err_code": 1004}, {"err_code": 2016}, {"err_code": 0}])
    text = text_of(api, token)
    details = text["LivenessDetail"]
    assert [d["Errcode"] for d in details] == [1004, 2016, 0]
    assert [d["IsNeedCharge"] for d in details] == [False, True, True]
    assert [d["Comparestatus"] for d in details][1] == 2016
    assert all(len(d["ReqTime"]) == 13 and d["ReqTime"].isdigit() for d in details)
    times = [int(d["ReqTime"]) for d in details]
    assert NOW * 1000 <= times[0] and times == sorted(times)
    assert times[-1] == (NOW + 30) * 1000
    assert len({d["Seq"] for d in details}) == 3
    assert text["ErrCode"] == 0


@pytest.mark.parametrize("err_code", [1004, 2016, 2006, 303, 1101])
def test_a_failure_code_is_the_final_err_code(api, err_code):
    token = detect_auth(api)
    api.complete(token, err_code=err_code)
    text = text_of(api, token)
    assert text["ErrCode"] == err_code and isinstance(text["ErrMsg"], str) and text["ErrMsg"]
    assert [d["Errcode"] for d in text["LivenessDetail"]] == [err_code]


def test_a_pass_for_an_identity_the_registry_refuses_is_2006(api):
    token = detect_auth(api, IdCard=REGISTERED_NUMBER, Name=ID_NAME)
    api.complete(token)
    text = text_of(api, token)
    assert (text["ErrCode"], text["ErrMsg"]) == (2006, "姓名和身份证号不匹配")
    right = detect_auth(api, IdCard=REGISTERED_NUMBER, Name=REGISTERED_NAME)
    api.complete(right)
    assert text_of(api, right)["ErrCode"] == 0


@pytest.mark.parametrize("rule_id, mode", [("1", 3), ("3", 1), ("4", 2), ("2", 3)])
def test_liveness_mode_follows_the_rule(api, rule_id, mode):
    params = {"RuleId": rule_id, **({} if rule_id in ("2", "4") else IDENTITY)}
    token = api.ok("DetectAuth", params)["BizToken"]
    api.complete(token)
    assert text_of(api, token, rule_id)["LivenessMode"] == mode


def test_an_image_given_to_detect_auth_makes_the_compare_library_the_callers(api):
    token = detect_auth(api, ImageBase64=IMAGE)
    api.complete(token)
    text = text_of(api, token)
    assert text["CompareLibType"] == "业务方自有库"
    assert text["LivenessDetail"][0]["CompareLibType"] == "业务方自有库"


def test_an_ocr_rule_answers_the_identity_read_from_the_card(api):
    token = api.ok("DetectAuth", {"RuleId": "2"})["BizToken"]
    api.complete(token, identity=IDENTITY)
    text = text_of(api, token, "2")
    assert (text["OcrIdCard"], text["OcrName"], text["ErrCode"]) == (ID_NUMBER, ID_NAME, 0)


# -- InfoType blocks ------------------------------------------------------------------------

@pytest.fixture
def finished(api) -> str:
    token = detect_auth(api)
    api.complete(token)
    return token


def test_info_type_0_fills_every_block(api, finished):
    answer = enhanced(api, finished, InfoType="0")
    assert_model("GetDetectInfoEnhancedResponse", answer)
    assert answer["Text"]["ErrCode"] == 0
    assert is_image(answer["IdCardData"]["OcrFront"]) and \
        is_image(answer["IdCardData"]["OcrBack"])
    assert is_image(answer["BestFrame"]["BestFrame"])
    assert is_video(answer["VideoData"]["LivenessVideo"])
    assert enhanced(api, finished)["VideoData"] == answer["VideoData"]  # "0" is the default


@pytest.mark.parametrize("info_type, filled", [
    ("1", {"Text"}), ("2", {"IdCardData"}), ("3", {"BestFrame"}), ("4", {"VideoData"}),
    ("13", {"Text", "BestFrame"}), ("24", {"IdCardData", "VideoData"}),
])
def test_unrequested_blocks_are_present_with_null_members(api, finished, info_type, filled):
    answer = enhanced(api, finished, InfoType=info_type)
    assert_model("GetDetectInfoEnhancedResponse", answer)
    for block in ("Text",) + BLOCKS:
        assert all_null(answer[block]) == (block not in filled), block


def test_the_card_block_adds_the_avatar_only_when_asked(api, finished):
    plain = enhanced(api, finished, InfoType="2")["IdCardData"]
    assert plain["Avatar"] is None
    avatar = enhanced(api, finished, InfoType="2", IsNeedIdCardAvatar=True)["IdCardData"]
    assert is_image(avatar["Avatar"])


def test_the_card_block_adds_the_cut_images_only_when_asked(api, finished):
    plain = enhanced(api, finished, InfoType="2")["IdCardData"]
    assert (plain["ProcessedFrontImage"], plain["ProcessedBackImage"]) == (None, None)
    cut = enhanced(api, finished, InfoType="2", IsCutIdCardImage=True)["IdCardData"]
    assert is_image(cut["ProcessedFrontImage"]) and is_image(cut["ProcessedBackImage"])


@pytest.mark.parametrize("count", [1, 3, 10])
def test_best_frames_count_gives_that_many_frames(api, finished, count):
    frames = enhanced(api, finished, InfoType="3", BestFramesCount=count)["BestFrame"]
    assert len(frames["BestFrames"]) == count and all(map(is_image, frames["BestFrames"]))


def test_more_than_10_best_frames_give_10(api, finished):
    """The SDK's model: "超出10的最多只给10张" (over 10 gives at most 10), not an error."""
    frames = enhanced(api, finished, InfoType="3", BestFramesCount=11)["BestFrame"]
    assert len(frames["BestFrames"]) == 10


@pytest.mark.parametrize("params", [{"InfoType": "9"}, {"InfoType": "1x"},
                                    {"BestFramesCount": -1}])
def test_info_type_digits_and_frame_counts_are_checked(api, finished, params):
    assert api.code("GetDetectInfoEnhanced", {"BizToken": finished, "RuleId": "1",
                                              **params}) == "InvalidParameterValue"


def test_a_token_of_another_flow_is_an_illegal_biz_token(api):
    eid = api.ok("GetEidToken", {"MerchantId": "0NSJ2106111700001"})["EidToken"]
    app = api.ok("GetFaceIdToken", {"CompareLib": "BUSINESS", **IDENTITY})["FaceIdToken"]
    for token in (eid, app):
        api.complete(token)
        assert api.error("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"}) == \
            ILLEGAL
        assert api.error("GetDetectInfo", {"BizToken": token, "RuleId": "1"}) == ILLEGAL


# -- intention (意愿核身) ---------------------------------------------------------------------

QUESTIONS = [{"Question": "您是否本人办理？", "Answers": ["是", "是的"]},
             {"Question": "您是否同意？", "Answers": ["同意"]}]


@pytest.mark.parametrize("params, kind, block", [
    ({"IntentionQuestions": QUESTIONS}, "0", "IntentionQuestionResult"),
    ({"IntentionActions": [{"Text": "请点头确认"}], "Config": {"IntentionType": 1}}, "1",
     "IntentionActionResult"),
    ({"IntentionVerifyText": "本人自愿办理"}, "2", "IntentionVerifyData"),
])
def test_an_intention_passes_unless_scripted(api, params, kind, block):
    token = detect_auth(api, **params)
    api.complete(token)
    answer = enhanced(api, token)
    assert_model("GetDetectInfoEnhancedResponse", answer)
    assert (answer["IsVerifyIntention"], answer["IntentionVerifyType"]) == (True, kind)
    others = {"IntentionQuestionResult", "IntentionActionResult", "IntentionVerifyData"}
    assert all(answer[name] is None for name in others - {block})
    passed = answer[block]
    if block == "IntentionVerifyData":
        assert passed["ErrorCode"] == 0
    else:
        assert passed["FinalResultDetailCode"] == 0
    if block == "IntentionQuestionResult":
        assert passed["FinalResultCode"] == "0" and len(passed["ResultCode"]) == 2
    failed = detect_auth(api, **params)
    api.complete(failed, intention_code=-301)
    result = enhanced(api, failed)[block]
    assert (result["ErrorCode"] if block == "IntentionVerifyData"
            else result["FinalResultDetailCode"]) == -301
    assert enhanced(api, failed)["Text"]["ErrCode"] == 0  # Text excludes the intention


# -- GetDetectInfo --------------------------------------------------------------------------

@pytest.mark.parametrize("info_type, blocks", [
    ("1", {"Text"}), ("12", {"Text", "IdCardData"}), ("3", {"BestFrame"}),
    ("0", {"Text", "IdCardData", "BestFrame", "VideoData"}),
])
def test_get_detect_info_answers_only_the_requested_blocks_as_a_json_string(
        api, finished, info_type, blocks):
    answer = api.ok("GetDetectInfo", {"BizToken": finished, "RuleId": "1",
                                      "InfoType": info_type})
    assert_model("GetDetectInfoResponse", answer)
    info = json.loads(answer["DetectInfo"])
    assert set(info) == blocks


def test_get_detect_info_carries_the_same_result_as_enhanced(api, finished):
    info = json.loads(api.ok("GetDetectInfo", {"BizToken": finished, "RuleId": "1",
                                               "InfoType": "0"})["DetectInfo"])
    text = text_of(api, finished)
    for name in ("ErrCode", "ErrMsg", "IdCard", "Name", "Sim", "Extra", "LiveStatus",
                 "Comparestatus"):
        assert info["Text"][name] == text[name], name
    assert is_image(info["IdCardData"]["OcrFront"]) and is_image(info["BestFrame"]["BestFrame"])
    assert is_video(info["VideoData"]["LivenessVideo"])


def test_get_detect_info_of_an_unfinished_token_has_a_null_err_code(api):
    token = detect_auth(api)
    info = json.loads(api.ok("GetDetectInfo", {"BizToken": token, "RuleId": "1",
                                               "InfoType": "1"})["DetectInfo"])
    assert set(info) == {"Text"} and info["Text"]["ErrCode"] is None


# -- GetWeChatBillDetails -------------------------------------------------------------------

def bill(api: Api, date: str, cursor: int = 0, **params) -> dict:
    answer = api.ok("GetWeChatBillDetails", {"Date": date, "Cursor": cursor, **params})
    assert_model("GetWeChatBillDetailsResponse", answer)
    return answer


def billed_tokens(api: Api, date: str, **params) -> list[str]:
    """Every BizToken of ``date``'s bill, following NextCursor page by page."""
    tokens, cursor = [], 0
    while True:
        page = bill(api, date, cursor, **params)
        tokens += [detail["BizToken"] for detail in page["WeChatBillDetails"]]
        if not page["HasNextPage"]:
            return tokens
        cursor = page["NextCursor"]


def test_the_bill_lists_finished_billed_tokens_field_by_field(api, clock):
    token = detect_auth(api)
    clock.advance(60)
    api.complete(token)
    page = bill(api, "2027-01-15")  # NOW is 16:00 in Beijing on 2027-01-15
    assert page["HasNextPage"] is False
    [detail] = page["WeChatBillDetails"]
    assert (detail["BizToken"], detail["RuleId"], detail["ChargeCount"]) == (token, "1", 1)
    [charge] = detail["ChargeDetails"]
    assert (charge["IdCard"], charge["Name"], charge["IsNeedCharge"]) == \
        (MASKED_NUMBER, MASKED_NAME, True)
    assert (charge["ErrorCode"], charge["ReqTime"]) == ("0", ms(NOW + 60))
    assert charge["Sim"] == text_of(api, token)["Sim"]


@pytest.mark.parametrize("err_code, listed", [(0, True), (2006, True), (2016, True),
                                               (1004, False), (303, False), (15, False)])
def test_only_billed_codes_are_on_the_bill(api, err_code, listed):
    token = detect_auth(api)
    api.complete(token, err_code=err_code)
    assert billed_tokens(api, "2027-01-15") == ([token] if listed else [])


def test_the_bill_leaves_out_unfinished_other_flows_and_other_apps(api):
    detect_auth(api)  # never finished
    eid = api.ok("GetEidToken", {"MerchantId": "0NSJ2106111700001"})["EidToken"]
    api.complete(eid)
    foreign = api.ok("DetectAuth", {"RuleId": "1", **IDENTITY}, app=OTHER)["BizToken"]
    api.complete(foreign)
    assert billed_tokens(api, "2027-01-15") == []
    assert api.ok("GetWeChatBillDetails", {"Date": "2027-01-15", "Cursor": 0},
                  app=OTHER)["WeChatBillDetails"][0]["BizToken"] == foreign


def test_a_day_of_the_bill_is_a_day_in_beijing(api, clock):
    clock.advance(8 * 3600 - 1)  # 23:59:59 in Beijing
    late = detect_auth(api)
    api.complete(late)
    clock.advance(1)  # midnight in Beijing, 16:00 UTC
    early = detect_auth(api)
    api.complete(early)
    assert billed_tokens(api, "2027-01-15") == [late]
    assert billed_tokens(api, "2027-01-16") == [early]  # readable the same day
    assert billed_tokens(api, "2027-01-14") == []


def test_the_bill_is_filtered_by_rule_id(api):
    first, third = detect_auth(api), detect_auth(api, RuleId="3")
    api.complete(first)
    api.complete(third)
    assert billed_tokens(api, "2027-01-15", RuleId="3") == [third]
    assert billed_tokens(api, "2027-01-15", RuleId="1") == [first]
    assert sorted(billed_tokens(api, "2027-01-15")) == sorted([first, third])
    assert api.code("GetWeChatBillDetails", {"Date": "2027-01-15", "Cursor": 0,
                                             "RuleId": "99"}) == \
        "InvalidParameterValue.RuleIdNotExist"


def test_the_bill_comes_in_pages_of_50(api):
    tokens = [detect_auth(api) for _ in range(120)]
    for token in tokens:
        api.complete(token)
    sizes, cursor, seen = [], 0, []
    while True:
        page = bill(api, "2027-01-15", cursor)
        sizes.append(len(page["WeChatBillDetails"]))
        seen += [d["BizToken"] for d in page["WeChatBillDetails"]]
        if not page["HasNextPage"]:
            break
        cursor = page["NextCursor"]
    assert sizes == [50, 50, 20]
    assert sorted(seen) == sorted(tokens)


def test_the_bill_reads_back_365_days(api):
    assert bill(api, "2026-01-15")["WeChatBillDetails"] == []
    assert api.code("GetWeChatBillDetails", {"Date": "2026-01-14", "Cursor": 0}) in \
        ("InvalidParameter", "InvalidParameterValue")


@pytest.mark.parametrize("params", [{"Date": "2027/01/15", "Cursor": 0},
                                    {"Date": "2027-02-30", "Cursor": 0},
                                    {"Date": "2027-01-15", "Cursor": -1}])
def test_a_malformed_date_or_cursor_is_refused(api, params):
    assert api.code("GetWeChatBillDetails", params) in ("InvalidParameter",
                                                         "InvalidParameterValue")


# -- on Redis ------------------------------------------------------------------------------

def test_the_readers_answer_the_same_with_the_tokens_on_redis(clock, redis_server):
    api = Api(clock, state_url=redis_server.url())
    token, quiet = detect_auth(api, Extra="on redis"), detect_auth(api)
    assert all_null(text_of(api, token))
    api.complete(token, err_code=2016)
    text = text_of(api, token)
    assert (text["ErrCode"], text["Extra"], len(text["LivenessDetail"])) == (2016, "on redis", 1)
    assert api.error("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"},
                     app=OTHER) == ILLEGAL
    assert billed_tokens(api, "2027-01-15") == [token]
    api.clock.advance(DETECT_WINDOW)
    assert text_of(api, quiet)["ErrCode"] == 15
    api.clock.advance(READ_WINDOW - DETECT_WINDOW)
    assert api.code("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1"}) == \
        "InvalidParameterValue.BizTokenExpired"


# -- Tencent's SDK end to end ---------------------------------------------------------------

def test_the_sdk_issues_reads_and_bills_a_detect_token():
    with sdk_server() as (server, emulator):
        client = sdk_client(server)
        issued = client.DetectAuth(sdk_request(
            "DetectAuth", RuleId="1", RedirectUrl="https://shop.example/cb", Extra="o-1",
            **IDENTITY))
        token = issued.BizToken
        assert issued.Url == f"{PUBLIC}/h5/detect/{token}"
        before = client.GetDetectInfoEnhanced(sdk_request(
            "GetDetectInfoEnhanced", BizToken=token, RuleId="1", InfoType="1"))
        assert before.Text.ErrCode is None
        assert flows_of(emulator).complete(token, {"err_code": 0})[0] == "finished"
        beijing = datetime.datetime.fromtimestamp(emulator.clock.now(), BEIJING)
        after = client.GetDetectInfoEnhanced(sdk_request(
            "GetDetectInfoEnhanced", BizToken=token, RuleId="1"))
        assert_model("GetDetectInfoEnhancedResponse", sdk_json(after))
        assert (after.Text.ErrCode, after.Text.Extra, after.Text.IdCard) == \
            (0, "o-1", ID_NUMBER)
        assert len(after.Text.LivenessDetail) == 1 and after.BestFrame.BestFrame
        info = json.loads(client.GetDetectInfo(sdk_request(
            "GetDetectInfo", BizToken=token, RuleId="1", InfoType="1")).DetectInfo)
        assert info["Text"]["ErrCode"] == 0
        bills = client.GetWeChatBillDetails(sdk_request(
            "GetWeChatBillDetails", Date=f"{beijing:%Y-%m-%d}", Cursor=0))
        assert [d.BizToken for d in bills.WeChatBillDetails] == [token]
