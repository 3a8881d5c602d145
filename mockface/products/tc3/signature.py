"""Cloud API 3.0 request signatures: TC3-HMAC-SHA256 and signature v1 (HmacSHA1/HmacSHA256).

``sign_tc3`` and ``sign_v1`` compute signatures as Tencent's SDKs do; ``verify_tc3`` and
``verify_v1`` run the checks of contract-faceid §2 in their order and raise
``SignatureRefused`` with the ``Error.Code`` of the first failure (and a reason for logs).
Plain functions: the clock and the key lookup are passed in; nothing here knows HTTP.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

TC3_ALGORITHM = "TC3-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW = 300  # seconds between the server clock and X-TC-Timestamp / Timestamp
V1_METHODS = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}

#: secret id -> secret key, or None when no app holds the secret id.
KeyLookup = Callable[[str], "str | None"]
#: secret id -> whether its requests skip checks 3-5 (loose mode).
LooseTest = Callable[[str], bool]


def never(secret_id: str) -> bool:
    return False

_TC3_HEADER = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/,\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P<service>[a-z0-9]+)/tc3_request, ?SignedHeaders=(?P<signed>[a-z0-9;.\-_]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})")


class SignatureRefused(Exception):
    """A failed check: ``code`` is the Error.Code to answer, ``reason`` says why (logs)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Verdict:
    """Who signed a request that passed, and for which service (``faceid`` or ``iai``)."""

    secret_id: str
    service: str
    method: str  # "TC3-HMAC-SHA256", "HmacSHA1" or "HmacSHA256"
    loose: bool = False  # accepted without checks 3-5 (loose mode)


# -- TC3-HMAC-SHA256 ---------------------------------------------------------------------------

def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_string_to_sign(method: str, query: str, headers: Mapping[str, str],
                       signed_headers: list[str], payload: bytes | str, timestamp: int,
                       service: str) -> str:
    """The StringToSign of a request (``headers`` keyed by lower-case name)."""
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n"
                                for name in signed_headers)
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    canonical_request = "\n".join([
        method, "/", query if method == "GET" else "", canonical_headers,
        ";".join(signed_headers), hashlib.sha256(payload).hexdigest()])
    date = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")
    return "\n".join([TC3_ALGORITHM, str(timestamp), f"{date}/{service}/tc3_request",
                      hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    """The hex signature: kDate -> kService -> kSigning -> HMAC of the StringToSign."""
    k_date = _hmac256(f"TC3{secret_key}".encode("utf-8"), date)
    k_service = _hmac256(k_date, service)
    k_signing = _hmac256(k_service, "tc3_request")
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_tc3(secret_id: str, secret_key: str, *, service: str, host: str, action: str,
             timestamp: int, body: bytes | str = b"{}", method: str = "POST", query: str = "",
             content_type: str = "application/json; charset=utf-8",
             version: str = "2018-03-01") -> dict[str, str]:
    """The headers of a TC3-signed request, signing ``content-type;host`` as the Python SDK
    does (for ``mockface sign --api faceid`` and tests)."""
    headers = {"content-type": content_type, "host": host}
    signed = ["content-type", "host"]
    string_to_sign = tc3_string_to_sign(method, query, headers, signed,
                                        b"" if method == "GET" else body, timestamp, service)
    date = string_to_sign.split("\n")[2].split("/")[0]
    signature = tc3_signature(secret_key, date, service, string_to_sign)
    return {
        "Authorization": f"{TC3_ALGORITHM} Credential={secret_id}/{date}/{service}/"
                         f"tc3_request, SignedHeaders={';'.join(signed)}, "
                         f"Signature={signature}",
        "Content-Type": content_type, "Host": host, "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp), "X-TC-Version": version}


def verify_tc3(*, method: str, query: str, headers: Mapping[str, str], body: bytes,
               services: tuple[str, ...], now: float, secret_key_of: KeyLookup,
               loose: LooseTest = never) -> Verdict:
    """Checks 2-5 of contract-faceid §2 for a request with an ``Authorization`` header
    (``headers`` keyed by lower-case name).  ``services``: the products this request may be
    signed for (``faceid``, or ``iai``).  When ``loose(secret_id)`` is true only check 2
    runs."""
    match = _TC3_HEADER.fullmatch(headers.get("authorization", "").strip())
    timestamp_text = headers.get("x-tc-timestamp", "")
    if match is None or not re.fullmatch(r"[0-9]{1,12}", timestamp_text):
        raise SignatureRefused("AuthFailure.InvalidAuthorization",
                               "Authorization or X-TC-Timestamp does not parse as TC3")
    timestamp = int(timestamp_text)
    secret_id = match["secret_id"]
    if loose(secret_id):
        service = match["service"] if match["service"] in services else services[0]
        return Verdict(secret_id, service, TC3_ALGORITHM, loose=True)
    _check_skew(timestamp, now)
    secret_key = secret_key_of(secret_id)
    if secret_key is None:
        raise SignatureRefused("AuthFailure.SecretIdNotFound", f"secret id {secret_id[:40]}")
    date = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")
    if match["date"] != date:
        raise SignatureRefused("AuthFailure.SignatureFailure",
                               f"credential date {match['date']} is not {date}, the UTC date "
                               "of X-TC-Timestamp")
    if match["service"] not in services:
        raise SignatureRefused("AuthFailure.SignatureFailure",
                               f"credential service {match['service']} is not "
                               f"{' or '.join(services)}")
    signed = match["signed"].split(";")
    unsigned = headers.get("x-tc-content-sha256") == UNSIGNED_PAYLOAD
    payload: bytes | str = UNSIGNED_PAYLOAD if unsigned else (b"" if method == "GET" else body)
    expected = set()
    for host in {headers.get("host", ""), headers.get("host", "").lower()}:
        string_to_sign = tc3_string_to_sign(method, query, {**headers, "host": host}, signed,
                                            payload, timestamp, match["service"])
        expected.add(tc3_signature(secret_key, date, match["service"], string_to_sign))
    if not any(hmac.compare_digest(candidate, match["signature"]) for candidate in expected):
        raise SignatureRefused("AuthFailure.SignatureFailure",
                               f"TC3-HMAC-SHA256 does not match the secret key of {secret_id}")
    return Verdict(secret_id, match["service"], TC3_ALGORITHM)


# -- signature v1 ----------------------------------------------------------------------------

def v1_string_to_sign(method: str, host: str, params: Mapping[str, str]) -> str:
    """``<METHOD><host>/?k=v&...`` over every parameter but Signature, keys sorted."""
    pairs = "&".join(f"{key}={params[key]}" for key in sorted(params) if key != "Signature")
    return f"{method}{host}/?{pairs}"


def sign_v1(secret_key: str, method: str, host: str, params: Mapping[str, str],
            signature_method: str = "HmacSHA1") -> str:
    """The base64 ``Signature`` of a v1 request."""
    digest = hmac.new(secret_key.encode("utf-8"),
                      v1_string_to_sign(method, host, params).encode("utf-8"),
                      V1_METHODS[signature_method]).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_v1(*, method: str, host: str, params: Mapping[str, str], service: str, now: float,
              secret_key_of: KeyLookup, loose: LooseTest = never) -> Verdict:
    """Checks 2-5 of contract-faceid §2 for a v1 request (``params`` already decoded; the
    service follows from the Host).  When ``loose(secret_id)`` is true only check 2 runs."""
    signature_text = params.get("Signature", "")
    signature_method = params.get("SignatureMethod", "HmacSHA1")
    timestamp_text = params.get("Timestamp", "")
    if not signature_text or signature_method not in V1_METHODS \
            or not re.fullmatch(r"[0-9]{1,12}", timestamp_text) or not params.get("SecretId"):
        raise SignatureRefused("AuthFailure.InvalidAuthorization",
                               "Signature, SignatureMethod, Timestamp or SecretId missing or "
                               "malformed")
    try:
        sent = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused("AuthFailure.InvalidAuthorization",
                               "Signature is not base64") from None
    secret_id = params["SecretId"]
    if loose(secret_id):
        return Verdict(secret_id, service, signature_method, loose=True)
    _check_skew(int(timestamp_text), now)
    secret_key = secret_key_of(secret_id)
    if secret_key is None:
        raise SignatureRefused("AuthFailure.SecretIdNotFound", f"secret id {secret_id[:40]}")
    expected = base64.b64decode(sign_v1(secret_key, method, host, params, signature_method))
    if not hmac.compare_digest(expected, sent):
        raise SignatureRefused("AuthFailure.SignatureFailure",
                               f"{signature_method} does not match the secret key of "
                               f"{secret_id}")
    return Verdict(secret_id, service, signature_method)


def _check_skew(timestamp: int, now: float) -> None:
    if abs(now - timestamp) > MAX_SKEW:
        raise SignatureRefused("AuthFailure.SignatureExpire",
                               f"timestamp is {int(now - timestamp)} s from the server clock "
                               f"(at most {MAX_SKEW} s)")
