"""The code catalogue of the Cloud API 3.0 platform: every Error.Code and failure Result
name, with its Chinese description and the English message mockface answers with.

The platform holds the names every API 3.0 service shares (Tencent's common error codes, and
those several of the emulated services answer); each provider adds its own (``Provider.codes``)
and ``compose`` makes one product's catalogue of them: the common codes first, in the order
below, then every other name sorted.  The Chinese descriptions are those of the official SDKs
(``errorcodes.py``, Apache-2.0) and of Tencent's common error-code page; the English messages
are mockface's.  ``X-TC-Language: en-US`` picks the English one, anything else the Chinese.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Tc3Code:
    """One documented name: ``Error.Code`` for errors, ``Result`` for verification outcomes."""

    name: str
    zh: str
    en: str

    def message(self, language: str | None) -> str:
        return self.en if language == "en-US" else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"code": self.name, "message": self.en, "meaning": self.zh}


#: Common to every Cloud API 3.0 product (Tencent's common error codes), listed first.
COMMON = tuple(Tc3Code(name, zh, en) for name, zh, en in [
    ("AuthFailure.InvalidAuthorization", "CAM签名/鉴权错误。",
     "The Authorization header or signature parameters are malformed."),
    ("AuthFailure.SignatureExpire", "签名过期。Timestamp 和服务器时间相差不得超过五分钟。",
     "The signature expired: the timestamp differs from the server time by more than 5 "
     "minutes."),
    ("AuthFailure.SecretIdNotFound", "密钥不存在。", "The SecretId does not exist."),
    ("AuthFailure.SignatureFailure", "签名错误。", "The signature does not match."),
    ("AuthFailure.TokenFailure", "token 错误。", "The token is invalid."),
    ("UnsupportedProtocol", "HTTP(S)请求协议错误，只支持 GET 和 POST 请求。",
     "Only GET and POST requests are supported."),
    ("NoSuchVersion", "接口版本不存在。", "The API version does not exist."),
    ("InvalidAction", "接口不存在。", "The action does not exist."),
    ("InvalidRequest", "请求 body 格式错误。", "The request body is malformed."),
    ("RequestSizeLimitExceeded", "请求包超过限制大小。", "The request is too large."),
    ("MissingParameter", "缺少参数错误。", "A required parameter is missing."),
    ("UnknownParameter", "未知参数错误。", "The request has a parameter the action does not "
                                         "define."),
    ("RequestLimitExceeded", "请求的次数超过了频率限制。", "Too many requests."),
    ("InternalError", "内部错误。", "Internal error."),
    ("InvalidParameter", "参数错误。", "Invalid parameter."),
    ("InvalidParameterValue", "参数取值错误。", "Invalid parameter value."),
    ("UnauthorizedOperation", "未授权操作。", "Unauthorized operation."),
    ("UnsupportedOperation", "操作不支持。", "Unsupported operation."),
])
#: Answered by several services, or by the platform's own checks (check 9: Nonactivated;
#: a suspended app: Arrears).
SHARED = tuple(Tc3Code(name, zh, en) for name, zh, en in [
    ("FailedOperation.ImageDecodeFailed", "图片解码失败。", "The image could not be decoded."),
    ("FailedOperation.ImageSizeTooLarge", "图片尺寸过大。", "The image is too large."),
    ("UnauthorizedOperation.Arrears", "账号已欠费。", "The account is in arrears."),
    ("UnauthorizedOperation.NonAuthorize", "账号未实名。",
     "The account has not completed identity verification."),
    ("UnauthorizedOperation.Nonactivated", "未开通服务。", "The service is not activated."),
])


def compose(*groups: Iterable[Tc3Code]) -> dict[str, Tc3Code]:
    """name -> code of the platform's codes and ``groups`` (the providers' own): COMMON in
    its order, then every other name sorted.  A name given twice must mean the same
    (ValueError otherwise)."""
    others: dict[str, Tc3Code] = {}
    for code in (code for group in (SHARED, *groups) for code in group):
        if others.setdefault(code.name, code) != code:
            raise ValueError(f"two different entries for {code.name}")
    first = {code.name: code for code in COMMON}
    return {**first, **{name: others[name] for name in sorted(others) if name not in first}}


#: The platform's own catalogue: what its checks and protocol errors answer with.
PLATFORM_CODES = compose()


def codes_for(catalogue: Mapping[str, Tc3Code], results: tuple[str, ...] | None = None
              ) -> tuple[str, ...]:
    """Every name of ``catalogue`` (``results`` None), or those an action can answer: the
    Error.Codes every action shares and its ``results`` (Result names)."""
    if results is None:
        return tuple(catalogue)
    return tuple(name for name in catalogue if not name.startswith("FailedOperation.")) + \
        results
