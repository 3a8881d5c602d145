"""The legacy HMAC-SHA1 ``Authorization`` signature: ``sign()`` and ``verify()``.

A signature is ``base64(HMAC-SHA1(secret_key, plaintext) + plaintext)`` where the plaintext is
``&``-separated ``key=value`` pairs (``a`` appid, ``b`` bucket, ``k`` secret id, ``e`` expiry,
``t`` issue time, ``r`` random, ``f`` file id, ``u`` user id).  ``verify`` runs the checks of
contract §2 in order and raises ``ApiError`` with the first failing check's code.  Plain
functions: the clock, the keyring and the stateful stores are passed in.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import random
from dataclasses import dataclass

from ...core.config import App, Keyring
from ...core.stores import OnceSignatures, RateLimits
from .errors import SUSPENDED_MESSAGE, ApiError

DIGEST_SIZE = 20
MAX_HEADER = 4096  # characters; a real signature is a few hundred
MAX_DIGITS = 19  # of e, t and r
MAX_LIFETIME = 90 * 24 * 3600  # "three months"
LAYOUTS = ("seed", "java", "node")


def sign(appid: str, secret_id: str, secret_key: str, *, now: int, expires_in: int = 3600,
         once: bool = False, fileid: str = "", bucket: str = "", rand: int | None = None,
         layout: str = "seed") -> str:
    """An ``Authorization`` value, laid out as one of the real clients lays it out.

    ``layout``: ``seed`` (``a,b,k,e,t,r,f``: the seed, PHP and Python SDKs), ``java``
    (``a,b,k,t,e``: Java and C++ SDKs) or ``node`` (``a,k,e,t,r,u=0,f``).  ``once=True`` makes
    a once-signature (``e=0``) bound to ``fileid``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if once and not fileid:
        raise ValueError("a once-signature needs a fileid")
    now = int(now)
    expires = 0 if once else now + int(expires_in)
    rand = random.randrange(10**9) if rand is None else rand
    if layout == "seed":
        plaintext = f"a={appid}&b={bucket}&k={secret_id}&e={expires}&t={now}&r={rand}&f={fileid}"
    elif layout == "java":
        plaintext = f"a={appid}&b={bucket}&k={secret_id}&t={now}&e={expires}"
        if fileid:
            plaintext += f"&f={fileid}"
    else:
        plaintext = f"a={appid}&k={secret_id}&e={expires}&t={now}&r={rand}&u=0&f={fileid}"
    return encode(plaintext.encode("utf-8"), secret_key)


def encode(plaintext: bytes, secret_key: str) -> str:
    """Sign exact plaintext bytes: ``base64(HMAC-SHA1 digest + plaintext)``."""
    digest = hmac.new(secret_key.encode("utf-8"), plaintext, hashlib.sha1).digest()
    return base64.b64encode(digest + plaintext).decode("ascii")


@dataclass(frozen=True)
class Signature:
    """A decoded ``Authorization`` value; numbers already checked to be numeric."""

    header: str
    digest: bytes
    plaintext: bytes
    fields: dict[str, str]

    @property
    def appid(self) -> str:
        return self.fields["a"]

    @property
    def secret_id(self) -> str:
        return self.fields["k"]

    @property
    def bucket(self) -> str:
        return self.fields.get("b", "")

    @property
    def expires(self) -> int:
        return int(self.fields["e"])

    @property
    def issued(self) -> int:
        return int(self.fields["t"])

    @property
    def fileid(self) -> str:
        return self.fields.get("f", "")

    @property
    def once(self) -> bool:
        return self.expires == 0


def parse(header: str | None) -> Signature:
    """Decode an ``Authorization`` value (checks 1 and 2): ApiError 4 or 5."""
    if header is None or not header.strip():
        raise ApiError(4, detail="no Authorization header" if header is None
                       else "the Authorization header is empty")
    header = header.strip()
    if len(header) > MAX_HEADER:
        raise ApiError(5, detail=f"Authorization is longer than {MAX_HEADER} characters")
    return _decode(header)


@functools.lru_cache(maxsize=1024)
def _decode(header: str) -> Signature:
    """Check 2 for a stripped header of at most MAX_HEADER characters.  Cached: a client
    sends one multi-use signature with many requests (refusals are not cached)."""
    try:
        raw = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(5, detail="Authorization is not standard base64") from None
    if base64.b64encode(raw).decode("ascii") != header:
        # extra padding or non-zero trailing bits: another spelling of the same bytes
        raise ApiError(5, detail="Authorization is not canonical base64")
    if len(raw) <= DIGEST_SIZE:
        raise ApiError(5, detail="Authorization is too short")
    digest, plaintext = raw[:DIGEST_SIZE], raw[DIGEST_SIZE:]
    try:
        text = plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(5, detail="signature plaintext is not UTF-8") from None
    fields: dict[str, str] = {}
    for pair in text.split("&"):
        key, sep, value = pair.partition("=")
        if not sep:
            raise ApiError(5, detail=f"signature field {key[:20]!r} has no '='")
        fields.setdefault(key, value)
    for key in ("a", "k", "e", "t"):
        if key not in fields:
            raise ApiError(5, detail=f"signature lacks {key!r}")
    for key in ("e", "t", "r"):
        number = fields.get(key)
        if number is not None and not (number.isascii() and number.isdigit()
                                       and len(number) <= MAX_DIGITS):
            raise ApiError(5, detail=f"signature field {key!r} is not a number of at most "
                                     f"{MAX_DIGITS} digits")
    return Signature(header, digest, plaintext, fields)


@dataclass(frozen=True)
class Verdict:
    """What verification concluded about a request that passed."""

    appid: str
    secret_id: str
    once: bool
    loose: bool
    issued: int | None = None  # the signature's t and e, for the journal
    expires: int | None = None


def verify(header: str | None, *, endpoint: str, body_appid: str | None, body_bucket: str | None,
           keyring: Keyring, now: float, once_store: OnceSignatures,
           rate_limiter: RateLimits, clock_skew: int = 900, loose: bool = False) -> Verdict:
    """Run the 14 checks of contract §2 in order; raise ApiError with the first failure's code.

    In loose mode only checks 1 and 2 run.  A body without ``appid`` fails check 7 with code 21.
    """
    signature = parse(header)
    if loose:
        return Verdict(signature.appid, signature.secret_id, signature.once, loose=True,
                       issued=signature.issued, expires=signature.expires)
    app = keyring.app(signature.appid)
    if app is None:
        raise ApiError(10, detail=f"appid {signature.appid!r}")
    owner = keyring.owner_of(signature.secret_id)
    if owner is None:
        raise ApiError(11, detail=f"secret id {signature.secret_id!r}")
    if owner.appid != app.appid:
        raise ApiError(12, detail=f"secret id belongs to appid {owner.appid!r}")
    expected = hmac.new(app.secrets[signature.secret_id].encode("utf-8"), signature.plaintext,
                        hashlib.sha1).digest()
    if not hmac.compare_digest(expected, signature.digest):
        raise ApiError(14, detail=f"HMAC-SHA1 does not match the secret key of "
                                  f"{signature.secret_id}")
    _check_target(signature, app, body_appid, body_bucket)
    _check_time(signature, now, clock_skew)
    if signature.once:
        if not signature.fileid:
            raise ApiError(5, detail="once-signature without f")
        if not once_store.consume(app.appid, signature.digest):
            raise ApiError(13, detail=f"once-signature for f={signature.fileid} already used")
    if app.suspended:
        raise ApiError(3, message=SUSPENDED_MESSAGE, detail=f"appid {app.appid} is suspended")
    if not app.may_use(endpoint):
        raise ApiError(24, detail=f"appid {app.appid!r} may not call {endpoint}")
    if app.rate_limit is not None and not rate_limiter.allow(app.appid, app.rate_limit, now):
        raise ApiError(15, detail=f"over {app.rate_limit} requests per second")
    return Verdict(app.appid, signature.secret_id, signature.once, loose=False,
                   issued=signature.issued, expires=signature.expires)


def _check_target(signature: Signature, app: App, body_appid: str | None,
                  body_bucket: str | None) -> None:
    """Check 7: the signed appid/bucket against what the request operates on."""
    if body_appid is None or body_appid == "":
        raise ApiError(21, detail="body has no appid")
    if body_appid != signature.appid:
        raise ApiError(6, detail=f"body appid {body_appid!r} is not the signed appid")
    if app.buckets:
        for bucket in (signature.bucket, body_bucket or ""):
            if bucket and bucket not in app.buckets:
                raise ApiError(16, detail=f"bucket {bucket!r}")


def _check_time(signature: Signature, now: float, clock_skew: int) -> None:
    """Checks 8-10: lifetime, expiry and issue time in the future."""
    problem = time_problem(signature.issued, signature.expires, now, clock_skew)
    if problem is not None:
        code, reason = problem
        raise ApiError(code, detail=reason)


def time_problem(issued: int, expires: int, now: float, clock_skew: int
                 ) -> tuple[int, str] | None:
    """Checks 8-10 on plain numbers (``expires == 0``: a once-signature): the code and the
    reason a server at ``now`` refuses these times with, or None when it accepts them."""
    if expires != 0:
        if expires <= issued:
            return 5, "e is not after t"
        if expires - issued > MAX_LIFETIME:
            return 5, f"lifetime {expires - issued} s is over 90 days ({MAX_LIFETIME} s)"
        if expires < now:
            return 9, f"e expired {int(now - expires)} s ago"
    if issued > now + clock_skew:
        return 5, f"t is {int(issued - now)} s in the future (skew {clock_skew} s)"
    return None
