"""``iai`` photo liveness on the API 3.0 platform: ``DetectLiveFace`` (2018-03-01 and
2020-03-03; gone from Tencent's current SDKs, evidence-faceid-flows §1) and
``DetectLiveFaceAccurate`` (2020-03-03).  iai answers problems as errors, not as a
Result."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.media import inspect_image
from ..tc3.answers import decoded, digest
from ..tc3.params import Param
from ..tc3.provider import Call, DataField, Provider, action
from ..tc3.request import Tc3Error

MAX_IMAGE_BASE64 = 5 * 1024 * 1024
FACE_MODEL_VERSIONS = ("2.0", "3.0")
#: Below this score, a scripted score answers IsLiveness false (unless the rule sets it).
LIVE_SCORE = 40

_PARAMS = (Param("Image", media=True), Param("Url"),
           Param("FaceModelVersion", choices=FACE_MODEL_VERSIONS))
SCORE = DataField("score", "Score", "percent")
IS_LIVENESS = DataField("is_liveness", "IsLiveness", "boolean")


class IaiProvider(Provider):
    """The iai photo-liveness actions: a Score from the deterministic defaults."""

    service = "iai"
    hosts = ("iai.tencentcloudapi.com",)
    versions = ("2018-03-01", "2020-03-03")
    match_fields = ("Url", "FaceModelVersion")

    @action(params=_PARAMS, data=(SCORE, IS_LIVENESS),
            deprecated={"2018-03-01": "iai 2018-03-01 is deprecated: use version 2020-03-03."},
            removed="deleted from the SDKs in tencentcloud-sdk-python 3.1.2 / Go v1.3.2 "
                    "(2025-11-24; 3.1.3 for 2018-03-01); DetectLiveFaceAccurate remains")
    def DetectLiveFace(self, call: Call) -> dict[str, Any]:
        """``Score`` in [87, 100) and ``IsLiveness``."""
        self._check_image(call)
        return self._scored(call)

    @action(params=_PARAMS, versions=("2020-03-03",), data=(SCORE,))
    def DetectLiveFaceAccurate(self, call: Call) -> dict[str, Any]:
        """``Score`` in [87, 100)."""
        self._check_image(call)
        return self._scored(call)

    def defaults(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        return self._scored(call)

    def scripted(self, call: Call, chosen: Mapping[str, Any]) -> dict[str, Any]:
        """The chosen answer; DetectLiveFace's IsLiveness follows a chosen Score unless the
        rule sets it too."""
        fields = super().scripted(call, chosen)
        if "Score" in chosen and call.action == "DetectLiveFace" and "IsLiveness" not in chosen:
            fields["IsLiveness"] = chosen["Score"] >= LIVE_SCORE
        return fields

    def _check_image(self, call: Call) -> None:
        """One of Image (base64, within the size cap, a JPEG, PNG or BMP that decodes) or
        Url (never fetched)."""
        image, url = call.params.get("Image"), call.params.get("Url")
        if url:
            return
        if not image:
            raise Tc3Error("MissingParameter", "neither Image nor Url",
                           message="The parameter `Image` or `Url` is missing.")
        if len(image) > MAX_IMAGE_BASE64:
            raise Tc3Error("FailedOperation.ImageSizeTooLarge",
                           f"Image is over {MAX_IMAGE_BASE64} base64 characters")
        info = inspect_image(decoded(call, "Image"))
        if not (info.supported and info.decodes):
            raise Tc3Error("FailedOperation.ImageDecodeFailed",
                           "Image is not a JPEG, PNG or BMP that decodes")

    def _scored(self, call: Call) -> dict[str, Any]:
        """The Score, the FaceModelVersion (asked for, else the version's default) and, for
        DetectLiveFace, IsLiveness."""
        score = round(87 + (digest(self.context.settings.seed, call) % 1300) / 100, 2)
        version = call.params.get("FaceModelVersion") or \
            ("2.0" if call.version == "2018-03-01" else "3.0")
        fields: dict[str, Any] = {"Score": score, "FaceModelVersion": version}
        if call.action == "DetectLiveFace":
            fields["IsLiveness"] = True
        return fields
