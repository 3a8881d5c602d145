"""The emulated backend: input validation (contract §4) and deterministic answers (§5).

Takes plain values (a RequestBody, the settings, a clock); knows nothing of HTTP.
"""
from __future__ import annotations

import base64
import hashlib
from typing import Any

from ...core.clock import Clock
from ...core.config import Settings
from ...core.identity import valid_number, well_formed_name, well_formed_number
from ...core.media import ImageInfo, MediaBytes, default_photo
from ...core.scenarios.model import Response
from ...core.state import IdentityRegistry
from ...core.stores import CodeBook, Identities
from .errors import CATALOGUE, ApiError, Placement, placement_on
from .model import IN_BAND_STATUSES, Reply, RequestBody

#: The top-level code each image endpoint answers when its image does not decode.
IMAGE_DECODE_CODE = {"idcardcompare": -4011, "livedetectpicture": -1102}
UNUSABLE_VIDEO = "the video cannot be compared"


def _image_problem(name: str, info: ImageInfo) -> str:
    """Why an image part is refused, for logs and the journal."""
    kind = info.kind.upper() if info.kind else None
    if not info.supported:
        found = f"a {kind}" if kind else "not a recognised image"
        return f"{name} is {found}, not JPEG, PNG or BMP"
    return f"{name} is a {kind} that does not decode (truncated or corrupt)"


def _in_band(data: dict[str, Any], live_reason: str, compare_reason: str) -> Reply:
    """A success reply whose detail says why its in-band statuses are not 0."""
    reasons = [f"{key} {data[key]}: {reason}"
               for key, reason in zip(IN_BAND_STATUSES, (live_reason, compare_reason), strict=True)
               if data.get(key) not in (None, 0) and reason]
    return Reply(0, "OK", 200, data, detail="; ".join(reasons))


def status_msg(status: int) -> str:
    """``live_msg``/``compare_msg`` for an in-band status: ``OK`` or the code's constant."""
    return "OK" if status == 0 else CATALOGUE[status].constant


class FaceService:
    """Answers the five endpoints for a request that has passed the signature checks."""

    def __init__(self, settings: Settings, lip_codes: CodeBook, clock: Clock,
                 identities: Identities | None = None) -> None:
        self.settings = settings
        self.identities: Identities = identities if identities is not None else \
            IdentityRegistry(settings.identities)
        self.lip_codes = lip_codes
        self.clock = clock
        self.photo_b64 = base64.b64encode(default_photo()).decode("ascii")

    def handle(self, endpoint: str, body: RequestBody) -> Reply:
        """Validate ``body`` for ``endpoint`` and answer it; ApiError for top-level failures."""
        appid = body.get("appid")
        if appid is None:
            raise ApiError(21, detail="body has no appid")
        return getattr(self, endpoint)(appid, body)

    # -- the five endpoints -------------------------------------------------------------

    def idcardcompare(self, appid: str, body: RequestBody) -> Reply:
        number, name = self._identity(body)
        self._image(body, "idcardcompare")
        if self._registry_mismatch(number, name):
            raise ApiError(-5803, detail=self._mismatch_reason(number))
        return Reply.ok(self._success_data("idcardcompare", body, {}))

    def livedetectpicture(self, appid: str, body: RequestBody) -> Reply:
        self._image(body, "livedetectpicture")
        return Reply.ok(self._success_data("livedetectpicture", body, {}))

    def livegetfour(self, appid: str, body: RequestBody) -> Reply:
        return Reply.ok(self._success_data("livegetfour", body, {}))

    def idcardlivedetectfour(self, appid: str, body: RequestBody) -> Reply:
        self._validate_data(body)
        number, name = self._identity(body)
        self._required_media(body, "video")
        live, video_ok, live_reason = self._liveness(appid, body)
        compare, compare_reason = 0, ""
        if not video_ok:
            compare, compare_reason = -5005, UNUSABLE_VIDEO
        elif self._registry_mismatch(number, name):
            compare, compare_reason = -5803, self._mismatch_reason(number)
        data = self._video_data(live, compare, "video_photo", body, "idcardlivedetectfour")
        return _in_band(data, live_reason, compare_reason)

    def livedetectfour(self, appid: str, body: RequestBody) -> Reply:
        self._validate_data(body)
        flag = (body.get("compare_flag") or "").lower()
        if flag not in ("true", "false"):
            raise ApiError(21, detail="compare_flag must be true or false")
        self._required_media(body, "video")
        card = body.media.get("card")
        if flag == "true" and card is None:
            raise ApiError(-5805, detail="compare_flag=true without card")
        live, video_ok, live_reason = self._liveness(appid, body)
        if flag == "false":
            return _in_band(self._video_data(live, None, "photo", body, "livedetectfour"),
                            live_reason, "")
        info = body.image("card")
        compare, compare_reason = 0, ""
        if not (info.supported and info.decodes):
            compare, compare_reason = -4018, _image_problem("card", info)
        elif not video_ok:
            compare, compare_reason = -5005, UNUSABLE_VIDEO
        return _in_band(self._video_data(live, compare, "photo", body, "livedetectfour"),
                        live_reason, compare_reason)

    # -- shared checks --------------------------------------------------------------------

    def _identity(self, body: RequestBody) -> tuple[str, str]:
        number, name = body.get("idcard_number"), body.get("idcard_name")
        if number is None or name is None:
            missing = " and ".join(n for n, v in (("idcard_number", number),
                                                   ("idcard_name", name)) if v is None)
            raise ApiError(-5801, detail=f"{missing} missing")
        if not well_formed_number(number):
            raise ApiError(-5806, detail=f"idcard_number {number[:40]!r} is not 17 digits "
                                         "and a digit or X")
        if not well_formed_name(name):
            raise ApiError(-5806, detail=f"idcard_name {name[:40]!r} is not 2-30 Chinese "
                                         "characters")
        if self.settings.check_idcard:
            today = self.clock.today()
            if not valid_number(number, today):
                raise ApiError(-5804, detail=f"idcard_number {number}: GB 11643 check digit "
                                             "or birth date invalid")
        return number, name

    @staticmethod
    def _mismatch_reason(number: str) -> str:
        return f"idcard_name differs from the identity registry's name for {number}"

    def _registry_mismatch(self, number: str, name: str) -> bool:
        registered = self.identities.name_for(number)
        return registered is not None and registered != name

    def _image(self, body: RequestBody, endpoint: str) -> None:
        if body.get("url") is not None:
            return  # url wins over image; mockface never downloads it
        self._required_media(body, "image")
        info = body.image("image")
        if not info.supported:
            raise ApiError(-1400, detail=_image_problem("image", info))
        if not info.decodes:
            raise ApiError(IMAGE_DECODE_CODE[endpoint], detail=_image_problem("image", info))

    @staticmethod
    def _required_media(body: RequestBody, name: str) -> MediaBytes:
        data = body.media.get(name)
        if not data:
            raise ApiError(-5805, detail=f"no {name} in the request")
        return data

    @staticmethod
    def _validate_data(body: RequestBody) -> None:
        value = body.get("validate_data")
        if value is None or not (value.isascii() and value.isdigit()):
            raise ApiError(21, detail="validate_data must be a string of digits")

    def _liveness(self, appid: str, body: RequestBody) -> tuple[int, bool, str]:
        """The in-band live status, whether the video is usable for comparison, and why the
        status is not 0."""
        info = body.video()
        if info.kind is None:
            return -5001, False, "video is not MP4, FLV, AVI or WebM"
        if info.too_small:
            return -5015, True, f"video frame {info.width}x{info.height} is below 270x480"
        if self.settings.strict_lip_codes and \
                body.get("validate_data") not in self.lip_codes.issued(appid):
            return -5008, True, (f"validate_data {body.get('validate_data')!r} was not issued "
                                 f"to appid {appid} by livegetfour (strict_lip_codes)")
        return 0, True, ""

    def _video_data(self, live: int, compare: int | None, photo_field: str, body: RequestBody,
                    endpoint: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a video endpoint; ``compare=None`` leaves out the compare stage.

        ``overrides`` (from a scenario) replace generated values; messages follow the
        statuses unless overridden, and ``sim``/photo exist only when compare_status is 0.
        """
        overrides = overrides or {}
        live = overrides.get("live_status", live)
        data: dict[str, Any] = {"live_status": live,
                                "live_msg": overrides.get("live_msg", status_msg(live))}
        if compare is None:
            return data
        compare = overrides.get("compare_status", compare)
        data["compare_status"] = compare
        data["compare_msg"] = overrides.get("compare_msg", status_msg(compare))
        if compare == 0:
            data["sim"] = overrides.get("sim", 80 + self._digest(endpoint, body) % 20)
            data[photo_field] = overrides.get(photo_field, self.photo_b64)
        return data

    # -- scripted answers (scenario rules) -------------------------------------------------

    def scripted(self, endpoint: str, body: RequestBody, response: Response) -> Reply:
        """The reply a scenario response asks for: a top-level error, or the endpoint's
        success data with in-band statuses and chosen values laid over the defaults.
        No input validation runs: the rule has already decided the answer."""
        code = response.code
        placement = Placement.TOP
        if code is not None and code != 0:
            placement = placement_on(endpoint, code) if code in CATALOGUE else Placement.TOP
            if placement is Placement.TOP:
                entry = CATALOGUE.get(code)
                return Reply(code, response.message or (entry.message if entry else "error"),
                             response.http_status or (entry.http_status if entry else 400))
        overrides = dict(response.data)
        if placement is Placement.LIVE:
            overrides["live_status"] = code
        elif placement is Placement.COMPARE:
            overrides["compare_status"] = code
        data = self._success_data(endpoint, body, overrides)
        return Reply(0, response.message or "OK", response.http_status or 200, data)

    def _success_data(self, endpoint: str, body: RequestBody,
                       overrides: dict[str, Any]) -> dict[str, Any]:
        """Success data for ``endpoint``: deterministic defaults with ``overrides`` on top."""
        appid = body.get("appid") or ""
        if endpoint == "idcardcompare":
            similarity = round(80 + (self._digest(endpoint, body) % 2000) / 100, 2)
            return {"similarity": overrides.get("similarity", similarity),
                    "session_id": overrides.get("session_id", body.get("session_id") or "")}
        if endpoint == "livedetectpicture":
            return {"score": overrides.get("score", 87 + self._digest(endpoint, body) % 14)}
        if endpoint == "livegetfour":
            code = overrides.get("validate_data")
            if code is None:
                code = self.lip_codes.issue(appid)
            else:
                self.lip_codes.remember(appid, code)
            return {"validate_data": code}
        if endpoint == "idcardlivedetectfour":
            return self._video_data(0, 0, "video_photo", body, endpoint, overrides)
        compares = (body.get("compare_flag") or "").lower() == "true" or any(
            key in overrides for key in ("compare_status", "compare_msg", "sim", "photo"))
        return self._video_data(0, 0 if compares else None, "photo", body, endpoint, overrides)

    def _digest(self, endpoint: str, body: RequestBody) -> int:
        """A stable number from the server seed and the request's identifying content."""
        hasher = hashlib.sha256(f"{self.settings.seed}\0{endpoint}".encode())
        for name in ("idcard_number", "idcard_name", "url", "validate_data"):
            hasher.update(f"\0{name}={body.get(name) or ''}".encode())
        for name in sorted(body.media):
            hasher.update(f"\0{name}={body.sha256(name)}".encode())
        return int.from_bytes(hasher.digest()[:8], "big")
