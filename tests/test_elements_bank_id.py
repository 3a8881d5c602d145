"""The bank-card and ID element checks of faceid (contract-faceid-flows §5): every row of each
action's Result table that an input reaches, in the contract's order (format checks, the
identity registry, unknown identities), the parameters, the scenario ``result:`` key, the
library files ``bank-card-lost`` and ``minor``, and one call per action through Tencent's
official Python SDK over HTTP."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from mockface.core.clock import Clock
from mockface.core.config import App, Settings
from mockface.core.elements import BINS, QUASI_CREDIT, with_luhn_digit
from mockface.core.identity import BankCard, IdentityRecord, Phone, Validity, with_check_digit
from mockface.emulator import Emulator
from mockface.products.faceid.flow_common import sample
from mockface.products.faceid.flows import generated_identity
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.tc3.actions import Actions
from mockface.products.tc3.provider import Call
from mockface.products.tc3.request import Tc3Error
from mockface.scenarios import ScenarioEngine, load_scenario, parse_scenario_text, search_path
from mockface.web.app import create_app
from mockface.web.server import start_background

from .support import NOW, media

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"
APP = App("1300000002", {"AKIDelements0002": "elements-key"})
ACTIONS = ("BankCardVerification", "BankCard2EVerification", "BankCard4EVerification",
           "CheckBankCardInformation", "CheckIdNameDate", "IdCardOCRVerification",
           "CheckIdCardInformation", "MinorsVerification")

# -- the people the registry knows (NOW is 2027-01-15) -------------------------------------

UNKNOWN = with_check_digit("11010519900307123")  # valid, not registered
HOLDER = with_check_digit("44030419851120456")
HOLDER_PHONE = "13800138000"
CARD = with_luhn_digit("622202020011223344")  # ICBC debit (BIN 622202), 19 digits
CMB_CREDIT = with_luhn_digit("622575000000001")  # CMB credit (BIN 622575), 16 digits
#: A card of the holder per status 1-12 (identity.BANK_CARD_STATUSES; 7 is lost).
STATUS_CARDS = {status: with_luhn_digit(f"6217000000000000{status:02d}")
                for status in range(1, 13)}
OWN_BANK = with_luhn_digit("621700000000000099")  # with the registry's own bank and type
OTHER = with_check_digit("31010419800101111")
OTHER_CARD = with_luhn_digit("622848000000000001")
OTHER_PHONE = "13900139000"
CHILD = with_check_digit("11010520120601123")  # 14 on NOW
CHILD_PHONE = "13700137000"
UNKNOWN_BIN = with_luhn_digit("999999000000000000")
QUASI = next(entry for entry in BINS if entry.card_type == QUASI_CREDIT)

RECORDS = {
    HOLDER: IdentityRecord(
        HOLDER, "李四", (Phone(HOLDER_PHONE),),
        (BankCard(CARD), *(BankCard(card, status=status) for status, card in
                           STATUS_CARDS.items()),
         BankCard(OWN_BANK, bank="测试银行", type=3)),
        Validity("20200101", "20400101")),
    OTHER: IdentityRecord(OTHER, "王五", (Phone(OTHER_PHONE),), (BankCard(OTHER_CARD),)),
    CHILD: IdentityRecord(CHILD, "小明", (Phone(CHILD_PHONE),)),
}


def settings_of(**changes) -> Settings:
    return Settings(apps=(APP,), identities={n: r.name for n, r in RECORDS.items()},
                    identity_records=RECORDS).with_overrides(**changes)


def actions_of(**changes) -> Actions:
    """The API 3.0 actions of a new emulator frozen at NOW with the registry above."""
    clock = Clock()
    clock.freeze(NOW)
    return Emulator(settings_of(**changes), clock).handlers["tc3"].actions


def answer(actions: Actions, action: str, **params) -> dict:
    return actions.answer("faceid", action, "2018-03-01", APP.appid, params).fields


def refusal(actions: Actions, action: str, **params) -> Tc3Error:
    with pytest.raises(Tc3Error) as caught:
        answer(actions, action, **params)
    return caught.value


@pytest.fixture(scope="module")
def actions() -> Actions:
    return actions_of()


@pytest.fixture(scope="module")
def no_record() -> Actions:
    return actions_of(sections={"unknown_identity": "no_record"})


def table(action: str) -> dict[str, str]:
    result_table = FaceIdProvider.declarations[action].result_table
    assert result_table is not None
    return dict(result_table)


# -- the tables, written out (the SDK's models.py) -------------------------------------------

BANK3 = {
    "0": "认证通过", "-1": "认证未通过", "-2": "姓名校验不通过", "-3": "身份证号码有误",
    "-4": "银行卡号格式有误", "-5": "持卡人信息有误", "-6": "未开通无卡支付", "-7": "此卡被没收",
    "-8": "无效卡号", "-9": "此卡无对应发卡行", "-10": "该卡未初始化或睡眠卡",
    "-11": "作弊卡、吞卡", "-12": "此卡已挂失", "-13": "该卡已过期", "-14": "受限制的卡",
    "-15": "密码错误次数超限", "-16": "发卡行不支持此交易", "-17": "验证中心服务繁忙",
    "-18": "验证次数超限，请次日重试", "-19": "该证件号暂不支持核验，当前仅支持二代身份证",
    "-20": "卡状态异常或卡号错误"}
BANK2 = {
    "0": "认证通过", "-1": "认证未通过", "-2": "姓名校验不通过", "-3": "银行卡号格式有误",
    "-4": "持卡人信息有误", "-5": "未开通无卡支付", "-6": "此卡被没收", "-7": "无效卡号",
    "-8": "此卡无对应发卡行", "-9": "该卡未初始化或睡眠卡", "-10": "作弊卡、吞卡",
    "-11": "此卡已挂失", "-12": "该卡已过期", "-13": "受限制的卡", "-14": "密码错误次数超限",
    "-15": "发卡行不支持此交易", "-16": "验证中心服务繁忙", "-17": "验证次数超限，请次日重试",
    "-18": "卡状态异常或卡号错误"}
BANK4 = {
    "0": "认证通过", "-1": "认证未通过", "-2": "姓名校验不通过", "-3": "身份证号码有误",
    "-4": "银行卡号格式有误", "-5": "手机号码不合法", "-6": "持卡人信息有误",
    "-7": "未开通无卡支付", "-8": "此卡被没收", "-9": "无效卡号", "-10": "此卡无对应发卡行",
    "-11": "该卡未初始化或睡眠卡", "-12": "作弊卡、吞卡", "-13": "此卡已挂失", "-14": "该卡已过期",
    "-15": "受限制的卡", "-16": "密码错误次数超限", "-17": "发卡行不支持此交易",
    "-18": "验证中心服务繁忙", "-19": "验证次数超限，请次日重试",
    "-20": "该证件号暂不支持核验，当前仅支持二代身份证", "-21": "卡状态异常或卡号错误"}
CARD_INFO = {"0": "查询成功", "-1": "未查到信息", "-2": "验证中心服务繁忙", "-3": "银行卡不存在",
             "-4": "认证次数超过当日限制，请次日重试", "-5": "卡号无效", "-6": "暂不支持该银行卡种"}
ID_DATE = {"0": "一致", "-1": "不一致", "-2": "非法身份证号（长度、校验位等不正确）",
           "-3": "非法姓名（长度、格式等不正确）", "-4": "非法有效期（长度、格式等不正确）",
           "-5": "身份信息无效", "-6": "证件库服务异常", "-7": "证件库中无此身份证记录",
           "-8": "认证次数超过当日限制，请次日重试"}
OCR = {"0": "姓名和身份证号一致", "-1": "姓名和身份证号不一致",
       "-2": "非法身份证号（长度、校验位等不正确）", "-3": "非法姓名（长度、格式等不正确）",
       "-4": "证件库服务异常", "-5": "证件库中无此身份证记录",
       "-6": "权威比对系统升级中，请稍后再试", "-7": "认证次数超过当日限制"}
MINORS = {"0": "成年", "-1": "未成年", "-2": "未查询到手机号信息",
          "-3": "姓名和身份证号不一致", "-4": "非法身份证号（长度、校验位等不正确）",
          "-5": "非法姓名（长度、格式等不正确）",
          "-6": "权威数据源服务异常", "-7": "未查询到身份信息",
          "-8": "权威数据源升级中，请稍后再试"}


@pytest.mark.parametrize("action,expected", [
    ("BankCardVerification", BANK3), ("BankCard2EVerification", BANK2),
    ("BankCard4EVerification", BANK4), ("CheckBankCardInformation", CARD_INFO),
    ("CheckIdNameDate", ID_DATE), ("IdCardOCRVerification", OCR),
    ("MinorsVerification", MINORS)])
def test_each_action_has_its_own_table(action, expected):
    assert table(action) == expected


def test_check_id_card_information_answers_success_or_failed_operation_names():
    results = table("CheckIdCardInformation")
    assert results["Success"] == "成功"
    assert results["FailedOperation.OcrWarningOccurred"] == "出现OCR告警"
    assert results["FailedOperation.IdNameMisMatch"] == "姓名和身份证号不一致，请核实后重试。"
    assert all(name == "Success" or name.startswith("FailedOperation.") for name in results)
    assert len(results) == 28


def test_the_provider_declares_the_eight_actions():
    assert set(ACTIONS) <= set(FaceIdProvider.declarations)


# -- the bank-card checks ----------------------------------------------------------------------

def three(**changes) -> dict:
    return {"IdCard": HOLDER, "Name": "李四", "BankCard": CARD, **changes}


def four(**changes) -> dict:
    return {**three(), "Phone": HOLDER_PHONE, **changes}


def two(**changes) -> dict:
    return {"Name": "李四", "BankCard": CARD, **changes}


#: (meaning, BankCardVerification params, BankCard2EVerification params or None,
#: BankCard4EVerification params): the expected code of each is the action's own.
BANK_CASES = [
    ("pass", three(), two(), four()),
    ("pass (unknown card and person)", three(IdCard=UNKNOWN, Name="张三", BankCard=CMB_CREDIT),
     two(Name="张三", BankCard=CMB_CREDIT),
     four(IdCard=UNKNOWN, Name="张三", BankCard=CMB_CREDIT, Phone="13300133000")),
    ("pass (CertType 0)", three(CertType=0), None, four(CertType=0)),
    ("id checksum", three(IdCard=HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1")), None,
     four(IdCard=HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1"))),
    ("id format", three(IdCard="4403"), None, four(IdCard="4403")),
    ("name", three(Name="Li Si"), two(Name="Li Si"), four(Name="李")),
    ("card luhn", three(BankCard=CARD[:-1] + str((int(CARD[-1]) + 1) % 10)),
     two(BankCard=CARD[:-1] + str((int(CARD[-1]) + 1) % 10)),
     four(BankCard=CARD[:-1] + str((int(CARD[-1]) + 1) % 10))),
    ("card length", three(BankCard="6222020"), two(BankCard="6222020"),
     four(BankCard="6222020")),
    ("card letters", three(BankCard="62220202001122334A"), two(BankCard="6222 0202 0011 2233"),
     four(BankCard="622202020011223344X")),
    ("phone", None, None, four(Phone="12345678901")),
    ("cert", three(CertType=1), None, four(CertType=2)),
    ("holder", three(Name="张三"), None, four(Name="张三")),
    ("fail (another's card)", three(BankCard=OTHER_CARD), two(BankCard=OTHER_CARD),
     four(BankCard=OTHER_CARD)),
    ("fail (another's phone)", None, None, four(Phone=OTHER_PHONE)),
    ("fail (not the holder's phone)", None, None, four(Phone="13300133000")),
    ("fail (the card's holder under another number)", three(IdCard=UNKNOWN), None,
     four(IdCard=UNKNOWN)),
]
#: The expected Result of each case, by action.
BANK_EXPECTED = {
    "pass": ("0", "0", "0"), "pass (unknown card and person)": ("0", "0", "0"),
    "pass (CertType 0)": ("0", None, "0"), "id checksum": ("-3", None, "-3"),
    "id format": ("-3", None, "-3"), "name": ("-2", "-2", "-2"),
    "card luhn": ("-4", "-3", "-4"), "card length": ("-4", "-3", "-4"),
    "card letters": ("-4", "-3", "-4"), "phone": (None, None, "-5"),
    "cert": ("-19", None, "-20"), "holder": ("-5", None, "-6"),
    "fail (another's card)": ("-1", "-1", "-1"), "fail (another's phone)": (None, None, "-1"),
    "fail (not the holder's phone)": (None, None, "-1"),
    "fail (the card's holder under another number)": ("-1", None, "-1"),
}
BANK_ACTIONS = ("BankCardVerification", "BankCard2EVerification", "BankCard4EVerification")
BANK_TABLES = dict(zip(BANK_ACTIONS, (BANK3, BANK2, BANK4), strict=True))


@pytest.mark.parametrize("case", BANK_CASES, ids=[case[0] for case in BANK_CASES])
def test_the_bank_card_checks_answer_in_the_contracts_order(actions, case):
    meaning, *calls = case
    for action, params, expected in zip(BANK_ACTIONS, calls, BANK_EXPECTED[meaning], strict=True):
        assert (params is None) == (expected is None), (meaning, action)
        if params is None:
            continue
        assert answer(actions, action, **params) == {
            "Result": expected, "Description": BANK_TABLES[action][expected]}, (meaning, action)


#: A registered card's status (1-12) -> its Result in each action's table.
STATUS_EXPECTED = {
    1: ("-6", "-5", "-7"), 2: ("-7", "-6", "-8"), 3: ("-8", "-7", "-9"), 4: ("-9", "-8", "-10"),
    5: ("-10", "-9", "-11"), 6: ("-11", "-10", "-12"), 7: ("-12", "-11", "-13"),
    8: ("-13", "-12", "-14"), 9: ("-14", "-13", "-15"), 10: ("-15", "-14", "-16"),
    11: ("-16", "-15", "-17"), 12: ("-20", "-18", "-21"),
}


@pytest.mark.parametrize("status", sorted(STATUS_EXPECTED))
def test_a_registered_cards_status_is_each_actions_own_code(actions, status):
    card = STATUS_CARDS[status]
    calls = (three(BankCard=card), two(BankCard=card), four(BankCard=card))
    for action, params, expected in zip(BANK_ACTIONS, calls, STATUS_EXPECTED[status], strict=True):
        assert answer(actions, action, **params) == {
            "Result": expected, "Description": BANK_TABLES[action][expected]}, action
    # the status wins over whose card it is
    assert answer(actions, "BankCard2EVerification", **two(BankCard=card, Name="王五")) \
        ["Result"] == STATUS_EXPECTED[status][1]


def test_a_lost_card_reads_lost_in_every_table(actions):
    lost = STATUS_CARDS[7]
    assert [answer(actions, action, **params)["Description"] for action, params in
            zip(BANK_ACTIONS, (three(BankCard=lost), two(BankCard=lost),
                               four(BankCard=lost)), strict=True)] == ["此卡已挂失"] * 3


def test_unknown_cards_have_no_record_when_configured(no_record):
    cases = ((CMB_CREDIT, ("-8", "-7", "-9")), (UNKNOWN_BIN, ("-9", "-8", "-10")))
    for card, expected in cases:
        calls = (three(IdCard=UNKNOWN, Name="张三", BankCard=card),
                 two(Name="张三", BankCard=card),
                 four(IdCard=UNKNOWN, Name="张三", BankCard=card, Phone="13300133000"))
        assert [answer(no_record, action, **params)["Result"] for action, params in
                zip(BANK_ACTIONS, calls, strict=True)] == list(expected), card
    assert answer(no_record, "BankCardVerification", **three())["Result"] == "0"


def test_the_check_idcard_setting_off_admits_a_bad_checksum():
    loose = actions_of(check_idcard=False)
    bad = HOLDER[:-1] + ("0" if HOLDER[-1] != "0" else "1")
    assert answer(loose, "BankCardVerification", **three(IdCard=bad, BankCard=CMB_CREDIT)) == \
        {"Result": "0", "Description": "认证通过"}


# -- CheckBankCardInformation ------------------------------------------------------------------

@pytest.mark.parametrize("card,fields", [
    (CARD, {"Result": "0", "Description": "查询成功", "AccountBank": "中国工商银行借记卡",
            "AccountType": 1}),
    (CMB_CREDIT, {"Result": "0", "Description": "查询成功", "AccountBank": "招商银行信用卡",
                  "AccountType": 2}),
    (with_luhn_digit(QUASI.bin + "000000000"), {"Result": "0", "Description": "查询成功",
                                                "AccountBank": QUASI.bank + "准贷记卡",
                                                "AccountType": 4}),
    (OWN_BANK, {"Result": "0", "Description": "查询成功", "AccountBank": "测试银行",
                "AccountType": 3}),
    (UNKNOWN_BIN, {"Result": "-1", "Description": "未查到信息", "AccountBank": "",
                   "AccountType": -1}),
    (STATUS_CARDS[7], {"Result": "-5", "Description": "卡号无效", "AccountBank": "",
                       "AccountType": -1}),
    (CARD[:-1] + str((int(CARD[-1]) + 1) % 10),
     {"Result": "-3", "Description": "银行卡不存在", "AccountBank": "", "AccountType": -1}),
    ("622202", {"Result": "-3", "Description": "银行卡不存在", "AccountBank": "",
                "AccountType": -1}),
    ("６２２２０２０２００１１２２３３４４", {"Result": "-3", "Description": "银行卡不存在",
                                          "AccountBank": "", "AccountType": -1}),
])
def test_check_bank_card_information_names_the_bank_and_kind(actions, card, fields):
    assert answer(actions, "CheckBankCardInformation", BankCard=card) == fields


# -- CheckIdNameDate ---------------------------------------------------------------------------

@pytest.mark.parametrize("params,result", [
    ({"ValidityBegin": "20200101", "ValidityEnd": "20400101"}, "0"),
    ({"IdCard": UNKNOWN, "Name": "张三", "ValidityBegin": "20100101", "ValidityEnd": "00000000"},
     "0"),
    ({"IdCard": OTHER, "Name": "王五", "ValidityBegin": "20100101", "ValidityEnd": "20300101"},
     "0"),  # registered without validity dates: the name decides
    ({"ValidityBegin": "20200101", "ValidityEnd": "00000000"}, "-1"),
    ({"ValidityBegin": "20200102", "ValidityEnd": "20400101"}, "-1"),
    ({"Name": "张三", "ValidityBegin": "20200101", "ValidityEnd": "20400101"}, "-1"),
    ({"IdCard": "44030419851120456", "ValidityBegin": "20200101", "ValidityEnd": "20400101"},
     "-2"),
    ({"IdCard": with_check_digit("11010520991231123")}, "-2"),  # born after today
    ({"Name": "李4"}, "-3"),
    ({"ValidityBegin": "2020-01-01"}, "-4"),
    ({"ValidityBegin": "20200230"}, "-4"),
    ({"ValidityBegin": "20270116"}, "-4"),  # begins after today (2027-01-15)
    ({"ValidityEnd": "20191231"}, "-4"),
    ({"ValidityEnd": "20200101"}, "-4"),
    ({"ValidityEnd": "2040010"}, "-4"),
    ({"ValidityEnd": "长期"}, "-4"),
])
def test_check_id_name_date(actions, params, result):
    given = {"IdCard": HOLDER, "Name": "李四", "ValidityBegin": "20200101",
             "ValidityEnd": "20400101", **params}
    assert answer(actions, "CheckIdNameDate", **given) == \
        {"Result": result, "Description": ID_DATE[result]}


def test_check_id_name_date_has_no_record_of_unknown_numbers_when_configured(no_record):
    params = {"IdCard": UNKNOWN, "Name": "张三", "ValidityBegin": "20100101",
              "ValidityEnd": "00000000"}
    assert answer(no_record, "CheckIdNameDate", **params) == \
        {"Result": "-7", "Description": "证件库中无此身份证记录"}


# -- IdCardOCRVerification -----------------------------------------------------------------------

CARD_IMAGE = sample("card-front.jpg")
SEED = settings_of().seed


def shown(image_b64: str) -> dict[str, str]:
    """The identity the sample card shows for this image (what the OCR reads)."""
    import hashlib
    data = base64.b64decode(image_b64)
    return generated_identity(SEED, "image:" + hashlib.sha256(data).hexdigest())


def test_id_card_ocr_with_number_and_name_reads_no_photo(actions):
    fields = answer(actions, "IdCardOCRVerification", IdCard=HOLDER, Name="李四",
                    ImageBase64=CARD_IMAGE, Config=json.dumps({"Quality": True}))
    assert fields == {"Result": "0", "Description": OCR["0"], "Name": "李四", "IdCard": HOLDER,
                      "Sex": None, "Nation": None, "Birth": None, "Address": None,
                      "Portrait": "", "Warnings": "", "Quality": 0.0}


@pytest.mark.parametrize("number,name,result", [
    (UNKNOWN, "张三", "0"), (HOLDER, "张三", "-1"), (HOLDER[:17] + "Y", "李四", "-2"),
    (HOLDER, "Li Si", "-3")])
def test_id_card_ocr_checks_number_and_name_as_id_card_verification(actions, number, name,
                                                                     result):
    fields = answer(actions, "IdCardOCRVerification", IdCard=number, Name=name)
    assert (fields["Result"], fields["Description"], fields["Name"], fields["IdCard"]) == \
        (result, OCR[result], name, number)


def test_id_card_ocr_reads_the_sample_card_from_a_photo(actions):
    provider = actions.providers["faceid"]
    fields = answer(actions, "IdCardOCRVerification", ImageBase64=CARD_IMAGE,
                    ImageUrl="https://x.invalid/card.jpg", IdCard=HOLDER)  # no Name: photo
    identity = shown(CARD_IMAGE)
    number = identity["IdCard"]
    assert {key: fields[key] for key in ("Result", "Name", "IdCard", "Nation", "Address",
                                         "Portrait", "Warnings")} == {
        "Result": "0", "Name": identity["Name"], "IdCard": number, "Nation": "汉",
        "Address": "北京市东城区景山前街4号", "Portrait": provider.photo_b64, "Warnings": ""}
    assert fields["Birth"] == f"{int(number[6:10])}/{int(number[10:12])}/{int(number[12:14])}"
    assert fields["Sex"] == ("男" if int(number[16]) % 2 else "女")
    assert isinstance(fields["Quality"], float) and 80 <= fields["Quality"] < 100
    again = answer(actions, "IdCardOCRVerification", ImageBase64=CARD_IMAGE)
    assert again["IdCard"] == number  # the same image shows the same identity


def test_id_card_ocr_reads_a_url_without_downloading_it(actions):
    first = answer(actions, "IdCardOCRVerification", ImageUrl="https://x.invalid/a.jpg")
    second = answer(actions, "IdCardOCRVerification", ImageUrl="https://x.invalid/b.jpg")
    assert first["Result"] == second["Result"] == "0"
    assert first["IdCard"] != second["IdCard"]
    assert first == answer(actions, "IdCardOCRVerification", ImageUrl="https://x.invalid/a.jpg")


def test_id_card_ocr_refuses_what_is_not_an_id_card_photo(actions):
    missing = refusal(actions, "IdCardOCRVerification", IdCard=HOLDER)
    assert (missing.code, missing.message) == (
        "MissingParameter", "The parameter `ImageBase64` or `ImageUrl` is missing.")
    gif = base64.b64encode(b"GIF89a" + b"\0" * 20).decode()
    assert refusal(actions, "IdCardOCRVerification", ImageBase64=gif).code == \
        "FailedOperation.ImageDecodeFailed"
    assert refusal(actions, "IdCardOCRVerification",
                   ImageBase64="A" * (3 * 1024 * 1024 + 4)).code == \
        "FailedOperation.ImageSizeTooLarge"
    assert refusal(actions, "IdCardOCRVerification", ImageBase64="%%%").code == \
        "InvalidParameterValue"


@pytest.mark.parametrize("config", ["{", "[]", '{"CopyWarn": 1}', '"x"', "null",
                                    '{"Quality": "true"}'])
def test_config_is_a_json_object_of_bools(actions, config):
    for action, params in (("IdCardOCRVerification", {"ImageBase64": CARD_IMAGE}),
                           ("CheckIdCardInformation", {"ImageBase64": CARD_IMAGE})):
        caught = refusal(actions, action, Config=config, **params)
        assert (caught.code, caught.message) == (
            "InvalidParameterValue", "The value of the parameter `Config` is invalid.")


def test_config_takes_every_documented_warning(actions):
    config = json.dumps({flag: True for flag in ("CopyWarn", "BorderCheckWarn", "ReshootWarn",
                                                 "DetectPsWarn", "TempIdWarn", "Quality")}
                        | {"SomethingNew": 3})
    fields = answer(actions, "IdCardOCRVerification", ImageBase64=CARD_IMAGE, Config=config)
    assert (fields["Result"], fields["Warnings"]) == ("0", "")


def test_id_card_ocr_has_no_record_of_unknown_numbers_when_configured(no_record):
    assert answer(no_record, "IdCardOCRVerification", IdCard=UNKNOWN, Name="张三")["Result"] \
        == "-5"
    assert answer(no_record, "IdCardOCRVerification", ImageBase64=CARD_IMAGE)["Result"] == "-5"
    assert answer(no_record, "IdCardOCRVerification", IdCard=HOLDER, Name="李四")["Result"] == \
        "0"


# -- CheckIdCardInformation ---------------------------------------------------------------------

def test_check_id_card_information_reads_and_compares_the_card(actions):
    provider = actions.providers["faceid"]
    fields = answer(actions, "CheckIdCardInformation", ImageBase64=CARD_IMAGE)
    identity = shown(CARD_IMAGE)
    number = identity["IdCard"]
    assert set(fields) == {"Sim", "Result", "Description", "Name", "Sex", "Nation", "Birth",
                           "Address", "IdNum", "Portrait", "Warnings", "Quality",
                           "Encryption", "EncryptedBody"}
    assert {key: fields[key] for key in ("Result", "Description", "Name", "IdNum", "Nation",
                                         "Portrait", "Warnings", "Encryption",
                                         "EncryptedBody")} == {
        "Result": "Success", "Description": "成功", "Name": identity["Name"], "IdNum": number,
        "Nation": "汉", "Portrait": provider.photo_b64, "Warnings": "", "Encryption": None,
        "EncryptedBody": ""}
    assert 80 <= fields["Sim"] < 100 and 80 <= fields["Quality"] < 100
    assert fields == answer(actions, "CheckIdCardInformation", ImageBase64=CARD_IMAGE,
                            IsEncrypt=False, IsEncryptResponse=False)


def test_check_id_card_information_prefers_the_url(actions):
    by_url = answer(actions, "CheckIdCardInformation", ImageUrl="https://x.invalid/a.jpg",
                    ImageBase64=CARD_IMAGE)
    assert by_url["IdNum"] != shown(CARD_IMAGE)["IdCard"]
    assert by_url["IdNum"] == answer(actions, "CheckIdCardInformation",
                                     ImageUrl="https://x.invalid/a.jpg")["IdNum"]


def test_check_id_card_information_answers_image_problems_as_results(actions):
    gif = base64.b64encode(b"GIF89a" + b"\0" * 20).decode()
    empty = {"Sim": 0.0, "Name": "", "Sex": "", "Nation": "", "Birth": "", "Address": "",
             "IdNum": "", "Portrait": "", "Warnings": "", "Quality": 0.0, "Encryption": None,
             "EncryptedBody": ""}
    assert answer(actions, "CheckIdCardInformation", ImageBase64=gif) == {
        "Result": "FailedOperation.ImageDecodeFailed", "Description": "图片解码失败。", **empty}
    assert answer(actions, "CheckIdCardInformation",
                  ImageBase64="A" * (7 * 1024 * 1024 + 4))["Result"] == \
        "FailedOperation.ImageSizeTooLarge"
    face = base64.b64encode(media("face.jpg")).decode()
    assert answer(actions, "CheckIdCardInformation", ImageBase64=face)["Result"] == "Success"
    assert refusal(actions, "CheckIdCardInformation").code == "MissingParameter"


def test_check_id_card_information_compares_with_the_registry():
    identity = shown(CARD_IMAGE)
    mismatched = actions_of(identities={identity["IdCard"]: "某某某"})
    fields = answer(mismatched, "CheckIdCardInformation", ImageBase64=CARD_IMAGE)
    assert (fields["Result"], fields["Description"], fields["Sim"], fields["IdNum"]) == (
        "FailedOperation.IdNameMisMatch", "姓名和身份证号不一致，请核实后重试。", 0.0,
        identity["IdCard"])
    no_record = actions_of(sections={"unknown_identity": "no_record"})
    assert answer(no_record, "CheckIdCardInformation", ImageBase64=CARD_IMAGE)["Result"] == \
        "FailedOperation.IdNoExistSystem"


# -- MinorsVerification ---------------------------------------------------------------------------

def born(date: str) -> str:
    return with_check_digit(f"110105{date}123")


@pytest.mark.parametrize("number,result,age_range", [
    (born("19900307"), "0", "[18,+)"),
    (born("20090115"), "0", "[18,+)"),  # 18 today
    (born("20090116"), "-1", "[16,18)"),  # 18 tomorrow
    (born("20110115"), "-1", "[16,18)"),
    (born("20110116"), "-1", "[8,16)"),
    (born("20190115"), "-1", "[8,16)"),
    (born("20190116"), "-1", "[0,8)"),
    (born("20260601"), "-1", "[0,8)"),
])
def test_minors_by_the_birth_date_against_the_clock(actions, number, result, age_range):
    assert answer(actions, "MinorsVerification", Type="1", IdCard=number, Name="张三") == {
        "Result": result, "Description": MINORS[result], "AgeRange": age_range}


@pytest.mark.parametrize("params,result", [
    ({"Type": "1", "IdCard": HOLDER, "Name": "张三"}, "-3"),
    ({"Type": "1", "IdCard": HOLDER[:-1] + "Y", "Name": "张三"}, "-4"),
    ({"Type": "1", "IdCard": born("20300101"), "Name": "张三"}, "-4"),  # not born yet
    ({"Type": "1", "IdCard": UNKNOWN, "Name": "Zhang"}, "-5"),
    ({"Type": "0", "Mobile": "13300133000"}, "-2"),  # nobody registered owns it
    ({"Type": "0", "Mobile": "1380013800"}, "-2"),
    ({"Type": "0", "Mobile": "11100000000"}, "-2"),
])
def test_minors_free_codes(actions, params, result):
    assert answer(actions, "MinorsVerification", **params) == \
        {"Result": result, "Description": MINORS[result], "AgeRange": ""}


def test_minors_by_phone_ask_the_registry_who_owns_it(actions):
    assert answer(actions, "MinorsVerification", Type="0", Mobile=HOLDER_PHONE) == \
        {"Result": "0", "Description": "成年", "AgeRange": "[18,+)"}
    assert answer(actions, "MinorsVerification", Type="0", Mobile=CHILD_PHONE) == \
        {"Result": "-1", "Description": "未成年", "AgeRange": "[8,16)"}
    # the clock decides: four years on, the child is 18
    clock = Clock()
    clock.freeze(NOW + 4 * 366 * 86400)
    later = Emulator(settings_of(), clock).handlers["tc3"].actions
    assert answer(later, "MinorsVerification", Type="0", Mobile=CHILD_PHONE)["Result"] == "0"


def test_minors_have_no_record_of_unknown_identities_when_configured(no_record):
    assert answer(no_record, "MinorsVerification", Type="1", IdCard=UNKNOWN, Name="张三") == \
        {"Result": "-7", "Description": "未查询到身份信息", "AgeRange": ""}
    assert answer(no_record, "MinorsVerification", Type="1", IdCard=CHILD, Name="小明") == \
        {"Result": "-1", "Description": "未成年", "AgeRange": "[8,16)"}


@pytest.mark.parametrize("params,code,message", [
    ({"Type": "0"}, "MissingParameter", "The parameter `Mobile` is missing."),
    ({"Type": "1", "Name": "张三"}, "MissingParameter", "The parameter `IdCard` is missing."),
    ({"Type": "1", "IdCard": UNKNOWN}, "MissingParameter", "The parameter `Name` is missing."),
    ({"Type": "2", "Mobile": HOLDER_PHONE}, "InvalidParameterValue",
     "The value of the parameter `Type` is invalid."),
    ({"Type": 1}, "InvalidParameter", "The type of the parameter `Type` is wrong."),
    ({"Mobile": HOLDER_PHONE}, "MissingParameter", "The parameter `Type` is missing."),
])
def test_minors_parameters(actions, params, code, message):
    caught = refusal(actions, "MinorsVerification", **params)
    assert (caught.code, caught.message) == (code, message)


# -- the parameters (checks 12-14) ---------------------------------------------------------------

@pytest.mark.parametrize("action,params,code", [
    ("BankCardVerification", {"Name": "李四", "BankCard": CARD}, "MissingParameter"),
    ("BankCardVerification", three(CertType="0"), "InvalidParameter"),
    ("BankCardVerification", three(BankCard=6222020200112233), "InvalidParameter"),
    ("BankCardVerification", three(Encryption="x"), "InvalidParameter"),
    ("BankCardVerification", three(Phone=HOLDER_PHONE), "UnknownParameter"),
    ("BankCard2EVerification", two(IdCard=HOLDER), "UnknownParameter"),
    ("BankCard2EVerification", {"Name": "李四"}, "MissingParameter"),
    ("BankCard4EVerification", three(), "MissingParameter"),
    ("BankCard4EVerification", four(CertType=True), "InvalidParameter"),
    ("CheckBankCardInformation", {}, "MissingParameter"),
    ("CheckBankCardInformation", {"BankCard": ""}, "MissingParameter"),
    ("CheckIdNameDate", {"IdCard": HOLDER, "Name": "李四", "ValidityBegin": "20200101"},
     "MissingParameter"),
    ("CheckIdNameDate", {"IdCard": HOLDER, "Name": "李四", "ValidityBegin": 20200101,
                         "ValidityEnd": "00000000"}, "InvalidParameter"),
    ("IdCardOCRVerification", {"ImageBase64": CARD_IMAGE, "Config": {"Quality": True}},
     "InvalidParameter"),
    ("CheckIdCardInformation", {"ImageBase64": CARD_IMAGE, "IsEncrypt": "true"},
     "InvalidParameter"),
])
def test_wrong_types_and_missing_parameters_are_envelope_errors(actions, action, params, code):
    assert refusal(actions, action, **params).code == code


# -- scripted answers ---------------------------------------------------------------------------

def scripted(actions: Actions, action: str, result: str, **params) -> dict:
    return actions.scripted("faceid", action, "2018-03-01", APP.appid, params,
                            {"Result": result}).fields


PARAMS = {
    "BankCardVerification": three(), "BankCard2EVerification": two(),
    "BankCard4EVerification": four(), "CheckBankCardInformation": {"BankCard": CARD},
    "CheckIdNameDate": {"IdCard": HOLDER, "Name": "李四", "ValidityBegin": "20200101",
                        "ValidityEnd": "20400101"},
    "IdCardOCRVerification": {"IdCard": UNKNOWN, "Name": "张三"},
    "CheckIdCardInformation": {"ImageBase64": CARD_IMAGE},
    "MinorsVerification": {"Type": "1", "IdCard": UNKNOWN, "Name": "张三"},
}
#: What a scripted failing Result answers besides Result and Description.
FAILURE = {
    "CheckBankCardInformation": {"AccountBank": "", "AccountType": -1},
    "IdCardOCRVerification": {"Name": "张三", "IdCard": UNKNOWN, "Sex": None, "Nation": None,
                              "Birth": None, "Address": None, "Portrait": "", "Warnings": "",
                              "Quality": 0.0},
    "CheckIdCardInformation": {"Sim": 0.0, "Name": "", "Sex": "", "Nation": "", "Birth": "",
                               "Address": "", "IdNum": "", "Portrait": "", "Warnings": "",
                               "Quality": 0.0, "Encryption": None, "EncryptedBody": ""},
    "MinorsVerification": {"AgeRange": ""},
}
SCRIPTED = [(action, result) for action in ACTIONS for result in table(action)]


@pytest.mark.parametrize("action,result", SCRIPTED,
                         ids=[f"{action}{result}" for action, result in SCRIPTED])
def test_every_result_may_be_scripted(actions, action, result):
    fields = scripted(actions, action, result, **PARAMS[action])
    assert (fields["Result"], fields["Description"]) == (result, table(action)[result])
    if result in ("0", "Success"):
        assert fields == {**answer(actions, action, **PARAMS[action]), "Result": result}
    else:
        minor = {"AgeRange": "[16,18)"} if (action, result) == ("MinorsVerification", "-1") \
            else {}  # a scripted minor of an adult's number: the oldest minors' range
        assert {key: value for key, value in fields.items()
                if key not in ("Result", "Description")} == {**FAILURE.get(action, {}), **minor}


def test_the_failure_of_a_scripted_minor_and_ocr_answer_takes_the_call():
    provider = actions_of().providers["faceid"]

    def failure(action: str, result: str, **params) -> dict:
        return provider.element_failure(Call("faceid", action, "2018-03-01", APP.appid,
                                             params, {}), result)

    assert failure("MinorsVerification", "-1", Type="1", IdCard=CHILD, Name="小明") == \
        {"AgeRange": "[8,16)"}
    assert failure("MinorsVerification", "-1", Type="1", IdCard=HOLDER, Name="李四") == \
        {"AgeRange": "[16,18)"}
    assert failure("MinorsVerification", "-1", Type="0", Mobile=CHILD_PHONE) == \
        {"AgeRange": "[16,18)"}
    assert failure("MinorsVerification", "-2", Type="0", Mobile=CHILD_PHONE) == {}
    assert failure("IdCardOCRVerification", "-1", IdCard=HOLDER, Name="张三") == \
        {"IdCard": HOLDER, "Name": "张三"}
    assert failure("BankCardVerification", "-12", **three()) == {}


def test_a_rule_may_give_an_action_only_its_own_results():
    from mockface.core.scenarios.model import ScenarioError

    for action, wrong in (("BankCard2EVerification", "-19"), ("BankCardVerification", "-21"),
                          ("CheckIdCardInformation", "0"), ("MinorsVerification", "Success")):
        with pytest.raises(ScenarioError) as caught:
            parse_scenario_text(f"rules:\n  - endpoint: faceid:{action}\n"
                                f"    respond: {{result: {json.dumps(wrong)}}}\n")
        assert f"is not documented for faceid:{action}" in str(caught.value)


# -- through the official SDK, over HTTP -----------------------------------------------------------

@pytest.fixture(scope="module")
def server():
    emulator = Emulator(settings_of(), scenarios=ScenarioEngine(search_path()))
    background = start_background(create_app(emulator=emulator))
    background.emulator = emulator
    yield background
    background.stop()


def sdk_call(server, action: str, **params):
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}")
    client = faceid_client.FaceidClient(credential.Credential(*next(iter(APP.secrets.items()))),
                                        "", ClientProfile(httpProfile=http))
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return getattr(client, action)(request)


def test_the_sdk_calls_bank_card_verification(server):
    good = sdk_call(server, "BankCardVerification", **three(CertType=0))
    assert (good.Result, good.Description) == ("0", "认证通过")
    lost = sdk_call(server, "BankCardVerification", **three(BankCard=STATUS_CARDS[7]))
    assert (lost.Result, lost.Description) == ("-12", "此卡已挂失")
    entry = server.emulator.journal.query()[-1]
    assert (entry.endpoint, entry.code, entry.appid) == ("faceid:BankCardVerification", "-12",
                                                         APP.appid)
    assert entry.detail == f"card {STATUS_CARDS[7]} has status 7 (此卡已挂失) in the registry"


def test_the_sdk_calls_bank_card_2e_verification(server):
    answer_ = sdk_call(server, "BankCard2EVerification", Name="李四", BankCard="1234")
    assert (answer_.Result, answer_.Description) == ("-3", "银行卡号格式有误")


def test_the_sdk_calls_bank_card_4e_verification(server):
    answer_ = sdk_call(server, "BankCard4EVerification", **four(Phone="10000000000"))
    assert (answer_.Result, answer_.Description) == ("-5", "手机号码不合法")


def test_the_sdk_calls_check_bank_card_information(server):
    answer_ = sdk_call(server, "CheckBankCardInformation", BankCard=CMB_CREDIT)
    assert (answer_.Result, answer_.AccountBank, answer_.AccountType) == \
        ("0", "招商银行信用卡", 2)
    unknown = sdk_call(server, "CheckBankCardInformation", BankCard=UNKNOWN_BIN)
    assert (unknown.Result, unknown.Description, unknown.AccountBank, unknown.AccountType) == \
        ("-1", "未查到信息", "", -1)


def test_the_sdk_calls_check_id_name_date(server):
    answer_ = sdk_call(server, "CheckIdNameDate", IdCard=HOLDER, Name="李四",
                       ValidityBegin="20200101", ValidityEnd="20400101")
    assert (answer_.Result, answer_.Description) == ("0", "一致")


def test_the_sdk_calls_id_card_ocr_verification(server):
    answer_ = sdk_call(server, "IdCardOCRVerification", ImageBase64=CARD_IMAGE,
                       Config=json.dumps({"CopyWarn": True}))
    identity = shown(CARD_IMAGE)
    assert (answer_.Result, answer_.Name, answer_.IdCard, answer_.Nation, answer_.Warnings) == \
        ("0", identity["Name"], identity["IdCard"], "汉", "")
    assert isinstance(answer_.Quality, float)


def test_the_sdk_calls_check_id_card_information(server):
    answer_ = sdk_call(server, "CheckIdCardInformation", ImageBase64=CARD_IMAGE)
    assert (answer_.Result, answer_.IdNum, answer_.Encryption, answer_.EncryptedBody) == \
        ("Success", shown(CARD_IMAGE)["IdCard"], None, "")
    assert 80 <= answer_.Sim < 100


def test_the_sdk_calls_minors_verification(server):
    child = sdk_call(server, "MinorsVerification", Type="0", Mobile=CHILD_PHONE)
    assert (child.Result, child.Description, child.AgeRange) == ("-1", "未成年", "[8,16)")
    adult = sdk_call(server, "MinorsVerification", Type="1", IdCard=UNKNOWN, Name="张三")
    assert (adult.Result, adult.AgeRange) == ("0", "[18,+)")


@pytest.mark.parametrize("action", ACTIONS)
def test_a_scenario_result_key_scripts_each_action_over_the_sdk(server, action):
    result = [code for code in table(action) if code not in ("0", "Success")][-1]
    engine = server.emulator.scenarios
    engine.activate(parse_scenario_text(
        f"rules:\n  - endpoint: faceid:{action}\n    respond: {{result: {json.dumps(result)}}}\n"))
    try:
        scripted_answer = sdk_call(server, action, **PARAMS[action])
    finally:
        server.emulator.reset()
    assert (scripted_answer.Result, scripted_answer.Description) == (result, table(action)[result])
    assert sdk_call(server, action, **PARAMS[action]).Result in ("0", "Success")


# -- the library files ---------------------------------------------------------------------------

def test_bank_card_lost_scripts_each_bank_card_action(server):
    assert {target for rule in load_scenario(LIBRARY / "bank-card-lost.yaml").rules
            for target in rule.endpoints} == {f"faceid:{action}" for action in BANK_ACTIONS} | \
        {"faceid:CheckBankCardInformation"}
    server.emulator.scenarios.activate("bank-card-lost")
    try:
        answers = [sdk_call(server, action, **PARAMS[action])
                   for action in (*BANK_ACTIONS, "CheckBankCardInformation")]
    finally:
        server.emulator.reset()
    assert [(a.Result, a.Description) for a in answers] == [
        ("-12", "此卡已挂失"), ("-11", "此卡已挂失"), ("-13", "此卡已挂失"), ("-5", "卡号无效")]
    assert (answers[3].AccountBank, answers[3].AccountType) == ("", -1)


def test_minor_scripts_minors_verification(server):
    server.emulator.scenarios.activate("minor")
    try:
        by_id = sdk_call(server, "MinorsVerification", **PARAMS["MinorsVerification"])
        by_phone = sdk_call(server, "MinorsVerification", Type="0", Mobile=HOLDER_PHONE)
        other = sdk_call(server, "CheckBankCardInformation", BankCard=CARD)
    finally:
        server.emulator.reset()
    assert [(a.Result, a.Description) for a in (by_id, by_phone)] == [("-1", "未成年")] * 2
    assert other.Result == "0"


def test_the_defaults_of_a_scripted_success_skip_the_input_checks():
    provider = actions_of().providers["faceid"]

    def defaults(action: str, **params) -> dict | None:
        return provider.element_defaults(Call("faceid", action, "2018-03-01", APP.appid,
                                              params, {}))

    # input that passes: what the action answers
    assert defaults("CheckBankCardInformation", BankCard=CMB_CREDIT) == {
        "Result": "0", "Description": "查询成功", "AccountBank": "招商银行信用卡",
        "AccountType": 2}
    # input that does not: the success, from the parameters as given
    assert defaults("BankCardVerification", **three(BankCard="1")) == \
        {"Result": "0", "Description": "认证通过"}
    assert defaults("CheckBankCardInformation", BankCard=UNKNOWN_BIN) == {
        "Result": "0", "Description": "查询成功", "AccountBank": "", "AccountType": 1}
    assert defaults("MinorsVerification", Type="0", Mobile="1") == \
        {"Result": "0", "Description": "成年", "AgeRange": "[18,+)"}
    assert defaults("IdCardOCRVerification", IdCard=HOLDER, Name="张三") == {
        "Result": "0", "Description": OCR["0"], "Name": "张三", "IdCard": HOLDER, "Sex": None,
        "Nation": None, "Birth": None, "Address": None, "Portrait": "", "Warnings": "",
        "Quality": 0.0}
    assert defaults("IdCardOCRVerification") is not None  # no photo at all: still a success
    checked = defaults("CheckIdCardInformation", ImageBase64="%%%")
    assert checked is not None
    assert (checked["Result"], checked["IdNum"]) == ("Success", "")
    assert 80 <= checked["Sim"] < 100
    assert defaults("MobileStatus", Mobile="13800138000") is None  # not this mixin's


def test_a_rule_matches_the_card_phone_and_type(server):
    server.emulator.scenarios.activate(parse_scenario_text(f"""
rules:
  - endpoint: faceid:BankCard4EVerification
    match: {{BankCard: "{CARD}", Phone: "{HOLDER_PHONE}"}}
    respond: {{result: "-18"}}
  - endpoint: faceid:MinorsVerification
    match: {{Type: "0", Mobile: "{HOLDER_PHONE}"}}
    respond: {{result: "-6"}}
"""))
    try:
        busy = sdk_call(server, "BankCard4EVerification", **four())
        other_card = sdk_call(server, "BankCard4EVerification", **four(BankCard=CMB_CREDIT))
        source_down = sdk_call(server, "MinorsVerification", Type="0", Mobile=HOLDER_PHONE)
        by_id = sdk_call(server, "MinorsVerification", Type="1", IdCard=HOLDER, Name="李四")
    finally:
        server.emulator.reset()
    assert (busy.Result, busy.Description) == ("-18", "验证中心服务繁忙")
    assert other_card.Result == "0"
    assert (source_down.Result, source_down.Description, source_down.AgeRange) == \
        ("-6", "权威数据源服务异常", "")
    assert (by_id.Result, by_id.AgeRange) == ("0", "[18,+)")
