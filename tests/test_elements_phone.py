"""The phone element checks (要素核验): PhoneVerification, its carrier variants,
EncryptedPhoneVerification, CheckPhoneAndName, MobileStatus, MobileNetworkTimeVerification.
Every Result reachable by input, row by row of each action's table; the registry's verdicts;
``unknown_identity: no_record``; the parameter checks; one call per action through Tencent's
official SDK over HTTP; the scenario ``result:`` key; the library's phone files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from mockface.cli import main
from mockface.core.clock import Clock
from mockface.core.config import App, ConfigError, Settings, load_settings
from mockface.core.identity import IdentityRecord, Phone, with_check_digit
from mockface.core.scenarios.model import ScenarioError
from mockface.emulator import Emulator
from mockface.products.faceid import elements_phone
from mockface.products.faceid.config import CONFIG_KEYS
from mockface.products.faceid.elements_phone import (
    CARRIER_RESULTS, ENCRYPTED_RESULTS, NAME_RESULTS, NETWORK_RESULTS, PHONE_RESULTS,
    STATUS_RESULTS, network_range)
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.tc3.actions import Actions
from mockface.products.tc3.request import Tc3Error
from mockface.scenarios import ScenarioEngine, load_scenario, parse_scenario_text, search_path
from mockface.web.app import create_app
from mockface.web.server import start_background

APP = App("1300000002", {"AKIDphones0001": "phones-key"})
OWNER = with_check_digit("44030419851120456")      # 李四: three phones
PLAIN = with_check_digit("11010519900307123")      # registered by name alone
STRANGER = with_check_digit("31010419880214321")   # unknown to the registry
CMCC, CTCC, CUCC, CBN = "13800138000", "18912345678", "13012345678", "19212345678"
STOPPED, GONE, NEW, UNKNOWN_STATUS = "13912345670", "15012345671", "17712345672", "18612345673"
RECORD = IdentityRecord(OWNER, "李四", phones=(
    Phone(CMCC), Phone(CTCC, months=13), Phone(CUCC, months=7), Phone(STOPPED, status=1),
    Phone(GONE, status=2), Phone(NEW, months=2), Phone(UNKNOWN_STATUS, status=99)))
IDENTITIES = {OWNER: "李四", PLAIN: "王五"}
RECORDS = {OWNER: RECORD, PLAIN: IdentityRecord(PLAIN, "王五")}
BAD_CHECKSUM = OWNER[:-1] + ("0" if OWNER[-1] != "0" else "1")


def actions_of(**sections) -> Actions:
    """The API 3.0 actions of a new emulator (clock frozen) knowing RECORD; ``sections``:
    the faceid config keys (``unknown_identity``)."""
    clock = Clock()
    clock.freeze(1_800_000_000)
    settings = Settings(apps=(APP,), identities=IDENTITIES, identity_records=RECORDS,
                        sections=sections)
    return Emulator(settings, clock).handlers["tc3"].actions


@pytest.fixture(scope="module")
def actions() -> Actions:
    return actions_of()


@pytest.fixture(scope="module")
def strict() -> Actions:
    return actions_of(unknown_identity="no_record")


def answer(actions: Actions, action: str, **params) -> dict:
    return actions.answer("faceid", action, "2018-03-01", APP.appid, params).fields


def result_of(actions: Actions, action: str, **params) -> tuple[str, str]:
    fields = answer(actions, action, **params)
    return fields["Result"], fields["Description"]


def three(phone=CMCC, number=OWNER, name="李四", **more) -> dict:
    return {"Phone": phone, "IdCard": number, "Name": name, **more}


# -- the tables --------------------------------------------------------------------------

def test_each_action_has_its_own_table_and_charged_codes():
    tables = {name: FaceIdProvider.declarations[name].result_table
              for name in elements_phone.PHONE_ACTIONS}
    assert tables["PhoneVerification"] == PHONE_RESULTS
    assert list(PHONE_RESULTS) == ["0", "-4", "-6", "-7", "-8", "-9", "-11", "-12", "-13"]
    for carrier in ("CMCC", "CTCC", "CUCC"):
        assert tables[f"PhoneVerification{carrier}"] == CARRIER_RESULTS
    assert "-12" not in CARRIER_RESULTS and len(CARRIER_RESULTS) == 8
    assert ENCRYPTED_RESULTS["-8"] == "参数错误" and PHONE_RESULTS["-8"] == "姓名校验不通过"
    assert (NAME_RESULTS["0"], NAME_RESULTS["1"]) == ("验证结果一致", "验证结果不一致")
    assert list(NETWORK_RESULTS) == ["0", "-1", "-2", "-3", "-4", "-5", "-13"]
    assert tables["MobileStatus"] == STATUS_RESULTS
    assert (PHONE_RESULTS["0"], PHONE_RESULTS["-4"]) == ("认证通过", "信息不一致")
    charged = {name: FaceIdProvider.declarations[name].charged
               for name in elements_phone.PHONE_ACTIONS}
    assert charged["CheckPhoneAndName"] == ("0", "1")
    assert charged["MobileNetworkTimeVerification"] == ("0", "-2", "-3")
    for name, codes in charged.items():
        assert codes and set(codes) <= set(tables[name]), name


# -- PhoneVerification and its carrier variants ------------------------------------------

@pytest.mark.parametrize("params,result,isp", [
    (three(), "0", "移动"),                                          # the registry's owner
    (three(CTCC), "0", "电信"),
    (three(CUCC), "0", "联通"),
    (three("13512345678", STRANGER, "赵六"), "0", "移动"),            # unknown: consistent
    (three("13512345678", PLAIN, "王五"), "0", "移动"),               # a record of a name alone
    (three(name="张三"), "-4", "移动"),
    (three("1380013800"), "-6", ""),                                 # ten digits
    (three("12012345678"), "-6", ""),                                # no carrier's segment
    (three("+8613800138000"), "-6", ""),
    (three(number=BAD_CHECKSUM), "-7", "移动"),
    (three(number="12345"), "-7", "移动"),
    (three(name="Li Si"), "-8", "移动"),
    (three(CBN, STRANGER, "赵六"), "-13", ""),                        # 广电: no Isp names it
])
def test_phone_verification(actions, params, result, isp):
    assert answer(actions, "PhoneVerification", **params) == {
        "Result": result, "Description": PHONE_RESULTS[result], "Isp": isp}


@pytest.mark.parametrize("params,detail", [
    (three(name="张三"), "PhoneNameMismatch"),                        # the owner's number
    (three(number=STRANGER), "PhoneIdCardMismatch"),                 # the owner's name
    (three(number=STRANGER, name="赵六"), "PhoneNameIdCardMismatch"),
    (three("13512345678", PLAIN, "张三"), "NameIdCardMismatch"),     # nobody's phone
    (three("13512345678"), "PhoneNameIdCardMismatch"),               # not among his phones
])
def test_the_detailed_mode_says_what_disagrees(actions, params, detail):
    assert answer(actions, "PhoneVerification", **params, VerifyMode="1") == {
        "Result": "-4", "Description": "信息不一致", "Isp": "移动", "ResultDetail": detail}
    assert "ResultDetail" not in answer(actions, "PhoneVerification", **params)
    assert "ResultDetail" not in answer(actions, "PhoneVerification", **params, VerifyMode="0")
    assert "ResultDetail" not in answer(actions, "PhoneVerification", **three(),
                                        VerifyMode="1")


def test_an_unknown_identity_has_no_record_when_configured(strict):
    assert result_of(strict, "PhoneVerification", **three("13512345678", STRANGER, "赵六")) == \
        ("-9", "没有记录")
    assert result_of(strict, "PhoneVerification", **three("13512345678", PLAIN, "王五")) == \
        ("-9", "没有记录")
    assert result_of(strict, "PhoneVerification", **three()) == ("0", "认证通过")
    assert result_of(strict, "PhoneVerification", **three(name="张三"))[0] == "-4"
    fields = answer(strict, "PhoneVerificationCTCC", **three("18900000000", STRANGER, "赵六"))
    assert fields == {"Result": "-9", "Description": "没有记录", "Isp": "电信"}


@pytest.mark.parametrize("action,own,others", [
    ("PhoneVerificationCMCC", CMCC, (CTCC, CUCC, CBN)),
    ("PhoneVerificationCTCC", CTCC, (CMCC, CUCC, CBN)),
    ("PhoneVerificationCUCC", CUCC, (CMCC, CTCC, CBN)),
])
def test_a_carrier_action_takes_its_own_numbers_only(actions, action, own, others):
    isp = {CMCC: "移动", CTCC: "电信", CUCC: "联通"}[own]
    assert answer(actions, action, **three(own)) == {"Result": "0", "Description": "认证通过",
                                                     "Isp": isp}
    assert answer(actions, action, **three(own, name="张三")) == {
        "Result": "-4", "Description": "信息不一致", "Isp": isp}
    for other in others:
        assert answer(actions, action, **three(other)) == {
            "Result": "-13", "Description": "该号段不支持验证", "Isp": ""}
    for params, result in ((three("1" * 11), "-6"), (three(own, BAD_CHECKSUM), "-7"),
                           (three(own, name="x"), "-8")):
        assert result_of(actions, action, **params) == (result, CARRIER_RESULTS[result])


def test_format_checks_come_before_the_carrier_and_the_registry(actions):
    # phone, then ID number, then name, then the carrier
    assert result_of(actions, "PhoneVerificationCMCC", **three("123", "1", "x"))[0] == "-6"
    assert result_of(actions, "PhoneVerificationCMCC", **three(CTCC, "1", "x"))[0] == "-7"
    assert result_of(actions, "PhoneVerificationCMCC", **three(CTCC, name="x"))[0] == "-8"


def test_checksums_are_not_checked_with_check_idcard_off():
    clock = Clock()
    clock.freeze(1_800_000_000)
    loose = Emulator(Settings(apps=(APP,), check_idcard=False), clock).handlers["tc3"].actions
    assert result_of(loose, "PhoneVerification", **three(number=BAD_CHECKSUM))[0] == "0"


def test_phone_verification_checks_its_parameters(actions):
    for params, code in (
            ({"Phone": CMCC, "IdCard": OWNER}, "MissingParameter"),
            (three(VerifyMode="2"), "InvalidParameterValue"),
            (three(VerifyMode=1), "InvalidParameter"),
            (three(EncryptList="Phone"), "InvalidParameter"),
            (three(Encryption={}), "UnknownParameter"),           # flat fields on this one
            ({**three(), "Phone": 13800138000}, "InvalidParameter")):
        with pytest.raises(Tc3Error) as caught:
            answer(actions, "PhoneVerification", **params)
        assert caught.value.code == code, params
    with pytest.raises(Tc3Error) as caught:
        answer(actions, "PhoneVerificationCMCC", **three(CiphertextBlob="x"))
    assert caught.value.code == "UnknownParameter"


# -- EncryptedPhoneVerification -----------------------------------------------------------

def digests(mode: str, *values: str) -> list[str]:
    name = {"1": "md5", "2": "sha256", "3": "sm3"}[mode]
    return [hashlib.new(name, value.encode()).hexdigest() for value in values]


def encrypted(mode: str, phone=CMCC, number=OWNER, name="李四") -> dict:
    if mode != "0":
        phone, number, name = digests(mode, phone, number, name)
    return {"Phone": phone, "IdCard": number, "Name": name, "EncryptionMode": mode}


@pytest.mark.parametrize("mode", ["0", "1", "2", "3"])
def test_encrypted_phone_verification_compares_each_mode(actions, strict, mode):
    def fields(actions, **params):
        return answer(actions, "EncryptedPhoneVerification", **encrypted(mode, **params))

    assert fields(actions) == {"Result": "0", "Description": "认证通过", "ISP": "移动"}
    assert fields(actions, phone=CUCC) == {"Result": "0", "Description": "认证通过",
                                           "ISP": "联通"}
    assert fields(actions, name="张三") == {"Result": "-4", "Description": "信息不一致",
                                           "ISP": "移动"}
    assert fields(actions, number=STRANGER) == {"Result": "-4", "Description": "信息不一致",
                                                "ISP": "移动"}
    assert fields(actions, phone="13512345678", number=PLAIN, name="张三")["Result"] == "-4"
    unknown = fields(actions, phone="13512345678", number=STRANGER, name="赵六")
    assert unknown["Result"] == "0"
    assert unknown["ISP"] == ("移动" if mode == "0" else "")  # a digest names no carrier
    assert fields(strict, phone="13512345678", number=STRANGER, name="赵六")["Result"] == "-9"


def test_hashes_compare_with_identities_registered_at_run_time_too():
    actions = actions_of(unknown_identity="no_record")
    number = with_check_digit("44030519880808123")
    params = encrypted("2", phone="13712345678", number=number, name="陈七")
    assert result_of(actions, "EncryptedPhoneVerification", **params)[0] == "-9"
    identities = actions.providers["faceid"].identities
    identities.add_record(IdentityRecord(number, "陈七", (Phone("13712345678"),)), APP.appid)
    assert result_of(actions, "EncryptedPhoneVerification", **params) == ("0", "认证通过")


def test_hashes_compare_in_either_case(actions):
    params = {key: value.upper() if key != "EncryptionMode" else value
              for key, value in encrypted("2").items()}
    assert result_of(actions, "EncryptedPhoneVerification", **params) == ("0", "认证通过")


@pytest.mark.parametrize("params,result", [
    (encrypted("0", number=BAD_CHECKSUM), "-7"),
    (encrypted("0", phone="1380013800"), "-8"),             # no -6 in this table
    (encrypted("0", name="Li Si"), "-8"),
    ({**encrypted("1"), "IdCard": "0" * 31}, "-7"),         # not an MD5 digest
    ({**encrypted("1"), "Phone": "z" * 32}, "-8"),
    ({**encrypted("2"), "Name": encrypted("1")["Name"]}, "-8"),   # MD5 length in SHA256 mode
    ({**encrypted("0"), "EncryptionMode": "4"}, "-8"),
    ({**encrypted("0"), "EncryptionMode": "md5"}, "-8"),
])
def test_encrypted_phone_verification_free_codes(actions, params, result):
    assert answer(actions, "EncryptedPhoneVerification", **params) == {
        "Result": result, "Description": ENCRYPTED_RESULTS[result],
        "ISP": "" if result == "-8" else "移动"}


def test_sm3_without_openssl_support_is_a_parameter_error(actions, monkeypatch):
    original = elements_phone.hasher
    monkeypatch.setattr(elements_phone, "hasher",
                        lambda mode: None if mode == "3" else original(mode))
    fields = answer(actions, "EncryptedPhoneVerification", **encrypted("3"))
    assert fields == {"Result": "-8", "Description": "参数错误", "ISP": ""}


def test_encrypted_phone_verification_checks_its_parameters(actions):
    for params, code in (({**encrypted("0"), "EncryptionMode": ""}, "MissingParameter"),
                         ({**encrypted("0"), "EncryptionMode": 1}, "InvalidParameter"),
                         ({**encrypted("0"), "Encryption": {}}, "UnknownParameter")):
        with pytest.raises(Tc3Error) as caught:
            answer(actions, "EncryptedPhoneVerification", **params)
        assert caught.value.code == code, params


# -- CheckPhoneAndName --------------------------------------------------------------------

@pytest.mark.parametrize("mobile,name,result", [
    (CMCC, "李四", "0"),
    ("13512345678", "赵六", "0"),       # unknown: consistent
    (CMCC, "张三", "1"),                # another name's phone
    ("138", "李四", "-5"),
    ("12012345678", "李四", "-5"),
    ("138", "x", "-5"),                 # the phone first
    (CMCC, "Li Si", "-4"),
    (CBN, "李四", "-13"),
])
def test_check_phone_and_name(actions, mobile, name, result):
    assert answer(actions, "CheckPhoneAndName", Mobile=mobile, Name=name) == {
        "Result": result, "Description": NAME_RESULTS[result]}


def test_check_phone_and_name_without_a_record(strict):
    assert result_of(strict, "CheckPhoneAndName", Mobile="13512345678", Name="赵六") == \
        ("-1", "查无记录")
    assert result_of(strict, "CheckPhoneAndName", Mobile=CMCC, Name="李四") == \
        ("0", "验证结果一致")


# -- MobileStatus and MobileNetworkTimeVerification -------------------------------------

@pytest.mark.parametrize("mobile,result,status", [
    (CMCC, "0", 0), (STOPPED, "0", 1), (GONE, "0", 2), (UNKNOWN_STATUS, "0", 99),
    ("13512345678", "0", 0),            # unknown: in service
    ("1380013800", "-2", 99), ("12012345678", "-2", 99), (CBN, "-13", 99),
])
def test_mobile_status_answers_the_registrys_status(actions, mobile, result, status):
    assert answer(actions, "MobileStatus", Mobile=mobile) == {
        "Result": result, "Description": STATUS_RESULTS[result], "StatusCode": status}


def test_mobile_status_without_a_record(strict):
    assert answer(strict, "MobileStatus", Mobile="13512345678") == {
        "Result": "-1", "Description": "未查询到结果", "StatusCode": 99}
    assert answer(strict, "MobileStatus", Mobile=STOPPED)["StatusCode"] == 1


@pytest.mark.parametrize("mobile,result,bucket", [
    (CMCC, "0", "[24,+)"), (CTCC, "0", "[12,24)"), (CUCC, "0", "[6,12)"),
    (NEW, "0", "[0,3)"), ("13512345678", "0", "[24,+)"),
    (GONE, "-2", ""), (UNKNOWN_STATUS, "-3", ""),
    ("1380013800", "-1", ""), (CBN, "-13", ""),
])
def test_network_time_answers_the_registrys_months(actions, mobile, result, bucket):
    assert answer(actions, "MobileNetworkTimeVerification", Mobile=mobile) == {
        "Result": result, "Description": NETWORK_RESULTS[result], "Range": bucket}


def test_network_time_without_a_record(strict):
    assert answer(strict, "MobileNetworkTimeVerification", Mobile="13512345678") == {
        "Result": "-2", "Description": "手机号不存在", "Range": ""}


@pytest.mark.parametrize("months,bucket", [
    (0, "[0,3)"), (2, "[0,3)"), (3, "[3,6)"), (5, "[3,6)"), (6, "[6,12)"), (11, "[6,12)"),
    (12, "[12,24)"), (23, "[12,24)"), (24, "[24,+)"), (1200, "[24,+)")])
def test_the_range_buckets(months, bucket):
    assert network_range(months) == bucket


# -- config ---------------------------------------------------------------------------------

def test_unknown_identity_is_a_checked_config_key(tmp_path):
    path = tmp_path / "mockface.yaml"
    path.write_text("unknown_identity: no_record\n", encoding="utf-8")
    settings = load_settings(path, env={}, sections=CONFIG_KEYS)
    assert settings.sections["unknown_identity"] == "no_record"
    path.write_text("unknown_identity: nope\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={}, sections=CONFIG_KEYS)
    assert str(caught.value) == (f"{path}:1: unknown_identity: must be one of consistent, "
                                 f"no_record, got 'nope'")


def test_a_well_formed_identity_the_registry_lacks_is_consistent_by_default(actions):
    assert "unknown_identity" not in actions.providers["faceid"].context.settings.sections
    assert result_of(actions, "PhoneVerification",
                     **three("13512345678", STRANGER, "赵六"))[0] == "0"


# -- scenario rules: the result: key ------------------------------------------------------

@pytest.mark.parametrize("action,good,bad,hint", [
    ("PhoneVerification", "-12", "-5", "(valid: 0, -4, -6"),
    ("PhoneVerificationCMCC", "-13", "-12", "did you mean '-13'?"),
    ("PhoneVerificationCTCC", "-11", "-12", "did you mean"),
    ("PhoneVerificationCUCC", "-9", "-12", "did you mean"),
    ("EncryptedPhoneVerification", "-8", "-6", "(valid: 0, -4, -7"),
    ("CheckPhoneAndName", "1", "-7", "(valid: 0, 1, -1"),
    ("MobileStatus", "-3", "-5", "(valid: 0, -1, -2"),
    ("MobileNetworkTimeVerification", "-3", "-6", "(valid: 0, -1, -2"),
])
def test_a_rule_scripts_only_the_actions_own_results(action, good, bad, hint):
    rule = "rules:\n  - endpoint: faceid:{}\n    respond: {{result: \"{}\"}}\n"
    parse_scenario_text(rule.format(action, good))
    with pytest.raises(ScenarioError) as caught:
        parse_scenario_text(rule.format(action, bad))
    assert f"result '{bad}' is not documented for faceid:{action}" in str(caught.value)
    assert hint in str(caught.value)


def test_mockface_check_takes_a_result_of_the_table_and_refuses_another(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("rules:\n  - endpoint: faceid:CheckPhoneAndName\n"
                    "    respond: {result: \"1\"}\n", encoding="utf-8")
    bad.write_text("rules:\n  - endpoint: faceid:PhoneVerificationCUCC\n"
                   "    respond: {result: \"-12\"}\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["check", str(good)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: result '-12' is not documented for faceid:PhoneVerificationCUCC; " \
           "did you mean '-13'?" in result.output


def scripted(actions: Actions, action: str, params: dict, chosen: dict) -> dict:
    return actions.scripted("faceid", action, "2018-03-01", APP.appid, params, chosen).fields


def test_a_scripted_result_keeps_each_actions_fields(actions):
    assert scripted(actions, "PhoneVerification", three(VerifyMode="1"), {"Result": "-4"}) == {
        "Result": "-4", "Description": "信息不一致", "Isp": "移动",
        "ResultDetail": "OtherMismatch"}                     # the registry says consistent
    assert scripted(actions, "PhoneVerification", three(name="张三", VerifyMode="1"),
                    {"Result": "-4"})["ResultDetail"] == "PhoneNameMismatch"
    assert scripted(actions, "PhoneVerification", three("123"), {"Result": "0"}) == {
        "Result": "0", "Description": "认证通过", "Isp": ""}    # no input checks
    assert scripted(actions, "PhoneVerificationCUCC", three(), {"Result": "-11"}) == {
        "Result": "-11", "Description": "验证中心服务繁忙", "Isp": "移动"}
    assert scripted(actions, "EncryptedPhoneVerification", encrypted("1"),
                    {"Result": "-11"}) == {"Result": "-11", "Description": "验证中心服务繁忙",
                                           "ISP": "移动"}
    assert scripted(actions, "CheckPhoneAndName", {"Mobile": CMCC, "Name": "李四"},
                    {"Result": "-6"}) == {"Result": "-6",
                                          "Description": "认证次数超过当日限制，请次日重试"}
    assert scripted(actions, "MobileStatus", {"Mobile": STOPPED}, {"Result": "0"}) == {
        "Result": "0", "Description": "成功", "StatusCode": 1}
    assert scripted(actions, "MobileNetworkTimeVerification", {"Mobile": CUCC},
                    {"Result": "0"}) == {"Result": "0", "Description": "成功",
                                         "Range": "[6,12)"}
    assert scripted(actions, "MobileNetworkTimeVerification", {"Mobile": CUCC},
                    {"Result": "-4"}) == {"Result": "-4", "Description": "验证中心服务繁忙",
                                          "Range": ""}
    # a rule that scripts no Result (a delay, say) leaves the action's own answer
    assert scripted(actions, "MobileStatus", {"Mobile": "138"}, {}) == {
        "Result": "-2", "Description": "手机号格式不正确", "StatusCode": 99}


# -- the library's phone files ----------------------------------------------------------

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"


def test_the_phone_mismatch_file_makes_every_phone_check_disagree(actions):
    scenario = load_scenario(LIBRARY / "phone-mismatch.yaml")
    assert CliRunner().invoke(main, ["check", "phone-mismatch"]).exit_code == 0
    targets = {target for rule in scenario.rules for target in rule.endpoints}
    assert targets == {f"faceid:{name}" for name in elements_phone.THREE_ELEMENT_ACTIONS} | \
        {"faceid:CheckPhoneAndName"}


@pytest.fixture(scope="module")
def server():
    emulator = Emulator(Settings(apps=(APP,), identities=IDENTITIES, identity_records=RECORDS),
                        scenarios=ScenarioEngine(search_path()))
    background = start_background(create_app(emulator=emulator))
    background.emulator = emulator
    yield background
    background.stop()


def client(server) -> faceid_client.FaceidClient:
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}")
    return faceid_client.FaceidClient(credential.Credential(*next(iter(APP.secrets.items()))),
                                      "", ClientProfile(httpProfile=http))


def call(server, action: str, **params):
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return getattr(client(server), action)(request)


def test_the_library_file_over_http(server):
    server.emulator.scenarios.activate("phone-mismatch")
    try:
        verified = call(server, "PhoneVerification", **three(VerifyMode="1"))
        named = call(server, "CheckPhoneAndName", Mobile=CMCC, Name="李四")
        status = call(server, "MobileStatus", Mobile=CMCC)
    finally:
        server.emulator.reset()
    assert (verified.Result, verified.Description, verified.Isp, verified.ResultDetail) == \
        ("-4", "信息不一致", "移动", "OtherMismatch")
    assert (named.Result, named.Description) == ("1", "验证结果不一致")
    assert (status.Result, status.StatusCode) == ("0", 0)    # not a three-element check


# -- through Tencent's official SDK ----------------------------------------------------------

def test_the_sdk_calls_phone_verification(server):
    good = call(server, "PhoneVerification", **three(CTCC))
    assert (good.Result, good.Description, good.Isp, good.ResultDetail) == \
        ("0", "认证通过", "电信", None)
    bad = call(server, "PhoneVerification", **three(CTCC, STRANGER, "赵六"), VerifyMode="1")
    assert (bad.Result, bad.Description, bad.Isp, bad.ResultDetail) == \
        ("-4", "信息不一致", "电信", "PhoneNameIdCardMismatch")
    entry = server.emulator.journal.query(endpoint="faceid:PhoneVerification")[-1]
    assert (entry.code, entry.appid) == ("-4", APP.appid)
    assert entry.detail == f"the registry registers the phone to {OWNER} 李四"


@pytest.mark.parametrize("action,phone,isp", [
    ("PhoneVerificationCMCC", CMCC, "移动"), ("PhoneVerificationCTCC", CTCC, "电信"),
    ("PhoneVerificationCUCC", CUCC, "联通")])
def test_the_sdk_calls_the_carrier_actions(server, action, phone, isp):
    good = call(server, action, **three(phone))
    assert (good.Result, good.Description, good.Isp) == ("0", "认证通过", isp)
    other = call(server, action, **three(CBN))
    assert (other.Result, other.Description, other.Isp) == ("-13", "该号段不支持验证", "")


def test_the_sdk_calls_encrypted_phone_verification(server):
    answer = call(server, "EncryptedPhoneVerification", **encrypted("1", phone=CUCC))
    assert (answer.Result, answer.Description, answer.ISP) == ("0", "认证通过", "联通")
    bad = call(server, "EncryptedPhoneVerification", **{**encrypted("0"), "EncryptionMode": "5"})
    assert (bad.Result, bad.Description, bad.ISP) == ("-8", "参数错误", "")


def test_the_sdk_calls_check_phone_and_name(server):
    answer = call(server, "CheckPhoneAndName", Mobile=CMCC, Name="张三")
    assert (answer.Result, answer.Description) == ("1", "验证结果不一致")


def test_the_sdk_calls_mobile_status(server):
    answer = call(server, "MobileStatus", Mobile=STOPPED)
    assert (answer.Result, answer.Description, answer.StatusCode) == ("0", "成功", 1)


def test_the_sdk_calls_mobile_network_time_verification(server):
    answer = call(server, "MobileNetworkTimeVerification", Mobile=CUCC)
    assert (answer.Result, answer.Description, answer.Range) == ("0", "成功", "[6,12)")
    gone = call(server, "MobileNetworkTimeVerification", Mobile=GONE)
    assert (gone.Result, gone.Description, gone.Range) == ("-2", "手机号不存在", "")


def test_a_record_registered_at_run_time_is_answered_at_once():
    actions = actions_of()
    registry = actions.providers["faceid"].identities
    assert result_of(actions, "CheckPhoneAndName", Mobile="13512345678", Name="张三")[0] == "0"
    registry.add_record(IdentityRecord(STRANGER, "赵六", phones=(Phone("13512345678",
                                                                       status=5),)))
    assert result_of(actions, "CheckPhoneAndName", Mobile="13512345678", Name="张三")[0] == "1"
    assert answer(actions, "MobileStatus", Mobile="13512345678")["StatusCode"] == 5
    assert answer(actions, "PhoneVerification", **three("13512345678", STRANGER, "赵六"),
                  VerifyMode="1") == {"Result": "0", "Description": "认证通过", "Isp": "移动"}


# -- the rule values status_code and range (once the provider lists PHONE_RULE_VALUES) ----

@pytest.fixture
def phone_parser():
    """The server's scenario parser: its faceid dialect takes the phone rule values
    (``PHONE_RULE_VALUES`` in the provider's ``rule_values``)."""
    from mockface.core.emulator import parser_of
    from mockface.products import REGISTRY

    assert set(elements_phone.PHONE_RULE_VALUES) <= set(FaceIdProvider.rule_values)
    return parser_of(REGISTRY)


def test_rules_may_set_the_status_code_and_the_range(phone_parser):
    scenario = phone_parser.parse_text(
        "rules:\n  - endpoint: faceid:MobileStatus\n    respond: {status_code: 1}\n"
        "  - endpoint: faceid:MobileNetworkTimeVerification\n"
        "    respond: {result: \"0\", range: \"[0,3)\"}\n")
    assert [rule.responses[0].data for rule in scenario.rules] == [
        {"status_code": 1}, {"Result": "0", "range": "[0,3)"}]
    for text, problem in (
            ("endpoint: faceid:MobileStatus\n    respond: {status_code: 3}",
             "3: status_code must be one of 0 (正常), 1 (停机), 2 (销号), 4 (不在网), "
             "5 (在网但不可用), 99 (未知), got 3"),
            ("endpoint: faceid:MobileStatus\n    respond: {status_code: \"1\"}",
             "status_code must be one of"),
            ("endpoint: faceid:MobileNetworkTimeVerification\n    respond: {range: \"[1,2)\"}",
             "3: range must be one of [0,3), [3,6), [6,12), [12,24), [24,+), got '[1,2)'"),
            ("endpoint: faceid:PhoneVerification\n    respond: {status_code: 1}",
             "status_code is taken only by faceid:MobileStatus, not by "
             "faceid:PhoneVerification")):
        with pytest.raises(ScenarioError) as caught:
            phone_parser.parse_text(f"rules:\n  - {text}\n")
        assert problem in str(caught.value), text


def test_a_scripted_status_code_or_range_is_answered(actions):
    assert scripted(actions, "MobileStatus", {"Mobile": CMCC}, {"status_code": 1}) == {
        "Result": "0", "Description": "成功", "StatusCode": 1}
    assert scripted(actions, "MobileStatus", {"Mobile": "138"}, {"Result": "0",
                                                                 "status_code": 4}) == {
        "Result": "0", "Description": "成功", "StatusCode": 4}
    assert scripted(actions, "MobileNetworkTimeVerification", {"Mobile": CMCC},
                    {"range": "[3,6)"}) == {"Result": "0", "Description": "成功",
                                            "Range": "[3,6)"}


#: The library file ``phone-out-of-service`` (to be saved once the provider's
#: ``rule_values`` lists PHONE_RULE_VALUES; checked here with the parser that has them).
OUT_OF_SERVICE = '''\
description: >-
  The phone is out of service (停机): MobileStatus answers Result 0 (成功) with StatusCode 1,
  as for a registered phone of status 1. API 3.0 only.
rules:
  - endpoint: faceid:MobileStatus
    respond: {result: "0", status_code: 1}
'''


def test_the_out_of_service_file(phone_parser, actions):
    assert (LIBRARY / "phone-out-of-service.yaml").read_text() == OUT_OF_SERVICE
    rule = phone_parser.parse_text(OUT_OF_SERVICE).rules[0]
    chosen = rule.responses[0].data
    assert scripted(actions, "MobileStatus", {"Mobile": CMCC}, chosen) == {
        "Result": "0", "Description": "成功", "StatusCode": 1}


# -- encrypted fields, as an integrator encrypts them (doc 1007/47180) -------------------

def integrator_encrypts(server, fields: dict) -> tuple[dict, dict]:
    """(the fields encrypted, the envelope): a random AES-256 key wrapped with the server's
    published public key (RSA PKCS#1 v1.5), each field AES-256-CBC with PKCS#7 under a
    16-character IV, all base64 -- written from Tencent's document, not mockface's code."""
    import base64
    import os

    import requests
    from cryptography.hazmat.primitives import padding, serialization
    from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    published = requests.get(f"http://127.0.0.1:{server.port}/__mockface/encryption/"
                             "public-key", timeout=10)
    pem = published.json()["pem"] if published.headers["Content-Type"].startswith(
        "application/json") else published.text
    public_key = serialization.load_pem_public_key(pem.encode())
    key, iv = os.urandom(32), "0123456789abcdef"
    sealed = {}
    for name, text in fields.items():
        padder = padding.PKCS7(128).padder()
        data = padder.update(text.encode()) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv.encode())).encryptor()
        sealed[name] = base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()
    blob = base64.b64encode(public_key.encrypt(key, rsa_padding.PKCS1v15())).decode()
    return sealed, {"CiphertextBlob": blob, "EncryptList": list(fields), "Iv": iv}


def test_encrypted_fields_are_checked_as_plain_ones(server):
    sealed, envelope = integrator_encrypts(server, {"Phone": CMCC, "Name": "张三"})
    flat = call(server, "PhoneVerification", IdCard=OWNER, VerifyMode="1", **sealed,
                **envelope)
    assert (flat.Result, flat.Isp, flat.ResultDetail) == ("-4", "移动", "PhoneNameMismatch")
    sealed, envelope = integrator_encrypts(server, {"Mobile": STOPPED})
    status = call(server, "MobileStatus", **sealed, Encryption=envelope)
    assert (status.Result, status.StatusCode) == ("0", 1)
    sealed, envelope = integrator_encrypts(server, {"Phone": CUCC, "IdCard": OWNER})
    carrier = call(server, "PhoneVerificationCUCC", Name="李四", **sealed, Encryption=envelope)
    assert (carrier.Result, carrier.Isp) == ("0", "联通")
