"""The E证通 and app-SDK flows' actions (contract-faceid-flows §4), a mixin of
FaceIdProvider: ``GetEidToken`` issues an EidToken that ``CheckEidTokenStatus`` and
``GetEidResult`` read; ``GetFaceIdToken`` issues a FaceIdToken that ``GetFaceIdResult``
reads."""
from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...core.tokens import EXPIRED, FINISHED, ISSUED, OPENED, TokenRecord
from ..tc3.answers import decode_base64
from ..tc3.params import Param
from ..tc3.provider import Call, action
from ..tc3.request import Tc3Error
from .config import Merchant, merchants_of
from .flow_common import (AUTHORITY_LIB, MAX_EXTRA, OWN_LIB, card_block, check_encryption,
                          checked_choice, checked_identity, checked_intention,
                          checked_object, checked_redirect, checked_text, finished,
                          frame_block, frame_count, info_types, intention_blocks, invalid,
                          missing, null_block, read, sample, text_of)

if TYPE_CHECKING:
    from ..tc3.provider import ProviderContext
    from .flows import Flows

#: The longest ImageBase64 GetFaceIdToken takes (8 MB of base64), and Extra.
MAX_FACE_IMAGE = 8 * 1024 * 1024
MAX_APP_EXTRA = 1000
#: The longest free-text parameter GetFaceIdToken passes through (Meta, MetaData, RuleId).
MAX_META = 4096
#: LivenessMode of an E证通 result (4 一闪, as Tencent's example shows), of an app result.
EID_LIVENESS, APP_LIVENESS = 4, 3
#: CheckEidTokenStatus's Status of each token state.
EID_STATUS = {ISSUED: "init", OPENED: "doing", FINISHED: "finished", EXPIRED: "timeout"}
#: The members of GetEidToken's Config (GetEidTokenConfig) and their types.
EID_CONFIG = {"InputType": str, "UseIntentionVerify": bool, "IntentionMode": str,
              "IntentionVerifyText": str, "IntentionQuestions": list,
              "IntentionActions": list, "IntentionRecognition": bool,
              "IsSupportHMTResidentPermitOCR": bool, "MouthOpenRecognition": bool,
              "Speed": int}
#: Config.InputType: "1" 正反面OCR, "2" 正面OCR (the identity read on the page), "3" 手动输入,
#: "4" 后台传入 (IdCard and Name passed in).
OCR_INPUTS, IDENTITY_INPUTS = ("1", "2"), ("3", "4")
#: Config.IntentionMode -> IntentionVerifyType: "1" 朗读 -> "2", "2" 问答 -> "0", "3" 点头 -> "1".
INTENTION_MODES = {"1": "2", "2": "0", "3": "1"}
_ENCRYPTION = Param("Encryption", kind=dict)
EID_TOKEN = (Param("MerchantId", required=True), Param("IdCard"), Param("Name"),
             Param("Extra"), Param("Config", kind=dict), Param("RedirectUrl"), _ENCRYPTION)
EID_RESULT = (Param("EidToken", required=True), Param("InfoType"),
              Param("BestFramesCount", kind=int), Param("IsCutIdCardImage", kind=bool),
              Param("IsNeedIdCardAvatar", kind=bool))
FACE_ID_TOKEN = (Param("CompareLib", required=True, choices=("LOCAL", "BUSINESS")),
                 Param("IdCard"), Param("Name"), Param("ImageBase64", media=True),
                 Param("Meta"), Param("Extra"), Param("UseCos", kind=bool), _ENCRYPTION,
                 Param("RuleId"), Param("MetaData"))
FACE_ID_RESULT = (Param("FaceIdToken", required=True), Param("IsNeedVideo", kind=bool),
                  Param("IsNeedBestFrame", kind=bool), Param("IsEncryptResponse", kind=bool),
                  _ENCRYPTION)


def illegal_token(token: Any, name: str) -> Tc3Error:
    """The answer for an EidToken or FaceIdToken this app never had."""
    return Tc3Error("InvalidParameterValue.BizTokenIllegal",
                    f"no {name} {str(token)[:64]!r} of this app")


class EidAppFlowActions:
    """The E证通 and app flows' actions (declared with ``@action``) on ``self.flows``."""

    if TYPE_CHECKING:
        flows: Flows
        context: ProviderContext
        photo_b64: str

        def _number_ok(self, number: str) -> bool: ...

        def _issue(self, flow: str, call: Call, data: Mapping[str, Any],
                   outcome: Mapping[str, Any] | None) -> TokenRecord: ...

    # -- E证通 ------------------------------------------------------------------------------

    @action(params=EID_TOKEN, match=("MerchantId", "Extra", "RedirectUrl"))
    def GetEidToken(self, call: Call) -> dict[str, Any]:
        """A new EidToken of the MerchantId (600 s to verify, its Url works once, readable
        3 days) and the ``Url`` of its user page; Config.InputType "1"/"2" read the
        identity on the page, "3"/"4" need IdCard and Name."""
        return self.eid_token(call, None)

    def eid_token(self, call: Call, outcome: Mapping[str, Any] | None) -> dict[str, Any]:
        """GetEidToken, its token issued finished with ``outcome`` when given."""
        params = call.params
        merchant = self._merchant(call.appid, params["MerchantId"])
        config = checked_object(params.get("Config"), "Config", EID_CONFIG)
        checked_choice(config, "InputType", "Config", OCR_INPUTS + IDENTITY_INPUTS)
        checked_choice(config, "IntentionMode", "Config", tuple(INTENTION_MODES))
        checked_choice(config, "Speed", "Config", (0, 1, 2, 3))
        ocr = (config.get("InputType") or "1") in OCR_INPUTS
        data: dict[str, Any] = {
            "merchant_id": merchant.merchant_id, "redirect_url": checked_redirect(params),
            "extra": checked_text(params, "Extra", MAX_EXTRA),
            "identity": checked_identity(params, not ocr, self._number_ok), "ocr": ocr,
            "liveness_mode": EID_LIVENESS, "compare_lib_type": AUTHORITY_LIB,
            "input_type": config.get("InputType") or "1"}
        intention = checked_intention(config)
        check_encryption(params)
        use = config.get("UseIntentionVerify")
        data.update(intention=intention, intention_type=INTENTION_MODES.get(
            config.get("IntentionMode") or "1", "") if use else "")
        record = self._issue("eid", call, data, outcome)
        return {"EidToken": record.token, "Url": self.flows.page_url("eid", record.token)}

    @action(params=(Param("EidToken", required=True),), match=("EidToken",))
    def CheckEidTokenStatus(self, call: Call) -> dict[str, Any]:
        """``Status`` of an EidToken: init (not opened), doing (its page opened), finished,
        timeout (its 600 s passed unfinished)."""
        record = self._eid(call)
        return {"Status": EID_STATUS[self.flows.state(record)]}

    @action(params=EID_RESULT, match=("EidToken", "InfoType"))
    def GetEidResult(self, call: Call) -> dict[str, Any]:
        """The result of an EidToken as GetDetectInfoEnhanced's, with ``Name`` and
        ``IdCard`` empty; ``EidInfo`` only for a merchant with ``return_identity``."""
        params = call.params
        wanted = info_types(params.get("InfoType"), "012356")
        count = frame_count(params, 3)
        record = self._eid(call)
        done = finished(self.flows, record)
        text = text_of(self.flows, record, hide_identity=True)
        photo = self.photo_b64
        return {"Text": text if "1" in wanted else null_block(tuple(text)),
                "IdCardData": card_block(params, photo, done and "2" in wanted),
                "BestFrame": frame_block(count, photo, done and "3" in wanted),
                "EidInfo": self._eid_info(call, record) if done else None,
                **intention_blocks(record, wanted, photo, done)}

    # -- the app SDK ----------------------------------------------------------------------

    @action(params=FACE_ID_TOKEN, match=("CompareLib", "Extra", "RuleId", "Meta"))
    def GetFaceIdToken(self, call: Call) -> dict[str, Any]:
        """A new FaceIdToken (600 s, one verification, readable 3 days) and an opaque
        ``ClientConfig`` for the SDK; LOCAL needs ImageBase64 (at most 8 MB, else
        FailedOperation.ImageSizeTooLarge), BUSINESS needs IdCard and Name."""
        return self.face_id_token(call, None)

    def face_id_token(self, call: Call, outcome: Mapping[str, Any] | None
                      ) -> dict[str, Any]:
        """GetFaceIdToken, its token issued finished with ``outcome`` when given."""
        params = call.params
        local = params["CompareLib"] == "LOCAL"
        if local:
            _local_image(params)
        for name in ("Meta", "MetaData", "RuleId"):
            checked_text(params, name, MAX_META)
        data = {"compare_lib": params["CompareLib"], "rule_id": params.get("RuleId") or None,
                "extra": checked_text(params, "Extra", MAX_APP_EXTRA),
                "identity": checked_identity(params, not local, self._number_ok),
                "ocr": False, "liveness_mode": APP_LIVENESS,
                "compare_lib_type": OWN_LIB if local else AUTHORITY_LIB,
                "use_cos": bool(params.get("UseCos"))}
        check_encryption(params)
        record = self._issue("app", call, data, outcome)
        return {"FaceIdToken": record.token, "ClientConfig": _client_config(record)}

    @action(params=FACE_ID_RESULT, match=("FaceIdToken",))
    def GetFaceIdResult(self, call: Call) -> dict[str, Any]:
        """The result of a FaceIdToken: ``Result`` (the app table's code as text),
        ``Description``, ``Similarity``, the identity and Extra, the best frame / video
        when asked; FailedOperation.UnKnown while unfinished in its window [choice],
        Result "15" once it passed unfinished."""
        params = call.params
        check_encryption(params)
        record = read(self.flows, params["FaceIdToken"], call.appid,
                      illegal_token(params["FaceIdToken"], "FaceIdToken"))
        if record.flow != "app":
            raise illegal_token(params["FaceIdToken"], "FaceIdToken")
        state = self.flows.state(record)
        if state not in (FINISHED, EXPIRED):
            raise Tc3Error("FailedOperation.UnKnown", "the verification has not finished",
                           message="The verification of this FaceIdToken has not finished "
                                   "yet: read its result once the SDK reports it done.")
        outcome = record.outcome or {}
        identity = outcome.get("identity") or record.data.get("identity") or {}
        code = outcome.get("err_code", 15)
        entry = self.flows.code("app", code)
        done = state == FINISHED
        return {"IdCard": identity.get("IdCard", ""), "Name": identity.get("Name", ""),
                "Result": str(code), "Description": entry.message if entry else "",
                "Similarity": float(outcome.get("sim") or 0.0),
                "VideoBase64": _video() if done and params.get("IsNeedVideo") else None,
                "BestFrameBase64": self.photo_b64 if done and params.get("IsNeedBestFrame")
                else None,
                "Extra": record.data.get("extra") or "", "DeviceInfoTag": None,
                "RiskInfoTag": None, "LivenessInfoTag": None, "DeviceInfoLevel": None,
                "Encryption": None, "EncryptedBody": None, "IdCardFrontBase64": ""}

    # -- shared ---------------------------------------------------------------------------

    def _merchant(self, appid: str, merchant_id: str) -> Merchant:
        """The MerchantId of ``appid``: RuleIdNotExist when unknown [choice], RuleIdDisabled
        when disabled."""
        merchant = merchants_of(self.context.settings, appid).get(merchant_id)
        if merchant is None:
            raise Tc3Error("InvalidParameterValue.RuleIdNotExist",
                           f"MerchantId {merchant_id[:64]!r} is not a merchant of appid "
                           f"{appid}")
        if merchant.disabled:
            raise Tc3Error("InvalidParameterValue.RuleIdDisabled",
                           f"MerchantId {merchant_id[:64]!r} is disabled")
        return merchant

    def _eid(self, call: Call) -> TokenRecord:
        """The EidToken of a reading call: BizTokenIllegal unless the app's, BizTokenExpired
        past its read window."""
        token = call.params["EidToken"]
        record = read(self.flows, token, call.appid, illegal_token(token, "EidToken"))
        if record.flow != "eid":
            raise illegal_token(token, "EidToken")
        return record

    def _eid_info(self, call: Call, record: TokenRecord) -> dict[str, Any] | None:
        """``EidInfo`` of a finished EidToken: None unless its merchant returns the
        identity; else deterministic opaque values (UserInfo: the identity as base64
        JSON)."""
        merchant = merchants_of(self.context.settings, call.appid).get(
            str(record.data.get("merchant_id")))
        if merchant is None or not merchant.return_identity:
            return None
        identity = (record.outcome or {}).get("identity") or {}
        seed = f"{self.context.settings.seed}\0{record.token}"
        digest = hashlib.sha256(seed.encode()).hexdigest().upper()
        user = json.dumps({"name": identity.get("Name", ""),
                           "idnum": identity.get("IdCard", "")}, ensure_ascii=False)
        return {"EidCode": digest[:32], "EidSign": digest[32:],
                "DesKey": base64.b64encode(bytes.fromhex(digest[:32])).decode(),
                "UserInfo": base64.b64encode(user.encode()).decode()}


def _local_image(params: Mapping[str, Any]) -> None:
    """LOCAL's ImageBase64: InvalidParameter when missing, ImageSizeTooLarge over 8 MB,
    InvalidParameterValue when it is not base64."""
    image = params.get("ImageBase64")
    if not image:
        raise missing("ImageBase64", "CompareLib LOCAL needs ImageBase64")
    if len(image) > MAX_FACE_IMAGE:
        raise Tc3Error("FailedOperation.ImageSizeTooLarge",
                       f"ImageBase64 is over {MAX_FACE_IMAGE} base64 characters")
    if decode_base64(image) is None:
        raise invalid("ImageBase64", "ImageBase64 is not base64")


def _client_config(record: TokenRecord) -> str:
    """The opaque ClientConfig the SDK is given: base64 of the token's settings."""
    settings = {"token": record.token, "compareLib": record.data.get("compare_lib"),
                "livenessMode": record.data.get("liveness_mode"), "mock": "mockface"}
    return base64.b64encode(json.dumps(settings).encode()).decode()


def _video() -> str:
    return sample("video.mp4")
