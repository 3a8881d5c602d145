"""The API 3.0 actions as an emulated backend: parameters checked (checks 12-14), media
decoded and inspected, then answered from the same rules and state as the legacy API
(identity checks, the identity registry, lip codes issued per app) — or, when a scenario
rule decided the outcome, from its chosen values without any input validation.

``FaceIdActions.answer`` takes the calling app's appid, the action and its parameters and
returns an ``Answer`` (the ``Response`` fields without ``RequestId``, and the deprecation
warning of a deprecated action); a refused call raises FaceIdError.  Verification failures
are not errors: they are ``Result``/``Description`` fields of a success.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ...core.clock import Clock
from ...core.identity import valid_number, well_formed_name, well_formed_number
from ...core.media import inspect_image, inspect_video
from ...core.state import CodeBook, Identities, LipCodeBook, action_order
from .catalogue import CATALOGUE
from .params import Param, check_params
from .request import FaceIdError

#: IdCardVerification results and their descriptions (the official SDK's models.py).
ID_RESULTS = {
    "0": "姓名和身份证号一致",
    "-1": "姓名和身份证号不一致",
    "-2": "非法身份证号（长度、校验位等不正确）",
    "-3": "非法姓名（长度、格式等不正确）",
    "-4": "证件库服务异常",
    "-5": "证件库中无此身份证记录",
    "-6": "权威比对系统升级中，请稍后再试",
    "-7": "认证次数超过当日限制",
}
#: Answer fields that hold base64 photos (the journal keeps their summaries).
FRAME_FIELDS = ("BestFrameBase64", "BestFrameList")
SUCCESS = "Success"
SUCCESS_DESCRIPTION = "成功"
LIVENESS_TYPES = ("LIP", "ACTION", "SILENT")
#: Size caps of the base64 text, as Tencent documents them.
MAX_IMAGE_BASE64 = 3 * 1024 * 1024
MAX_VIDEO_BASE64 = 8 * 1024 * 1024
MAX_IAI_IMAGE_BASE64 = 5 * 1024 * 1024
FACE_MODEL_VERSIONS = ("2.0", "3.0")
DEPRECATED = {
    ("faceid", "ImageRecognition"): "ImageRecognition is deprecated: use ImageRecognitionV2.",
    ("faceid", "Liveness"): "Liveness is deprecated: use LivenessRecognition or "
                            "LivenessCompare.",
    ("iai", "DetectLiveFace@2018-03-01"): "iai 2018-03-01 is deprecated: use version "
                                          "2020-03-03.",
}

_IDENTITY = (Param("IdCard", required=True), Param("Name", required=True))
_LIVENESS = (Param("LivenessType", required=True, choices=LIVENESS_TYPES),
             Param("ValidateData"), Param("Optional"))
_VIDEO = (Param("VideoBase64"), Param("VideoUrl"))
_IMAGE = (Param("ImageBase64"), Param("ImageUrl"))
_ENCRYPTION = Param("Encryption", kind=dict)
_IAI = (Param("Image"), Param("Url"), Param("FaceModelVersion", choices=FACE_MODEL_VERSIONS))


@dataclass(frozen=True)
class Action:
    """An action's parameters and the method of FaceIdActions that answers it."""

    params: tuple[Param, ...]
    handler: str


#: (product, action) -> definition.
ACTIONS: dict[tuple[str, str], Action] = {
    ("faceid", "GetLiveCode"): Action((), "get_live_code"),
    ("faceid", "GetActionSequence"): Action((Param("ActionType"),), "get_action_sequence"),
    ("faceid", "IdCardVerification"): Action(_IDENTITY + (_ENCRYPTION,),
                                             "id_card_verification"),
    ("faceid", "ImageRecognition"): Action(
        _IDENTITY + (Param("ImageBase64", required=True), Param("Optional"), _ENCRYPTION),
        "image_recognition"),
    ("faceid", "ImageRecognitionV2"): Action(
        _IDENTITY + (Param("ImageBase64", required=True), Param("Optional"), _ENCRYPTION,
                     Param("Extra")), "image_recognition"),
    ("faceid", "LivenessRecognition"): Action(_IDENTITY + _LIVENESS + _VIDEO + (_ENCRYPTION,),
                                              "liveness_recognition"),
    ("faceid", "LivenessCompare"): Action(_LIVENESS + _VIDEO + _IMAGE, "liveness_compare"),
    ("faceid", "Liveness"): Action((Param("VideoBase64", required=True),) + _LIVENESS,
                                   "liveness"),
    ("iai", "DetectLiveFace"): Action(_IAI, "detect_live_face"),
    ("iai", "DetectLiveFaceAccurate"): Action(_IAI, "detect_live_face"),
}


@dataclass
class Answer:
    """The ``Response`` fields of an answered call (without ``RequestId``) and, for a
    deprecated action, its warning; ``detail`` says why a Result is not Success."""

    fields: dict[str, Any]
    deprecated_warning: str | None = None
    detail: str = ""


#: Parameters that carry base64 media.
MEDIA_PARAMS = ("ImageBase64", "VideoBase64", "Image")


@dataclass
class _Context:
    product: str
    action: str
    version: str
    appid: str
    params: dict[str, Any]
    media: dict[str, bytes]  # decode_media(params)


def decode_base64(text: Any) -> bytes | None:
    """The bytes of a base64 parameter value, or None when it is not base64 text."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_media(params: dict[str, Any]) -> dict[str, bytes]:
    """The decoded bytes of each base64 media parameter that is given and decodes: done
    once per call, for the action's checks, the scenario facts and the journal."""
    media = {}
    for name in MEDIA_PARAMS:
        if params.get(name):
            data = decode_base64(params[name])
            if data is not None:
                media[name] = data
    return media


def description(result: str) -> str:
    """The Chinese ``Description`` of a ``Result`` name."""
    if result == SUCCESS:
        return SUCCESS_DESCRIPTION
    if result in ID_RESULTS:
        return ID_RESULTS[result]
    return CATALOGUE[result].zh


def deprecation(product: str, action: str, version: str) -> str | None:
    """The DeprecatedWarning text of a deprecated action (None for the others)."""
    return DEPRECATED.get((product, action)) or DEPRECATED.get((product, f"{action}@{version}"))


def definition_of(product: str, action: str) -> Action:
    """The emulated action, or FaceIdError InvalidAction."""
    definition = ACTIONS.get((product, action))
    if definition is None:
        raise FaceIdError("InvalidAction", f"{product} has no action {action[:40]!r}")
    return definition


class _Refusal(Exception):
    """A verification failure: answered as ``Result`` (not an error)."""

    def __init__(self, result: str, detail: str) -> None:
        super().__init__(detail)
        self.result = result
        self.detail = detail


class FaceIdActions:
    """Answers API 3.0 actions with the state the legacy endpoints use too."""

    def __init__(self, lip_codes: CodeBook, identities: Identities, clock: Clock,
                 check_idcard: bool = True, action_sequences: CodeBook | None = None,
                 seed: int = 0, photo: bytes = b"") -> None:
        self.lip_codes = lip_codes
        self.action_sequences: CodeBook = action_sequences if action_sequences is not None \
            else LipCodeBook(lip_codes.seed, make=action_order, namespace="actions:")
        self.identities = identities
        self.clock = clock
        self.check_idcard = check_idcard
        self.seed = seed
        self.photo_b64 = base64.b64encode(photo).decode("ascii")

    # -- the entry points ---------------------------------------------------------------

    def check(self, product: str, action: str, params: dict[str, Any]) -> dict[str, Any]:
        """Checks 12-14 for ``action`` (and the shape of ``Optional``): the checked
        parameters, or FaceIdError."""
        checked = check_params(params, definition_of(product, action).params)
        if "Optional" in checked and checked["Optional"] not in (None, ""):
            _best_frame_number(checked["Optional"])
        return checked

    def answer(self, product: str, action: str, version: str, appid: str,
               params: dict[str, Any], media: dict[str, bytes] | None = None) -> Answer:
        """Validate ``params`` and answer ``action`` from the deterministic defaults
        (``media``: ``decode_media(params)``, when the caller has it already)."""
        definition = definition_of(product, action)
        checked = self.check(product, action, params)
        context = _Context(product, action, version, appid, checked,
                           decode_media(checked) if media is None else media)
        handler = getattr(self, definition.handler)
        try:
            fields = handler(context)
            detail = ""
        except _Refusal as refusal:
            fields = self._refused(context, refusal.result)
            detail = refusal.detail
        return Answer(fields, deprecation(product, action, version), detail)

    def scripted(self, product: str, action: str, version: str, appid: str,
                 params: dict[str, Any], chosen: dict[str, Any]) -> Answer:
        """The answer a scenario chose: the action's fields with ``chosen`` (``Result``,
        ``Sim``, ``Score``, ``LiveCode`` ...) laid over the deterministic defaults; no input
        validation runs.  A failing Result drops the fields that exist only on success."""
        context = _Context(product, action, version, appid, params, {})
        result = chosen.get("Result")
        if result is not None and result not in (SUCCESS, "0"):
            fields = self._refused(context, result)
        elif chosen.keys() & {"LiveCode", "ActionSequence"}:
            fields = {}  # the chosen code is remembered below; none is issued
        else:
            fields = self._defaults(context)
        for key, value in chosen.items():
            if key == "Result":
                fields["Result"], fields["Description"] = value, description(value)
            else:
                fields[key] = value
        if "LiveCode" in chosen:
            self.lip_codes.remember(appid, chosen["LiveCode"])
        if "ActionSequence" in chosen:
            self.action_sequences.remember(appid, chosen["ActionSequence"])
        if "Score" in chosen and action == "DetectLiveFace" and "IsLiveness" not in chosen:
            fields["IsLiveness"] = chosen["Score"] >= 40
        return Answer(fields, deprecation(product, action, version),
                      "" if result in (None, SUCCESS, "0") else f"scripted Result {result}")

    # -- the actions --------------------------------------------------------------------

    def get_live_code(self, context: _Context) -> dict[str, Any]:
        """Four digits, remembered per app like the legacy ``livegetfour``'s."""
        return {"LiveCode": self.lip_codes.issue(context.appid)}

    def get_action_sequence(self, context: _Context) -> dict[str, Any]:
        """``1,2`` or ``2,1``, remembered per app for the ACTION liveness checks."""
        return {"ActionSequence": self.action_sequences.issue(context.appid)}

    def id_card_verification(self, context: _Context) -> dict[str, Any]:
        """``Result`` "0" when number and name are valid and agree with the registry;
        "-2" for a malformed number (or checksum/birth date with check_idcard), "-3" for a
        malformed name, "-1" for a name the registry does not hold for the number."""
        number, name = context.params["IdCard"], context.params["Name"]
        if not self._number_ok(number):
            result = "-2"
        elif not well_formed_name(name):
            result = "-3"
        elif self.identities.name_for(number) not in (None, name):
            result = "-1"
        else:
            result = "0"
        return {"Result": result, "Description": ID_RESULTS[result]}

    def image_recognition(self, context: _Context) -> dict[str, Any]:
        """Identity checks, then the photo, then the registry; Sim in [80, 100)."""
        self._identity(context)
        self._image(context, "ImageBase64", None)
        self._registry(context)
        return self._defaults(context)

    def liveness_recognition(self, context: _Context) -> dict[str, Any]:
        """Identity checks, the video, the liveness type's challenge, the registry."""
        self._identity(context)
        self._video(context)
        self._challenge(context)
        self._registry(context)
        return self._defaults(context)

    def liveness_compare(self, context: _Context) -> dict[str, Any]:
        """The photo, the video and the liveness type's challenge."""
        self._image(context, "ImageBase64", "ImageUrl")
        self._video(context)
        self._challenge(context)
        return self._defaults(context)

    def liveness(self, context: _Context) -> dict[str, Any]:
        """The video and the liveness type's challenge (no comparison, no Sim)."""
        self._video(context)
        self._challenge(context)
        return self._defaults(context)

    def detect_live_face(self, context: _Context) -> dict[str, Any]:
        """iai photo liveness: ``Score`` in [87, 100), ``IsLiveness`` (DetectLiveFace).
        iai answers problems as errors, not as a Result."""
        image, url = context.params.get("Image"), context.params.get("Url")
        if not url:
            if not image:
                raise FaceIdError("MissingParameter", "neither Image nor Url",
                                  message="The parameter `Image` or `Url` is missing.")
            if len(image) > MAX_IAI_IMAGE_BASE64:
                raise FaceIdError("FailedOperation.ImageSizeTooLarge",
                                  f"Image is over {MAX_IAI_IMAGE_BASE64} base64 characters")
            info = inspect_image(self._decode(context, "Image"))
            if not (info.supported and info.decodes):
                raise FaceIdError("FailedOperation.ImageDecodeFailed",
                                  "Image is not a JPEG, PNG or BMP that decodes")
        return self._defaults(context)

    # -- shared checks --------------------------------------------------------------------

    def _number_ok(self, number: str) -> bool:
        return well_formed_number(number) and \
            (not self.check_idcard or valid_number(number, self.clock.today()))

    def _identity(self, context: _Context) -> None:
        number, name = context.params["IdCard"], context.params["Name"]
        if not self._number_ok(number):
            raise _Refusal("FailedOperation.IdFormatError",
                           f"IdCard {number[:40]!r} is not a valid ID number")
        if not well_formed_name(name):
            raise _Refusal("FailedOperation.NameFormatError",
                           f"Name {name[:40]!r} is not 2-30 Chinese characters")

    def _registry(self, context: _Context) -> None:
        number, name = context.params["IdCard"], context.params["Name"]
        if self.identities.name_for(number) not in (None, name):
            raise _Refusal("FailedOperation.IdNameMisMatch",
                           f"Name differs from the identity registry's name for {number}")

    def _decode(self, context: _Context, name: str) -> bytes:
        """The bytes of a base64 parameter (InvalidParameterValue when it is not base64)."""
        data = context.media.get(name)
        if data is None:
            raise FaceIdError("InvalidParameterValue", f"{name} is not base64",
                              message=f"The value of the parameter `{name}` is invalid.")
        return data

    def _image(self, context: _Context, name: str, url_name: str | None) -> None:
        if url_name and context.params.get(url_name):
            return  # a URL wins; mockface never downloads it
        if not context.params.get(name):
            missing = f"`{name}` or `{url_name}`" if url_name else f"`{name}`"
            raise FaceIdError("MissingParameter", f"no {name}",
                              message=f"The parameter {missing} is missing.")
        if len(context.params[name]) > MAX_IMAGE_BASE64:
            raise _Refusal("FailedOperation.LifePhotoSizeError",
                           f"{name} is over {MAX_IMAGE_BASE64} base64 characters")
        info = inspect_image(self._decode(context, name))
        if not (info.supported and info.decodes):
            raise _Refusal("FailedOperation.ImageDecodeFailed",
                           f"{name} is not a JPEG, PNG or BMP that decodes")

    def _video(self, context: _Context) -> None:
        if context.params.get("VideoUrl"):
            return
        if not context.params.get("VideoBase64"):
            raise FaceIdError("MissingParameter", "no VideoBase64",
                              message="The parameter `VideoBase64` or `VideoUrl` is missing.")
        if len(context.params["VideoBase64"]) > MAX_VIDEO_BASE64:
            raise _Refusal("FailedOperation.LipSizeError",
                           f"VideoBase64 is over {MAX_VIDEO_BASE64} base64 characters")
        info = inspect_video(self._decode(context, "VideoBase64"))
        if info.kind is None:
            raise _Refusal("FailedOperation.LipVideoInvalid",
                           "VideoBase64 is not MP4, FLV, AVI or WebM")
        if info.too_small:
            raise _Refusal("FailedOperation.LipVideoQuaility",
                           f"video frame {info.width}x{info.height} is below 270x480")

    def _challenge(self, context: _Context) -> None:
        """LIP: ValidateData must be a code GetLiveCode issued to the app; ACTION: a
        sequence GetActionSequence issued; SILENT: nothing to check."""
        kind = context.params["LivenessType"]
        given = context.params.get("ValidateData")
        if kind == "SILENT":
            return
        book, source, result = (self.lip_codes, "GetLiveCode",
                                "FailedOperation.LipVoiceRecognize") if kind == "LIP" else \
            (self.action_sequences, "GetActionSequence", "FailedOperation.ActionFirstAction")
        if not given:
            raise FaceIdError("MissingParameter", f"ValidateData is required for {kind}",
                              message="The parameter `ValidateData` is missing.")
        if given not in book.issued(context.appid):
            raise _Refusal(result, f"ValidateData {given[:20]!r} was not issued to appid "
                                   f"{context.appid} by {source}")

    # -- answers --------------------------------------------------------------------------

    def _defaults(self, context: _Context) -> dict[str, Any]:
        """The success fields of ``context.action`` from the deterministic defaults."""
        action, digest = context.action, self._digest(context)
        sim = round(80 + (digest % 2000) / 100, 2)
        if action == "GetLiveCode":
            return self.get_live_code(context)
        if action == "GetActionSequence":
            return self.get_action_sequence(context)
        if action == "IdCardVerification":
            return {"Result": "0", "Description": ID_RESULTS["0"]}
        if action in ("DetectLiveFace", "DetectLiveFaceAccurate"):
            score = round(87 + (digest % 1300) / 100, 2)
            version = context.params.get("FaceModelVersion") or \
                ("2.0" if context.version == "2018-03-01" else "3.0")
            fields: dict[str, Any] = {"Score": score, "FaceModelVersion": version}
            if action == "DetectLiveFace":
                fields["IsLiveness"] = True
            return fields
        fields = {} if action == "Liveness" else {"Sim": sim}
        fields.update(Result=SUCCESS, Description=SUCCESS_DESCRIPTION)
        if action == "ImageRecognitionV2":
            fields["Extra"] = context.params.get("Extra") or ""
        if action.startswith("Liveness"):
            fields.update(self._frames(context))
        return fields

    def _refused(self, context: _Context, result: str) -> dict[str, Any]:
        """The fields of a verification failure ``result``: Sim 0, no frames."""
        if context.action == "IdCardVerification" or context.product == "iai":
            return {"Result": result, "Description": description(result)}
        fields: dict[str, Any] = {} if context.action == "Liveness" else {"Sim": 0.0}
        fields.update(Result=result, Description=description(result))
        if context.action == "ImageRecognitionV2":
            fields["Extra"] = context.params.get("Extra") or ""
        if context.action.startswith("Liveness"):
            fields["BestFrameBase64"] = ""
        return fields

    def _frames(self, context: _Context) -> dict[str, Any]:
        """``BestFrameBase64`` and, with ``Optional={"BestFrameNum": N}``, N frames."""
        frames: dict[str, Any] = {"BestFrameBase64": self.photo_b64}
        optional = context.params.get("Optional")
        if optional:
            frames["BestFrameList"] = [self.photo_b64] * _best_frame_number(optional)
        return frames

    def _digest(self, context: _Context) -> int:
        """A stable number from the server seed and the call's identifying content (text
        with lone surrogates, which JSON allows, included)."""
        hasher = hashlib.sha256(f"{self.seed}\0{context.product}:{context.action}".encode())
        for name in ("IdCard", "Name", "ValidateData", "LivenessType", "ImageUrl", "VideoUrl",
                     "Url"):
            hasher.update(_utf8(f"\0{name}={context.params.get(name) or ''}"))
        for name in ("ImageBase64", "VideoBase64", "Image"):
            value = context.params.get(name)
            if isinstance(value, str) and value:
                hasher.update(f"\0{name}=".encode() + hashlib.sha256(_utf8(value)).digest())
        return int.from_bytes(hasher.digest()[:8], "big")


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate (``"\\ud800"`` in JSON) as its three bytes."""
    return text.encode("utf-8", "surrogatepass")


def _best_frame_number(optional: str) -> int:
    """N of ``Optional={"BestFrameNum": N}`` (2..10); 1 when the key is absent."""
    problem = FaceIdError("InvalidParameterValue", "Optional must be a JSON object with "
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
