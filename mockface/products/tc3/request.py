"""From the facts of an HTTP request to an authenticated API 3.0 call: checks 1-11 of
contract-faceid §2, in order, raising ``Tc3Error`` with the first failure's Error.Code.

Plain values in, plain values out: the web layer passes the method, Host, query, headers
(lower-case names) and body bytes; the caller passes the clock, the key lookup and the app's
permissions as functions.  Nothing here knows HTTP frameworks or the legacy API.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ...core.strictjson import loads_strict
from .signature import (
    TC3_ALGORITHM,
    V1_METHODS,
    KeyLookup,
    LooseTest,
    SignatureRefused,
    Verdict,
    never,
    verify_tc3,
    verify_v1,
)

MAX_BODY = 10 * 1024 * 1024
#: service -> version -> the names of its actions (``ActionTable.versions``: derived from
#: the providers a product is built with).
Versions = Mapping[str, Mapping[str, frozenset[str]]]


#: Signature v1 carries these in its parameters; they are not the action's.
V1_COMMON = frozenset({"Action", "Version", "Timestamp", "Nonce", "SecretId", "Signature",
                       "SignatureMethod", "Region", "Token", "Language", "RequestClient"})
#: Dotted parts a flattened parameter name may have (``Encryption.EncryptList.0`` has 3).
MAX_NAME_PARTS = 16


class Tc3Error(Exception):
    """A refused call: ``code`` is the Error.Code, ``reason`` says why (logs, journal),
    ``message`` replaces the catalogue's message when the answer should name a parameter.
    ``verdict`` is the signature the call passed when a later check refused it."""

    def __init__(self, code: str, reason: str, message: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.message = message
        self.verdict: Verdict | None = None


@dataclass(frozen=True)
class Call:
    """An authenticated API 3.0 call."""

    product: str  # the service: a key of the Versions table
    action: str
    version: str
    params: dict[str, Any]
    verdict: Verdict
    language: str | None = None


@dataclass(frozen=True)
class Claim:
    """What a request states about itself before any check (the journal of a refused call):
    ``product:Action`` when it names an emulated action, the signature method it names
    (``TC3-HMAC-SHA256``, ``HmacSHA1``, ``HmacSHA256``) and the SecretId; None for what it
    does not state."""

    target: str | None = None
    method: str | None = None
    secret_id: str | None = None


def product_of_v1(host: str, action: str | None, versions: Versions) -> str:
    """Which service a v1 request is for: the one its Host names (``iai.*``,
    ``faceid.*``); on any other host (mockface's own address) the first service that has
    the action, else the first service."""
    name = host.lower().split(".")[0]
    if name in versions:
        return name
    for product, by_version in versions.items():
        if any(action in names for names in by_version.values()):
            return product
    return next(iter(versions))


def unflatten(params: Mapping[str, str]) -> dict[str, Any]:
    """Flattened parameters (v1, and the query of a TC3 ``GET``) with dotted names
    (``Optional.BestFrameNum``, ``List.0``) made nested again; indexes ``0``..``n-1`` become
    lists.  Tc3Error InvalidParameter when names clash (``A=1`` beside ``A.B=2``) or a
    name has more than MAX_NAME_PARTS parts."""
    root: dict[str, Any] = {}
    for name, value in params.items():
        *path, leaf = name.split(".", MAX_NAME_PARTS)
        if len(path) >= MAX_NAME_PARTS:
            raise Tc3Error("InvalidParameter", f"parameter {name[:60]!r} has more than "
                                                  f"{MAX_NAME_PARTS} dotted parts",
                              message=f"The parameter `{name[:60]}` has more than "
                                      f"{MAX_NAME_PARTS} dotted parts.")
        node = root
        for part in path:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise Tc3Error("InvalidParameter", f"parameter {name[:60]!r} clashes with "
                                                      f"{part[:60]!r}")
            node = child
        if isinstance(node.get(leaf), dict):
            raise Tc3Error("InvalidParameter", f"parameter {name[:60]!r} clashes")
        node[leaf] = value
    return {key: _as_lists(value) for key, value in root.items()}


def _as_lists(value: Any) -> Any:
    """Mappings whose keys are exactly ``0``..``n-1`` (ASCII, no leading zeros) become lists
    (recursively)."""
    if not isinstance(value, dict):
        return value
    converted = {key: _as_lists(item) for key, item in value.items()}
    indexes = [str(index) for index in range(len(converted))]
    if converted and converted.keys() == set(indexes):
        return [converted[index] for index in indexes]
    return converted


#: The SecretId and, when the scope parses, the service of a TC3 Authorization; anchored,
#: so that a 256 KB header costs one linear scan.
_CLAIMED_TC3 = re.compile(rf"\s*{re.escape(TC3_ALGORITHM)}\s+Credential=([^/,\s]+)/"
                          r"(?:[^/,\s]*/([a-z0-9]+)/tc3_request)?")


def claim_of(method: str, host: str, query: str, headers: Mapping[str, str],
             body: bytes, versions: Versions) -> Claim:
    """What the request claims (see Claim): the action of X-TC-Action or of the ``Action``
    parameter, the product of the credential scope (TC3) or of the Host (v1), the TC3
    Credential's SecretId or the v1 ``SecretId`` and ``SignatureMethod``.  Never raises."""
    try:
        params = _v1_params(method, query, headers, body) or {}
    except Tc3Error:
        params = {}
    action = headers.get("x-tc-action") or params.get("Action")
    authorization = headers.get("authorization")
    credential = _CLAIMED_TC3.match(authorization or "")
    product = credential[2] if credential and credential[2] else \
        product_of_v1(host, action, versions)
    target = f"{product}:{action}" if product in versions and \
        any(action in names for names in versions[product].values()) else None
    if authorization is not None:
        if not authorization.lstrip().startswith(TC3_ALGORITHM):
            return Claim(target)  # not an API 3.0 signature (a legacy one, say)
        return Claim(target, TC3_ALGORITHM, credential[1] if credential else None)
    if "Signature" in params:
        named = params.get("SignatureMethod", "HmacSHA1")
        return Claim(target, named if named in V1_METHODS else None,
                     params.get("SecretId") or None)
    return Claim(target)


def authenticate(*, method: str, host: str, query: str, headers: Mapping[str, str],
                 body: bytes, now: float, secret_key_of: KeyLookup, versions: Versions,
                 permitted: Callable[[str, str], bool] = lambda secret_id, product: True,
                 within_rate: Callable[[str], bool] = lambda secret_id: True,
                 loose: LooseTest = never,
                 nonce_unused: Callable[[str, str], bool] = lambda secret_id, nonce: True
                 ) -> Call:
    """Run checks 1-11 of contract-faceid §2 (12-14, the action's parameters, belong to the
    action) for the services and actions of ``versions``, and return the call; Tc3Error
    for the first that fails, carrying the verdict
    once the signature passed (checks 6-11).  ``nonce_unused`` (SecretId,
    "Nonce/Timestamp") is asked for v1 calls as part of check 5: False refuses the call as a
    replay.  The parameters are the JSON body of a TC3 ``POST``; those of a form body or
    query (v1, and a TC3 ``GET``) un-flattened."""
    if method not in ("GET", "POST"):
        raise Tc3Error("UnsupportedProtocol", f"method {method[:10]}")
    v1_params = _v1_params(method, query, headers, body)
    tc3 = "authorization" in headers
    try:
        if tc3:
            verdict = verify_tc3(method=method, query=query, headers=headers, body=body,
                                 services=tuple(versions), now=now, secret_key_of=secret_key_of,
                                 loose=loose)
        elif v1_params is not None and "Signature" in v1_params:
            verdict = verify_v1(method=method, host=host, params=v1_params,
                                service=product_of_v1(host, v1_params.get("Action"), versions),
                                now=now,
                                secret_key_of=secret_key_of, loose=loose)
            _check_nonce(verdict.secret_id, v1_params, nonce_unused)
        else:
            raise SignatureRefused("AuthFailure.InvalidAuthorization",
                                   "no Authorization header and no Signature parameter")
    except SignatureRefused as refused:
        raise Tc3Error(refused.code, refused.reason) from None
    stated = _Stated.of(headers if tc3 else None, v1_params or {})
    try:
        _admit(verdict, stated, len(body), versions, permitted, within_rate)
        if tc3 and method == "POST":
            params = _json_params(body)
        else:
            params = unflatten({name: value for name, value in (v1_params or {}).items()
                                if tc3 or name not in V1_COMMON})
    except Tc3Error as error:
        error.verdict = verdict
        raise
    return Call(verdict.service, stated.action, stated.version, params, verdict,
                stated.language)


@dataclass(frozen=True)
class _Stated:
    """The common parameters of a call: X-TC-* headers (TC3) or v1 parameters."""

    action: str
    version: str
    language: str | None
    token: str | None

    @classmethod
    def of(cls, headers: Mapping[str, str] | None, v1_params: Mapping[str, str]) -> _Stated:
        """From ``headers`` when given (TC3), else from ``v1_params``."""
        if headers is not None:
            return cls(headers.get("x-tc-action", ""), headers.get("x-tc-version", ""),
                       headers.get("x-tc-language"), headers.get("x-tc-token"))
        return cls(v1_params.get("Action", ""), v1_params.get("Version", ""),
                   v1_params.get("Language"), v1_params.get("Token"))


def _check_nonce(secret_id: str, v1_params: Mapping[str, str],
                 nonce_unused: Callable[[str, str], bool]) -> None:
    """Check 5's replay test of a v1 call: SignatureRefused when its Nonce/Timestamp was
    used before."""
    nonce = f"{v1_params.get('Nonce', '')}/{v1_params.get('Timestamp', '')}"
    if not nonce_unused(secret_id, nonce):
        raise SignatureRefused("AuthFailure.SignatureFailure",
                               f"Nonce/Timestamp {nonce[:40]} was used before")


def _admit(verdict: Verdict, stated: _Stated, size: int, versions_of: Versions,
           permitted: Callable[[str, str], bool], within_rate: Callable[[str], bool]) -> None:
    """Checks 6-10 and the body size of check 11 for a call whose signature passed."""
    if stated.token:
        raise Tc3Error("AuthFailure.TokenFailure", "temporary credentials are not "
                                                      "emulated")
    product = verdict.service
    versions = versions_of[product]
    if stated.version not in versions:
        raise Tc3Error("NoSuchVersion", f"{product} has no version {stated.version[:20]!r}")
    if stated.action not in versions[stated.version]:
        raise Tc3Error("InvalidAction", f"{product} {stated.version} has no action "
                                           f"{stated.action[:40]!r}")
    if not permitted(verdict.secret_id, product):
        raise Tc3Error("UnauthorizedOperation.Nonactivated",
                          f"the app of {verdict.secret_id} may not call {product}")
    if not within_rate(verdict.secret_id):
        raise Tc3Error("RequestLimitExceeded", "over the app's requests per second")
    if size > MAX_BODY:
        raise Tc3Error("RequestSizeLimitExceeded", f"body over {MAX_BODY} bytes")


def _v1_params(method: str, query: str, headers: Mapping[str, str],
               body: bytes) -> dict[str, str] | None:
    """The parameters of a form (POST) or query (GET) request, or None for a JSON body."""
    if method == "GET":
        return dict(parse_qsl(query, keep_blank_values=True))
    if headers.get("content-type", "").split(";")[0].strip().lower() == \
            "application/x-www-form-urlencoded":
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                  strict_parsing=False))
        except UnicodeDecodeError:
            raise Tc3Error("InvalidRequest", "the form body is not UTF-8") from None
    return None


def _json_params(body: bytes) -> dict[str, Any]:
    try:
        params = loads_strict(body or b"{}")
    except ValueError:
        raise Tc3Error("InvalidRequest", "the body is not valid JSON") from None
    if not isinstance(params, dict):
        raise Tc3Error("InvalidRequest", "the body is not a JSON object")
    return params
