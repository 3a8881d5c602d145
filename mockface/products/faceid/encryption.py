"""The ``Encryption`` envelope of faceid 2018-03-01 (contract-faceid-flows §6), on mockface's
published test key pair.

Tencent's scheme (doc 1007/47180 and its Go helper ``faceid-api-crypto-golang``): the caller
makes a random 32-byte key, encrypts it with the RSA public key (PKCS#1 v1.5, in blocks of
the key size less 11 bytes) into ``CiphertextBlob`` (base64), and encrypts each field named
in ``EncryptList`` with AES-256-CBC under that key and ``Iv`` (PKCS#7 padding, the
ciphertext base64).  ``Iv`` is base64 of 16 bytes (the helper's form) or the 16 characters
themselves (the SDK's documented "16-character string").  ``PhoneVerification`` takes the
three members as flat parameters.  Answers asked to be encrypted (``Encryption`` on
GetDetectInfoEnhanced, GetFaceIdResult and CheckIdCardInformation; ``IsEncryptResponse``)
are encrypted under the caller's key, so the caller's decryption code is tested too.

mockface can only decrypt what was encrypted with *its* public key: ``keys/`` holds the
published test pair (``mockface keys``, ``GET /__mockface/encryption/public-key``).
``SM4-GCM`` would need SM2, which ``cryptography`` does not offer: it is UnsupportedOperation.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import click
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ...core.product import CliApi
from ...core.surface import Arguments, Route
from ..tc3.request import Tc3Error
from .flow_common import invalid, missing, wrong_type

if TYPE_CHECKING:
    from ...core.product import Services

AES_256_CBC = "AES-256-CBC"
SM4_GCM = "SM4-GCM"
KEY_BYTES = 32
IV_BYTES = 16
BLOCK_BITS = 128
PRIVATE_KEY_FILE = "keys/mockface-test-rsa-private.pem"
PUBLIC_KEY_FILE = "keys/mockface-test-rsa-public.pem"
#: The request fields an ``EncryptList`` may name, where the action has them (Tencent's
#: parameter docs: 姓名、身份证号、手机号、银行卡号), and the actions' own extras.
ENCRYPTABLE = ("IdCard", "Name", "Phone", "Mobile", "BankCard")
EXTRA_ENCRYPTABLE: Mapping[str, tuple[str, ...]] = {"GetFaceIdToken": ("ImageBase64",)}
#: The answer fields each action encrypts when its ``Encryption`` is given (paths under
#: ``Response``, as the answer's ``EncryptList`` names them).
RESPONSE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "GetDetectInfoEnhanced": ("Text.IdCard", "Text.Name", "Text.OcrIdCard", "Text.OcrName"),
    "GetFaceIdResult": ("IdCard", "Name"),
    "CheckIdCardInformation": ("IdNum", "Name"),
}
#: The flat members of ``PhoneVerification``.
FLAT = ("CiphertextBlob", "EncryptList", "Iv")
MEMBERS: Mapping[str, type] = {"EncryptList": list, "CiphertextBlob": str, "Iv": str,
                               "Algorithm": str, "TagList": list}
#: What ``EncryptList`` names when the whole answer is encrypted.
BODY_FIELD = "EncryptedBody"
HOW = ("encrypt a random 32-byte key with mockface's public test key (RSA PKCS#1 v1.5; "
       "`mockface keys`, GET /__mockface/encryption/public-key) and send it base64")


# -- the key pair -----------------------------------------------------------------------

@dataclass(frozen=True)
class TestKeys:
    """mockface's published RSA-2048 test key pair (``keys/``): never for production."""

    private_key: RSAPrivateKey
    public_pem: str
    private_pem: str

    @property
    def public_key(self) -> RSAPublicKey:
        return self.private_key.public_key()

    def pkcs1_pem(self) -> str:
        """The public key as PKCS#1 (``RSA PUBLIC KEY``), the form Tencent's Go helper
        parses."""
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.PKCS1).decode("ascii")

    def go_helper_key(self) -> str:
        """What Tencent's Go helper takes as ``publicKey``: base64 of the PKCS#1 PEM."""
        return base64.b64encode(self.pkcs1_pem().encode("ascii")).decode("ascii")

    def unwrap(self, blob: str, where: str) -> bytes:
        """The caller's symmetric key from ``CiphertextBlob`` ``blob`` (base64 of RSA
        PKCS#1 v1.5 blocks): FailedOperation.DecryptSystemError unless it decrypts with
        the test key to 32 bytes."""
        try:
            data = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise _undecryptable(f"{where} is not base64") from None
        size = self.private_key.key_size // 8
        if not data or len(data) % size:
            raise _undecryptable(f"{where} is not whole {size}-byte RSA blocks")
        try:
            key = b"".join(self.private_key.decrypt(data[at:at + size], rsa_padding.PKCS1v15())
                           for at in range(0, len(data), size))
        except ValueError:
            raise _undecryptable(f"{where} does not decrypt with mockface's test key") \
                from None
        if len(key) != KEY_BYTES:  # also what a wrong key gives (implicit rejection)
            raise _undecryptable(f"{where} does not hold a {KEY_BYTES}-byte AES-256 key "
                                 "encrypted with mockface's test key")
        return key


def _pem_block(text: str) -> str:
    """The PEM block of a key file (its explanatory header dropped)."""
    return text[text.index("-----BEGIN"):]


@lru_cache(maxsize=1)
def test_keys() -> TestKeys:
    """The shipped test key pair (read once)."""
    package = resources.files(__package__)
    private_pem = _pem_block(package.joinpath(PRIVATE_KEY_FILE).read_text("ascii"))
    public_pem = _pem_block(package.joinpath(PUBLIC_KEY_FILE).read_text("ascii"))
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    assert isinstance(key, RSAPrivateKey)
    return TestKeys(key, public_pem, private_pem)


def key_path(name: str) -> str:
    """Where the shipped key file ``name`` is (a path on disk for an installed package)."""
    return str(resources.files(__package__).joinpath(name))


# -- AES-256-CBC ------------------------------------------------------------------------

def encrypt_text(key: bytes, iv: bytes, text: str) -> str:
    """base64 of ``text`` (UTF-8) under AES-256-CBC with PKCS#7 padding."""
    padder = padding.PKCS7(BLOCK_BITS).padder()
    data = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def decrypt_text(key: bytes, iv: bytes, value: Any, name: str) -> str:
    """The plain text of field ``name``: InvalidParameter.UnsupportEncryptField when it is
    not ciphertext (text, base64 of whole AES blocks), FailedOperation.DecryptSystemError
    when it does not decrypt (padding, UTF-8) under the caller's key and Iv."""
    if not isinstance(value, str) or not value:
        raise _not_ciphertext(name, f"{name} is not ciphertext text")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _not_ciphertext(name, f"{name} is not base64") from None
    if not data or len(data) % (BLOCK_BITS // 8):
        raise _not_ciphertext(name, f"{name} is not whole 16-byte AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
    try:
        plain = unpadder.update(decryptor.update(data) + decryptor.finalize()) + \
            unpadder.finalize()
        return plain.decode("utf-8")
    except ValueError:  # bad padding; UnicodeDecodeError is a ValueError too
        raise _undecryptable(f"{name} does not decrypt under the key of CiphertextBlob "
                             "and Iv (AES-256-CBC, PKCS#7)") from None


# -- the caller's envelope ----------------------------------------------------------------

@dataclass(frozen=True)
class Envelope:
    """A checked ``Encryption`` (or PhoneVerification's flat members): the caller's key,
    the IV (None when an answer-encrypting call gave none) and the fields it lists."""

    key: bytes
    iv: bytes | None
    fields: tuple[str, ...]


class Decrypted(dict[str, Any]):
    """Checked parameters whose envelope is decrypted already: the platform checks a
    call's parameters again before answering it, which must not decrypt them twice."""


def encryptable(action: str, declared: tuple[str, ...]) -> tuple[str, ...]:
    """The request fields of ``action`` (declaring ``declared``) an EncryptList may name."""
    allowed = ENCRYPTABLE + EXTRA_ENCRYPTABLE.get(action, ())
    return tuple(name for name in declared if name in allowed)


def decrypted(action: str, params: Mapping[str, Any], declared: tuple[str, ...]
              ) -> dict[str, Any]:
    """``params`` with each field its envelope lists decrypted (the envelope itself kept:
    the answer side reads the caller's key from it again).  Calls without an envelope, or
    to an action that takes none, are returned as given.  Refusals: InvalidParameter (a
    member missing or of the wrong type, a malformed Iv, a request to encrypt the answer
    without a key), InvalidParameterValue (an unknown Algorithm), UnsupportedOperation
    (SM4-GCM), FailedOperation.DecryptSystemError (cannot decrypt),
    InvalidParameter.UnsupportEncryptField (a listed field that cannot be encrypted here,
    is absent or is not ciphertext)."""
    answers = action in RESPONSE_FIELDS
    _check_answer_request(action, params, declared)
    envelope = _envelope(action, params, declared, answers)
    if envelope is None or answers:
        return dict(params)
    plain = dict(params)
    allowed = encryptable(action, declared)
    for name in dict.fromkeys(envelope.fields):
        if name not in allowed:
            raise _not_ciphertext(name, f"{action} does not take {name[:40]} encrypted "
                                        f"(it takes {', '.join(allowed) or 'none'})")
        if params.get(name) in (None, ""):
            raise _not_ciphertext(name, f"{name} is listed in EncryptList but not given")
        assert envelope.iv is not None
        plain[name] = decrypt_text(envelope.key, envelope.iv, params[name], name)
    return plain


def _check_answer_request(action: str, params: Mapping[str, Any],
                          declared: tuple[str, ...]) -> None:
    """InvalidParameter when the answer is asked to be encrypted (IsEncryptResponse,
    CheckIdCardInformation's IsEncrypt) without an ``Encryption`` to encrypt it with."""
    for flag in ("IsEncryptResponse", "IsEncrypt"):
        if flag not in declared or params.get(flag) is not True:
            continue
        if flag == "IsEncrypt" and action != "CheckIdCardInformation":
            continue  # GetDetectInfoEnhanced's IsEncrypt is deprecated and ignored
        if params.get("Encryption") in (None, {}):
            raise missing("Encryption", f"{flag} needs Encryption with the CiphertextBlob "
                                        f"of a key to encrypt with: {HOW}")


def _envelope(action: str, params: Mapping[str, Any], declared: tuple[str, ...],
              answers: bool) -> Envelope | None:
    """The call's checked envelope (None without one)."""
    if "CiphertextBlob" in declared and "Encryption" not in declared:
        return _flat_envelope(params)
    if "Encryption" not in declared:
        return None
    value = params.get("Encryption")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise wrong_type("Encryption", "an object")
    for key, item in value.items():
        if key not in MEMBERS:
            raise Tc3Error("UnknownParameter", f"Encryption.{str(key)[:40]} is not defined",
                           message=f"The parameter `Encryption.{str(key)[:40]}` is not "
                                   "recognised.")
        if item is not None and not isinstance(item, MEMBERS[key]):
            raise wrong_type(f"Encryption.{key}", MEMBERS[key].__name__)
    _check_algorithm(value.get("Algorithm"))
    fields = _field_names(value.get("EncryptList"), "Encryption.EncryptList")
    required = ("CiphertextBlob",) if answers else ("EncryptList", "CiphertextBlob", "Iv")
    for member in required:
        if value.get(member) in (None, ""):
            raise missing(f"Encryption.{member}",
                          f"Encryption.{member} is missing" +
                          (f": {HOW}" if member == "CiphertextBlob" else ""))
    iv = _iv_of(value["Iv"], "Encryption.Iv") if value.get("Iv") else None
    key = test_keys().unwrap(value["CiphertextBlob"], "Encryption.CiphertextBlob")
    return Envelope(key, iv, fields)


def _flat_envelope(params: Mapping[str, Any]) -> Envelope | None:
    """PhoneVerification's envelope: the flat ``CiphertextBlob``, ``EncryptList``, ``Iv``
    (AES-256-CBC only), all or none."""
    given = [name for name in FLAT if params.get(name) not in (None, "")]
    if not given:
        return None
    for name, kind in (("CiphertextBlob", str), ("EncryptList", list), ("Iv", str)):
        if params.get(name) is not None and not isinstance(params[name], kind):
            raise wrong_type(name, kind.__name__)
    for name in FLAT:
        if name not in given:
            raise missing(name, f"{name} is missing: CiphertextBlob, EncryptList and Iv go "
                                "together")
    fields = _field_names(params["EncryptList"], "EncryptList")
    iv = _iv_of(params["Iv"], "Iv")
    key = test_keys().unwrap(params["CiphertextBlob"], "CiphertextBlob")
    return Envelope(key, iv, fields)


def _check_algorithm(algorithm: Any) -> None:
    """AES-256-CBC (the default) passes; SM4-GCM is UnsupportedOperation; any other
    name InvalidParameterValue."""
    if algorithm in (None, "", AES_256_CBC):
        return
    if algorithm == SM4_GCM:
        raise Tc3Error("UnsupportedOperation", "SM4-GCM needs SM2, which mockface lacks",
                       message="mockface does not emulate Encryption.Algorithm SM4-GCM (it "
                               "needs an SM2 key pair, which cryptography does not "
                               f"support): use {AES_256_CBC} with mockface's RSA test key.")
    raise invalid("Encryption.Algorithm",
                  f"Algorithm {str(algorithm)[:40]!r} is not {AES_256_CBC} or {SM4_GCM}")


def _field_names(value: Any, where: str) -> tuple[str, ...]:
    """The names of an EncryptList (each a string)."""
    if value is None:
        return ()
    if not all(isinstance(name, str) for name in value):
        raise wrong_type(where, "a list of field names")
    return tuple(value)


def _iv_of(text: str, where: str) -> bytes:
    """The 16 IV bytes of ``Iv``: base64 of 16 bytes (Tencent's helper), or 16 characters
    taken as they are (the SDK's "16-character string"); InvalidParameter otherwise."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if len(data) == IV_BYTES:
        return data
    raw = text.encode("utf-8")
    if len(raw) == IV_BYTES:
        return raw
    raise Tc3Error("InvalidParameter", f"{where} is not 16 bytes",
                   message=f"The value of the parameter `{where}` is invalid: 16 bytes, as "
                           "base64 (24 characters) or as 16 characters.")


def _undecryptable(reason: str) -> Tc3Error:
    return Tc3Error("FailedOperation.DecryptSystemError", reason,
                    message=f"Decryption failed: {reason}.")


def _not_ciphertext(name: str, reason: str) -> Tc3Error:
    return Tc3Error("InvalidParameter.UnsupportEncryptField", reason,
                    message=f"The field `{name[:40]}` of EncryptList cannot be decrypted: "
                            f"{reason}.")


# -- the answer ---------------------------------------------------------------------------

def sealed(action: str, params: Mapping[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The answer ``fields`` as the call asked for it: unchanged unless ``action`` encrypts
    answers and the call gave an ``Encryption``; then with ``IsEncryptResponse`` every
    field is null but ``EncryptedBody`` (base64 of the JSON of the plain fields under the
    caller's key) and ``Encryption``; else each sensitive field (RESPONSE_FIELDS) that has
    a value is encrypted and listed in ``Encryption.EncryptList`` (``Response.Text.IdCard``).
    ``Encryption`` echoes the caller's CiphertextBlob and Iv (a fresh Iv, as base64, when
    the caller gave none)."""
    if action not in RESPONSE_FIELDS or not isinstance(params.get("Encryption"), dict) \
            or not params["Encryption"].get("CiphertextBlob"):
        return fields
    value = params["Encryption"]
    key = test_keys().unwrap(value["CiphertextBlob"], "Encryption.CiphertextBlob")
    iv_text = value.get("Iv") or base64.b64encode(os.urandom(IV_BYTES)).decode("ascii")
    iv = _iv_of(iv_text, "Encryption.Iv")
    answer = dict(fields)
    if params.get("IsEncryptResponse") is True:
        plain = {name: item for name, item in fields.items()
                 if name not in ("Encryption", BODY_FIELD)}
        body = encrypt_text(key, iv, json.dumps(plain, ensure_ascii=False,
                                                separators=(",", ":")))
        answer = {name: None for name in fields}
        answer[BODY_FIELD] = body
        listed = [BODY_FIELD]
    else:
        listed = []
        for path in RESPONSE_FIELDS[action]:
            *parents, leaf = path.split(".")
            holder: Any = answer
            for parent in parents:
                copy = dict(holder.get(parent) or {}) if isinstance(holder, dict) else None
                if copy is None:
                    break
                holder[parent] = copy
                holder = copy
            if isinstance(holder, dict) and isinstance(holder.get(leaf), str) and holder[leaf]:
                holder[leaf] = encrypt_text(key, iv, holder[leaf])
                listed.append(f"Response.{path}")
    answer["Encryption"] = {"EncryptList": listed, "CiphertextBlob": value["CiphertextBlob"],
                            "Iv": iv_text, "Algorithm": AES_256_CBC, "TagList": []}
    return answer


def encrypt_fields(params: Mapping[str, Any], names: tuple[str, ...], key: bytes | None = None,
                   iv: bytes | None = None) -> tuple[dict[str, Any], bytes]:
    """What an integrator sends: ``params`` with the fields ``names`` encrypted under
    ``key`` (random 32 bytes by default) and ``iv`` (random), and the ``Encryption`` object
    (its CiphertextBlob made with the test public key); with the key, to read an encrypted
    answer.  For tests of code that calls mockface."""
    key = key or os.urandom(KEY_BYTES)
    iv = iv or os.urandom(IV_BYTES)
    blob = test_keys().public_key.encrypt(key, rsa_padding.PKCS1v15())
    sent = dict(params)
    for name in names:
        sent[name] = encrypt_text(key, iv, str(params[name]))
    sent["Encryption"] = {"EncryptList": list(names), "Algorithm": AES_256_CBC,
                          "CiphertextBlob": base64.b64encode(blob).decode("ascii"),
                          "Iv": base64.b64encode(iv).decode("ascii")}
    return sent, key


# -- the admin route and the CLI ----------------------------------------------------------

def encryption_public_key(services: Services, args: Arguments) -> str:
    """mockface's public test key: the SubjectPublicKeyInfo PEM text."""
    return test_keys().public_pem


def encryption_keys(services: Services, args: Arguments) -> dict[str, Any]:
    """mockface's public test key in each form, and how to use it."""
    keys = test_keys()
    return {"pem": keys.public_pem, "algorithm": AES_256_CBC, "key": "RSA-2048",
            "padding": "PKCS#1 v1.5", "pkcs1_pem": keys.pkcs1_pem(),
            "go_helper_key": keys.go_helper_key(), "unsupported": [SM4_GCM],
            "note": "A published test key: everyone has its private half. Never use it in "
                    "production or with real data."}


ROUTES = (
    Route("encryption/public-key", ("GET",), encryption_public_key,
          summary="mockface's published RSA-2048 test public key (SubjectPublicKeyInfo PEM) "
                  "for the faceid Encryption envelope. A test key: never for production.",
          media_type="application/x-pem-file"),
    Route("encryption", ("GET",), encryption_keys,
          summary="The faceid Encryption envelope's test key in each form: pem "
                  "(SubjectPublicKeyInfo), pkcs1_pem, go_helper_key (what Tencent's Go "
                  "helper takes), the algorithm and padding."),
)


def keys_runner(api: str, as_json: bool, private: bool) -> None:
    """``mockface keys --api faceid``: the test public key's PEM on stdout (its path and
    what it is for on stderr); ``--private`` the private key instead; ``--json`` both
    paths and PEMs as JSON."""
    keys = test_keys()
    if as_json:
        click.echo(json.dumps({
            "algorithm": AES_256_CBC, "key": "RSA-2048", "padding": "PKCS#1 v1.5",
            "public_key_path": key_path(PUBLIC_KEY_FILE), "public_key_pem": keys.public_pem,
            "pkcs1_pem": keys.pkcs1_pem(), "go_helper_key": keys.go_helper_key(),
            "private_key_path": key_path(PRIVATE_KEY_FILE),
            **({"private_key_pem": keys.private_pem} if private else {})}, indent=2))
        return
    name = PRIVATE_KEY_FILE if private else PUBLIC_KEY_FILE
    click.echo(f"# mockface's published {'PRIVATE' if private else 'public'} test key "
               f"(RSA-2048, PKCS#1 v1.5, for Encryption {AES_256_CBC}): {key_path(name)}",
               err=True)
    click.echo("# A test key everyone has: never use it in production.", err=True)
    click.echo(keys.private_pem if private else keys.public_pem, nl=False)


CLI_APIS = (
    CliApi("keys", ("faceid",), "faceid: the published RSA test key pair of the Encryption "
                                "envelope (AES-256-CBC)",
           (click.Option(["--private"], is_flag=True,
                         help="faceid: print the private key instead (a test key: never for "
                              "production)."),),
           keys_runner),
)
