"""The ``Encryption`` envelope (contract-faceid-flows §6, issue 23 item 4): requests encrypted
the way an integrator does it from Tencent's doc (1007/47180) and its Go helper, with
``cryptography`` alone and mockface's published public key; the server decrypts them
before any check; every way an envelope can be broken answers its exact code; answers asked
to be encrypted decrypt, with the caller's key, to the plain answer; once through the
official SDK; and ``mockface keys``."""
from __future__ import annotations

import base64
import json
import os
from urllib.request import urlopen

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from mockface.core.elements import with_luhn_digit
from mockface.products.faceid import encryption
from mockface.products.faceid.flows import flows_of
from mockface.products.faceid.provider import FaceIdProvider

from .flow_support import (IDENTITY, NEVER_ISSUED, Api, assert_model, sdk_client, sdk_json,
                           sdk_request, sdk_server)
from .support import ID_NAME, ID_NUMBER, REGISTERED_NAME, REGISTERED_NUMBER, cli_runner, media

PUBLIC_KEY_ROUTE = "/__mockface/encryption/public-key"
KEYS_ROUTE = "/__mockface/encryption"
KEY = b"k" * 16 + b"0123456789abcdef"  # 32 bytes: AES-256
IV = bytes(range(16))
IMAGE = base64.b64encode(media("face.jpg")).decode()
VIDEO = base64.b64encode(media("video.mp4")).decode()


# -- what an integrator writes (from Tencent's doc: cryptography only) ----------------------

def aes_encrypt(key: bytes, iv: bytes, text: str) -> str:
    """base64(AES-256-CBC(PKCS#7(text)))."""
    padder = padding.PKCS7(128).padder()
    data = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


def aes_decrypt(key: bytes, iv: bytes, text: str) -> str:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    data = decryptor.update(base64.b64decode(text)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(data) + unpadder.finalize()).decode("utf-8")


def wrapped(public_pem: str, key: bytes) -> str:
    """CiphertextBlob: the symmetric key under the RSA public key, PKCS#1 v1.5, base64."""
    public = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey)
    return base64.b64encode(public.encrypt(key, rsa_padding.PKCS1v15())).decode()


def encrypted(public_pem: str, params: dict, names: tuple[str, ...], key: bytes = KEY,
              iv: bytes = IV, iv_text: str | None = None) -> dict:
    """``params`` with ``names`` encrypted and the ``Encryption`` object."""
    sent = dict(params)
    for name in names:
        sent[name] = aes_encrypt(key, iv, params[name])
    sent["Encryption"] = {"EncryptList": list(names), "Algorithm": "AES-256-CBC",
                          "CiphertextBlob": wrapped(public_pem, key),
                          "Iv": iv_text or base64.b64encode(iv).decode()}
    return sent


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture
def api(clock) -> Api:
    return Api(clock)


def published(status: int, content_type: str, body: bytes) -> str:
    """The PEM of the public-key route's answer: the text itself, or ``{"pem": ...}``
    while the web layer answers JSON only."""
    assert status == 200
    if content_type.startswith("application/json"):
        return json.loads(body)["pem"]
    return body.decode("ascii")


@pytest.fixture
def pem(api) -> str:
    """The public key as the admin API publishes it."""
    response = api.client.get(PUBLIC_KEY_ROUTE)
    return published(response.status_code, response.headers["Content-Type"], response.data)


def verify(api: Api, params: dict) -> dict:
    answer = api.ok("IdCardVerification", params)
    return {"Result": answer["Result"], "Description": answer["Description"]}


# -- the published key ----------------------------------------------------------------------

def test_the_admin_api_publishes_the_test_public_key(api, pem):
    answer = api.client.get(KEYS_ROUTE).get_json()
    assert answer["pem"] == pem
    assert answer["pem"].startswith("-----BEGIN PUBLIC KEY-----\n")
    assert answer["pem"].endswith("-----END PUBLIC KEY-----\n")
    public = serialization.load_pem_public_key(answer["pem"].encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    assert (answer["algorithm"], answer["key"], answer["padding"]) == \
        ("AES-256-CBC", "RSA-2048", "PKCS#1 v1.5")
    assert answer["pkcs1_pem"].startswith("-----BEGIN RSA PUBLIC KEY-----\n")
    # Tencent's Go helper takes base64 of the PKCS#1 PEM
    assert base64.b64decode(answer["go_helper_key"]).decode() == answer["pkcs1_pem"]
    assert "never" in answer["note"].lower() and answer["unsupported"] == ["SM4-GCM"]


def test_the_shipped_key_files_say_they_are_public_test_keys():
    for name in (encryption.PUBLIC_KEY_FILE, encryption.PRIVATE_KEY_FILE):
        with open(encryption.key_path(name), encoding="ascii") as file:
            header = file.read().split("-----BEGIN")[0]
        assert "PUBLIC TEST KEY" in header and "Never use it in production" in header


# -- requests the server decrypts -------------------------------------------------------------

@pytest.mark.parametrize("number,name,result", [
    (ID_NUMBER, ID_NAME, ("0", "姓名和身份证号一致")),
    (REGISTERED_NUMBER, ID_NAME, ("-1", "姓名和身份证号不一致")),
    ("11010519900307123X", ID_NAME, ("-2", "非法身份证号（长度、校验位等不正确）")),
])
def test_an_encrypted_id_card_and_name_answer_as_plain_ones(api, pem, number, name, result):
    plain = {"IdCard": number, "Name": name}
    assert verify(api, plain) == {"Result": result[0], "Description": result[1]}
    assert verify(api, encrypted(pem, plain, ("IdCard", "Name"))) == verify(api, plain)
    entry = api.emulator.journal.query(endpoint="faceid:IdCardVerification")[-1]
    assert entry.fields == plain  # the journal shows what the server decrypted


def test_one_field_may_be_encrypted_and_the_other_plain(api, pem):
    sent = encrypted(pem, {"IdCard": REGISTERED_NUMBER, "Name": REGISTERED_NAME}, ("Name",))
    assert sent["IdCard"] == REGISTERED_NUMBER
    assert verify(api, sent)["Result"] == "0"


def test_an_iv_of_16_characters_is_taken_as_they_are(api, pem):
    iv_text = "aabbccddeeffgghh"
    sent = encrypted(pem, {"IdCard": REGISTERED_NUMBER, "Name": ID_NAME}, ("IdCard", "Name"),
                     iv=iv_text.encode(), iv_text=iv_text)
    assert verify(api, sent)["Result"] == "-1"


def test_a_key_of_the_go_helpers_kind_works(api, pem):
    """The helper's key: 32 random letters and digits, used as the AES key bytes."""
    key = b"Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4f"
    sent = encrypted(pem, {"IdCard": ID_NUMBER, "Name": ID_NAME}, ("IdCard", "Name"), key=key)
    assert verify(api, sent)["Result"] == "0"


def test_a_scenario_rule_matches_the_decrypted_values(api, pem):
    api.activate("rules:\n  - endpoint: faceid:IdCardVerification\n"
                 f"    match: {{IdCard: '{ID_NUMBER}'}}\n    respond: {{result: '-1'}}\n")
    assert verify(api, encrypted(pem, IDENTITY, ("IdCard", "Name")))["Result"] == "-1"


def test_mobile_status_takes_an_encrypted_mobile(api, pem):
    sent = encrypted(pem, {"Mobile": "138"}, ("Mobile",))
    plain = api.ok("MobileStatus", {"Mobile": "138"})
    answer = api.ok("MobileStatus", sent)
    assert (answer["Result"], answer["Description"]) == (plain["Result"], plain["Description"])


def test_detect_auth_keeps_the_decrypted_identity(api, pem):
    token = api.ok("DetectAuth", encrypted(pem, {"RuleId": "1", **IDENTITY},
                                           ("IdCard", "Name")))["BizToken"]
    api.complete(token)
    text = api.ok("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1",
                                            "InfoType": "1"})["Text"]
    assert (text["IdCard"], text["Name"]) == (ID_NUMBER, ID_NAME)


@pytest.mark.skipif("PhoneVerification" not in FaceIdProvider.declarations,
                    reason="PhoneVerification is not served yet")
def test_phone_verification_takes_the_flat_members(api, pem):
    plain = {"IdCard": ID_NUMBER, "Name": ID_NAME, "Phone": "13800138000"}
    sent = encrypted(pem, plain, ("IdCard", "Name", "Phone"))
    flat = {**{key: value for key, value in sent.items() if key != "Encryption"},
            **{key: sent["Encryption"][key] for key in ("CiphertextBlob", "EncryptList", "Iv")}}
    expected = api.ok("PhoneVerification", plain)
    answer = api.ok("PhoneVerification", flat)
    assert (answer["Result"], answer["Description"]) == \
        (expected["Result"], expected["Description"])
    del flat["Iv"]
    assert api.error("PhoneVerification", flat) == \
        ("InvalidParameter", "The parameter `Iv` is required here.")


#: A value per parameter name, for the actions that take encrypted fields.
SAMPLES = {"IdCard": ID_NUMBER, "Name": ID_NAME, "Mobile": "13800138000",
           "BankCard": with_luhn_digit("622202020011223344"), "ValidityBegin": "20200101",
           "ValidityEnd": "00000000", "Type": "1", "MerchantId": "0NSJ2106111700001",
           "CompareLib": "BUSINESS", "RuleId": "1", "ImageBase64": IMAGE,
           "LivenessType": "SILENT", "VideoBase64": VIDEO}
#: The carrier actions' numbers (a number of another carrier is answered -13).
PHONES = {"PhoneVerificationCTCC": "13300000000", "PhoneVerificationCUCC": "13000000000"}
#: Actions answering fresh tokens (the same answer twice is not expected of them).
ISSUERS = ("DetectAuth", "GetEidToken", "GetFaceIdToken")
INPUT_ACTIONS = sorted(
    name for name, declaration in FaceIdProvider.declarations.items()
    if name not in encryption.RESPONSE_FIELDS and name not in ISSUERS and
    ({param.name for param in declaration.params} & {"Encryption", "CiphertextBlob"}))


def sample_call(action: str) -> tuple[dict, tuple[str, ...]]:
    """Plain parameters of ``action`` (its required ones and every field it may take
    encrypted) and the names it may take encrypted."""
    declared = tuple(param.name for param in FaceIdProvider.declarations[action].params)
    names = encryption.encryptable(action, declared)
    required = [param.name for param in FaceIdProvider.declarations[action].params
                if param.required]
    media = [name for name in ("ImageBase64", "VideoBase64") if name in declared]
    params = {name: SAMPLES[name] for name in (*required, *names, *media) if name in SAMPLES}
    if "Phone" in names:
        params["Phone"] = PHONES.get(action, "13800138000")
    return params, names


def test_every_action_with_an_envelope_is_covered():
    assert {"IdCardVerification", "PhoneVerification", "PhoneVerificationCMCC",
            "BankCard4EVerification", "CheckBankCardInformation", "MobileStatus",
            "MinorsVerification", "CheckIdNameDate"} <= set(INPUT_ACTIONS)
    assert not {"CheckIdCardInformation", "EncryptedPhoneVerification"} & set(INPUT_ACTIONS)


@pytest.mark.parametrize("action", INPUT_ACTIONS)
def test_each_action_answers_its_encrypted_fields_as_plain_ones(api, pem, action):
    plain, names = sample_call(action)
    assert names, f"{action} takes no field encrypted"
    expected = api.ok(action, plain)
    sent = encrypted(pem, plain, names)
    if action == "PhoneVerification":  # the flat members
        sent.update({key: sent["Encryption"][key] for key in encryption.FLAT})
        del sent["Encryption"]
    answer = api.ok(action, sent)
    del answer["RequestId"], expected["RequestId"]
    assert answer == expected
    entry = api.emulator.journal.query(endpoint=f"faceid:{action}")[-1]
    assert all(entry.fields.get(name) in (None, plain[name]) for name in names)


# -- broken envelopes -------------------------------------------------------------------------

DECRYPT = "FailedOperation.DecryptSystemError"
UNSUPPORTED = "InvalidParameter.UnsupportEncryptField"


def sent_with(pem: str, **encryption_changes) -> dict:
    sent = encrypted(pem, {"IdCard": ID_NUMBER, "Name": ID_NAME}, ("IdCard", "Name"))
    sent["Encryption"].update(encryption_changes)
    return {key: value for key, value in sent.items() if value is not None} | \
        {"Encryption": {key: value for key, value in sent["Encryption"].items()
                        if value is not None}}


@pytest.mark.parametrize("changes,code,message", [
    ({"EncryptList": "IdCard"}, "InvalidParameter",
     "The type of the parameter `Encryption.EncryptList` is wrong."),
    ({"EncryptList": [1]}, "InvalidParameter",
     "The type of the parameter `Encryption.EncryptList` is wrong."),
    ({"CiphertextBlob": 7}, "InvalidParameter",
     "The type of the parameter `Encryption.CiphertextBlob` is wrong."),
    ({"CiphertextBlob": None}, "InvalidParameter",
     "The parameter `Encryption.CiphertextBlob` is required here."),
    ({"Iv": None}, "InvalidParameter", "The parameter `Encryption.Iv` is required here."),
    ({"EncryptList": None}, "InvalidParameter",
     "The parameter `Encryption.EncryptList` is required here."),
    ({"Iv": "c2hvcnQ="}, "InvalidParameter",
     "The value of the parameter `Encryption.Iv` is invalid: 16 bytes, as base64 (24 "
     "characters) or as 16 characters."),
    ({"Key": "x"}, "UnknownParameter", "The parameter `Encryption.Key` is not recognised."),
    ({"Algorithm": "DES"}, "InvalidParameterValue",
     "The value of the parameter `Encryption.Algorithm` is invalid."),
    ({"Algorithm": "SM4-GCM"}, "UnsupportedOperation",
     "mockface does not emulate Encryption.Algorithm SM4-GCM (it needs an SM2 key pair, which "
     "cryptography does not support): use AES-256-CBC with mockface's RSA test key."),
    ({"CiphertextBlob": "not base64!"}, DECRYPT,
     "Decryption failed: Encryption.CiphertextBlob is not base64."),
    ({"CiphertextBlob": base64.b64encode(b"x" * 100).decode()}, DECRYPT,
     "Decryption failed: Encryption.CiphertextBlob is not whole 256-byte RSA blocks."),
])
def test_a_malformed_envelope_answers_its_exact_error(api, pem, changes, code, message):
    assert api.error("IdCardVerification", sent_with(pem, **changes)) == (code, message)


def test_an_envelope_that_is_not_an_object_is_invalid(api):
    assert api.error("IdCardVerification", {**IDENTITY, "Encryption": ["IdCard"]}) == \
        ("InvalidParameter", "The type of the parameter `Encryption` is wrong.")


def test_a_key_encrypted_with_another_public_key_does_not_decrypt(api, pem):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    other_pem = other.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    code, message = api.error("IdCardVerification",
                              sent_with(pem, CiphertextBlob=wrapped(other_pem, KEY)))
    assert code == DECRYPT
    assert message in (
        "Decryption failed: Encryption.CiphertextBlob does not decrypt with mockface's test "
        "key.",
        "Decryption failed: Encryption.CiphertextBlob does not hold a 32-byte AES-256 key "
        "encrypted with mockface's test key.")


def test_a_key_that_is_not_32_bytes_does_not_decrypt(api, pem):
    assert api.error("IdCardVerification", sent_with(pem, CiphertextBlob=wrapped(pem, KEY[:16]))) \
        == (DECRYPT, "Decryption failed: Encryption.CiphertextBlob does not hold a 32-byte "
                     "AES-256 key encrypted with mockface's test key.")


def test_a_field_under_another_key_fails_its_padding(api, pem):
    sent = sent_with(pem)
    sent["Name"] = aes_encrypt(b"z" * 32, IV, ID_NAME)
    # under KEY this ciphertext unpads wrongly (checked here, as an integrator could)
    with pytest.raises(ValueError):
        aes_decrypt(KEY, IV, sent["Name"])
    assert api.error("IdCardVerification", sent) == (
        DECRYPT, "Decryption failed: Name does not decrypt under the key of CiphertextBlob "
                 "and Iv (AES-256-CBC, PKCS#7).")


@pytest.mark.parametrize("change,message", [
    ({"Name": ID_NAME}, "The field `Name` of EncryptList cannot be decrypted: Name is not "
                        "base64."),
    ({"Name": base64.b64encode(b"short").decode()},
     "The field `Name` of EncryptList cannot be decrypted: Name is not whole 16-byte AES "
     "blocks."),
])
def test_a_listed_field_that_is_not_ciphertext_is_unsupported(api, pem, change, message):
    assert api.error("IdCardVerification", {**sent_with(pem), **change}) == \
        (UNSUPPORTED, message)


def test_a_listed_field_absent_or_not_encryptable_is_unsupported(api, pem):
    sent = sent_with(pem, EncryptList=["IdCard", "Name", "Phone"])
    assert api.error("IdCardVerification", sent) == (
        UNSUPPORTED, "The field `Phone` of EncryptList cannot be decrypted: "
                     "IdCardVerification does not take Phone encrypted (it takes IdCard, "
                     "Name).")
    token_sent = encrypted(pem, {"RuleId": "1", **IDENTITY}, ("IdCard", "Name"))
    del token_sent["Name"]
    assert api.error("DetectAuth", token_sent) == (
        UNSUPPORTED, "The field `Name` of EncryptList cannot be decrypted: Name is listed in "
                     "EncryptList but not given.")


def test_an_envelope_is_never_an_internal_error(api, pem):
    for value in ({}, {"EncryptList": []}, {"EncryptList": [None]}, {"TagList": "x"},
                  {"Iv": "é" * 16, "CiphertextBlob": "", "EncryptList": ["IdCard"]},
                  {"CiphertextBlob": "=" * 344, "EncryptList": ["IdCard"], "Iv": "x" * 16}):
        answer = api("IdCardVerification", {**IDENTITY, "Encryption": value})
        assert not answer.get("Error", {}).get("Code", "").startswith("InternalError"), value


#: Every code a broken envelope may answer (contract §6, evidence §2.1).
ENVELOPE_CODES = {"InvalidParameter", "InvalidParameterValue", "UnknownParameter",
                  "UnsupportedOperation", DECRYPT, UNSUPPORTED}
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                    st.lists(st.text(max_size=10), max_size=3),
                    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.dictionaries(st.sampled_from(
    ["EncryptList", "CiphertextBlob", "Iv", "Algorithm", "TagList", "Other"]), _VALUES),
    keep_blob=st.booleans(), action=st.sampled_from(
        ["IdCardVerification", "BankCard4EVerification", "GetDetectInfoEnhanced"]))
def test_any_envelope_answers_a_documented_code(api, pem, members, keep_blob, action):
    sent = encrypted(pem, dict(IDENTITY), ("IdCard", "Name"))
    envelope = {**(sent["Encryption"] if keep_blob else {}), **members}
    params = {"IdCardVerification": {},
              "BankCard4EVerification": {"BankCard": SAMPLES["BankCard"],
                                         "Phone": "13800138000"},
              "GetDetectInfoEnhanced": {"BizToken": NEVER_ISSUED, "RuleId": "1"}}[action]
    if action != "GetDetectInfoEnhanced":
        params = {**params, "IdCard": sent["IdCard"], "Name": sent["Name"]}
    answer = api(action, {**params, "Encryption": envelope})
    if "Error" in answer:
        assert answer["Error"]["Code"] in ENVELOPE_CODES | {"InvalidParameterValue."
                                                            "BizTokenIllegal"}, answer


# -- answers encrypted for the caller ---------------------------------------------------------

def response_envelope(pem: str, key: bytes = KEY) -> dict:
    """What the Go helper sends to have an answer encrypted: the key, an IV, no fields."""
    return {"Algorithm": "AES-256-CBC", "CiphertextBlob": wrapped(pem, key),
            "Iv": base64.b64encode(IV).decode(), "EncryptList": ["EncryptionBody"]}


def finished_detect_token(api: Api) -> str:
    token = api.ok("DetectAuth", {"RuleId": "1", **IDENTITY})["BizToken"]
    api.complete(token)
    return token


def test_get_detect_info_enhanced_encrypts_the_sensitive_text(api, pem):
    token = finished_detect_token(api)
    ask = {"BizToken": token, "RuleId": "1", "InfoType": "1"}
    plain = api.ok("GetDetectInfoEnhanced", ask)
    answer = api.ok("GetDetectInfoEnhanced", {**ask, "Encryption": response_envelope(pem)})
    assert_model("GetDetectInfoEnhancedResponse", answer)
    sealed = answer["Encryption"]
    assert sealed["Algorithm"] == "AES-256-CBC" and sealed["TagList"] == []
    assert sealed["EncryptList"] == ["Response.Text.IdCard", "Response.Text.Name"]
    iv = base64.b64decode(sealed["Iv"])
    assert aes_decrypt(KEY, iv, answer["Text"]["IdCard"]) == ID_NUMBER
    assert aes_decrypt(KEY, iv, answer["Text"]["Name"]) == ID_NAME
    # everything else is as in the plain answer
    decrypted = dict(answer["Text"], IdCard=ID_NUMBER, Name=ID_NAME)
    assert decrypted == plain["Text"]
    assert {k: v for k, v in answer.items() if k not in ("Text", "Encryption", "RequestId")} \
        == {k: v for k, v in plain.items() if k not in ("Text", "Encryption", "RequestId")}


def test_get_detect_info_enhanced_encrypts_the_whole_body_when_asked(api, pem):
    token = finished_detect_token(api)
    ask = {"BizToken": token, "RuleId": "1"}
    plain = api.ok("GetDetectInfoEnhanced", ask)
    answer = api.ok("GetDetectInfoEnhanced", {**ask, "IsEncryptResponse": True,
                                              "Encryption": response_envelope(pem)})
    assert_model("GetDetectInfoEnhancedResponse", answer)
    assert answer["Encryption"]["EncryptList"] == ["EncryptedBody"]
    assert all(value is None for key, value in answer.items()
               if key not in ("Encryption", "EncryptedBody", "RequestId"))
    body = json.loads(aes_decrypt(KEY, base64.b64decode(answer["Encryption"]["Iv"]),
                                  answer["EncryptedBody"]))
    assert body == {k: v for k, v in plain.items()
                    if k not in ("RequestId", "Encryption", "EncryptedBody")}


def test_an_encrypted_answer_without_an_iv_gets_a_fresh_one(api, pem):
    token = finished_detect_token(api)
    envelope = {"Algorithm": "AES-256-CBC", "CiphertextBlob": wrapped(pem, KEY)}
    answer = api.ok("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1",
                                              "InfoType": "1", "Encryption": envelope})
    iv = base64.b64decode(answer["Encryption"]["Iv"])
    assert len(iv) == 16
    assert aes_decrypt(KEY, iv, answer["Text"]["Name"]) == ID_NAME


def test_an_unfinished_token_has_nothing_to_encrypt(api, pem):
    token = api.ok("DetectAuth", {"RuleId": "1", **IDENTITY})["BizToken"]
    answer = api.ok("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1",
                                              "Encryption": response_envelope(pem)})
    assert answer["Text"]["IdCard"] is None
    assert answer["Encryption"]["EncryptList"] == []


def test_an_encrypted_answer_needs_a_key(api, pem):
    token = finished_detect_token(api)
    ask = {"BizToken": token, "RuleId": "1"}
    assert api.error("GetDetectInfoEnhanced", {**ask, "IsEncryptResponse": True})[0] == \
        "InvalidParameter"
    assert api.error("GetDetectInfoEnhanced", {**ask, "Encryption": {"Algorithm":
                                                                     "AES-256-CBC"}}) == \
        ("InvalidParameter", "The parameter `Encryption.CiphertextBlob` is required here.")
    bad = {**response_envelope(pem), "CiphertextBlob": base64.b64encode(b"x" * 256).decode()}
    assert api.code("GetDetectInfoEnhanced", {**ask, "Encryption": bad}) == DECRYPT


def test_a_scripted_answer_is_encrypted_once(api, pem):
    token = finished_detect_token(api)
    api.activate("rules:\n  - endpoint: faceid:GetDetectInfoEnhanced\n"
                 "    respond: {delay_ms: 0}\n")
    answer = api.ok("GetDetectInfoEnhanced", {"BizToken": token, "RuleId": "1",
                                              "InfoType": "1",
                                              "Encryption": response_envelope(pem)})
    assert api.emulator.journal.query()[-1].rule  # answered by the rule
    iv = base64.b64decode(answer["Encryption"]["Iv"])
    assert aes_decrypt(KEY, iv, answer["Text"]["Name"]) == ID_NAME


def test_get_face_id_result_encrypts_the_identity(api, pem):
    token = api.ok("GetFaceIdToken", {"CompareLib": "BUSINESS", **IDENTITY})["FaceIdToken"]
    api.complete(token)
    plain = api.ok("GetFaceIdResult", {"FaceIdToken": token})
    answer = api.ok("GetFaceIdResult", {"FaceIdToken": token,
                                        "Encryption": response_envelope(pem)})
    assert_model("GetFaceIdResultResponse", answer)
    assert answer["Encryption"]["EncryptList"] == ["Response.IdCard", "Response.Name"]
    iv = base64.b64decode(answer["Encryption"]["Iv"])
    assert (aes_decrypt(KEY, iv, answer["IdCard"]), aes_decrypt(KEY, iv, answer["Name"])) == \
        (plain["IdCard"], plain["Name"]) == (ID_NUMBER, ID_NAME)
    whole = api.ok("GetFaceIdResult", {"FaceIdToken": token, "IsEncryptResponse": True,
                                       "Encryption": response_envelope(pem)})
    body = json.loads(aes_decrypt(KEY, iv, whole["EncryptedBody"]))
    assert body == {k: v for k, v in plain.items()
                    if k not in ("RequestId", "Encryption", "EncryptedBody")}


def test_get_face_id_token_takes_an_encrypted_identity(api, pem):
    sent = encrypted(pem, {"CompareLib": "BUSINESS", **IDENTITY}, ("IdCard", "Name"))
    token = api.ok("GetFaceIdToken", sent)["FaceIdToken"]
    api.complete(token)
    answer = api.ok("GetFaceIdResult", {"FaceIdToken": token})
    assert (answer["IdCard"], answer["Name"]) == (ID_NUMBER, ID_NAME)


@pytest.mark.skipif("CheckIdCardInformation" not in FaceIdProvider.declarations,
                    reason="CheckIdCardInformation is not served yet")
def test_check_id_card_information_encrypts_the_number_and_name(api, pem):
    ask = {"ImageBase64": base64.b64encode(media("card.jpg")).decode()}
    plain = api.ok("CheckIdCardInformation", ask)
    assert plain["IdNum"] and plain["Name"]
    answer = api.ok("CheckIdCardInformation", {**ask, "IsEncrypt": True,
                                               "Encryption": response_envelope(pem)})
    assert answer["Encryption"]["EncryptList"] == ["Response.IdNum", "Response.Name"]
    iv = base64.b64decode(answer["Encryption"]["Iv"])
    assert (aes_decrypt(KEY, iv, answer["IdNum"]), aes_decrypt(KEY, iv, answer["Name"])) == \
        (plain["IdNum"], plain["Name"])
    whole = api.ok("CheckIdCardInformation", {**ask, "IsEncryptResponse": True,
                                              "Encryption": response_envelope(pem)})
    body = json.loads(aes_decrypt(KEY, iv, whole["EncryptedBody"]))
    assert body == {k: v for k, v in plain.items()
                    if k not in ("RequestId", "Encryption", "EncryptedBody")}
    assert whole["IdNum"] is None and whole["Result"] is None
    assert api.error("CheckIdCardInformation", {**ask, "IsEncrypt": True}) == \
        ("InvalidParameter", "The parameter `Encryption` is required here.")


# -- the official SDK -------------------------------------------------------------------------

def test_through_the_official_sdk():
    with sdk_server() as (server, emulator):
        client = sdk_client(server)
        pem = emulator_pem(server)
        sent = encrypted(pem, {"IdCard": REGISTERED_NUMBER, "Name": ID_NAME},
                         ("IdCard", "Name"))
        answer = client.IdCardVerification(sdk_request("IdCardVerification", **sent))
        assert (answer.Result, answer.Description) == ("-1", "姓名和身份证号不一致")
        token = client.DetectAuth(sdk_request("DetectAuth", RuleId="1", **IDENTITY)).BizToken
        state, _ = flows_of(emulator).complete(token, {"err_code": 0})
        assert state == "finished"
        read = client.GetDetectInfoEnhanced(sdk_request(
            "GetDetectInfoEnhanced", BizToken=token, RuleId="1", InfoType="1",
            IsEncryptResponse=True, Encryption=response_envelope(pem)))
        body = json.loads(aes_decrypt(KEY, base64.b64decode(read.Encryption.Iv),
                                      read.EncryptedBody))
        assert (body["Text"]["IdCard"], body["Text"]["Name"]) == (ID_NUMBER, ID_NAME)
        assert sdk_json(read)["Text"] is None


def emulator_pem(server) -> str:
    """The public key as an integrator's test fetches it from the running server."""
    with urlopen(f"http://127.0.0.1:{server.port}{PUBLIC_KEY_ROUTE}", timeout=10) as answer:
        return published(answer.status, answer.headers["Content-Type"], answer.read())


# -- mockface keys ------------------------------------------------------------------------------

def keys_command():
    from mockface.cli.keys import keys_command_of
    return keys_command_of(list(encryption.CLI_APIS))


def test_mockface_keys_prints_the_public_pem_and_its_path():
    result = cli_runner().invoke(keys_command(), [])
    assert result.exit_code == 0, result.output
    assert result.stdout == encryption.test_keys().public_pem
    assert encryption.key_path(encryption.PUBLIC_KEY_FILE) in result.stderr
    assert "never use it in production" in result.stderr


def test_mockface_keys_json_and_private():
    result = cli_runner().invoke(keys_command(), ["--json", "--private"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert listed["private_key_pem"].startswith("-----BEGIN PRIVATE KEY-----")
    private = serialization.load_pem_private_key(listed["private_key_pem"].encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    blob = base64.b64decode(wrapped(listed["public_key_pem"], KEY))
    assert private.decrypt(blob, rsa_padding.PKCS1v15()) == KEY
    assert os.path.exists(listed["public_key_path"])
    assert "private_key_pem" not in json.loads(
        CliRunner().invoke(keys_command(), ["--json"]).stdout)


def test_the_registry_offers_mockface_keys_once_the_tc3_product_lists_it():
    from mockface.products import REGISTRY
    parts = [api for product in REGISTRY for api in product.cli_apis if api.command == "keys"]
    if not parts:
        pytest.skip("the tc3 product does not collect its providers' cli_apis yet")
    assert [part.names for part in parts] == [("faceid",)]
