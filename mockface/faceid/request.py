"""From the facts of an HTTP request to an authenticated API 3.0 call: checks 1-11 of
contract-faceid §2, in order, raising ``FaceIdError`` with the first failure's Error.Code.

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

from ..core.strictjson import loads_strict
from .signature import KeyLookup, LooseTest, SignatureRefused, Verdict, never, verify_tc3, verify_v1

MAX_BODY = 10 * 1024 * 1024
#: product -> version -> actions.  ``iai`` holds the photo-liveness actions.
ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "faceid": {"2018-03-01": frozenset({
        "GetLiveCode", "GetActionSequence", "ImageRecognition", "ImageRecognitionV2",
        "LivenessRecognition", "LivenessCompare", "Liveness", "IdCardVerification"})},
    "iai": {"2018-03-01": frozenset({"DetectLiveFace"}),
            "2020-03-03": frozenset({"DetectLiveFace", "DetectLiveFaceAccurate"})},
}


def current_version(product: str) -> str:
    """The newest X-TC-Version of ``product`` (faceid's for a product mockface does not
    emulate): what clients are signed for by default."""
    return max(ACTIONS.get(product) or ACTIONS["faceid"])


#: Signature v1 carries these in its parameters; they are not the action's.
V1_COMMON = frozenset({"Action", "Version", "Timestamp", "Nonce", "SecretId", "Signature",
                       "SignatureMethod", "Region", "Token", "Language", "RequestClient"})


class FaceIdError(Exception):
    """A refused call: ``code`` is the Error.Code, ``reason`` says why (logs, journal),
    ``message`` replaces the catalogue's message when the answer should name a parameter."""

    def __init__(self, code: str, reason: str, message: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Call:
    """An authenticated API 3.0 call."""

    product: str  # "faceid" or "iai"
    action: str
    version: str
    params: dict[str, Any]
    verdict: Verdict
    language: str | None = None


def product_of_v1(host: str, action: str | None) -> str:
    """Which product a v1 request is for: the one its Host names (``iai.*``,
    ``faceid.*``); on any other host (mockface's own address) the product that has the
    action, ``faceid`` first."""
    name = host.lower().split(".")[0]
    if name in ACTIONS:
        return name
    for product, versions in ACTIONS.items():
        if any(action in names for names in versions.values()):
            return product
    return "faceid"


def unflatten(params: Mapping[str, str]) -> dict[str, Any]:
    """v1 parameters with dotted names (``Optional.BestFrameNum``, ``List.0``) made nested
    again; indexes become lists.  FaceIdError InvalidParameter when names clash
    (``A=1`` beside ``A.B=2``)."""
    root: dict[str, Any] = {}
    for name, value in params.items():
        *path, leaf = name.split(".")
        node = root
        for part in path:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise FaceIdError("InvalidParameter", f"parameter {name[:60]!r} clashes with "
                                                      f"{part[:60]!r}")
            node = child
        if isinstance(node.get(leaf), dict):
            raise FaceIdError("InvalidParameter", f"parameter {name[:60]!r} clashes")
        node[leaf] = value
    return {key: _as_lists(value) for key, value in root.items()}


def _as_lists(value: Any) -> Any:
    """Mappings whose keys are 0..n-1 become lists (recursively)."""
    if not isinstance(value, dict):
        return value
    converted = {key: _as_lists(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted) and \
            sorted(int(key) for key in converted) == list(range(len(converted))):
        return [converted[str(index)] for index in range(len(converted))]
    return converted


def claimed_target(method: str, host: str, query: str, headers: Mapping[str, str],
                   body: bytes) -> str | None:
    """``product:Action`` as the request states it, before any check (for the journal of a
    refused call); None when it names no emulated action."""
    action, product = headers.get("x-tc-action"), None
    scope = re.search(r"Credential=[^/,]*/[^/,]*/([a-z]+)/tc3_request",
                      headers.get("authorization", ""))
    if scope:
        product = scope[1]
    else:
        try:
            params = _v1_params(method, query, headers, body) or {}
        except FaceIdError:
            params = {}
        action = params.get("Action")
        product = product_of_v1(host, action)
    if product not in ACTIONS or not any(action in names for names in ACTIONS[product].values()):
        return None
    return f"{product}:{action}"


def authenticate(*, method: str, host: str, query: str, headers: Mapping[str, str],
                 body: bytes, now: float, secret_key_of: KeyLookup,
                 permitted: Callable[[str, str], bool] = lambda secret_id, product: True,
                 within_rate: Callable[[str], bool] = lambda secret_id: True,
                 loose: LooseTest = never,
                 nonce_unused: Callable[[str, str], bool] = lambda secret_id, nonce: True
                 ) -> Call:
    """Run checks 1-11 of contract-faceid §2 (12-14, the action's parameters, belong to the
    action) and return the call; FaceIdError for the first that fails.  ``nonce_unused``
    (SecretId, "Nonce/Timestamp") is asked for v1 calls as part of check 5: False refuses
    the call as a replay."""
    if method not in ("GET", "POST"):
        raise FaceIdError("UnsupportedProtocol", f"method {method[:10]}")
    v1_params = _v1_params(method, query, headers, body)
    try:
        if "authorization" in headers:
            verdict = verify_tc3(method=method, query=query, headers=headers, body=body,
                                 services=tuple(ACTIONS), now=now, secret_key_of=secret_key_of,
                                 loose=loose)
            version = headers.get("x-tc-version", "")
            action = headers.get("x-tc-action", "")
            language = headers.get("x-tc-language")
            token = headers.get("x-tc-token")
        elif v1_params is not None and "Signature" in v1_params:
            verdict = verify_v1(method=method, host=host, params=v1_params,
                                service=product_of_v1(host, v1_params.get("Action")), now=now,
                                secret_key_of=secret_key_of, loose=loose)
            version = v1_params.get("Version", "")
            action = v1_params.get("Action", "")
            language = v1_params.get("Language")
            token = v1_params.get("Token")
        else:
            raise SignatureRefused("AuthFailure.InvalidAuthorization",
                                   "no Authorization header and no Signature parameter")
    except SignatureRefused as refused:
        raise FaceIdError(refused.code, refused.reason) from None
    nonce = None
    if v1_params is not None and "authorization" not in headers:
        nonce = f"{v1_params.get('Nonce', '')}/{v1_params.get('Timestamp', '')}"
        if not nonce_unused(verdict.secret_id, nonce):
            raise FaceIdError("AuthFailure.SignatureFailure",
                              f"Nonce/Timestamp {nonce[:40]} was used before")
    if token:
        raise FaceIdError("AuthFailure.TokenFailure", "temporary credentials are not "
                                                      "emulated")
    product = verdict.service
    versions = ACTIONS[product]
    if version not in versions:
        raise FaceIdError("NoSuchVersion", f"{product} has no version {version[:20]!r}")
    if action not in versions[version]:
        raise FaceIdError("InvalidAction", f"{product} {version} has no action {action[:40]!r}")
    if not permitted(verdict.secret_id, product):
        raise FaceIdError("UnauthorizedOperation.Nonactivated",
                          f"the app of {verdict.secret_id} may not call {product}")
    if not within_rate(verdict.secret_id):
        raise FaceIdError("RequestLimitExceeded", "over the app's requests per second")
    if len(body) > MAX_BODY:
        raise FaceIdError("RequestSizeLimitExceeded", f"body over {MAX_BODY} bytes")
    if v1_params is not None and "authorization" not in headers:
        params = unflatten({k: v for k, v in v1_params.items() if k not in V1_COMMON})
    else:
        params = _json_params(body if method == "POST" else b"{}")
    return Call(product, action, version, params, verdict, language)


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
            raise FaceIdError("InvalidRequest", "the form body is not UTF-8") from None
    return None


def _json_params(body: bytes) -> dict[str, Any]:
    try:
        params = loads_strict(body or b"{}")
    except ValueError:
        raise FaceIdError("InvalidRequest", "the body is not valid JSON") from None
    if not isinstance(params, dict):
        raise FaceIdError("InvalidRequest", "the body is not a JSON object")
    return params
