"""What the services' answers share: base64 media decoded once per call, and the stable
number their deterministic defaults (a similarity, a liveness score) are drawn from."""
from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from typing import Any

from .provider import Call
from .request import Tc3Error

#: The text parameters and the media parameters ``digest`` covers, in this order; a call
#: without one hashes it as empty, so that answers keep their values for a given seed.
DIGEST_TEXT = ("IdCard", "Name", "ValidateData", "LivenessType", "ImageUrl", "VideoUrl", "Url")
DIGEST_MEDIA = ("ImageBase64", "VideoBase64", "Image")


def decode_base64(text: Any) -> bytes | None:
    """The bytes of a base64 parameter value, or None when it is not base64 text."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_media(params: dict[str, Any], names: Iterable[str]) -> dict[str, bytes]:
    """The decoded bytes of each base64 media parameter of ``names`` that is given and
    decodes: done once per call, for the action's checks, the scenario facts and the
    journal."""
    media = {}
    for name in names:
        if params.get(name):
            data = decode_base64(params[name])
            if data is not None:
                media[name] = data
    return media


def decoded(call: Call, name: str) -> bytes:
    """The bytes of the base64 parameter ``name`` (InvalidParameterValue when it is not
    base64)."""
    data = call.media.get(name)
    if data is None:
        raise Tc3Error("InvalidParameterValue", f"{name} is not base64",
                       message=f"The value of the parameter `{name}` is invalid.")
    return data


def digest(seed: int, call: Call) -> int:
    """A stable number from the server seed and the call's identifying content (text
    with lone surrogates, which JSON allows, included)."""
    hasher = hashlib.sha256(f"{seed}\0{call.service}:{call.action}".encode())
    for name in DIGEST_TEXT:
        hasher.update(_utf8(f"\0{name}={call.params.get(name) or ''}"))
    for name in DIGEST_MEDIA:
        value = call.params.get(name)
        if isinstance(value, str) and value:
            hasher.update(f"\0{name}=".encode() + hashlib.sha256(_utf8(value)).digest())
    return int.from_bytes(hasher.digest()[:8], "big")


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate (``"\\ud800"`` in JSON) as its three bytes."""
    return text.encode("utf-8", "surrogatepass")
