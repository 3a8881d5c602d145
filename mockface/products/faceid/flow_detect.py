"""The detect flow's actions (慧眼 H5 / mini program, contract-faceid-flows §3), a mixin of
FaceIdProvider: ``DetectAuth`` issues a BizToken, ``GetDetectInfoEnhanced`` and
``GetDetectInfo`` read it, ``GetWeChatBillDetails`` lists the billed ones of a day."""
from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...core.tokens import TokenRecord
from ..tc3.answers import decode_base64
from ..tc3.params import Param
from ..tc3.provider import Call, action
from ..tc3.request import Tc3Error
from .config import Rule, rules_of
from .flow_common import (OWN_LIB, card_block,
                          check_encryption, checked_choice, checked_identity,
                          checked_intention, checked_object, checked_redirect, checked_text,
                          finished, frame_block, frame_count, info_types, intention_blocks,
                          intention_type, invalid, ms, null_block, read, text_of,
                          video_block, MAX_EXTRA)
from .flows import masked

if TYPE_CHECKING:
    from ..tc3.provider import ProviderContext
    from .flows import Flows

#: The longest ImageBase64 DetectAuth takes (3 MB of base64).
MAX_IMAGE = 3 * 1024 * 1024
#: Bill entries on one page of GetWeChatBillDetails; days back it reads.
BILL_PAGE = 50
BILL_DAYS = 365
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
#: The members of DetectAuth's Config (RuleIdConfig) and their types.
RULE_CONFIG = {"IntentionRecognition": bool, "IntentionType": int,
               "MouthOpenRecognition": bool, "Speed": int}
SPEEDS = (0, 1, 2, 3)

_ENCRYPTION = Param("Encryption", kind=dict)
DETECT_AUTH = (
    Param("RuleId", required=True), Param("TerminalType"), Param("IdCard"), Param("Name"),
    Param("RedirectUrl"), Param("Extra"), Param("ImageBase64", media=True), _ENCRYPTION,
    Param("IntentionVerifyText"), Param("IntentionQuestions", kind=list),
    Param("IntentionActions", kind=list), Param("Config", kind=dict))
ENHANCED = (
    Param("BizToken", required=True), Param("RuleId", required=True), Param("InfoType"),
    Param("BestFramesCount", kind=int), Param("IsCutIdCardImage", kind=bool),
    Param("IsNeedIdCardAvatar", kind=bool), Param("IsEncrypt", kind=bool), _ENCRYPTION,
    Param("IsEncryptResponse", kind=bool), Param("IsReturnAllVideo", kind=bool))
DETECT_INFO = (Param("BizToken", required=True), Param("RuleId", required=True),
               Param("InfoType"))
BILL = (Param("Date", required=True), Param("Cursor", required=True, kind=int),
        Param("RuleId"))
#: The members of the legacy GetDetectInfo's Text, as its DetectInfo string carries them.
LEGACY_TEXT = ("ErrCode", "ErrMsg", "IdCard", "Name", "OcrNation", "OcrAddress", "OcrBirth",
               "OcrAuthority", "OcrValidDate", "OcrName", "OcrIdCard", "OcrGender",
               "LiveStatus", "LiveMsg", "Comparestatus", "Comparemsg", "Sim", "Location",
               "Extra")
_NUMBERS = ("ErrCode", "LiveStatus", "Comparestatus")


def illegal_biz_token(token: Any) -> Tc3Error:
    """The answer for a BizToken this app never had (or no longer has)."""
    return Tc3Error("InvalidParameter", f"no BizToken {str(token)[:64]!r} of this app",
                    message="非法BizToken。")


class DetectFlowActions:
    """The detect flow's actions (declared with ``@action``) on ``self.flows``."""

    if TYPE_CHECKING:
        flows: Flows
        context: ProviderContext
        photo_b64: str

        def _number_ok(self, number: str) -> bool: ...

        def _issue(self, flow: str, call: Call, data: Mapping[str, Any],
                   outcome: Mapping[str, Any] | None) -> TokenRecord: ...

    @action(params=DETECT_AUTH, match=("RuleId", "Extra", "RedirectUrl", "TerminalType"))
    def DetectAuth(self, call: Call) -> dict[str, Any]:
        """A new BizToken of the RuleId (7,200 s to verify, readable 3 days) and the ``Url``
        of its user page; the rule, the identity, RedirectUrl, Extra, ImageBase64 and the
        intention settings are checked first."""
        return self.detect_auth(call, None)

    def detect_auth(self, call: Call, outcome: Mapping[str, Any] | None) -> dict[str, Any]:
        """DetectAuth, its token issued finished with ``outcome`` (a scenario's) when
        given."""
        params = call.params
        rule = self._rule(call.appid, params["RuleId"], issuing=True)
        data = {"rule_id": rule.rule_id, "redirect_url": checked_redirect(params),
                "extra": checked_text(params, "Extra", MAX_EXTRA),
                "identity": checked_identity(params, rule.needs_identity, self._number_ok),
                "ocr": rule.ocr, "liveness_mode": rule.liveness_mode,
                "compare_lib_type": _image_lib(params)}
        config = checked_object(params.get("Config"), "Config", RULE_CONFIG)
        checked_choice(config, "IntentionType", "Config", (0, 1))
        checked_choice(config, "Speed", "Config", SPEEDS)
        intention = checked_intention(params)
        check_encryption(params)
        data.update(intention=intention,
                    intention_type=intention_type(intention, config.get("IntentionType")))
        record = self._issue("detect", call, data, outcome)
        return {"Url": self.flows.page_url("detect", record.token), "BizToken": record.token}

    @action(params=ENHANCED, match=("BizToken", "RuleId", "InfoType"))
    def GetDetectInfoEnhanced(self, call: Call) -> dict[str, Any]:
        """The result of a BizToken: ``Text`` (null members while unfinished, ErrCode 15/17
        once its window passed unfinished) and the blocks ``InfoType`` asks for (the sample
        card, frames, video; present with null members when not asked or unfinished)."""
        params = call.params
        wanted = info_types(params.get("InfoType"), "0123456")
        count = frame_count(params, 10)
        check_encryption(params)
        record = self._detect_token(call)
        done = finished(self.flows, record)
        text = text_of(self.flows, record)
        photo = self.photo_b64
        return {
            "Text": text if "1" in wanted else null_block(tuple(text)),
            "IdCardData": card_block(params, photo, done and "2" in wanted),
            "BestFrame": frame_block(count, photo, done and "3" in wanted),
            "VideoData": video_block(record, bool(params.get("IsReturnAllVideo")),
                                     done and "4" in wanted),
            "Encryption": None, "EncryptedBody": None,
            **intention_blocks(record, wanted, photo, done)}

    @action(params=DETECT_INFO, match=("BizToken", "RuleId", "InfoType"))
    def GetDetectInfo(self, call: Call) -> dict[str, Any]:
        """The legacy result of a BizToken: ``DetectInfo``, a JSON string of only the
        blocks ``InfoType`` asks for (Text, IdCardData, BestFrame, VideoData)."""
        wanted = info_types(call.params.get("InfoType"), "01234")
        record = self._detect_token(call)
        done = finished(self.flows, record)
        info: dict[str, Any] = {}
        if "1" in wanted:
            info["Text"] = _legacy_text(text_of(self.flows, record))
        if "2" in wanted:
            card = card_block({}, self.photo_b64, done)
            info["IdCardData"] = {"OcrFront": card["OcrFront"] or "",
                                  "OcrBack": card["OcrBack"] or ""}
        if "3" in wanted:
            info["BestFrame"] = {"BestFrame": self.photo_b64 if done else ""}
        if "4" in wanted:
            video = video_block(record, False, done)["LivenessVideo"]
            info["VideoData"] = {"LivenessVideo": video or ""}
        return {"DetectInfo": json.dumps(info, ensure_ascii=False)}

    @action(params=BILL, match=("Date", "RuleId"))
    def GetWeChatBillDetails(self, call: Call) -> dict[str, Any]:
        """The app's finished detect tokens of ``Date`` (a day in Beijing, readable the
        same day) with a billed attempt (ErrCode 0, 2006, 2016, ...), in the order they
        finished, 50 a page from ``Cursor``; ``RuleId`` keeps those of one rule."""
        params = call.params
        start = self._bill_day(params["Date"])
        cursor = params["Cursor"]
        if cursor < 0:
            raise invalid("Cursor", "Cursor must not be negative")
        rule_id = params.get("RuleId") or None
        if rule_id is not None:
            self._rule(call.appid, rule_id, issuing=False)
        entries = [entry for entry in (self._bill_entry(record) for record in sorted(
            self.flows.records(appid=call.appid, flow="detect", state="finished"),
            key=lambda r: (r.finished_at or 0.0, r.issued_at, r.token))
            if start <= (record.finished_at or 0.0) < start + 86400
            and rule_id in (None, record.data.get("rule_id"))) if entry is not None]
        page = entries[cursor:cursor + BILL_PAGE]
        more = cursor + BILL_PAGE < len(entries)
        return {"HasNextPage": more, "NextCursor": cursor + BILL_PAGE if more else 0,
                "WeChatBillDetails": page}

    # -- shared ---------------------------------------------------------------------------

    def _rule(self, appid: str, rule_id: str, issuing: bool) -> Rule:
        """The RuleId of ``appid``: RuleIdNotExist when unknown, RuleIdDisabled when
        disabled (``issuing`` only)."""
        rule = rules_of(self.context.settings, appid).get(rule_id)
        if rule is None:
            raise Tc3Error("InvalidParameterValue.RuleIdNotExist",
                           f"RuleId {rule_id[:64]!r} is not a rule of appid {appid}")
        if issuing and rule.disabled:
            raise Tc3Error("InvalidParameterValue.RuleIdDisabled",
                           f"RuleId {rule_id[:64]!r} is disabled")
        return rule

    def _detect_token(self, call: Call) -> TokenRecord:
        """The BizToken of a reading call: its RuleId must exist (RuleIdNotExist), the token
        be the app's (InvalidParameter "非法BizToken。"), readable (BizTokenExpired) and of
        that RuleId (InvalidParameter [choice])."""
        token, rule_id = call.params["BizToken"], call.params["RuleId"]
        self._rule(call.appid, rule_id, issuing=False)
        record = read(self.flows, token, call.appid, illegal_biz_token(token))
        if record.flow != "detect":
            raise illegal_biz_token(token)
        if record.data.get("rule_id") != rule_id:
            raise Tc3Error("InvalidParameter", f"BizToken {token} was issued for RuleId "
                                               f"{record.data.get('rule_id')!r}, not "
                                               f"{rule_id[:64]!r}")
        return record

    def _bill_day(self, date: str) -> float:
        """The start (a Unix time) of ``Date`` in Beijing; InvalidParameterValue unless it
        is a real YYYY-MM-DD day of the last 365."""
        try:
            if not _DATE.fullmatch(date):
                raise ValueError(date)
            day = datetime.date.fromisoformat(date)
        except ValueError:
            raise invalid("Date", "Date must be a day as YYYY-MM-DD") from None
        today = datetime.datetime.fromtimestamp(self.context.clock.now(), BEIJING).date()
        if (today - day).days > BILL_DAYS:
            raise invalid("Date", f"Date is more than {BILL_DAYS} days back")
        return datetime.datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp()

    def _bill_entry(self, record: TokenRecord) -> dict[str, Any] | None:
        """The bill entry (WeChatBillDetail) of a finished token: its billed attempts; None
        without any."""
        outcome = record.outcome or {}
        shown = masked(outcome.get("identity")) or {"IdCard": "", "Name": ""}
        charges = []
        for attempt in outcome.get("attempts", []):
            entry = self.flows.code(record.flow, attempt["err_code"])
            if entry is None or not entry.billed:
                continue
            charges.append({"ReqTime": ms(attempt["time"]), "Seq": attempt["seq"],
                            "IdCard": shown["IdCard"], "Idcard": shown["IdCard"],
                            "Name": shown["Name"],
                            "Sim": attempt["sim"], "IsNeedCharge": True, "ChargeType": "核身",
                            "ErrorCode": str(attempt["err_code"]),
                            "ErrorMessage": attempt["err_msg"]})
        if not charges:
            return None
        return {"BizToken": record.token, "ChargeCount": len(charges),
                "ChargeDetails": charges, "RuleId": str(record.data.get("rule_id") or "")}


def _image_lib(params: Mapping[str, Any]) -> str | None:
    """业务方自有库 when DetectAuth has ``ImageBase64`` (at most 3 MB of base64 that
    decodes; InvalidParameterValue otherwise), else None (权威库)."""
    image = params.get("ImageBase64")
    if not image:
        return None
    if len(image) > MAX_IMAGE or decode_base64(image) is None:
        raise invalid("ImageBase64", f"ImageBase64 must be base64 of at most {MAX_IMAGE} "
                                     "characters")
    return OWN_LIB


def _legacy_text(text: Mapping[str, Any]) -> dict[str, Any]:
    """GetDetectInfo's Text from the DetectInfoText of the same token: text members ""
    where the new one is null, and ``Detail.LivenessData`` from ``LivenessDetail``."""
    legacy = {name: text.get(name) if text.get(name) is not None or name in _NUMBERS
              else "" for name in LEGACY_TEXT}
    legacy["Detail"] = {"LivenessData": [
        {"ErrCode": d["Errcode"], "ErrMsg": d["Errmsg"], "ReqTime": d["ReqTime"],
         "IdCard": d["Idcard"], "Name": d["Name"]} for d in text.get("LivenessDetail") or []]}
    return legacy

