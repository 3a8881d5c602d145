"""The API 3.0 response envelope, shaped by the official SDK's hard constraints: every
answer is HTTP 200 with ``Content-Type: application/json`` exactly (another status loses the
error code in the SDK; a charset parameter makes it ignore errors silently), and carries a
``RequestId``.  Verification outcomes are not errors: they are fields of a success."""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from .catalogue import PLATFORM_CODES, Tc3Code

STATUS = 200
CONTENT_TYPE = "application/json"


def request_id(seed: int | None = None, request_digest: bytes = b"") -> str:
    """A uuid4: random, or derived from ``seed`` and the request when a seed is given (so a
    seeded server answers a repeated request identically)."""
    if seed is None:
        return str(uuid.uuid4())
    digest = hashlib.sha256(f"{seed}\0".encode() + request_digest).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def success(fields: dict[str, Any], request_id_: str,
            deprecated_warning: str | None = None) -> bytes:
    """``{"Response": {<fields>, ["DeprecatedWarning"], "RequestId"}}`` as UTF-8 JSON."""
    response = dict(fields)
    if deprecated_warning:
        response["DeprecatedWarning"] = deprecated_warning
    response["RequestId"] = request_id_
    return _dump({"Response": response})


def error(code: str, request_id_: str, language: str | None = None,
          message: str | None = None,
          catalogue: Mapping[str, Tc3Code] = PLATFORM_CODES) -> bytes:
    """``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``; the message follows
    ``X-TC-Language`` (``en-US``, else Chinese) unless given."""
    return _dump({"Response": {"Error": {"Code": code, "Message": error_message(
                                             code, language, message, catalogue)},
                               "RequestId": request_id_}})


def error_message(code: str, language: str | None = None, message: str | None = None,
                  catalogue: Mapping[str, Tc3Code] = PLATFORM_CODES) -> str:
    """The ``Error.Message`` an error is answered with: ``message`` when given, else that of
    ``code`` in ``catalogue`` (the product's; by default the platform's own codes) in the
    ``X-TC-Language`` asked for."""
    return message if message is not None else catalogue[code].message(language)


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "backslashreplace")
