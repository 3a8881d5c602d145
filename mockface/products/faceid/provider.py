"""``faceid`` 2018-03-01 on the API 3.0 platform: its actions, answered from the same rules
and state as the legacy API (identity checks, the identity registry, lip codes issued per
app).  Each action is the method of its name; verification failures are ``Refusal``s,
answered as ``Result``."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from ...core.config import Settings
from ...core.identity import valid_number, well_formed_name, well_formed_number
from ...core.media import inspect_image, inspect_video
from ...core.tokens import TokenRecord
from ..tc3.answers import decoded, digest
from ..tc3.params import Param
from ..tc3.provider import (SUCCESS, SUCCESS_DESCRIPTION, Call, DataField, Provider,
                            ProviderContext, Refusal, action)
from ..tc3.request import Tc3Error
from . import admin, encryption, testing
from .codes import CODES
from .config import APP_CONFIG_KEYS, CONFIG_KEYS, SERVE_OPTIONS, auto_complete_of, \
    merchants_of
from .flow_detect import DetectFlowActions
from .elements_bank_id import BankAndIdElementActions
from .elements_phone import PHONE_ACTIONS, PHONE_RULE_VALUES, PhoneElementActions
from .flow_eid_app import EidAppFlowActions
from .flows import TOKENS, Flows
from .outcome_rule import ISSUERS, OUTCOME
from .page import PAGES
from .stores import ACTION_SEQUENCES, IDENTITIES, LIP_CODES
from .results import ID_CHARGED, ID_RESULTS, IMAGE_RESULTS, LIVENESS_RESULTS

LIVENESS_TYPES = ("LIP", "ACTION", "SILENT")
#: Size caps of the base64 text, as Tencent documents them.
MAX_IMAGE_BASE64 = 3 * 1024 * 1024
MAX_VIDEO_BASE64 = 8 * 1024 * 1024

_IDENTITY = (Param("IdCard", required=True), Param("Name", required=True))
_LIVENESS = (Param("LivenessType", required=True, choices=LIVENESS_TYPES),
             Param("ValidateData"), Param("Optional"))
_VIDEO = (Param("VideoBase64", media=True), Param("VideoUrl"))
_IMAGE = (Param("ImageBase64", media=True), Param("ImageUrl"))
_ENCRYPTION = Param("Encryption", kind=dict)
_PHOTO = (Param("ImageBase64", required=True, media=True), Param("Optional"), _ENCRYPTION)

SIM = DataField("sim", "Sim", "percent")
LIVE_CODE = DataField("live_code", "LiveCode", "digits")
ACTION_SEQUENCE = DataField("action_sequence", "ActionSequence", "digit_list")


class FaceIdProvider(DetectFlowActions, EidAppFlowActions, PhoneElementActions,
                     BankAndIdElementActions, Provider):
    """The ``faceid`` actions, with the state the legacy endpoints use too; the token flows'
    actions come from two mixins, their tokens from ``self.flows``; the element checks from
    two more."""

    service = "faceid"
    hosts = ("faceid.tencentcloudapi.com",)
    versions = ("2018-03-01",)
    #: Lip codes (shared with the legacy livegetfour: an equal spec), action sequences and
    #: the identity registry (shared with the legacy endpoints).
    stores = (LIP_CODES, ACTION_SEQUENCES, IDENTITIES, TOKENS)
    rule_values = (OUTCOME, *PHONE_RULE_VALUES)
    admin_routes = admin.ROUTES + encryption.ROUTES
    #: ``mockface keys`` (read by the tc3 product with its own CLI parts).
    cli_apis = encryption.CLI_APIS
    pages = PAGES
    helpers = testing.HELPERS
    config_keys = CONFIG_KEYS
    app_config_keys = APP_CONFIG_KEYS
    serve_options = SERVE_OPTIONS
    match_fields = ("IdCard", "Name", "ValidateData", "LivenessType", "ActionType",
                    "ImageUrl", "VideoUrl")
    answer_media = ("BestFrameBase64", "BestFrameList", "OcrFront", "OcrBack",
                    "ProcessedFrontImage", "ProcessedBackImage", "Avatar", "BestFrame",
                    "BestFrames", "LivenessVideo", "VideoBase64")
    codes = CODES

    @classmethod
    def app_config(cls, settings: Settings, appid: str) -> Mapping[str, Any]:
        """The app's E证通 ``merchants``: the built-in one, then its configured ones."""
        return {"merchants": [
            {"merchant_id": merchant.merchant_id, "return_identity": merchant.return_identity,
             "disabled": merchant.disabled}
            for merchant in merchants_of(settings, appid).values()]}

    def __init__(self, context: ProviderContext) -> None:
        super().__init__(context)
        self.lip_codes = context.state.store(LIP_CODES)
        self.action_sequences = context.state.store(ACTION_SEQUENCES)
        self.identities = context.state.store(IDENTITIES)
        self.flows = Flows(context.state.store(TOKENS), self.identities, context.clock,
                           context.settings, auto_complete=auto_complete_of(context.settings),
                           listen_url=context.listen_url)
        self.photo_b64 = base64.b64encode(context.photo).decode("ascii")

    # -- the actions --------------------------------------------------------------------

    @action(data=(LIVE_CODE,))
    def GetLiveCode(self, call: Call) -> dict[str, Any]:
        """Four digits, remembered per app like the legacy ``livegetfour``'s."""
        return {"LiveCode": self.lip_codes.issue(call.appid)}

    @action(params=(Param("ActionType"),), data=(ACTION_SEQUENCE,))
    def GetActionSequence(self, call: Call) -> dict[str, Any]:
        """``1,2`` or ``2,1``, remembered per app for the ACTION liveness checks."""
        return {"ActionSequence": self.action_sequences.issue(call.appid)}

    @action(params=_IDENTITY + (_ENCRYPTION,), result_table=ID_RESULTS, charged=ID_CHARGED)
    def IdCardVerification(self, call: Call) -> dict[str, Any]:
        """``Result`` "0" when number and name are valid and agree with the registry;
        "-2" for a malformed number (or checksum/birth date with check_idcard), "-3" for a
        malformed name, "-1" for a name the registry does not hold for the number."""
        number, name = call.params["IdCard"], call.params["Name"]
        if not self._number_ok(number):
            result = "-2"
        elif not well_formed_name(name):
            result = "-3"
        elif self.identities.name_for(number) not in (None, name):
            result = "-1"
        else:
            result = "0"
        return {"Result": result, "Description": ID_RESULTS[result]}

    @action(params=_IDENTITY + _PHOTO, results=IMAGE_RESULTS, data=(SIM,),
            deprecated="ImageRecognition is deprecated: use ImageRecognitionV2.")
    def ImageRecognition(self, call: Call) -> dict[str, Any]:
        """Identity checks, then the photo, then the registry; Sim in [80, 100)."""
        self._identity(call)
        self._image(call, "ImageBase64", None)
        self._registry(call)
        return self._verified(call)

    @action(params=_IDENTITY + _PHOTO + (Param("Extra"),), results=IMAGE_RESULTS, data=(SIM,),
            match=("Extra",))
    def ImageRecognitionV2(self, call: Call) -> dict[str, Any]:
        """As ImageRecognition, ``Extra`` echoed."""
        return self.ImageRecognition(call)

    @action(params=_IDENTITY + _LIVENESS + _VIDEO + (_ENCRYPTION,),
            results=LIVENESS_RESULTS + IMAGE_RESULTS, data=(SIM,))
    def LivenessRecognition(self, call: Call) -> dict[str, Any]:
        """Identity checks, the video, the liveness type's challenge, the registry."""
        self._identity(call)
        self._video(call)
        self._challenge(call)
        self._registry(call)
        return self._verified(call)

    @action(params=_LIVENESS + _VIDEO + _IMAGE, results=LIVENESS_RESULTS, data=(SIM,))
    def LivenessCompare(self, call: Call) -> dict[str, Any]:
        """The photo, the video and the liveness type's challenge."""
        self._image(call, "ImageBase64", "ImageUrl")
        self._video(call)
        self._challenge(call)
        return self._verified(call)

    @action(params=(Param("VideoBase64", required=True, media=True),) + _LIVENESS,
            results=LIVENESS_RESULTS,
            deprecated="Liveness is deprecated: use LivenessRecognition or LivenessCompare.",
            removed="deleted from the SDKs in tencentcloud-sdk-python 3.1.3 / Go v1.3.3 "
                    "(2025-11-25); callable only through a common client")
    def Liveness(self, call: Call) -> dict[str, Any]:
        """The video and the liveness type's challenge (no comparison, no Sim)."""
        self._video(call)
        self._challenge(call)
        return self._verified(call)

    # -- the platform's hooks -----------------------------------------------------------

    def check(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """The ``Encryption`` envelope decrypted (``encryption.decrypted``: the actions,
        scenario rules and journal see plain parameters), then checks 12-14 and the shape
        of ``Optional``."""
        if not isinstance(params, encryption.Decrypted):
            declared = tuple(param.name for param in self.declarations[action].params)
            params = encryption.decrypted(action, params, declared)
        checked = super().check(action, params)
        if "Optional" in checked and checked["Optional"] not in (None, ""):
            _best_frame_number(checked["Optional"])
        return encryption.Decrypted(checked)

    def answer(self, call: Call) -> tuple[dict[str, Any], str]:
        """The action's answer, encrypted where the call asked (``encryption.sealed``)."""
        fields, detail = super().answer(call)
        return encryption.sealed(call.action, call.params, fields), detail

    def scripted(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        """The chosen answer (encrypted where the call asked); a chosen LiveCode or
        ActionSequence is remembered as issued; a chosen ``outcome`` on
        DetectAuth/GetEidToken/GetFaceIdToken issues the token finished with it (the
        action's checks run; no ``outcome`` field is answered)."""
        if OUTCOME.key in chosen and call.action in ISSUERS:
            rest = {key: value for key, value in chosen.items() if key != OUTCOME.key}
            fields = self._issuer(call.action)(call, chosen[OUTCOME.key])
            return {**fields, **rest}
        fields = super().scripted(call, chosen)
        if "LiveCode" in chosen:
            self.lip_codes.remember(call.appid, chosen["LiveCode"])
        if "ActionSequence" in chosen:
            self.action_sequences.remember(call.appid, chosen["ActionSequence"])
        return encryption.sealed(call.action, call.params, fields)

    def defaults(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        """The success fields of ``call.action`` from the deterministic defaults (none
        when the rule chose the code a GetLiveCode or GetActionSequence issues)."""
        if chosen.keys() & {"LiveCode", "ActionSequence"}:
            return {}  # the chosen code is remembered; none is issued
        if call.action == "IdCardVerification":
            return {"Result": "0", "Description": ID_RESULTS["0"]}
        if call.action in ("ImageRecognition", "ImageRecognitionV2", "LivenessRecognition",
                           "LivenessCompare", "Liveness"):
            return self._verified(call)
        element = self.element_defaults(call)
        if element is not None:
            return element
        if call.action in PHONE_ACTIONS:
            return PhoneElementActions.defaults(self, call, chosen)
        return Provider.answer(self, call)[0]  # plain: ``scripted`` encrypts once

    def refused(self, call: Call, result: str) -> dict[str, Any]:
        """The fields of a verification failure ``result``: Sim 0, no frames."""
        if self.declarations[call.action].result_table is not None:
            return {**super().refused(call, result), **self.element_failure(call, result)}
        fields: dict[str, Any] = {} if call.action == "Liveness" else {"Sim": 0.0}
        fields.update(Result=result, Description=self.describe(call.action, result))
        if call.action == "ImageRecognitionV2":
            fields["Extra"] = call.params.get("Extra") or ""
        if call.action.startswith("Liveness"):
            fields["BestFrameBase64"] = ""
        return fields

    # -- the token flows' issuing --------------------------------------------------------

    def _issuer(self, action: str) -> Callable[[Call, Mapping[str, Any] | None],
                                               dict[str, Any]]:
        """The method that answers the issuing ``action`` with a scripted outcome."""
        return {"DetectAuth": self.detect_auth, "GetEidToken": self.eid_token,
                "GetFaceIdToken": self.face_id_token}[action]

    def _issue(self, flow: str, call: Call, data: Mapping[str, Any],
               outcome: Mapping[str, Any] | None) -> TokenRecord:
        """A new token of ``flow`` for the calling app keeping ``data``, finished with
        ``outcome`` when given (else as auto-complete says); an outcome the token cannot
        take (an identity for a token that reads none) is FailedOperation.UnKnown."""
        try:
            return self.flows.issue(flow, call.appid, data, outcome)
        except ValueError as error:
            raise Tc3Error("FailedOperation.UnKnown", f"scripted outcome: {error}",
                           message=f"The scripted outcome cannot finish this token: "
                                   f"{error}") from None

    # -- shared checks --------------------------------------------------------------------

    def _number_ok(self, number: str) -> bool:
        return well_formed_number(number) and (not self.context.settings.check_idcard or
                                               valid_number(number, self.context.clock.today()))

    def _identity(self, call: Call) -> None:
        number, name = call.params["IdCard"], call.params["Name"]
        if not self._number_ok(number):
            raise Refusal("FailedOperation.IdFormatError",
                          f"IdCard {number[:40]!r} is not a valid ID number")
        if not well_formed_name(name):
            raise Refusal("FailedOperation.NameFormatError",
                          f"Name {name[:40]!r} is not 2-30 Chinese characters")

    def _registry(self, call: Call) -> None:
        number, name = call.params["IdCard"], call.params["Name"]
        if self.identities.name_for(number) not in (None, name):
            raise Refusal("FailedOperation.IdNameMisMatch",
                          f"Name differs from the identity registry's name for {number}")

    def _image(self, call: Call, name: str, url_name: str | None) -> None:
        if url_name and call.params.get(url_name):
            return  # a URL wins; mockface never downloads it
        if not call.params.get(name):
            missing = f"`{name}` or `{url_name}`" if url_name else f"`{name}`"
            raise Tc3Error("MissingParameter", f"no {name}",
                           message=f"The parameter {missing} is missing.")
        if len(call.params[name]) > MAX_IMAGE_BASE64:
            raise Refusal("FailedOperation.LifePhotoSizeError",
                          f"{name} is over {MAX_IMAGE_BASE64} base64 characters")
        info = inspect_image(decoded(call, name))
        if not (info.supported and info.decodes):
            raise Refusal("FailedOperation.ImageDecodeFailed",
                          f"{name} is not a JPEG, PNG or BMP that decodes")

    def _video(self, call: Call) -> None:
        if call.params.get("VideoUrl"):
            return
        if not call.params.get("VideoBase64"):
            raise Tc3Error("MissingParameter", "no VideoBase64",
                           message="The parameter `VideoBase64` or `VideoUrl` is missing.")
        if len(call.params["VideoBase64"]) > MAX_VIDEO_BASE64:
            raise Refusal("FailedOperation.LipSizeError",
                          f"VideoBase64 is over {MAX_VIDEO_BASE64} base64 characters")
        info = inspect_video(decoded(call, "VideoBase64"))
        if info.kind is None:
            raise Refusal("FailedOperation.LipVideoInvalid",
                          "VideoBase64 is not MP4, FLV, AVI or WebM")
        if info.too_small:
            raise Refusal("FailedOperation.LipVideoQuaility",
                          f"video frame {info.width}x{info.height} is below 270x480")

    def _challenge(self, call: Call) -> None:
        """LIP: ValidateData must be a code GetLiveCode issued to the app; ACTION: a
        sequence GetActionSequence issued; SILENT: nothing to check."""
        kind = call.params["LivenessType"]
        given = call.params.get("ValidateData")
        if kind == "SILENT":
            return
        book, source, result = (self.lip_codes, "GetLiveCode",
                                "FailedOperation.LipVoiceRecognize") if kind == "LIP" else \
            (self.action_sequences, "GetActionSequence", "FailedOperation.ActionFirstAction")
        if not given:
            raise Tc3Error("MissingParameter", f"ValidateData is required for {kind}",
                           message="The parameter `ValidateData` is missing.")
        if given not in book.issued(call.appid):
            raise Refusal(result, f"ValidateData {given[:20]!r} was not issued to appid "
                                  f"{call.appid} by {source}")

    # -- answers --------------------------------------------------------------------------

    def _verified(self, call: Call) -> dict[str, Any]:
        """The success fields of a media verification: Sim in [80, 100) (not for
        Liveness), Extra echoed (ImageRecognitionV2), the best frames (Liveness*)."""
        sim = round(80 + (digest(self.context.settings.seed, call) % 2000) / 100, 2)
        fields: dict[str, Any] = {} if call.action == "Liveness" else {"Sim": sim}
        fields.update(Result=SUCCESS, Description=SUCCESS_DESCRIPTION)
        if call.action == "ImageRecognitionV2":
            fields["Extra"] = call.params.get("Extra") or ""
        if call.action.startswith("Liveness"):
            fields.update(self._frames(call))
        return fields

    def _frames(self, call: Call) -> dict[str, Any]:
        """``BestFrameBase64`` and, with ``Optional={"BestFrameNum": N}``, N frames."""
        frames: dict[str, Any] = {"BestFrameBase64": self.photo_b64}
        optional = call.params.get("Optional")
        if optional:
            frames["BestFrameList"] = [self.photo_b64] * _best_frame_number(optional)
        return frames


def _best_frame_number(optional: str) -> int:
    """N of ``Optional={"BestFrameNum": N}`` (2..10); 1 when the key is absent."""
    problem = Tc3Error("InvalidParameterValue", "Optional must be a JSON object with "
                       "BestFrameNum from 2 to 10",
                       message="The value of the parameter `Optional` is invalid.")
    try:
        value = json.loads(optional)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the stack
        raise problem from None
    if not isinstance(value, dict):
        raise problem
    number = value.get("BestFrameNum", 1)
    if isinstance(number, bool) or not isinstance(number, int) or \
            not (number == 1 and "BestFrameNum" not in value or 2 <= number <= 10):
        raise problem
    return number
