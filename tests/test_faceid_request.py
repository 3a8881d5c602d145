"""From request facts to an authenticated API 3.0 call: checks 1-11 of contract-faceid §2 in
their order, product and version routing, v1 parameter un-flattening."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from mockface.faceid.request import FaceIdError, authenticate, unflatten
from mockface.faceid.signature import sign_tc3, sign_v1

KEYS = {"AKIDtest": "test-key"}
NOW = 1_800_000_000


def tc3(action="GetLiveCode", service="faceid", version="2018-03-01", body=b"{}", **changes):
    headers = {k.lower(): v for k, v in sign_tc3(
        "AKIDtest", changes.pop("key", "test-key"), service=service, host="127.0.0.1:8080",
        action=action, timestamp=NOW, body=body, version=version).items()}
    headers.update(changes.pop("headers", {}))
    facts = {"method": "POST", "host": "127.0.0.1:8080", "query": "", "headers": headers,
             "body": body, "now": NOW, "secret_key_of": KEYS.get}
    facts.update(changes)
    return facts


def v1(host="faceid.tencentcloudapi.com", **params):
    fields = {"Action": "GetLiveCode", "Version": "2018-03-01", "Timestamp": str(NOW),
              "Nonce": "7", "SecretId": "AKIDtest", "SignatureMethod": "HmacSHA256", **params}
    fields["Signature"] = sign_v1("test-key", "POST", host, fields, "HmacSHA256")
    return {"method": "POST", "host": host, "query": "",
            "headers": {"content-type": "application/x-www-form-urlencoded", "host": host},
            "body": urlencode(fields).encode(), "now": NOW, "secret_key_of": KEYS.get}


def code_of(**facts) -> str:
    with pytest.raises(FaceIdError) as caught:
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
    with pytest.raises(FaceIdError) as caught:
        unflatten({"A": "1", "A.B": "2"})
    assert caught.value.code == "InvalidParameter"
    with pytest.raises(FaceIdError):
        unflatten({"A.B": "2", "A": "1"})


def test_json_body_keeps_types():
    body = json.dumps({"Optional": json.dumps({"BestFrameNum": 2}), "Extra": "e"}).encode()
    assert authenticate(**tc3(body=body)).params == {"Optional": '{"BestFrameNum": 2}',
                                                     "Extra": "e"}
