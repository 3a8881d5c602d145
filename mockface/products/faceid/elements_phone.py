"""The phone element checks (要素核验) of faceid: a mixin of FaceIdProvider.

Seven actions, each with its own ``Result`` table (the SDK's models.py, Descriptions as
Tencent's examples show them): ``PhoneVerification`` (三要素, with the flat encryption
fields), its carrier variants ``PhoneVerificationCMCC`` / ``CTCC`` / ``CUCC``,
``EncryptedPhoneVerification`` (hashed fields, ``ISP`` in capitals), ``CheckPhoneAndName``
(二要素, ``"1"`` for inconsistent), ``MobileStatus`` and ``MobileNetworkTimeVerification``.

Every answer is decided from the request and the identity registry alone, in this order:

1. format checks, each the action's own free code: the phone (11 digits on a mainland
   segment), the ID number (its checksum and birth date unless ``check_idcard: false``),
   the name;
2. the carrier from the number's segment: a carrier action given another carrier's number,
   and any action given a 广电 (192) number -- no ``Isp`` value names that carrier -- answer
   the action's "号段不支持" code (-13; EncryptedPhoneVerification has none and answers
   the registry's verdict with ``ISP`` "");
3. the registry: the phone's owner and the ID number's record; consistent -> "0",
   inconsistent -> the action's inconsistent code;
4. a well-formed identity the registry lacks: consistent, or the action's "no record" code
   with config ``unknown_identity: no_record``.

No state is written.  Each ``@action`` declares the Results Tencent bills (``charged``,
every other code of its table free).  Scenario rules script
any Result of an action's table (``result: "-4"``) and, with ``PHONE_RULE_VALUES`` in the
provider's ``rule_values``, MobileStatus's ``status_code`` and MobileNetworkTimeVerification's
``range``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.elements import CBN, ISP_NAMES, carrier_of, valid_mobile
from ...core.identity import PHONE_STATUSES, IdentityRecord, Phone, well_formed_name
from ...core.yamlsource import show
from ..tc3.params import Param
from ..tc3.provider import Call, Refusal, action
from ..tc3.scenario_rules import RuleValue
from .config import no_record_for_unknown

if TYPE_CHECKING:
    from ...core.scenarios.schema import Checker
    from ...core.stores import Identities
    from ..tc3.provider import ProviderContext

_ENCRYPTION = Param("Encryption", kind=dict)
_THREE = (Param("IdCard", required=True), Param("Name", required=True),
          Param("Phone", required=True))

#: PhoneVerification's Results.
PHONE_RESULTS = {
    "0": "认证通过", "-4": "信息不一致", "-6": "手机号码不合法", "-7": "身份证号码有误",
    "-8": "姓名校验不通过", "-9": "没有记录", "-11": "验证中心服务繁忙",
    "-12": "认证次数超过当日限制，请次日重试", "-13": "该号段不支持验证"}
#: PhoneVerificationCMCC / CTCC / CUCC: PhoneVerification's without -12.
CARRIER_RESULTS = {code: text for code, text in PHONE_RESULTS.items() if code != "-12"}
#: EncryptedPhoneVerification's; -8 is "参数错误" here.
ENCRYPTED_RESULTS = {
    "0": "认证通过", "-4": "信息不一致", "-7": "身份证号码有误", "-8": "参数错误",
    "-9": "没有记录", "-11": "验证中心服务繁忙"}
#: CheckPhoneAndName's ("1" inconsistent).
NAME_RESULTS = {
    "0": "验证结果一致", "1": "验证结果不一致", "-1": "查无记录", "-2": "引擎未知错误",
    "-3": "引擎服务异常", "-4": "姓名校验不通过", "-5": "手机号码不合法",
    "-6": "认证次数超过当日限制，请次日重试", "-13": "该号段不支持验证"}
#: MobileStatus's.
STATUS_RESULTS = {
    "0": "成功", "-1": "未查询到结果", "-2": "手机号格式不正确", "-3": "验证中心服务繁忙",
    "-4": "认证次数超过当日限制，请次日重试", "-13": "该号段不支持验证"}
#: MobileNetworkTimeVerification's.
NETWORK_RESULTS = {
    "0": "成功", "-1": "手机号格式不正确", "-2": "手机号不存在",
    "-3": "手机号存在，但无法查询到在网时长", "-4": "验证中心服务繁忙",
    "-5": "认证次数超过当日限制，请次日重试", "-13": "该号段不支持验证"}

CARRIER_ACTIONS = {"PhoneVerificationCMCC": "CMCC", "PhoneVerificationCTCC": "CTCC",
                   "PhoneVerificationCUCC": "CUCC"}
#: Each action's "no record" Result (config ``unknown_identity: no_record``).
NO_RECORD = {"PhoneVerification": "-9", **{name: "-9" for name in CARRIER_ACTIONS},
             "EncryptedPhoneVerification": "-9", "CheckPhoneAndName": "-1",
             "MobileStatus": "-1", "MobileNetworkTimeVerification": "-2"}
THREE_ELEMENT_ACTIONS = ("PhoneVerification", *CARRIER_ACTIONS, "EncryptedPhoneVerification")
PHONE_ACTIONS = (*THREE_ELEMENT_ACTIONS, "CheckPhoneAndName", "MobileStatus",
                 "MobileNetworkTimeVerification")

#: PhoneVerification 详版 (VerifyMode "1"): what disagrees, on a -4.
MISMATCHES = ("PhoneIdCardMismatch", "PhoneNameMismatch", "PhoneNameIdCardMismatch",
              "NameIdCardMismatch", "OtherMismatch")
#: MobileNetworkTimeVerification's ``Range`` buckets: (from months, text).
RANGES = ((24, "[24,+)"), (12, "[12,24)"), (6, "[6,12)"), (3, "[3,6)"), (0, "[0,3)"))
#: The in-service time of a phone the registry does not know (as Tencent's example).
UNKNOWN_RANGE = "[24,+)"
#: Phone statuses MobileNetworkTimeVerification answers "-2" (手机号不存在) for: 销号,
#: 不在网; and "-3" (在网时长查不到) for: 未知.
GONE_STATUSES = frozenset({2, 4})
UNKNOWN_STATUS = 99

#: EncryptedPhoneVerification's ``EncryptionMode``: "0" plain, then the hash of each mode
#: (hashlib name, hex length).
HASH_MODES = {"1": ("md5", 32), "2": ("sha256", 64), "3": ("sm3", 64)}


def isp_of(phone: Any) -> str:
    """The ``Isp`` text of a valid mainland number of China Mobile, Telecom or Unicom;
    "" for anything else (an invalid number, a 广电 number)."""
    if not isinstance(phone, str) or not valid_mobile(phone):
        return ""
    carrier = carrier_of(phone)
    return ISP_NAMES[carrier] if carrier is not None and carrier != CBN else ""


def network_range(months: int) -> str:
    """The ``Range`` bucket of ``months`` in service: "[0,3)" ... "[24,+)"."""
    return next(text for start, text in RANGES if months >= start)


def hasher(mode: str) -> Callable[[str], str] | None:
    """The lowercase hex digest of a field's UTF-8 text for hashed ``EncryptionMode``
    ``mode`` ("1" MD5, "2" SHA256, "3" SM3); None for an unknown mode or SM3 where this
    Python's OpenSSL lacks it."""
    if mode not in HASH_MODES:
        return None
    name = HASH_MODES[mode][0]
    try:
        hashlib.new(name)
    except ValueError:  # no SM3 in this OpenSSL
        return None
    return lambda text: hashlib.new(name, text.encode("utf-8")).hexdigest()


def is_digest(value: str, mode: str) -> bool:
    """Whether ``value`` is a hex digest of ``mode``'s length (either case)."""
    length = HASH_MODES[mode][1]
    return len(value) == length and all(char in "0123456789abcdefABCDEF" for char in value)


@dataclass(frozen=True)
class Verdict:
    """What the registry says of a (phone, ID number, name) triple: ``result`` "0",
    "-4" (inconsistent) or None (unknown to the registry), the ``mismatch`` of a -4 (one
    of MISMATCHES), the phone's ``owner``'s number and a ``why`` for the journal."""

    result: str | None
    mismatch: str = ""
    why: str = ""
    phone: str = ""


def three_element_verdict(owner: IdentityRecord | None, record: IdentityRecord | None,
                          is_number: Callable[[str], bool], is_name: Callable[[str], bool],
                          phone: str) -> Verdict:
    """The verdict on a (phone, ID number, name) triple given the phone's registered
    ``owner`` and the number's ``record`` (either None when unregistered); ``is_number`` /
    ``is_name`` say whether a registered number / name is the one given (plain or hashed):

    * the phone's owner has this number and name -> "0";
    * the owner differs in the name, the number or both -> "-4" PhoneNameMismatch,
      PhoneIdCardMismatch or PhoneNameIdCardMismatch;
    * no owner, the number registered to another name -> "-4" NameIdCardMismatch;
    * no owner, the number's record lists phones but not this one -> "-4"
      PhoneNameIdCardMismatch (the phone is someone else's);
    * otherwise (nothing registered, or a record of the name alone) -> None: unknown."""
    if owner is not None:
        same_number, same_name = is_number(owner.number), is_name(owner.name)
        if same_number and same_name:
            return Verdict("0", why="the registry's owner of the phone", phone=phone)
        mismatch = "PhoneNameMismatch" if same_number else \
            "PhoneIdCardMismatch" if same_name else "PhoneNameIdCardMismatch"
        return Verdict("-4", mismatch, f"the registry registers the phone to "
                                       f"{owner.number} {owner.name}", phone)
    if record is not None and not is_name(record.name):
        return Verdict("-4", "NameIdCardMismatch",
                       f"the registry's name for {record.number} is {record.name}", phone)
    if record is not None and record.phones:
        return Verdict("-4", "PhoneNameIdCardMismatch",
                       f"the phone is not among the registry's phones of {record.number}",
                       phone)
    return Verdict(None, why="the registry does not know the phone", phone=phone)


def hashed_verdict(records: Iterable[IdentityRecord], digest: Callable[[str], str],
                   phone: str, number: str, name: str) -> Verdict:
    """``three_element_verdict`` for hashed fields: the registry's values hashed with
    ``digest`` are compared with the given digests (either case); the verdict's ``phone``
    is the owner's plain number ("" when no one's phone has the digest)."""
    phone, number, name = phone.lower(), number.lower(), name.lower()
    owner: IdentityRecord | None = None
    record: IdentityRecord | None = None
    plain = ""
    for candidate in records:
        if owner is None:
            found = next((p.number for p in candidate.phones if digest(p.number) == phone), "")
            if found:
                owner, plain = candidate, found
        if record is None and digest(candidate.number) == number:
            record = candidate
    return three_element_verdict(owner, record, lambda value: digest(value) == number,
                                 lambda value: digest(value) == name, plain)


def check_status_code(c: Checker, value: Any, line: int, target: str) -> int | None:
    """A scenario's ``status_code``: one of MobileStatus's ``StatusCode`` values."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in PHONE_STATUSES:
        codes = ", ".join(f"{code} ({text})" for code, text in PHONE_STATUSES.items())
        c.problem(line, f"status_code must be one of {codes}, got {show(value)}")
        return None
    return value


def check_range(c: Checker, value: Any, line: int, target: str) -> str | None:
    """A scenario's ``range``: one of MobileNetworkTimeVerification's ``Range`` buckets."""
    buckets = [text for _, text in reversed(RANGES)]
    if value not in buckets:
        c.problem(line, f"range must be one of {', '.join(buckets)}, got {show(value)}")
        return None
    return str(value)


#: The values a scenario rule's ``respond`` may give the phone actions besides ``result``:
#: ``status_code`` (MobileStatus's ``StatusCode``, e.g. 1 停机) and ``range``
#: (MobileNetworkTimeVerification's ``Range``); the provider lists them in its
#: ``rule_values``, the mixin's ``scripted`` answers them.
STATUS_CODE = RuleValue("status_code", ("MobileStatus",), check_status_code)
RANGE = RuleValue("range", ("MobileNetworkTimeVerification",), check_range)
PHONE_RULE_VALUES = (STATUS_CODE, RANGE)
_RULE_FIELDS = {STATUS_CODE.key: "StatusCode", RANGE.key: "Range"}


class PhoneElementActions:
    """The phone actions (declared with ``@action``), and the ``scripted``/``refused``/
    ``defaults`` hooks' parts for them (cooperative: other actions go on along the MRO to
    the next mixin and ``Provider``)."""

    if TYPE_CHECKING:
        identities: Identities
        context: ProviderContext

        def describe(self, action: str, result: str) -> str: ...

        def _number_ok(self, number: str) -> bool: ...

    # -- the actions ----------------------------------------------------------------------

    @action(params=_THREE + (Param("VerifyMode", choices=("0", "1")),
                             Param("CiphertextBlob"), Param("EncryptList", kind=list),
                             Param("Iv")),
            match=("Phone", "VerifyMode"), result_table=PHONE_RESULTS, charged=("0", "-4"),
            failure_fields={"Isp": ""})
    def PhoneVerification(self, call: Call) -> dict[str, Any]:
        """三要素 (phone, ID number, name): "0" with the carrier's ``Isp``; "-4"
        inconsistent (``ResultDetail`` with VerifyMode "1"); free codes -6 phone, -7 ID
        number, -8 name, -13 a 广电 number, -9 unknown with ``unknown_identity:
        no_record``."""
        return self._three_elements(call, None)

    @action(params=_THREE + (_ENCRYPTION,), match=("Phone",), result_table=CARRIER_RESULTS,
            charged=("0", "-4"), failure_fields={"Isp": ""})
    def PhoneVerificationCMCC(self, call: Call) -> dict[str, Any]:
        """As PhoneVerification for China Mobile's numbers; another carrier's is -13."""
        return self._three_elements(call, "CMCC")

    @action(params=_THREE + (_ENCRYPTION,), match=("Phone",), result_table=CARRIER_RESULTS,
            charged=("0", "-4"), failure_fields={"Isp": ""})
    def PhoneVerificationCTCC(self, call: Call) -> dict[str, Any]:
        """As PhoneVerification for China Telecom's numbers; another carrier's is -13."""
        return self._three_elements(call, "CTCC")

    @action(params=_THREE + (_ENCRYPTION,), match=("Phone",), result_table=CARRIER_RESULTS,
            charged=("0", "-4"), failure_fields={"Isp": ""})
    def PhoneVerificationCUCC(self, call: Call) -> dict[str, Any]:
        """As PhoneVerification for China Unicom's numbers; another carrier's is -13."""
        return self._three_elements(call, "CUCC")

    @action(params=_THREE + (Param("EncryptionMode", required=True),),
            match=("Phone", "EncryptionMode"), result_table=ENCRYPTED_RESULTS,
            charged=("0", "-4"), failure_fields={"ISP": ""})
    def EncryptedPhoneVerification(self, call: Call) -> dict[str, Any]:
        """三要素 on plain ("0") or hashed fields ("1" MD5, "2" SHA256, "3" SM3, hex): "0"
        with ``ISP``, "-4", "-9" (no_record); free -7 for an ID number that is not valid
        (mode "0") or not a digest, -8 (参数错误) for an unknown mode, SM3 without OpenSSL
        support, a phone or a name that is not valid (mode "0") or not a digest."""
        params = call.params
        mode = params["EncryptionMode"]
        phone, number, name = params["Phone"], params["IdCard"], params["Name"]
        if mode == "0":
            if not valid_mobile(phone):
                raise Refusal("-8", f"Phone {phone[:20]!r} is not a mainland mobile number")
            self._identity_format(number, name, "-7", "-8")
            verdict = self._verdict(phone, number, name)
        else:
            if mode not in HASH_MODES:
                raise Refusal("-8", f"EncryptionMode {mode[:10]!r} is not 0, 1, 2 or 3")
            digest = hasher(mode)
            if digest is None:
                raise Refusal("-8", "EncryptionMode 3 (SM3): this server's OpenSSL has no SM3")
            if not is_digest(number, mode):
                raise Refusal("-7", f"IdCard is not a {HASH_MODES[mode][0]} hex digest")
            for field in ("Phone", "Name"):
                if not is_digest(params[field], mode):
                    raise Refusal("-8", f"{field} is not a {HASH_MODES[mode][0]} hex digest")
            verdict = hashed_verdict(self._records(), digest, phone, number, name)
        result = self._settled(call, verdict)
        return {"Result": result, "Description": ENCRYPTED_RESULTS[result],
                "ISP": isp_of(verdict.phone)}

    @action(params=(Param("Mobile", required=True), Param("Name", required=True),
                    _ENCRYPTION),
            match=("Mobile",), result_table=NAME_RESULTS, charged=("0", "1"))
    def CheckPhoneAndName(self, call: Call) -> dict[str, Any]:
        """二要素 (phone, name): "0" consistent, "1" the registry registers the phone to
        another name; free -5 phone, -4 name, -13 a 广电 number, -1 unknown with
        ``unknown_identity: no_record``."""
        mobile, name = call.params["Mobile"], call.params["Name"]
        self._phone_format(mobile, "-5", "Mobile")
        if not well_formed_name(name):
            raise Refusal("-4", f"Name {name[:40]!r} is not 2-30 Chinese characters")
        self._carrier(mobile, None, "Mobile")
        owner = self.identities.owner_of_phone(mobile)
        if owner is None:
            self._unknown(call, "the registry does not know the phone")
            return {"Result": "0", "Description": NAME_RESULTS["0"]}
        if owner.name != name:
            raise Refusal("1", f"the registry registers the phone to {owner.name}")
        return {"Result": "0", "Description": NAME_RESULTS["0"]}

    @action(params=(Param("Mobile", required=True), _ENCRYPTION), match=("Mobile",),
            result_table=STATUS_RESULTS, charged=("0",),
            failure_fields={"StatusCode": UNKNOWN_STATUS})
    def MobileStatus(self, call: Call) -> dict[str, Any]:
        """Result "0" with ``StatusCode`` the registry's status of the phone (0 正常, 1 停机, 2
        销号, 4 不在网, 5 在网但不可用, 99 未知; 0 for a phone it does not know); free -2
        (StatusCode 99) for a number that is not 11 digits on a mainland segment, -13 a
        广电 number, -1 unknown with ``unknown_identity: no_record``."""
        mobile = call.params["Mobile"]
        self._phone_format(mobile, "-2", "Mobile")
        self._carrier(mobile, None, "Mobile")
        registered = self._registered_phone(mobile)
        if registered is None:
            self._unknown(call, "the registry does not know the phone")
        return {"Result": "0", "Description": STATUS_RESULTS["0"],
                "StatusCode": registered.status if registered is not None else 0}

    @action(params=(Param("Mobile", required=True), _ENCRYPTION), match=("Mobile",),
            result_table=NETWORK_RESULTS, charged=("0", "-2", "-3"),
            failure_fields={"Range": ""})
    def MobileNetworkTimeVerification(self, call: Call) -> dict[str, Any]:
        """Result "0" with ``Range`` the bucket of the registry's months in service ("[0,3)",
        "[3,6)", "[6,12)", "[12,24)", "[24,+)"; "[24,+)" for a phone it does not know);
        "-2" for a phone registered 销号 or 不在网, "-3" for one of unknown status; free -1
        format, -13 a 广电 number, -2 unknown with ``unknown_identity: no_record``."""
        mobile = call.params["Mobile"]
        self._phone_format(mobile, "-1", "Mobile")
        self._carrier(mobile, None, "Mobile")
        registered = self._registered_phone(mobile)
        if registered is None:
            self._unknown(call, "the registry does not know the phone")
            return {"Result": "0", "Description": NETWORK_RESULTS["0"],
                    "Range": UNKNOWN_RANGE}
        if registered.status in GONE_STATUSES:
            raise Refusal("-2", f"the registry's phone has status {registered.status}")
        if registered.status == UNKNOWN_STATUS:
            raise Refusal("-3", "the registry's phone has status 99 (unknown)")
        return {"Result": "0", "Description": NETWORK_RESULTS["0"],
                "Range": network_range(registered.months)}

    # -- the platform's hooks, for these actions --------------------------------------

    def scripted(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        """A scripted answer; a rule's ``status_code`` / ``range`` set ``StatusCode`` /
        ``Range`` (over the answer of the scripted Result, or of the action's own)."""
        given = {field: chosen[key] for key, field in _RULE_FIELDS.items() if key in chosen}
        rest = {key: value for key, value in chosen.items() if key not in _RULE_FIELDS}
        fields: dict[str, Any] = super().scripted(call, rest)  # type: ignore[misc]
        return {**fields, **given}

    def refused(self, call: Call, result: str) -> dict[str, Any]:
        """A failing ``result`` of a phone action: the table's failure fields with the
        phone's ``Isp``/``ISP`` where the number is a valid one of the three carriers (""
        for the phone's own codes: -6 and -13, EncryptedPhoneVerification's -8), and
        ``ResultDetail`` on a PhoneVerification -4 with VerifyMode "1" (the registry's
        mismatch, else OtherMismatch)."""
        fields: dict[str, Any] = super().refused(call, result)  # type: ignore[misc]
        if call.action not in THREE_ELEMENT_ACTIONS:
            return fields
        hashed = call.action == "EncryptedPhoneVerification"
        blank = ("-8",) if hashed else ("-6", "-13")  # the phone's own codes
        fields["ISP" if hashed else "Isp"] = "" if result in blank else self._isp(call)
        if call.action == "PhoneVerification" and result == "-4" and \
                call.params.get("VerifyMode") == "1":
            fields["ResultDetail"] = self._mismatch(call) or "OtherMismatch"
        return fields

    def defaults(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        """The success fields of a scripted "0" on a phone action, without input checks:
        ``Isp``/``ISP`` from the number, ``StatusCode`` and ``Range`` from the registry
        (0 and "[24,+)" for a phone it does not know).  A rule that scripts no Result
        gets the action's own answer."""
        if call.action not in PHONE_ACTIONS or "Result" not in chosen:
            return super().defaults(call, chosen)  # type: ignore[misc]
        fields: dict[str, Any] = {"Result": "0", "Description": self.describe(call.action, "0")}
        mobile = call.params.get("Mobile")
        registered = self._registered_phone(mobile) if isinstance(mobile, str) else None
        if call.action in THREE_ELEMENT_ACTIONS:
            key = "ISP" if call.action == "EncryptedPhoneVerification" else "Isp"
            fields[key] = self._isp(call)
        elif call.action == "MobileStatus":
            fields["StatusCode"] = registered.status if registered is not None else 0
        elif call.action == "MobileNetworkTimeVerification":
            fields["Range"] = network_range(registered.months) if registered is not None \
                else UNKNOWN_RANGE
        return fields

    # -- shared checks ----------------------------------------------------------------

    def _three_elements(self, call: Call, carrier: str | None) -> dict[str, Any]:
        """PhoneVerification and its carrier variants: the format checks, the carrier,
        then the registry."""
        phone, number, name = call.params["Phone"], call.params["IdCard"], call.params["Name"]
        self._phone_format(phone, "-6", "Phone")
        self._identity_format(number, name, "-7", "-8")
        self._carrier(phone, carrier, "Phone")
        verdict = self._verdict(phone, number, name)
        result = self._settled(call, verdict)
        return {"Result": result, "Description": self.describe(call.action, result),
                "Isp": isp_of(phone)}

    def _phone_format(self, phone: str, result: str, field: str) -> None:
        if not valid_mobile(phone):
            raise Refusal(result, f"{field} {phone[:20]!r} is not a mainland mobile number "
                                  "(11 digits on a carrier's segment)")

    def _identity_format(self, number: str, name: str, bad_number: str, bad_name: str) -> None:
        if not self._number_ok(number):
            raise Refusal(bad_number, f"IdCard {number[:40]!r} is not a valid ID number")
        if not well_formed_name(name):
            raise Refusal(bad_name, f"Name {name[:40]!r} is not 2-30 Chinese characters")

    def _carrier(self, phone: str, wanted: str | None, field: str) -> None:
        """-13 for a 广电 number, or (``wanted``) another carrier's."""
        carrier = carrier_of(phone)
        if carrier == CBN or (wanted is not None and carrier != wanted):
            raise Refusal("-13", f"{field} {phone} is a {carrier} number"
                                 + (f", not {wanted}'s" if wanted else ""))

    def _verdict(self, phone: str, number: str, name: str) -> Verdict:
        return three_element_verdict(self.identities.owner_of_phone(phone),
                                     self.identities.record_for(number),
                                     lambda value: value == number,
                                     lambda value: value == name, phone)

    def _settled(self, call: Call, verdict: Verdict) -> str:
        """The Result of ``verdict``: "0", a Refusal for "-4", and for an unknown triple
        "0" or (``unknown_identity: no_record``) the action's no-record Refusal."""
        if verdict.result == "-4":
            raise Refusal("-4", verdict.why)
        if verdict.result is None:
            self._unknown(call, verdict.why)
        return "0"

    def _unknown(self, call: Call, why: str) -> None:
        """With ``unknown_identity: no_record``, the action's "no record" Refusal."""
        if no_record_for_unknown(self.context.settings):
            raise Refusal(NO_RECORD[call.action], f"{why} (unknown_identity: no_record)")

    def _registered_phone(self, mobile: str) -> Phone | None:
        owner = self.identities.owner_of_phone(mobile)
        return owner.phone(mobile) if owner is not None else None

    def _records(self) -> list[IdentityRecord]:
        """Every record of the registry, for comparing hashes."""
        return self.identities.records()

    def _isp(self, call: Call) -> str:
        """The ``Isp`` of the call's phone (hashed: of the registry's owner of it)."""
        params = call.params
        phone = params.get("Phone")
        if not isinstance(phone, str):
            return ""
        if call.action == "EncryptedPhoneVerification" and params.get("EncryptionMode") != "0":
            digest = hasher(str(params.get("EncryptionMode")))
            if digest is None:
                return ""
            owner_phone = next((p.number for record in self._records() for p in record.phones
                                if digest(p.number) == phone.lower()), "")
            return isp_of(owner_phone)
        return isp_of(phone)

    def _mismatch(self, call: Call) -> str:
        """The registry's mismatch of a PhoneVerification call ("" when it has none)."""
        phone, number, name = (call.params.get(key) for key in ("Phone", "IdCard", "Name"))
        if not all(isinstance(value, str) for value in (phone, number, name)):
            return ""
        return self._verdict(str(phone), str(number), str(name)).mismatch
