"""The faceid actions as declared methods of their provider, answered from the legacy API's
rules and state; and MobileStatus, the action added as one method, over HTTP with
Tencent's SDK."""
from __future__ import annotations

import json

import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from mockface.products.faceid.encryption import encrypt_fields
from mockface.core.clock import Clock
from mockface.core.config import App, Settings
from mockface.core.identity import with_check_digit
from mockface.emulator import Emulator
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.faceid.results import ID_RESULTS
from mockface.products.tc3.actions import Actions
from mockface.products.tc3.request import Tc3Error
from mockface.scenarios import parse_scenario_text
from mockface.web.app import create_app
from mockface.web.server import start_background
from mockface.products.legacy.stores import LIP_CODES
from mockface.products.faceid.stores import ACTION_SEQUENCES

NUMBER = with_check_digit("11010519900307123")
REGISTERED = with_check_digit("44030419851120456")
APP = App("1300000001", {"AKIDactions0001": "actions-key"})
MOBILE_RESULTS = FaceIdProvider.declarations["MobileStatus"].result_table


def actions_of(**settings) -> Actions:
    """The API 3.0 actions of a new emulator (clock frozen) with ``settings``."""
    clock = Clock()
    clock.freeze(1_800_000_000)
    emulator = Emulator(Settings(apps=(APP,), identities={REGISTERED: "李四"}, **settings),
                        clock)
    return emulator.handlers["tc3"].actions


def answer(actions: Actions, action: str, appid: str, params: dict,
           product: str = "faceid", version: str = "2018-03-01") -> dict:
    """The Response fields ``actions`` answers for one call."""
    return actions.answer(product, action, version, appid, params).fields


@pytest.fixture
def actions() -> Actions:
    return actions_of()


def test_the_provider_declares_each_action_by_its_method():
    assert list(FaceIdProvider.declarations) == [
        "GetLiveCode", "GetActionSequence", "IdCardVerification", "ImageRecognition",
        "ImageRecognitionV2", "LivenessRecognition", "LivenessCompare", "Liveness",
        # the mixins' (the token flows, the element checks), after the class's own
        "DetectAuth", "GetDetectInfoEnhanced", "GetDetectInfo", "GetWeChatBillDetails",
        "GetEidToken", "CheckEidTokenStatus", "GetEidResult", "GetFaceIdToken",
        "GetFaceIdResult", "PhoneVerification", "PhoneVerificationCMCC",
        "PhoneVerificationCTCC", "PhoneVerificationCUCC", "EncryptedPhoneVerification",
        "CheckPhoneAndName", "MobileStatus", "MobileNetworkTimeVerification",
        "BankCardVerification", "BankCard2EVerification", "BankCard4EVerification",
        "CheckBankCardInformation", "CheckIdNameDate", "IdCardOCRVerification",
        "CheckIdCardInformation", "MinorsVerification"]
    assert FaceIdProvider.declarations["Liveness"].deprecation("2018-03-01")


def test_live_codes_are_issued_and_remembered_per_app(actions):
    first = answer(actions, "GetLiveCode", "app1", {})["LiveCode"]
    second = answer(actions, "GetLiveCode", "app1", {})["LiveCode"]
    assert len(first) == 4 and first.isdigit()
    lip_codes = actions.providers["faceid"].context.state.store(LIP_CODES)
    assert lip_codes.issued("app1") == [first, second]
    assert lip_codes.issued("app2") == []
    with pytest.raises(Tc3Error) as caught:
        answer(actions, "GetLiveCode", "app1", {"Extra": "x"})
    assert caught.value.code == "UnknownParameter"


@pytest.mark.parametrize("number,name,result", [
    (NUMBER, "张三", "0"),
    (REGISTERED, "李四", "0"),
    (REGISTERED, "张三", "-1"),
    (NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1"), "张三", "-2"),
    ("12345", "张三", "-2"),
    (NUMBER, "Zhang San", "-3"),
])
def test_id_card_verification(actions, number, name, result):
    fields = answer(actions, "IdCardVerification", "app1", {"IdCard": number, "Name": name})
    assert fields == {"Result": result, "Description": ID_RESULTS[result]}


def test_id_card_verification_without_checksum_checks():
    loose = actions_of(check_idcard=False)
    wrong_checksum = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    assert answer(loose, "IdCardVerification", "a", {"IdCard": wrong_checksum,
                                                    "Name": "张三"})["Result"] == "0"


def test_id_card_verification_needs_both_fields(actions):
    with pytest.raises(Tc3Error) as caught:
        answer(actions, "IdCardVerification", "app1", {"IdCard": NUMBER})
    assert (caught.value.code, caught.value.message) == (
        "MissingParameter", "The parameter `Name` is missing.")


def test_action_sequences_are_issued_and_remembered_per_app(actions):
    issued = [answer(actions, "GetActionSequence", "app1", {})["ActionSequence"]
              for _ in range(20)]
    assert set(issued) == {"1,2", "2,1"}
    state = actions.providers["faceid"].context.state
    assert state.store(ACTION_SEQUENCES).issued("app1") == issued
    assert state.store(LIP_CODES).issued("app1") == []  # a separate book
    assert answer(actions, "GetActionSequence", "app1", {"ActionType": "x"})["ActionSequence"] \
        in ("1,2", "2,1")
    again = actions_of()
    assert [answer(again, "GetActionSequence", "app1", {})["ActionSequence"]
            for _ in range(20)] == issued  # the same seed gives the same sequences


@pytest.mark.parametrize("optional", [
    "[" * 100_000,                              # nested past the stack: RecursionError
    '{"BestFrameNum": ' + "[" * 100_000 + "}",
    '{"BestFrameNum": 1' + "0" * 5000 + "}",   # past int()'s 4,300 digits
    '{"BestFrameNum": 1e999}',
    '{"BestFrameNum": NaN}',
])
@pytest.mark.parametrize("action,params", [
    ("LivenessCompare", {"LivenessType": "SILENT", "ImageUrl": "u", "VideoUrl": "v"}),
    ("LivenessRecognition", {"IdCard": NUMBER, "Name": "张三", "LivenessType": "SILENT",
                             "VideoUrl": "v"}),
    ("ImageRecognitionV2", {"IdCard": NUMBER, "Name": "张三", "ImageBase64": "AA=="}),
])
def test_a_hostile_optional_is_an_invalid_parameter_value(actions, optional, action, params):
    with pytest.raises(Tc3Error) as caught:
        answer(actions, action, "app1", {**params, "Optional": optional})
    assert (caught.value.code, caught.value.message) == (
        "InvalidParameterValue", "The value of the parameter `Optional` is invalid.")


def test_an_action_the_service_lacks_is_an_invalid_action(actions):
    with pytest.raises(Tc3Error) as caught:
        answer(actions, "DetectLiveFace", "app1", {"Url": "u"})
    assert caught.value.code == "InvalidAction"


# -- MobileStatus: one declared method -------------------------------------------------------

@pytest.mark.parametrize("mobile,fields", [
    ("13800138000", {"Result": "0", "Description": "成功", "StatusCode": 0}),
    ("19912345678", {"Result": "0", "Description": "成功", "StatusCode": 0}),
    ("1380013800", {"Result": "-2", "Description": "手机号格式不正确", "StatusCode": 99}),
    ("12800138000", {"Result": "-2", "Description": "手机号格式不正确", "StatusCode": 99}),
    ("+8613800138000", {"Result": "-2", "Description": "手机号格式不正确", "StatusCode": 99}),
    ("１３８００１３８０００", {"Result": "-2", "Description": "手机号格式不正确",
                             "StatusCode": 99}),
])
def test_mobile_status(actions, mobile, fields):
    assert answer(actions, "MobileStatus", "app1", {"Mobile": mobile}) == fields


def test_mobile_status_checks_its_parameters(actions):
    for params, code in (({}, "MissingParameter"), ({"Mobile": 13800138000}, "InvalidParameter"),
                         ({"Mobile": "13800138000", "Encryption": "x"}, "InvalidParameter"),
                         ({"Mobile": "13800138000", "Phone": "x"}, "UnknownParameter")):
        with pytest.raises(Tc3Error) as caught:
            answer(actions, "MobileStatus", "app1", params)
        assert caught.value.code == code, params


@pytest.fixture(scope="module")
def server():
    emulator = Emulator(Settings(apps=(APP,)))
    background = start_background(create_app(emulator=emulator))
    background.emulator = emulator
    yield background
    background.stop()


def sdk(server) -> faceid_client.FaceidClient:
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}")
    return faceid_client.FaceidClient(credential.Credential(*next(iter(APP.secrets.items()))),
                                      "", ClientProfile(httpProfile=http))


def mobile_status(server, **params) -> models.MobileStatusResponse:
    request = models.MobileStatusRequest()
    request.from_json_string(json.dumps(params))
    return sdk(server).MobileStatus(request)


def test_the_sdk_calls_mobile_status(server):
    good = mobile_status(server, Mobile="13800138000")
    assert (good.Result, good.Description, good.StatusCode) == ("0", "成功", 0)
    bad = mobile_status(server, **encrypt_fields({"Mobile": "138"}, ("Mobile",))[0])
    assert (bad.Result, bad.Description, bad.StatusCode) == ("-2", MOBILE_RESULTS["-2"], 99)
    entry = server.emulator.journal.query()[-1]
    assert (entry.endpoint, entry.code, entry.appid) == ("faceid:MobileStatus", "-2",
                                                         APP.appid)
    assert entry.detail == "Mobile '138' is not a mainland mobile number (11 digits on a " \
        "carrier's segment)"


def test_a_scenario_rule_scripts_mobile_status(server):
    engine = server.emulator.scenarios
    engine.activate(parse_scenario_text("""
rules:
  - endpoint: faceid:MobileStatus
    match: {Mobile: "13900000000"}
    respond: {result: "-4"}
"""))
    try:
        scripted = mobile_status(server, Mobile="13900000000")
        other = mobile_status(server, Mobile="13900000001")
    finally:
        server.emulator.reset()
    assert (scripted.Result, scripted.Description, scripted.StatusCode) == \
        ("-4", MOBILE_RESULTS["-4"], 99)
    assert (other.Result, other.StatusCode) == ("0", 0)


def test_a_rule_may_give_mobile_status_only_its_own_results():
    from mockface.core.scenarios.model import ScenarioError

    with pytest.raises(ScenarioError) as caught:
        parse_scenario_text("rules:\n  - endpoint: faceid:MobileStatus\n"
                            "    respond: {result: FailedOperation.UnKnown}\n")
    assert "is not documented for faceid:MobileStatus" in str(caught.value)
