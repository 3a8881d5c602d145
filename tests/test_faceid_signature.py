"""API 3.0 signatures: Tencent's official test vectors and the check order of
contract-faceid §2."""
from __future__ import annotations

import pytest

from mockface.products.tc3.signature import (
    SignatureRefused,
    sign_tc3,
    sign_v1,
    tc3_signature,
    tc3_string_to_sign,
    v1_string_to_sign,
    verify_tc3,
    verify_v1,
)

VECTOR_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
VECTOR_BODY = ('{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
               '"Name": "instance-name"}]}')
V1_PARAMS = {"Action": "DescribeInstances", "InstanceIds.0": "ins-09dx96dg", "Limit": "20",
             "Nonce": "11886", "Offset": "0", "Region": "ap-guangzhou",
             "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Timestamp": "1465185768",
             "Version": "2017-03-12"}
KEYS = {"AKIDtest": "test-key"}
NOW = 1_800_000_000


def test_tc3_official_vector():
    headers = {"content-type": "application/json; charset=utf-8",
               "host": "cvm.tencentcloudapi.com"}
    string_to_sign = tc3_string_to_sign("POST", "", headers, ["content-type", "host"],
                                        VECTOR_BODY, 1551113065, "cvm")
    assert tc3_signature(VECTOR_KEY, "2019-02-25", "cvm", string_to_sign) == \
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


def test_v1_official_vectors():
    assert v1_string_to_sign("GET", "cvm.tencentcloudapi.com", V1_PARAMS) == (
        "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg"
        "&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou"
        "&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768"
        "&Version=2017-03-12")
    assert sign_v1(VECTOR_KEY, "GET", "cvm.tencentcloudapi.com", V1_PARAMS) == \
        "EliP9YW3pW28FpsEdkXt/+WcGeI="
    assert sign_v1(VECTOR_KEY, "GET", "cvm.tencentcloudapi.com", V1_PARAMS, "HmacSHA256") == \
        "bR/zQ3QqOmcEYeRv71IzG/NxfisUDgy9cqRMQC+UB5g="


def tc3_request(**changes):
    """A valid TC3 request's facts for verify_tc3, with ``changes`` laid over them."""
    body = changes.pop("body", b'{"IdCard": "x"}')
    headers = {k.lower(): v for k, v in sign_tc3(
        "AKIDtest", changes.pop("key", "test-key"), service=changes.pop("service", "faceid"),
        host=changes.pop("host", "127.0.0.1:8080"), action="GetLiveCode",
        timestamp=changes.pop("timestamp", NOW), body=body).items()}
    headers.update(changes.pop("headers", {}))
    facts = {"method": "POST", "query": "", "headers": headers, "body": body,
             "services": ("faceid",), "now": NOW, "secret_key_of": KEYS.get}
    facts.update(changes)
    return facts


def refused(check, facts) -> tuple[str, str]:
    with pytest.raises(SignatureRefused) as caught:
        check(**facts)
    return caught.value.code, caught.value.reason


def test_tc3_valid_request_passes():
    verdict = verify_tc3(**tc3_request())
    assert (verdict.secret_id, verdict.service, verdict.method) == \
        ("AKIDtest", "faceid", "TC3-HMAC-SHA256")


def test_tc3_host_is_accepted_verbatim_or_lower_cased():
    verbatim = tc3_request(host="Mockface.Local:8080")  # the Python SDK signs it as sent
    assert verify_tc3(**verbatim).secret_id == "AKIDtest"
    lowered = tc3_request(host="mockface.local:8080")  # Tencent's docs lower-case it
    lowered["headers"]["host"] = "Mockface.Local:8080"
    assert verify_tc3(**lowered).secret_id == "AKIDtest"
    other = tc3_request(host="mockface.other:8080")
    other["headers"]["host"] = "Mockface.Local:8080"
    assert refused(verify_tc3, other)[0] == "AuthFailure.SignatureFailure"


def test_tc3_unsigned_payload_and_get_query():
    facts = tc3_request()
    headers = {"content-type": facts["headers"]["content-type"],
               "host": facts["headers"]["host"], "x-tc-content-sha256": "UNSIGNED-PAYLOAD"}
    string_to_sign = tc3_string_to_sign("POST", "", headers, ["content-type", "host"],
                                        "UNSIGNED-PAYLOAD", NOW, "faceid")
    signature = tc3_signature("test-key", "2027-01-15", "faceid", string_to_sign)
    headers["authorization"] = (f"TC3-HMAC-SHA256 Credential=AKIDtest/2027-01-15/faceid/"
                                f"tc3_request, SignedHeaders=content-type;host, "
                                f"Signature={signature}")
    headers["x-tc-timestamp"] = str(NOW)
    assert verify_tc3(**{**facts, "headers": headers, "body": b"anything"}).secret_id == \
        "AKIDtest"
    get = {"content-type": "application/x-www-form-urlencoded", "host": "h"}
    query = "Limit=10&Offset=0"
    string_to_sign = tc3_string_to_sign("GET", query, get, ["content-type", "host"], b"", NOW,
                                        "faceid")
    get["authorization"] = (f"TC3-HMAC-SHA256 Credential=AKIDtest/2027-01-15/faceid/"
                            f"tc3_request, SignedHeaders=content-type;host, Signature="
                            f"{tc3_signature('test-key', '2027-01-15', 'faceid', string_to_sign)}")
    get["x-tc-timestamp"] = str(NOW)
    assert verify_tc3(**{**facts, "method": "GET", "query": query, "headers": get,
                         "body": b""}).secret_id == "AKIDtest"
    assert refused(verify_tc3, {**facts, "method": "GET", "query": "Limit=11", "headers": get,
                                "body": b""})[0] == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("changes,code", [
    ({"headers": {"authorization": "TC3-HMAC-SHA256 nonsense"}},
     "AuthFailure.InvalidAuthorization"),
    ({"headers": {"authorization": ""}}, "AuthFailure.InvalidAuthorization"),
    ({"headers": {"x-tc-timestamp": "soon"}}, "AuthFailure.InvalidAuthorization"),
    ({"timestamp": NOW - 301}, "AuthFailure.SignatureExpire"),
    ({"timestamp": NOW + 301}, "AuthFailure.SignatureExpire"),
    ({"secret_key_of": {}.get}, "AuthFailure.SecretIdNotFound"),
    ({"key": "wrong"}, "AuthFailure.SignatureFailure"),
    ({"service": "cvm"}, "AuthFailure.SignatureFailure"),
    ({"body": b"{}", "headers": {}}, None),
], ids=["garbage", "empty", "bad-timestamp", "old", "future", "unknown-id", "wrong-key",
        "wrong-service", "control"])
def test_tc3_check_table(changes, code):
    facts = tc3_request(**changes)
    if code is None:
        assert verify_tc3(**facts).secret_id == "AKIDtest"
    else:
        assert refused(verify_tc3, facts)[0] == code


def test_tc3_expiry_is_checked_before_the_key_and_the_key_before_the_hmac():
    facts = tc3_request(timestamp=NOW - 1000, key="wrong", secret_key_of={}.get)
    assert refused(verify_tc3, facts)[0] == "AuthFailure.SignatureExpire"
    facts = tc3_request(key="wrong", secret_key_of={}.get)
    assert refused(verify_tc3, facts)[0] == "AuthFailure.SecretIdNotFound"


def test_tc3_scope_date_must_be_the_timestamps_utc_date():
    facts = tc3_request()
    facts["headers"]["authorization"] = facts["headers"]["authorization"].replace(
        "/2027-01-15/", "/2027-01-14/")
    code, reason = refused(verify_tc3, facts)
    assert (code, reason) == ("AuthFailure.SignatureFailure", "credential date 2027-01-14 is "
                              "not 2027-01-15, the UTC date of X-TC-Timestamp")


def v1_request(**changes):
    params = {"Action": "GetLiveCode", "Version": "2018-03-01", "Nonce": "1",
              "Timestamp": str(changes.pop("timestamp", NOW)), "SecretId": "AKIDtest",
              "SignatureMethod": changes.pop("method_name", "HmacSHA256")}
    params["Signature"] = sign_v1(changes.pop("key", "test-key"), "POST", "faceid.host",
                                  params, params["SignatureMethod"])
    params.update(changes.pop("params", {}))
    facts = {"method": "POST", "host": "faceid.host", "params": params, "service": "faceid",
             "now": NOW, "secret_key_of": KEYS.get}
    facts.update(changes)
    return facts


@pytest.mark.parametrize("changes,code", [
    ({}, None),
    ({"method_name": "HmacSHA1"}, None),
    ({"params": {"Signature": ""}}, "AuthFailure.InvalidAuthorization"),
    ({"params": {"Signature": "%%%"}}, "AuthFailure.InvalidAuthorization"),
    ({"params": {"SignatureMethod": "HmacMD5"}}, "AuthFailure.InvalidAuthorization"),
    ({"params": {"Timestamp": "x"}}, "AuthFailure.InvalidAuthorization"),
    ({"timestamp": NOW - 400}, "AuthFailure.SignatureExpire"),
    ({"secret_key_of": {}.get}, "AuthFailure.SecretIdNotFound"),
    ({"key": "wrong"}, "AuthFailure.SignatureFailure"),
    ({"host": "other.host"}, "AuthFailure.SignatureFailure"),
    ({"params": {"Nonce": "2"}}, "AuthFailure.SignatureFailure"),
], ids=["sha256", "sha1", "no-signature", "not-base64", "unknown-method", "bad-timestamp",
        "old", "unknown-id", "wrong-key", "other-host", "tampered"])
def test_v1_check_table(changes, code):
    facts = v1_request(**changes)
    if code is None:
        assert verify_v1(**facts).method == facts["params"]["SignatureMethod"]
    else:
        assert refused(verify_v1, facts)[0] == code
