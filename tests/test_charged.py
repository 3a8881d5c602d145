"""The charged flag of each element check's ``Result`` codes (issue 23 item 1): declared on
the action (``@action(charged=...)``, checked against its result table), carried to its
ActionSpec, shown by ``mockface codes --api faceid --action ACTION`` (text and ``--json``)
and by ``GET /__mockface/codes?endpoint=faceid:ACTION``.  The expected splits are Tencent's
(收费 / 不收费, the SDK's models.py; evidence-faceid-flows §6), written out here."""
from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from mockface.cli import main
from mockface.client import AdminClient
from mockface.core.config import App, Settings
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.tc3.params import Param
from mockface.products.tc3.provider import Call, Provider, action
from mockface.products.tc3.table import ResultCode
from mockface.web.app import create_app
from mockface.web.server import start_background

TC3 = REGISTRY["tc3"]
APP = App("1300000077", {"AKIDcharged000001": "charged-key"})

#: Tencent's charged codes of each action with its own Result table.
CHARGED = {
    "IdCardVerification": ("0", "-1"),
    "PhoneVerification": ("0", "-4"),
    "PhoneVerificationCMCC": ("0", "-4"),
    "PhoneVerificationCTCC": ("0", "-4"),
    "PhoneVerificationCUCC": ("0", "-4"),
    "EncryptedPhoneVerification": ("0", "-4"),
    "CheckPhoneAndName": ("0", "1"),
    "MobileStatus": ("0",),
    "MobileNetworkTimeVerification": ("0", "-2", "-3"),
    "BankCardVerification": ("0", "-1", "-5", "-6", "-7", "-8", "-9", "-10", "-11", "-12",
                             "-13", "-14", "-15", "-16", "-20"),
    "BankCard2EVerification": ("0", "-1", "-4", "-5", "-6", "-7", "-8", "-9", "-10", "-11",
                               "-12", "-13", "-14", "-15", "-18"),
    "BankCard4EVerification": ("0", "-1", "-6", "-7", "-8", "-9", "-10", "-11", "-12", "-13",
                               "-14", "-15", "-16", "-17", "-21"),
    "CheckBankCardInformation": ("0", "-1", "-5"),
    "CheckIdNameDate": ("0", "-1"),
    "IdCardOCRVerification": ("0", "-1"),
    "MinorsVerification": ("0", "-1", "-3"),
}
#: Tencent's free codes of the same tables (every other code of each).
FREE = {
    "IdCardVerification": ("-2", "-3", "-4", "-5", "-6", "-7"),
    "PhoneVerification": ("-6", "-7", "-8", "-9", "-11", "-12", "-13"),
    "PhoneVerificationCMCC": ("-6", "-7", "-8", "-9", "-11", "-13"),
    "PhoneVerificationCTCC": ("-6", "-7", "-8", "-9", "-11", "-13"),
    "PhoneVerificationCUCC": ("-6", "-7", "-8", "-9", "-11", "-13"),
    "EncryptedPhoneVerification": ("-7", "-8", "-9", "-11"),
    "CheckPhoneAndName": ("-1", "-2", "-3", "-4", "-5", "-6", "-13"),
    "MobileStatus": ("-1", "-2", "-3", "-4", "-13"),
    "MobileNetworkTimeVerification": ("-1", "-4", "-5", "-13"),
    "BankCardVerification": ("-2", "-3", "-4", "-17", "-18", "-19"),
    "BankCard2EVerification": ("-2", "-3", "-16", "-17"),
    "BankCard4EVerification": ("-2", "-3", "-4", "-5", "-18", "-19", "-20"),
    "CheckBankCardInformation": ("-2", "-3", "-4", "-6"),
    "CheckIdNameDate": ("-2", "-3", "-4", "-5", "-6", "-7", "-8"),
    "IdCardOCRVerification": ("-2", "-3", "-4", "-5", "-6", "-7"),
    "MinorsVerification": ("-2", "-4", "-5", "-6", "-7", "-8"),
}
#: The result-table action Tencent publishes no split for.
UNDOCUMENTED = "CheckIdCardInformation"


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"MOCKFACE_APPID": "",
                                                     "MOCKFACE_SECRET_ID": "",
                                                     "MOCKFACE_SECRET_KEY": ""})


# -- the declarations ----------------------------------------------------------------------

def test_every_result_table_action_declares_tencents_charged_codes():
    tabled = {name for name, declaration in FaceIdProvider.declarations.items()
              if declaration.result_table is not None}
    assert tabled == {*CHARGED, UNDOCUMENTED}
    for name, codes in CHARGED.items():
        declaration = FaceIdProvider.declarations[name]
        assert declaration.charged == codes, name
        assert declaration.result_table is not None
        assert [code for code in declaration.result_table if code not in codes] == \
            list(FREE[name]), name
    assert FaceIdProvider.declarations[UNDOCUMENTED].charged is None


def test_charges_says_charged_free_or_undocumented():
    phone = FaceIdProvider.declarations["PhoneVerification"]
    assert (phone.charges("0"), phone.charges("-4"), phone.charges("-6")) == \
        (True, True, False)
    assert phone.charges("-99") is None  # not a code of its table
    assert FaceIdProvider.declarations[UNDOCUMENTED].charges("Success") is None
    assert FaceIdProvider.declarations["GetLiveCode"].charges("0") is None  # no table


def test_charged_must_name_codes_of_the_actions_result_table():
    with pytest.raises(ValueError, match=r"Check: charged \['-9'\] are not codes of its "
                                         r"result_table"):
        class Stray(Provider):  # noqa: F841 - defining it is the check
            service, hosts, versions = "stray", ("stray.invalid",), ("2020-01-01",)

            @action(params=(Param("X"),), result_table={"0": "ok", "-1": "no"},
                    charged=("0", "-9"))
            def Check(self, call: Call) -> dict[str, Any]:
                return {"Result": "0", "Description": "ok"}

    with pytest.raises(ValueError, match="Plain: charged needs a result_table"):
        class Tableless(Provider):  # noqa: F841
            service, hosts, versions = "tableless", ("tableless.invalid",), ("2020-01-01",)

            @action(charged=("0",))
            def Plain(self, call: Call) -> dict[str, Any]:
                return {}


def test_the_action_spec_carries_each_code_with_its_flag():
    spec = TC3.specs()["faceid:CheckPhoneAndName"]
    assert spec.results[:2] == (ResultCode("0", "验证结果一致", True),
                                ResultCode("1", "验证结果不一致", True))
    assert ResultCode("-5", "手机号码不合法", False) in spec.results
    assert [row.result for row in spec.results] == \
        list(FaceIdProvider.declarations["CheckPhoneAndName"].result_table or {})
    assert {row.charged for row in TC3.specs()[f"faceid:{UNDOCUMENTED}"].results} == {None}
    assert TC3.specs()["faceid:ImageRecognitionV2"].results == ()
    assert TC3.specs()["iai:DetectLiveFace"].results == ()


# -- mockface codes ------------------------------------------------------------------------

def test_codes_of_an_action_end_with_its_result_codes_charged_or_free():
    result = run("codes", "--api", "faceid", "--action", "MobileNetworkTimeVerification")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("Result codes of MobileNetworkTimeVerification:")
    errors = TC3.codes_for("faceid:MobileNetworkTimeVerification")
    assert start == len(errors)
    assert [line.split()[0] for line in lines[:start]] == list(errors)
    assert lines[start + 1:] == [
        "  0    charged  成功",
        "  -1   free     手机号格式不正确",
        "  -2   charged  手机号不存在",
        "  -3   charged  手机号存在，但无法查询到在网时长",
        "  -4   free     验证中心服务繁忙",
        "  -5   free     认证次数超过当日限制，请次日重试",
        "  -13  free     该号段不支持验证",
    ]


def entry(result: str, description: str, charged: bool | None) -> dict:
    """A Result code's entry: keyed as the error entries are (code, message, meaning), then
    its own keys."""
    return {"code": result, "message": description, "meaning": description, "kind": "result",
            "result": result, "description": description, "charged": charged}


def test_codes_json_appends_result_entries_after_the_unchanged_error_entries():
    result = run("codes", "--api", "faceid", "--action", "CheckPhoneAndName", "--json")
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    errors = TC3.codes_for("faceid:CheckPhoneAndName")
    assert entries[:len(errors)] == [TC3.catalogue[name].as_dict() for name in errors]
    assert all(set(entry) == {"code", "message", "meaning"} for entry in entries[:len(errors)])
    assert entries[len(errors):] == [
        entry("0", "验证结果一致", True),
        entry("1", "验证结果不一致", True),
        entry("-1", "查无记录", False),
        entry("-2", "引擎未知错误", False),
        entry("-3", "引擎服务异常", False),
        entry("-4", "姓名校验不通过", False),
        entry("-5", "手机号码不合法", False),
        entry("-6", "认证次数超过当日限制，请次日重试", False),
        entry("-13", "该号段不支持验证", False),
    ]


def test_the_bank_card_offsets_show_in_the_charged_flags():
    """The same meaning (持卡人信息有误, charged) is -5, -4 and -6 in the three tables."""
    for name, code in (("BankCardVerification", "-5"), ("BankCard2EVerification", "-4"),
                       ("BankCard4EVerification", "-6")):
        entries = json.loads(run("codes", "--api", "faceid", "--action", name,
                                 "--json").stdout)
        rows = {entry["result"]: entry for entry in entries if entry.get("kind") == "result"}
        assert rows[code] == entry(code, "持卡人信息有误", True)
        assert [result for result, row in rows.items() if row["charged"]] == list(CHARGED[name])


def test_codes_of_an_action_without_a_split_say_not_documented():
    text = run("codes", "--api", "faceid", "--action", UNDOCUMENTED).stdout.splitlines()
    block = text[text.index(f"Result codes of {UNDOCUMENTED}:") + 1:]
    assert block[0].split() == ["Success", "not", "documented", "成功"]
    assert all(" not documented " in line for line in block)
    entries = json.loads(run("codes", "--api", "faceid", "--action", UNDOCUMENTED,
                             "--json").stdout)
    results = [entry for entry in entries if entry.get("kind") == "result"]
    assert results[0] == entry("Success", "成功", None)
    assert {entry["charged"] for entry in results} == {None}


def test_codes_of_an_action_without_a_table_or_of_every_action_list_no_results():
    image = run("codes", "--api", "faceid", "--action", "ImageRecognitionV2")
    assert "Result codes of" not in image.stdout
    listed = json.loads(run("codes", "--api", "faceid", "--json").stdout)
    assert all("kind" not in entry for entry in listed)
    assert "Result codes of" not in run("codes", "--api", "faceid").stdout


# -- GET /__mockface/codes, and a call through the SDK ---------------------------------------

@pytest.fixture(scope="module")
def server():
    background = start_background(create_app(emulator=Emulator(Settings(apps=(APP,)))))
    yield background
    background.stop()


def test_the_codes_route_lists_an_actions_results_as_the_cli_does(server):
    codes = AdminClient(server.url).codes("faceid:PhoneVerificationCMCC")
    cli = json.loads(run("codes", "--api", "faceid", "--action", "PhoneVerificationCMCC",
                         "--json").stdout)
    assert codes == cli
    results = [entry for entry in codes if entry.get("kind") == "result"]
    assert [(entry["result"], entry["charged"]) for entry in results] == [
        ("0", True), ("-4", True), ("-6", False), ("-7", False), ("-8", False),
        ("-9", False), ("-11", False), ("-13", False)]
    assert all("kind" not in entry for entry in AdminClient(server.url).codes(
        "faceid:ImageRecognitionV2"))


def test_an_sdk_answer_is_looked_up_charged_or_free(server):
    """What an integrator's test does: call through Tencent's SDK, then ask mockface
    whether the Result it got is billed."""
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}")
    client = faceid_client.FaceidClient(credential.Credential(*next(iter(APP.secrets.items()))),
                                        "", ClientProfile(httpProfile=http))
    request = models.CheckPhoneAndNameRequest()
    request.from_json_string(json.dumps({"Mobile": "1380013800", "Name": "张三"}))
    answer = client.CheckPhoneAndName(request)
    charged = {entry["result"]: entry["charged"]
               for entry in AdminClient(server.url).codes("faceid:CheckPhoneAndName")
               if entry.get("kind") == "result"}
    assert (answer.Result, answer.Description) == ("-5", "手机号码不合法")
    assert charged[answer.Result] is False
