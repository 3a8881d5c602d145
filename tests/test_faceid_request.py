"""From request facts to an authenticated API 3.0 call: checks 1-11 of contract-faceid §2 in
their order, product and version routing, v1 parameter un-flattening."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from mockface.products import REGISTRY
from mockface.products.tc3.request import Claim, Tc3Error, authenticate, claim_of, unflatten
from mockface.products.tc3.signature import sign_tc3, sign_v1

KEYS = {"AKIDtest": "test-key"}
NOW = 1_800_000_000
#: The services, versions and actions of the registered API 3.0 product.
VERSIONS = REGISTRY["tc3"].table.versions


def tc3(action="GetLiveCode", service="faceid", version="2018-03-01", body=b"{}", **changes):
    headers = {k.lower(): v for k, v in sign_tc3(
        "AKIDtest", changes.pop("key", "test-key"), service=service, host="127.0.0.1:8080",
        action=action, timestamp=NOW, body=body, version=version).items()}
    headers.update(changes.pop("headers", {}))
    facts = {"method": "POST", "host": "127.0.0.1:8080", "query": "", "headers": headers,
             "body": body, "now": NOW, "secret_key_of": KEYS.get, "versions": VERSIONS}
    facts.update(changes)
    return facts


def v1(host="faceid.tencentcloudapi.com", **params):
    fields = {"Action": "GetLiveCode", "Version": "2018-03-01", "Timestamp": str(NOW),
              "Nonce": "7", "SecretId": "AKIDtest", "SignatureMethod": "HmacSHA256", **params}
    fields["Signature"] = sign_v1("test-key", "POST", host, fields, "HmacSHA256")
    return {"method": "POST", "host": host, "query": "",
            "headers": {"content-type": "application/x-www-form-urlencoded", "host": host},
            "body": urlencode(fields).encode(), "now": NOW, "secret_key_of": KEYS.get,
            "versions": VERSIONS}


def code_of(**facts) -> str:
    with pytest.raises(Tc3Error) as caught:
        authenticate(**facts)
    return caught.value.code


def test_a_tc3_call():
    call = authenticate(**tc3(body=b'{"IdCard": "110105199003071239"}'))
    assert (call.product, call.action, call.version, call.params) == \
        ("faceid", "GetLiveCode", "2018-03-01", {"IdCard": "110105199003071239"})


def test_iai_routing_by_scope_service_and_version():
    call = authenticate(**tc3(action="DetectLiveFaceAccurate", service="iai",
                              version="2020-03-03"))
    assert (call.product, call.action) == ("iai", "DetectLiveFaceAccurate")
    assert code_of(**tc3(action="DetectLiveFaceAccurate", service="iai",
                         version="2018-03-01")) == "InvalidAction"
    assert code_of(**tc3(action="DetectLiveFace", service="faceid")) == "InvalidAction"


@pytest.mark.parametrize("facts,code", [
    (tc3(method="PUT"), "UnsupportedProtocol"),
    (tc3(headers={"authorization": "Basic x"}), "AuthFailure.InvalidAuthorization"),
    ({**tc3(), "headers": {"content-type": "application/json"}},
     "AuthFailure.InvalidAuthorization"),
    (tc3(now=NOW + 301), "AuthFailure.SignatureExpire"),
    (tc3(secret_key_of={}.get), "AuthFailure.SecretIdNotFound"),
    (tc3(key="wrong"), "AuthFailure.SignatureFailure"),
    (tc3(headers={"x-tc-token": "t"}), "AuthFailure.TokenFailure"),
    (tc3(version="2017-01-01"), "NoSuchVersion"),
    (tc3(action="DescribeInstances"), "InvalidAction"),
    (tc3(permitted=lambda secret_id, product: False), "UnauthorizedOperation.Nonactivated"),
    (tc3(within_rate=lambda secret_id: False), "RequestLimitExceeded"),
    (tc3(body=b"[1]"), "InvalidRequest"),
    (tc3(body=b"{"), "InvalidRequest"),
    (tc3(body=b'{"a": NaN}'), "InvalidRequest"),
    (tc3(body=b" " * (10 * 1024 * 1024 + 1)), "RequestSizeLimitExceeded"),
], ids=["method", "not-tc3", "no-signature", "expired", "unknown-id", "wrong-key", "token",
        "version", "action", "not-permitted", "rate", "array", "bad-json", "nan", "too-big"])
def test_the_check_table(facts, code):
    assert code_of(**facts) == code


def test_the_first_failing_check_wins():
    assert code_of(**tc3(method="DELETE", key="wrong")) == "UnsupportedProtocol"
    assert code_of(**tc3(key="wrong", version="1999-01-01")) == "AuthFailure.SignatureFailure"
    assert code_of(**tc3(version="1999-01-01", action="Nope")) == "NoSuchVersion"
    assert code_of(**tc3(action="Nope", permitted=lambda *_: False)) == "InvalidAction"
    assert code_of(**tc3(permitted=lambda *_: False, within_rate=lambda _: False)) == \
        "UnauthorizedOperation.Nonactivated"
    assert code_of(**tc3(within_rate=lambda _: False, body=b"[")) == "RequestLimitExceeded"


def test_a_v1_call_with_nested_parameters():
    call = authenticate(**v1(**{"IdCard": "x", "Optional.BestFrameNum": "3",
                                "Encryption.EncryptList.0": "IdCard",
                                "Encryption.EncryptList.1": "Name"}))
    assert (call.product, call.verdict.method) == ("faceid", "HmacSHA256")
    assert call.params == {"IdCard": "x", "Optional": {"BestFrameNum": "3"},
                           "Encryption": {"EncryptList": ["IdCard", "Name"]}}
    iai = authenticate(**v1(host="iai.tencentcloudapi.com", Action="DetectLiveFace"))
    assert (iai.product, iai.action) == ("iai", "DetectLiveFace")


def test_unflatten_edges():
    assert unflatten({"A.1": "b", "A.0": "a"}) == {"A": ["a", "b"]}
    assert unflatten({"A.0": "a", "A.2": "c"}) == {"A": {"0": "a", "2": "c"}}  # not a list
    with pytest.raises(Tc3Error) as caught:
        unflatten({"A": "1", "A.B": "2"})
    assert caught.value.code == "InvalidParameter"
    with pytest.raises(Tc3Error):
        unflatten({"A.B": "2", "A": "1"})


def test_json_body_keeps_types():
    body = json.dumps({"Optional": json.dumps({"BestFrameNum": 2}), "Extra": "e"}).encode()
    assert authenticate(**tc3(body=body)).params == {"Optional": '{"BestFrameNum": 2}',
                                                     "Extra": "e"}


# -- hostile parameter names (v1, and the query of a TC3 GET) --------------------------------

def test_a_name_with_more_than_16_dotted_parts_is_an_invalid_parameter():
    sixteen_parts: object = "v"
    for _ in range(15):
        sixteen_parts = {"b": sixteen_parts}
    assert unflatten({"A" + ".b" * 15: "v"}) == {"A": sixteen_parts}
    for name in ("A" + ".b" * 16, "X" + ".a" * 3000):
        with pytest.raises(Tc3Error) as caught:
            unflatten({name: "v"})
        assert (caught.value.code, caught.value.message) == (
            "InvalidParameter", f"The parameter `{name[:60]}` has more than 16 dotted parts.")


@pytest.mark.parametrize("names,expected", [
    ({"X.²": "a"}, {"X": {"²": "a"}}),                       # a digit int() refuses
    ({"X.0": "a", "X.1": "b", "X.٢": "c"}, {"X": {"0": "a", "1": "b", "٢": "c"}}),
    ({"X.0": "a", "X.01": "b"}, {"X": {"0": "a", "01": "b"}}),  # "01" is not index 1
    ({"X.1" + "0" * 5000: "a"}, {"X": {"1" + "0" * 5000: "a"}}),  # past int()'s 4,300 digits
    ({"X.00": "a"}, {"X": {"00": "a"}}),
    ({"X.0": "a"}, {"X": ["a"]}),
])
def test_index_names_must_be_plain_ascii_numbers(names, expected):
    assert unflatten(names) == expected


def v1_refusal(**params) -> Tc3Error:
    with pytest.raises(Tc3Error) as caught:
        authenticate(**v1(**params))
    return caught.value


def test_hostile_v1_names_are_documented_errors_after_the_signature():
    deep = v1_refusal(**{"X" + ".a" * 3000: "v"})
    assert deep.code == "InvalidParameter" and deep.verdict.method == "HmacSHA256"
    digits = authenticate(**v1(**{"X.²": "a", "Y." + "9" * 5000: "b"}))
    assert digits.params == {"X": {"²": "a"}, "Y": {"9" * 5000: "b"}}


# -- GET: the parameters of the query ---------------------------------------------------------

def tc3_get(query: str, action: str = "IdCardVerification", **changes) -> dict:
    """A TC3-signed GET as the Python SDK sends it (form content type, query signed)."""
    headers = {k.lower(): v for k, v in sign_tc3(
        "AKIDtest", "test-key", service="faceid", host="127.0.0.1:8080", action=action,
        timestamp=NOW, method="GET", query=query,
        content_type="application/x-www-form-urlencoded").items()}
    return {"method": "GET", "host": "127.0.0.1:8080", "query": query, "headers": headers,
            "body": b"", "now": NOW, "secret_key_of": KEYS.get, "versions": VERSIONS,
            **changes}


def test_a_tc3_get_takes_its_parameters_from_the_query_unflattened():
    query = urlencode({"IdCard": "110105199003071239", "Name": "张三",
                       "Encryption.EncryptList.0": "IdCard", "Encryption.Iv": "iv"})
    call = authenticate(**tc3_get(query))
    assert (call.action, call.verdict.method) == ("IdCardVerification", "TC3-HMAC-SHA256")
    assert call.params == {"IdCard": "110105199003071239", "Name": "张三",
                           "Encryption": {"EncryptList": ["IdCard"], "Iv": "iv"}}


def test_a_tc3_get_keeps_names_v1_would_strip_and_ignores_a_body():
    call = authenticate(**tc3_get("Action=GetLiveCode&Nonce=1", body=b'{"IdCard": "x"}'))
    assert call.params == {"Action": "GetLiveCode", "Nonce": "1"}  # UnknownParameter later


def test_a_tc3_post_still_reads_only_its_json_body():
    facts = tc3(body=b'{"IdCard": "x"}', query="Name=y")
    assert authenticate(**facts).params == {"IdCard": "x"}


# -- what a refused call claims, for the journal -----------------------------------------------

def test_refusals_after_the_signature_carry_its_verdict():
    for facts in (tc3(version="1999-01-01"), tc3(action="Nope"), tc3(body=b"["),
                  tc3(headers={"x-tc-token": "t"}),
                  tc3(within_rate=lambda secret_id: False)):
        with pytest.raises(Tc3Error) as caught:
            authenticate(**facts)
        verdict = caught.value.verdict
        assert (verdict.secret_id, verdict.method, verdict.service) == \
            ("AKIDtest", "TC3-HMAC-SHA256", "faceid"), caught.value.code


def test_refusals_by_the_signature_carry_no_verdict():
    replayed = v1()
    for facts in (tc3(key="wrong"), tc3(now=NOW + 301), tc3(secret_key_of={}.get),
                  {**replayed, "nonce_unused": lambda secret_id, nonce: False}):
        with pytest.raises(Tc3Error) as caught:
            authenticate(**facts)
        assert caught.value.verdict is None, caught.value.code


def claim(method="POST", host="127.0.0.1:8080", query="", headers=None, body=b"{}") -> Claim:
    return claim_of(method, host, query, headers or {}, body, VERSIONS)


def test_the_claim_of_a_tc3_request():
    headers = tc3(key="wrong")["headers"]
    assert claim(headers=headers) == Claim("faceid:GetLiveCode", "TC3-HMAC-SHA256", "AKIDtest")
    iai = tc3(action="DetectLiveFace", service="iai")["headers"]
    assert claim(headers=iai) == Claim("iai:DetectLiveFace", "TC3-HMAC-SHA256", "AKIDtest")
    broken = {"authorization": "TC3-HMAC-SHA256 nonsense", "x-tc-action": "GetLiveCode"}
    assert claim(headers=broken) == Claim("faceid:GetLiveCode", "TC3-HMAC-SHA256", None)


def test_the_claim_of_an_unsigned_request_names_its_action():
    assert claim(headers={"x-tc-action": "GetLiveCode"}) == Claim("faceid:GetLiveCode")
    assert claim(headers={"x-tc-action": "DetectLiveFace"}) == Claim("iai:DetectLiveFace")
    assert claim(headers={"x-tc-action": "Nope"}) == Claim()
    assert claim(method="GET", query="Action=GetActionSequence") == \
        Claim("faceid:GetActionSequence")
    legacy = {"authorization": "q-sign-algorithm=sha1", "x-tc-action": "GetLiveCode"}
    assert claim(headers=legacy) == Claim("faceid:GetLiveCode")


def test_the_claim_of_a_v1_request():
    facts = v1(Action="IdCardVerification")
    assert claim(headers=facts["headers"], body=facts["body"]) == \
        Claim("faceid:IdCardVerification", "HmacSHA256", "AKIDtest")
    sha1 = urlencode({"Action": "GetLiveCode", "SecretId": "AKIDx", "Signature": "s"})
    assert claim(method="GET", query=sha1) == Claim("faceid:GetLiveCode", "HmacSHA1", "AKIDx")
    odd = urlencode({"Action": "GetLiveCode", "SignatureMethod": "HmacMD5", "Signature": "s"})
    assert claim(method="GET", query=odd) == Claim("faceid:GetLiveCode")
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert claim(headers=form, body=b"\xff") == Claim()  # not UTF-8: nothing claimed
