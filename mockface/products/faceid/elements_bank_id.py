"""The bank-card and ID element checks (要素核验) of faceid: a mixin of FaceIdProvider.

Eight actions, each with its own ``Result`` table (the official SDK's models.py), answered
in the contract's order (contract-faceid-flows §5): the format checks first (the ID number's
checksum and birth date, the name, the bank card's Luhn digit, the phone, the dates: each
the action's own free code), then the identity registry (``record_for``, ``owner_of_card``,
``owner_of_phone``; a registered card's ``status`` is the bank's answer), then a well-formed
identity the registry lacks: consistent, or the action's "no record" code with
``unknown_identity: no_record``.

The three bank-card actions give the same meaning different numbers: each table is built
from one list of meanings in that action's order (``BANK_MEANINGS``), and its charged codes
from the meanings Tencent bills (``CHARGED_MEANINGS``).  Each ``@action`` declares the
Results Tencent bills (``charged``; every other code of its table is free).  The two ID-card
photo actions read the shipped sample card: the identity it shows is made from the server
seed and the image (``flows.generated_identity``), its other text is ``CARD_TEXT``'s.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

from ...core import elements
from ...core.identity import (LONG_TERM, IdentityRecord, valid_number, well_formed_name,
                              well_formed_number)
from ...core.media import inspect_image
from ...core.stores import Identities
from ..tc3.answers import decode_media, decoded, digest
from ..tc3.catalogue import compose
from ..tc3.params import Param
from ..tc3.provider import SUCCESS, Call, ProviderContext, Refusal, action
from ..tc3.request import Tc3Error
from .codes import CODES
from .config import no_record_for_unknown
from .flow_common import CARD_TEXT, invalid
from .flows import generated_identity

_ENCRYPTION = Param("Encryption", kind=dict)
#: The size caps of the base64 text of an ID-card photo, as Tencent documents them.
MAX_OCR_IMAGE = 3 * 1024 * 1024
MAX_CHECK_IMAGE = 7 * 1024 * 1024
#: The image kinds the ID-card photo actions read (Tencent: PNG, JPG, JPEG; no GIF).
OCR_KINDS = ("jpeg", "png")
#: The members of ``Config`` (告警配置), each a bool, default false.
CONFIG_FLAGS = ("CopyWarn", "BorderCheckWarn", "ReshootWarn", "DetectPsWarn", "TempIdWarn",
                "Quality")

# -- the three bank-card tables ----------------------------------------------------------

#: What each meaning of the bank-card tables says (the SDK's Descriptions); ``status1`` ..
#: ``status12`` are a registered card's ``status`` (identity.BANK_CARD_STATUSES).
BANK_TEXT = {
    "pass": "认证通过", "fail": "认证未通过", "name": "姓名校验不通过",
    "id": "身份证号码有误", "card": "银行卡号格式有误", "phone": "手机号码不合法",
    "holder": "持卡人信息有误", "status1": "未开通无卡支付", "status2": "此卡被没收",
    "status3": "无效卡号", "status4": "此卡无对应发卡行", "status5": "该卡未初始化或睡眠卡",
    "status6": "作弊卡、吞卡", "status7": "此卡已挂失", "status8": "该卡已过期",
    "status9": "受限制的卡", "status10": "密码错误次数超限", "status11": "发卡行不支持此交易",
    "busy": "验证中心服务繁忙", "limit": "验证次数超限，请次日重试",
    "cert": "该证件号暂不支持核验，当前仅支持二代身份证", "status12": "卡状态异常或卡号错误",
}
_STATUSES = tuple(f"status{number}" for number in range(1, 12))
#: Each bank-card action's meanings in the order of its codes: "0", "-1", "-2", ...
BANK_MEANINGS: dict[str, tuple[str, ...]] = {
    "BankCardVerification": ("pass", "fail", "name", "id", "card", "holder", *_STATUSES,
                             "busy", "limit", "cert", "status12"),
    "BankCard2EVerification": ("pass", "fail", "name", "card", "holder", *_STATUSES,
                               "busy", "limit", "status12"),
    "BankCard4EVerification": ("pass", "fail", "name", "id", "card", "phone", "holder",
                               *_STATUSES, "busy", "limit", "cert", "status12"),
}


def bank_code(action_name: str, meaning: str) -> str:
    """The ``Result`` of ``meaning`` in the bank-card action's table ("-12" for
    BankCardVerification's "status7", the lost card)."""
    index = BANK_MEANINGS[action_name].index(meaning)
    return "0" if index == 0 else f"-{index}"


def _bank_table(action_name: str) -> dict[str, str]:
    return {bank_code(action_name, meaning): BANK_TEXT[meaning]
            for meaning in BANK_MEANINGS[action_name]}


#: The bank-card meanings Tencent bills (收费): a verdict on the card or its holder; the
#: malformed inputs, "busy", the daily limit and the unsupported certificate are free.
CHARGED_MEANINGS = frozenset({"pass", "fail", "holder", *_STATUSES, "status12"})


def bank_charged(action_name: str) -> tuple[str, ...]:
    """The charged codes of the bank-card action's table, in its order (BankCardVerification:
    "0", "-1", "-5" ... "-16", "-20")."""
    return tuple(bank_code(action_name, meaning) for meaning in BANK_MEANINGS[action_name]
                 if meaning in CHARGED_MEANINGS)


BANK3_RESULTS = _bank_table("BankCardVerification")
BANK2_RESULTS = _bank_table("BankCard2EVerification")
BANK4_RESULTS = _bank_table("BankCard4EVerification")

# -- the other tables ----------------------------------------------------------------------

CARD_INFO_RESULTS = {
    "0": "查询成功", "-1": "未查到信息", "-2": "验证中心服务繁忙", "-3": "银行卡不存在",
    "-4": "认证次数超过当日限制，请次日重试", "-5": "卡号无效", "-6": "暂不支持该银行卡种"}
ID_DATE_RESULTS = {
    "0": "一致", "-1": "不一致", "-2": "非法身份证号（长度、校验位等不正确）",
    "-3": "非法姓名（长度、格式等不正确）", "-4": "非法有效期（长度、格式等不正确）",
    "-5": "身份信息无效", "-6": "证件库服务异常", "-7": "证件库中无此身份证记录",
    "-8": "认证次数超过当日限制，请次日重试"}
OCR_RESULTS = {
    "0": "姓名和身份证号一致", "-1": "姓名和身份证号不一致",
    "-2": "非法身份证号（长度、校验位等不正确）", "-3": "非法姓名（长度、格式等不正确）",
    "-4": "证件库服务异常", "-5": "证件库中无此身份证记录",
    "-6": "权威比对系统升级中，请稍后再试", "-7": "认证次数超过当日限制"}
MINOR_RESULTS = {
    "0": "成年", "-1": "未成年", "-2": "未查询到手机号信息", "-3": "姓名和身份证号不一致",
    "-4": "非法身份证号（长度、校验位等不正确）", "-5": "非法姓名（长度、格式等不正确）",
    "-6": "权威数据源服务异常", "-7": "未查询到身份信息", "-8": "权威数据源升级中，请稍后再试"}
#: CheckIdCardInformation answers ``Success`` or a FailedOperation name (the Go SDK's list
#: for the action, and OcrWarningOccurred of the SDK's models), with the catalogue's text.
#: Tencent publishes no charged/free split of these (the SDK's models and the API page list
#: none), so the action declares no ``charged``: ``mockface codes`` says "not documented".
_CHECK_NAMES = (
    "CompareFail", "CompareLowSimilarity", "CompareSystemError", "DownLoadError",
    "EmptyImageError", "EncryptSystemError", "FileSaveError", "IdFormatError",
    "IdNameMisMatch", "IdNoExistSystem", "IdPhotoNoExist", "IdPhotoPoorQuality",
    "IdPhotoSystemNoanswer", "ImageBlur", "ImageDecodeFailed", "ImageNoIdCard",
    "ImageSizeTooLarge", "LifePhotoDetectFaces", "LifePhotoDetectFake",
    "LifePhotoDetectNoFaces", "LifePhotoPoorQuality", "LifePhotoSizeError", "OcrFailed",
    "RequestLimitExceeded", "StsUnAuthErrError", "UnKnown")
_TEXTS = compose(CODES)
CHECK_RESULTS = {SUCCESS: "成功", **{
    f"FailedOperation.{name}": _TEXTS[f"FailedOperation.{name}"].zh for name in _CHECK_NAMES},
    "FailedOperation.OcrWarningOccurred": "出现OCR告警"}

#: The OCR fields of IdCardOCRVerification that are null when none was read.
_OCR_NULLS = {"Sex": None, "Nation": None, "Birth": None, "Address": None}
_CHECK_FAILURE: dict[str, Any] = {
    "Sim": 0.0, "Name": "", "Sex": "", "Nation": "", "Birth": "", "Address": "", "IdNum": "",
    "Portrait": "", "Warnings": "", "Quality": 0.0, "Encryption": None, "EncryptedBody": ""}
#: AgeRange of an age (years), as MinorsVerification answers it.
AGE_RANGES = ((8, "[0,8)"), (16, "[8,16)"), (18, "[16,18)"))
ADULT = "[18,+)"

_IDENTITY = (Param("IdCard", required=True), Param("Name", required=True))
_CARD = Param("BankCard", required=True)
_CERT = Param("CertType", kind=int)


class BankAndIdElementActions:
    """The bank-card and ID actions (declared with ``@action``)."""

    # What FaceIdProvider gives the mixin.
    context: ProviderContext
    identities: Identities
    photo_b64: str
    describe: Any  # Provider.describe

    # -- the bank-card checks ------------------------------------------------------------

    @action(params=_IDENTITY + (_CARD, _CERT, _ENCRYPTION), result_table=BANK3_RESULTS,
            charged=bank_charged("BankCardVerification"), match=("BankCard",))
    def BankCardVerification(self, call: Call) -> dict[str, Any]:
        """Three elements: ``Result`` "0" when the card, name and ID number are
        well-formed and agree with the registry; -3 ID number, -2 name, -4 card number
        (16-19 digits, Luhn), -19 a CertType other than 0; -5 a registered ID number given
        with another name; a registered card's status (-6 ... -16, -20; -12 lost); -1 a
        card registered to someone else."""
        return self._bank_card(call, with_id=True, with_phone=False)

    @action(params=(Param("Name", required=True), _CARD, _ENCRYPTION),
            result_table=BANK2_RESULTS, charged=bank_charged("BankCard2EVerification"),
            match=("BankCard",))
    def BankCard2EVerification(self, call: Call) -> dict[str, Any]:
        """Two elements (name, card): -2 name, -3 card number; the card's status (-5 ...
        -15, -18; -11 lost); -1 a card registered to someone else; else "0"."""
        return self._bank_card(call, with_id=False, with_phone=False)

    @action(params=(Param("Name", required=True), _CARD, Param("Phone", required=True),
                    Param("IdCard", required=True), _CERT, _ENCRYPTION),
            result_table=BANK4_RESULTS, charged=bank_charged("BankCard4EVerification"),
            match=("BankCard", "Phone"))
    def BankCard4EVerification(self, call: Call) -> dict[str, Any]:
        """Four elements: -3 ID number, -2 name, -4 card number, -5 phone (11 digits on a
        mainland segment), -20 a CertType other than 0; -6 a registered ID number given
        with another name; the card's status (-7 ... -17, -21; -13 lost); -1 a card (or
        phone) registered to someone else; else "0"."""
        return self._bank_card(call, with_id=True, with_phone=True)

    def _bank_card(self, call: Call, with_id: bool, with_phone: bool) -> dict[str, Any]:
        """The answer of one bank-card action (the module docstring's order)."""
        name_of_action = call.action
        params = call.params

        def refuse(meaning: str, why: str) -> Refusal:
            return Refusal(bank_code(name_of_action, meaning), why)

        name, card = params["Name"], params["BankCard"]
        number = params.get("IdCard", "")
        if with_id and not self._number_ok(number):
            raise refuse("id", f"IdCard {number[:40]!r} is not a valid ID number")
        if not well_formed_name(name):
            raise refuse("name", f"Name {name[:40]!r} is not 2-30 Chinese characters")
        if not elements.well_formed_card(card):
            raise refuse("card", f"BankCard {card[:40]!r} is not 16-19 digits with a valid "
                                 "Luhn check digit")
        phone = params.get("Phone", "")
        if with_phone and not elements.valid_mobile(phone):
            raise refuse("phone", f"Phone {phone[:20]!r} is not a mainland mobile number")
        if with_id and params.get("CertType") not in (None, 0):
            raise refuse("cert", f"CertType {params['CertType']} is not 0 (the resident ID "
                                 "card)")
        if with_id:
            registered = self.identities.record_for(number)
            if registered is not None and registered.name != name:
                raise refuse("holder", f"the registry's name for {number} is not {name}")
        owner = self.identities.owner_of_card(card)
        if owner is not None:
            held = owner.bank_card(card)
            status = held.status if held is not None else 0
            if status:
                meaning = f"status{status if 1 <= status <= 12 else 12}"
                raise refuse(meaning, f"card {card} has status {status} "
                                      f"({BANK_TEXT[meaning]}) in the registry")
            if owner.name != name or (with_id and owner.number != number):
                raise refuse("fail", f"card {card} is registered to another identity")
        if with_phone:
            phone_owner = self.identities.owner_of_phone(phone)
            holder = owner or (self.identities.record_for(number) if with_id else None)
            if phone_owner is not None and holder is not None and \
                    phone_owner.number != holder.number:
                raise refuse("fail", f"phone {phone} is registered to another identity")
            if owner is not None and owner.phones and owner.phone(phone) is None:
                raise refuse("fail", f"phone {phone} is not among the card holder's phones")
        if owner is None and no_record_for_unknown(self.context.settings):
            meaning = "status4" if elements.bank_of(card) is None else "status3"
            raise refuse(meaning, f"card {card} is not in the registry (unknown_identity: "
                                  "no_record)")
        return {"Result": "0", "Description": self.describe(name_of_action, "0")}

    @action(params=(_CARD, _ENCRYPTION), result_table=CARD_INFO_RESULTS,
            charged=("0", "-1", "-5"), failure_fields={"AccountBank": "", "AccountType": -1},
            match=("BankCard",))
    def CheckBankCardInformation(self, call: Call) -> dict[str, Any]:
        """The issuing bank and card kind: "0" with ``AccountBank`` ("招商银行信用卡") and
        ``AccountType`` (1 借记卡, 2 贷记卡, 3 预付费卡, 4 准贷记卡) from the registry's
        card, else the BIN table; "-3" (free) for a number that is not 16-19 digits with a
        valid Luhn digit; "-5" for a registered card whose status is not normal; "-1" for
        an unknown BIN (AccountBank "", AccountType -1)."""
        card = call.params["BankCard"]
        if not elements.well_formed_card(card):
            raise Refusal("-3", f"BankCard {card[:40]!r} is not 16-19 digits with a valid "
                                "Luhn check digit")
        owner = self.identities.owner_of_card(card)
        held = owner.bank_card(card) if owner is not None else None
        if held is not None and held.status:
            raise Refusal("-5", f"card {card} has status {held.status} in the registry")
        issuer = elements.bank_of(card)
        if held is not None and held.bank:
            kind = held.type
            bank = held.bank
        elif issuer is not None:
            kind = held.type if held is not None else issuer.card_type
            bank = issuer.bank + _KIND_NAMES[kind] if held is not None else \
                issuer.account_bank
        else:
            raise Refusal("-1", f"no bank issues cards on the BIN {card[:6]}")
        return {"Result": "0", "Description": CARD_INFO_RESULTS["0"], "AccountBank": bank,
                "AccountType": kind}

    # -- the ID checks ----------------------------------------------------------------------

    @action(params=(Param("Name", required=True), Param("IdCard", required=True),
                    Param("ValidityBegin", required=True), Param("ValidityEnd", required=True),
                    _ENCRYPTION), result_table=ID_DATE_RESULTS, charged=("0", "-1"),
            match=("ValidityBegin", "ValidityEnd"))
    def CheckIdNameDate(self, call: Call) -> dict[str, Any]:
        """Name, number and validity dates: -2 number, -3 name, -4 dates (``ValidityBegin``
        a real YYYYMMDD date not after today, ``ValidityEnd`` a later one or "00000000"
        long-term); "-1" when the registry holds another name or other dates for the
        number; "-7" for an unknown number with ``unknown_identity: no_record``; else
        "0"."""
        params = call.params
        number, name = params["IdCard"], params["Name"]
        begin, end = params["ValidityBegin"], params["ValidityEnd"]
        if not self._number_ok(number):
            raise Refusal("-2", f"IdCard {number[:40]!r} is not a valid ID number")
        if not well_formed_name(name):
            raise Refusal("-3", f"Name {name[:40]!r} is not 2-30 Chinese characters")
        problem = _validity_problem(begin, end, self.context.clock.today())
        if problem:
            raise Refusal("-4", problem)
        record = self.identities.record_for(number)
        if record is None:
            if no_record_for_unknown(self.context.settings):
                raise Refusal("-7", f"{number} is not in the registry (unknown_identity: "
                                    "no_record)")
        elif record.name != name:
            raise Refusal("-1", f"the registry's name for {number} is not {name}")
        elif record.validity is not None and \
                (record.validity.begin, record.validity.end) != (begin, end):
            raise Refusal("-1", f"the registry's validity of {number} is "
                                f"{record.validity.begin}-{record.validity.end}")
        return {"Result": "0", "Description": ID_DATE_RESULTS["0"]}

    @action(params=(Param("IdCard"), Param("Name"), Param("ImageBase64", media=True),
                    Param("ImageUrl"), _ENCRYPTION, Param("Config")),
            result_table=OCR_RESULTS, charged=("0", "-1"),
            failure_fields={"Name": "", "IdCard": "", **_OCR_NULLS, "Portrait": "",
                            "Warnings": "", "Quality": 0.0},
            match=("Config",))
    def IdCardOCRVerification(self, call: Call) -> dict[str, Any]:
        """Name and number, from the parameters (``IdCard`` and ``Name`` both given: no
        OCR field is read, Sex/Nation/Birth/Address null) or else read from the photo
        (``ImageBase64``, then ``ImageUrl``, never downloaded: the sample card, its
        identity made from the seed and the image, Portrait the emulator's photo,
        ``Quality`` in [80, 100)); then checked as IdCardVerification: -2 number, -3
        name, -1 another name in the registry, -5 unknown with ``unknown_identity:
        no_record``, else "0".  No image or pair: MissingParameter; an image that is not
        a whole JPEG or PNG: FailedOperation.ImageDecodeFailed."""
        params = call.params
        _config(params.get("Config"))
        if params.get("IdCard") and params.get("Name"):
            number, name = params["IdCard"], params["Name"]
            fields: dict[str, Any] = {"Name": name, "IdCard": number, **_OCR_NULLS,
                                      "Portrait": "", "Warnings": "", "Quality": 0.0}
        else:
            identity = self._ocr(call, "ImageBase64", "ImageUrl", MAX_OCR_IMAGE,
                                 refuse_in_band=False)
            number, name = identity["IdCard"], identity["Name"]
            fields = {"Name": name, "IdCard": number, **_card_text(number),
                      "Portrait": self.photo_b64, "Warnings": "",
                      "Quality": self._quality(call)}
        if not self._number_ok(number):
            result = "-2"
        elif not well_formed_name(name):
            result = "-3"
        else:
            result = self._registry_result(number, name, mismatch="-1", unknown="-5")
        return {"Result": result, "Description": OCR_RESULTS[result], **fields}

    @action(params=(Param("ImageBase64", media=True), Param("ImageUrl"), Param("Config"),
                    Param("IsEncrypt", kind=bool), Param("IsEncryptResponse", kind=bool),
                    _ENCRYPTION),
            result_table=CHECK_RESULTS, failure_fields=_CHECK_FAILURE, match=("Config",))
    def CheckIdCardInformation(self, call: Call) -> dict[str, Any]:
        """The photo of an ID card (``ImageUrl`` wins, never downloaded; else
        ``ImageBase64``) read as the sample card, its identity compared with the registry
        and its portrait with the authority's photo: ``Result`` "Success" with ``Sim`` in
        [80, 100); FailedOperation.IdNameMisMatch when the registry holds another name
        (the OCR fields answered, Sim 0), IdNoExistSystem for an unknown number with
        ``unknown_identity: no_record``; ImageSizeTooLarge (over 7 MB of base64) and
        ImageDecodeFailed (not a whole JPEG or PNG) as Results.  ``Encryption`` null and
        ``EncryptedBody`` "" unless the encryption envelope sets them."""
        _config(call.params.get("Config"))
        identity = self._ocr(call, "ImageUrl", "ImageBase64", MAX_CHECK_IMAGE,
                             refuse_in_band=True)
        number, name = identity["IdCard"], identity["Name"]
        text = _card_text(number)
        fields: dict[str, Any] = {
            "Name": name, "Sex": text["Sex"], "Nation": text["Nation"], "Birth": text["Birth"],
            "Address": text["Address"], "IdNum": number, "Portrait": self.photo_b64,
            "Warnings": "", "Quality": self._quality(call), "Encryption": None,
            "EncryptedBody": ""}
        result = self._registry_result(number, name, mismatch="FailedOperation.IdNameMisMatch",
                                       unknown="FailedOperation.IdNoExistSystem")
        if result != "0":
            return {"Sim": 0.0, "Result": result, "Description": CHECK_RESULTS[result],
                    **fields}
        sim = round(80 + (digest(self.context.settings.seed, call) % 2000) / 100, 2)
        return {"Sim": sim, "Result": SUCCESS, "Description": CHECK_RESULTS[SUCCESS],
                **fields}

    @action(params=(Param("Type", required=True, choices=("0", "1")), Param("Mobile"),
                    Param("IdCard"), Param("Name"), _ENCRYPTION),
            result_table=MINOR_RESULTS, charged=("0", "-1", "-3"),
            failure_fields={"AgeRange": ""},
            match=("Mobile", "Type"))
    def MinorsVerification(self, call: Call) -> dict[str, Any]:
        """Adult or minor, by the birth date in the ID number against the emulator's
        clock: "0" with ``AgeRange`` "[18,+)", "-1" (未成年) with "[0,8)", "[8,16)" or
        "[16,18)".  ``Type`` "1" takes ``IdCard`` and ``Name`` (-4 number, -5 name, -3
        another name in the registry, -7 unknown with ``unknown_identity: no_record``);
        ``Type`` "0" takes ``Mobile`` and decides by the registered identity that owns it
        (-2 when none does, or the number is not a mainland mobile number).  A parameter
        its Type needs and lacks: MissingParameter."""
        params = call.params
        if params["Type"] == "0":
            mobile = _needed(params, "Mobile")
            if not elements.valid_mobile(mobile):
                raise Refusal("-2", f"Mobile {mobile[:20]!r} is not a mainland mobile number")
            owner = self.identities.owner_of_phone(mobile)
            if owner is None:
                raise Refusal("-2", f"no registered identity owns the phone {mobile}")
            number = owner.number
        else:
            number, name = _needed(params, "IdCard"), _needed(params, "Name")
            if not self._number_ok(number):
                raise Refusal("-4", f"IdCard {number[:40]!r} is not a valid ID number")
            if not well_formed_name(name):
                raise Refusal("-5", f"Name {name[:40]!r} is not 2-30 Chinese characters")
            result = self._registry_result(number, name, mismatch="-3", unknown="-7")
            if result != "0":
                raise Refusal(result, f"{number}: {MINOR_RESULTS[result]} in the registry")
        age_range = _age_range(number, self.context.clock.today())
        if age_range is None:
            raise Refusal("-7", f"{number} holds no birth date")
        result = "0" if age_range == ADULT else "-1"
        return {"Result": result, "Description": MINOR_RESULTS[result], "AgeRange": age_range}

    # -- shared -------------------------------------------------------------------------------

    def element_failure(self, call: Call, result: str) -> dict[str, Any]:
        """What a failing ``result`` of ``call`` (a scripted one) answers beyond the
        action's static ``failure_fields``: MinorsVerification "-1" its ``AgeRange`` (the
        minor's range of the ``IdCard`` given with Type "1", else "[16,18)");
        IdCardOCRVerification the ``IdCard`` and ``Name`` given.  {} for anything else."""
        params = call.params
        if call.action == "MinorsVerification" and result == "-1":
            given = params.get("IdCard") if params.get("Type") == "1" else None
            shown = _age_range(given, self.context.clock.today()) \
                if isinstance(given, str) and well_formed_number(given) else None
            return {"AgeRange": shown if shown not in (None, ADULT) else "[16,18)"}
        if call.action == "IdCardOCRVerification":
            return {key: params[key] for key in ("IdCard", "Name")
                    if isinstance(params.get(key), str)}
        return {}

    def element_defaults(self, call: Call) -> dict[str, Any] | None:
        """The success fields a scripted success of ``call`` lays its choice over (None
        for an action not of this mixin): what the action answers when its input passes,
        else -- a rule that scripts a success skips the input checks -- the success built
        from the parameters as given: the BIN table's bank, the ``IdCard``/``Name`` given,
        ``AgeRange`` "[18,+)", ``Sim`` in [80, 100), the OCR fields empty."""
        if call.action not in _DECLARED:
            return None
        try:
            fields = getattr(self, call.action)(call)
        except (Refusal, Tc3Error):
            fields = {"Result": ""}
        if fields["Result"] in ("0", SUCCESS):
            return dict(fields)
        table = self.describe
        if call.action == "CheckIdCardInformation":
            sim = round(80 + (digest(self.context.settings.seed, call) % 2000) / 100, 2)
            return {**_CHECK_FAILURE, "Sim": sim, "Result": SUCCESS,
                    "Description": table(call.action, SUCCESS)}
        fields = {"Result": "0", "Description": table(call.action, "0")}
        if call.action == "CheckBankCardInformation":
            card = call.params.get("BankCard")
            issuer = elements.bank_of(card) if isinstance(card, str) else None
            fields.update(AccountBank=issuer.account_bank if issuer else "",
                          AccountType=issuer.card_type if issuer else elements.DEBIT)
        elif call.action == "IdCardOCRVerification":
            fields.update({"Name": "", "IdCard": "", **_OCR_NULLS, "Portrait": "",
                           "Warnings": "", "Quality": 0.0, **self.element_failure(call, "0")})
        elif call.action == "MinorsVerification":
            fields["AgeRange"] = ADULT
        return fields

    def _number_ok(self, number: str) -> bool:
        """A well-formed ID number, with a valid checksum and birth date unless the
        ``check_idcard`` setting is off (as IdCardVerification judges it)."""
        return well_formed_number(number) and (not self.context.settings.check_idcard or
                                               valid_number(number, self.context.clock.today()))

    def _registry_result(self, number: str, name: str, mismatch: str, unknown: str) -> str:
        """``mismatch`` when the registry holds another name for ``number``, ``unknown``
        when it lacks the number and ``unknown_identity: no_record`` is set, else "0"."""
        record: IdentityRecord | None = self.identities.record_for(number)
        if record is None:
            return unknown if no_record_for_unknown(self.context.settings) else "0"
        return mismatch if record.name != name else "0"

    def _ocr(self, call: Call, first: str, second: str, limit: int,
             refuse_in_band: bool) -> dict[str, str]:
        """The identity the photo in parameter ``first`` (else ``second``) shows: a
        generated one, from the seed and the image's bytes (or its URL).  A base64 image
        over ``limit`` characters or that is not a whole JPEG/PNG is
        FailedOperation.ImageSizeTooLarge / ImageDecodeFailed: a Refusal with
        ``refuse_in_band``, else an error; neither parameter: MissingParameter."""
        name = first if call.params.get(first) else second
        value = call.params.get(name)
        if not value:
            raise Tc3Error("MissingParameter", f"neither {first} nor {second}",
                           message=f"The parameter `{first}` or `{second}` is missing.")
        if name == "ImageUrl":
            return generated_identity(self.context.settings.seed,
                                      "url:" + hashlib.sha256(_utf8(value)).hexdigest())
        problem = None
        if len(value) > limit:
            problem = ("FailedOperation.ImageSizeTooLarge",
                       f"{name} is over {limit} base64 characters")
        else:
            info = inspect_image(_image(call, name))
            if info.kind not in OCR_KINDS or not info.decodes:
                problem = ("FailedOperation.ImageDecodeFailed",
                           f"{name} is not a JPEG or PNG that decodes")
        if problem is not None:
            if refuse_in_band:
                raise Refusal(*problem)
            raise Tc3Error(*problem)
        return generated_identity(self.context.settings.seed,
                                  "image:" + hashlib.sha256(_image(call, name)).hexdigest())

    def _quality(self, call: Call) -> float:
        """The photo's quality score: in [80, 100), from the seed and the call."""
        return round(80 + (digest(self.context.settings.seed, call) >> 16) % 2000 / 100, 2)


_KIND_NAMES = {elements.DEBIT: "借记卡", elements.CREDIT: "信用卡", elements.PREPAID: "预付费卡",
               elements.QUASI_CREDIT: "准贷记卡"}


def _needed(params: dict[str, Any], name: str) -> str:
    """The text parameter ``name``; MissingParameter when it is absent or empty."""
    value = params.get(name)
    if not value:
        raise Tc3Error("MissingParameter", f"{name} is missing",
                       message=f"The parameter `{name}` is missing.")
    return str(value)


def _image(call: Call, name: str) -> bytes:
    """The bytes of the base64 image ``name``: decoded once per call by the platform
    (decoded here for a scripted call, which has none); InvalidParameterValue when it is
    not base64."""
    if name not in call.media:
        call.media.update(decode_media(call.params, (name,)))
    return decoded(call, name)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _config(value: Any) -> dict[str, bool]:
    """``Config``: a JSON object whose CONFIG_FLAGS members are bools (other members are
    ignored); {} when absent or empty; InvalidParameterValue otherwise."""
    if value in (None, ""):
        return {}
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict) or any(
            not isinstance(parsed[flag], bool) for flag in CONFIG_FLAGS if flag in parsed):
        raise invalid("Config", "Config must be a JSON object of bools: "
                                + ", ".join(CONFIG_FLAGS))
    return {flag: parsed[flag] for flag in CONFIG_FLAGS if flag in parsed}


def _card_text(number: str) -> dict[str, str]:
    """What the sample card reads besides name and number: Sex and Birth from ``number``
    (the flows' OCR format, "1990/3/7"), Nation and Address from CARD_TEXT."""
    born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return {"Sex": "男" if int(number[16]) % 2 else "女",
            "Nation": CARD_TEXT["OcrNation"], "Birth": f"{born.year}/{born.month}/{born.day}",
            "Address": CARD_TEXT["OcrAddress"]}


def _validity_problem(begin: str, end: str, today: datetime.date) -> str:
    """Why ``begin``-``end`` are not an ID card's validity dates ("" when they are)."""
    start = _date(begin)
    if start is None:
        return f"ValidityBegin {begin[:20]!r} is not a date YYYYMMDD"
    if start > today:
        return f"ValidityBegin {begin} is after today ({today:%Y%m%d})"
    if end == LONG_TERM:
        return ""
    stop = _date(end)
    if stop is None:
        return f"ValidityEnd {end[:20]!r} is not a date YYYYMMDD or {LONG_TERM}"
    if stop <= start:
        return f"ValidityEnd {end} is not after ValidityBegin {begin}"
    return ""


def _date(text: str) -> datetime.date | None:
    """The date of ``YYYYMMDD`` text, or None."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _age_range(number: str, today: datetime.date) -> str | None:
    """``AgeRange`` of the person born on the date in ID ``number`` (None when it holds
    no date)."""
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    for below, text in AGE_RANGES:
        if age < below:
            return text
    return ADULT


#: The actions this mixin declares.
_DECLARED = frozenset(name for name, value in vars(BankAndIdElementActions).items()
                      if hasattr(value, "__tc3_action__"))
