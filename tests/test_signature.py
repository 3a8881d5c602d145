"""Every row of contract §2, against sign()/verify() directly (no HTTP)."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from mockface.core.config import Keyring
from mockface.core.state import OnceSignatureStore, RateLimiter
from mockface.products.legacy.errors import ApiError
from mockface.products.legacy.signature import encode, parse, sign, verify

from .support import (
    APPS,
    BUCKETED,
    LIMITED,
    MAIN,
    NOW,
    SUSPENDED,
    THROTTLED,
    auth,
    run_concurrently,
)

DAY = 24 * 3600


def independent_sign(plaintext: str, key: str) -> str:
    """HMAC-SHA1 signature computed without mockface, straight from the seed's formula."""
    raw = plaintext.encode()
    return base64.b64encode(hmac.new(key.encode(), raw, hashlib.sha1).digest() + raw).decode()


def check(header, *, endpoint="livegetfour", body_appid=MAIN.appid, body_bucket=None,
          now=NOW, once_store=None, rate_limiter=None, loose=False, clock_skew=900):
    return verify(header, endpoint=endpoint, body_appid=body_appid, body_bucket=body_bucket,
                  keyring=Keyring(APPS), now=now,
                  once_store=OnceSignatureStore() if once_store is None else once_store,
                  rate_limiter=RateLimiter() if rate_limiter is None else rate_limiter,
                  clock_skew=clock_skew, loose=loose)


def code_of(header, **kwargs) -> int:
    with pytest.raises(ApiError) as caught:
        check(header, **kwargs)
    return caught.value.code


# -- the three client layouts, signed by mockface and independently ----------------------

@pytest.mark.parametrize("plaintext", [
    f"a=1000001&b=&k=AKIDmain&e={NOW + 30}&t={NOW}&r=123456789&f=",  # seed / PHP / Python
    f"a=1000001&b=tencentyun&k=AKIDmain&t={NOW}&e={NOW + 300}",  # Java / C++
    f"a=1000001&k=AKIDmain&e={NOW + 100}&t={NOW}&r=12345&u=0&f=",  # Node
    f"t={NOW}&e={NOW + 100}&k=AKIDmain&a=1000001",  # any order
])
def test_independently_signed_layouts_pass(plaintext):
    verdict = check(independent_sign(plaintext, "main-key"))
    assert (verdict.appid, verdict.secret_id, verdict.once) == ("1000001", "AKIDmain", False)


@pytest.mark.parametrize("layout,expected", [
    ("seed", ["a", "b", "k", "e", "t", "r", "f"]),
    ("java", ["a", "b", "k", "t", "e"]),
    ("node", ["a", "k", "e", "t", "r", "u", "f"]),
])
def test_sign_lays_out_like_real_clients(layout, expected):
    header = sign("1000001", "AKIDmain", "main-key", now=NOW, layout=layout)
    parsed = parse(header)
    assert [pair.split("=")[0] for pair in parsed.plaintext.decode().split("&")] == expected
    assert check(header).appid == "1000001"


def test_sign_matches_independent_hmac():
    header = sign("1000001", "AKIDmain", "main-key", now=NOW, expires_in=30, rand=42)
    assert header == independent_sign(f"a=1000001&b=&k=AKIDmain&e={NOW + 30}&t={NOW}&r=42&f=",
                                      "main-key")


def test_hmac_is_over_exact_bytes_received():
    # Same fields, different byte layout: re-serialising would break this signature.
    plaintext = f"k=AKIDmain&a=1000001&t={NOW}&e={NOW + 60}&r=0001"
    assert check(independent_sign(plaintext, "main-key")).appid == "1000001"


# -- checks 1 and 2: presence and format (code 4, 5) -----------------------------------

@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_or_empty_header_is_4(header):
    assert code_of(header) == 4


@pytest.mark.parametrize("header", [
    "not base64 at all!",
    base64.b64encode(b"x" * 20).decode(),  # digest only, no plaintext
    base64.b64encode(b"short").decode(),
    independent_sign(f"a=1000001&k=AKIDmain&e={NOW + 60}", "main-key"),  # no t
    independent_sign(f"a=1000001&k=AKIDmain&t={NOW}", "main-key"),  # no e
    independent_sign(f"k=AKIDmain&e={NOW + 60}&t={NOW}", "main-key"),  # no a
    independent_sign(f"a=1000001&e={NOW + 60}&t={NOW}", "main-key"),  # no k
    independent_sign(f"a=1000001&k=AKIDmain&e=soon&t={NOW}", "main-key"),
    independent_sign(f"a=1000001&k=AKIDmain&e={NOW + 60}&t=-5", "main-key"),
    independent_sign(f"a=1000001&k=AKIDmain&e={NOW + 60}&t={NOW}&r=abc", "main-key"),
    independent_sign(f"a=1000001&k=AKIDmain&e={NOW + 60}&t={NOW}&junk", "main-key"),
    base64.b64encode(b"\x00" * 20 + b"a=1&k=\xff\xfe&e=1&t=1").decode(),  # not UTF-8
])
def test_malformed_signature_is_5(header):
    assert code_of(header) == 5


# -- checks 3 to 6: keys and HMAC ------------------------------------------------------

def test_unknown_appid_is_10():
    assert code_of(sign("999", "AKIDmain", "main-key", now=NOW), body_appid="999") == 10


def test_unknown_secret_id_is_11():
    assert code_of(sign("1000001", "AKIDnobody", "main-key", now=NOW)) == 11


def test_secret_id_of_another_app_is_12():
    assert code_of(sign("1000001", "AKIDbucketA", "bucket-key-a", now=NOW)) == 12


def test_bad_hmac_is_14():
    assert code_of(sign("1000001", "AKIDmain", "wrong-key", now=NOW)) == 14


def test_tampered_plaintext_is_14():
    raw = bytearray(base64.b64decode(auth()))
    raw[-1:] = b"9" if raw[-1:] != b"9" else b"8"
    assert code_of(base64.b64encode(bytes(raw)).decode()) in (14, 5)
    good = base64.b64decode(auth(rand=5))
    assert code_of(base64.b64encode(good.replace(b"r=5", b"r=6")).decode()) == 14


def test_second_secret_of_an_app_works():
    header = sign("1000002", "AKIDbucketB", "bucket-key-b", now=NOW)
    assert check(header, body_appid="1000002").secret_id == "AKIDbucketB"


# -- check 7: target appid and bucket (6, 16, 21) -----------------------------------------

def test_body_appid_differs_is_6():
    assert code_of(auth(), body_appid="1000002") == 6


def test_body_without_appid_is_21():
    assert code_of(auth(), body_appid=None) == 21


def test_numeric_and_string_appid_compare_as_strings():
    assert check(auth(), body_appid="1000001").appid == "1000001"


def test_unknown_bucket_in_signature_is_16():
    header = auth(BUCKETED, bucket="videos")
    assert code_of(header, body_appid="1000002") == 16


def test_unknown_bucket_in_body_is_16():
    assert code_of(auth(BUCKETED), body_appid="1000002", body_bucket="videos") == 16


def test_known_bucket_and_any_bucket_for_apps_without_list():
    assert check(auth(BUCKETED, bucket="photos"), body_appid="1000002",
                 body_bucket="photos").appid == "1000002"
    assert check(auth(bucket="anything"), body_bucket="whatever").appid == "1000001"


# -- checks 8 to 10: time ----------------------------------------------------------------

def test_expiry_not_after_issue_is_5():
    plaintext = f"a=1000001&k=AKIDmain&e={NOW}&t={NOW}"
    assert code_of(independent_sign(plaintext, "main-key")) == 5


def test_lifetime_over_90_days_is_5():
    assert code_of(auth(expires_in=90 * DAY + 1)) == 5
    assert check(auth(expires_in=90 * DAY)).appid == "1000001"


def test_expired_signature_is_9():
    header = auth(now=NOW - 100, expires_in=30)
    assert code_of(header) == 9
    assert check(header, now=NOW - 71).appid == "1000001"  # e = NOW - 70, still valid


def test_issue_time_beyond_skew_is_5_and_one_second_ahead_is_fine():
    assert code_of(auth(now=NOW + 901)) == 5
    assert check(auth(now=NOW + 1)).appid == "1000001"
    assert code_of(auth(now=NOW + 61), clock_skew=60) == 5


def test_multi_use_signature_is_never_a_replay():
    header, store = auth(), OnceSignatureStore()
    for _ in range(5):
        assert check(header, once_store=store).once is False


# -- check 11: once-signatures (5, 13) -----------------------------------------------------

def test_once_signature_works_exactly_once():
    header, store = auth(once=True, fileid="file-1"), OnceSignatureStore()
    assert check(header, once_store=store).once is True
    assert code_of(header, once_store=store) == 13


def test_once_signature_without_fileid_is_5():
    plaintext = f"a=1000001&b=&k=AKIDmain&e=0&t={NOW}&r=1&f="
    assert code_of(independent_sign(plaintext, "main-key")) == 5


def test_once_signature_is_consumed_once_under_concurrency():
    header, store = auth(once=True, fileid="race"), OnceSignatureStore()

    def attempt() -> int:
        try:
            check(header, once_store=store)
            return 0
        except ApiError as error:
            return error.code

    assert sorted(run_concurrently(attempt, 20)) == [0] + [13] * 19


def test_once_store_is_bounded():
    store = OnceSignatureStore(capacity=3)
    for key in "abcd":
        assert store.consume("1", key)
    assert len(store) == 3
    assert store.consume("1", "a")  # forgotten: the oldest entry was evicted
    assert not store.consume("1", "d")
    assert store.consume("2", "d")  # another appid's signature is another key
    store.clear("1")
    assert len(store) == 1 and not store.consume("2", "d")


# -- checks 12 to 14: account state ---------------------------------------------------------

def test_suspended_app_is_3_with_documented_message():
    with pytest.raises(ApiError) as caught:
        check(auth(SUSPENDED), body_appid=SUSPENDED.appid)
    assert (caught.value.code, caught.value.message) == (3, "account abnormal,errorno is:2")


def test_service_not_permitted_is_24():
    assert code_of(auth(LIMITED), body_appid=LIMITED.appid, endpoint="idcardcompare") == 24
    assert check(auth(LIMITED), body_appid=LIMITED.appid, endpoint="livegetfour")


def test_rate_limit_is_15_and_recovers_after_a_second():
    limiter = RateLimiter()
    header = auth(THROTTLED)
    for _ in range(2):
        check(header, body_appid=THROTTLED.appid, rate_limiter=limiter)
    assert code_of(header, body_appid=THROTTLED.appid, rate_limiter=limiter) == 15
    assert check(header, body_appid=THROTTLED.appid, rate_limiter=limiter, now=NOW + 1.5)


# -- order of checks and loose mode ---------------------------------------------------------

def test_checks_run_in_contract_order():
    # Unknown appid AND bad HMAC AND expired: the earliest check (10) wins.
    header = sign("999", "AKIDnobody", "wrong", now=NOW - 1000, expires_in=10)
    assert code_of(header, body_appid="1000001") == 10
    # Bad HMAC and wrong body appid: 14 before 6.
    assert code_of(sign("1000001", "AKIDmain", "wrong", now=NOW), body_appid="x") == 14
    # Wrong body appid and expired: 6 before 9.
    assert code_of(auth(now=NOW - 1000, expires_in=10), body_appid="1000002") == 6
    # Expired and suspended: 9 before 3.
    assert code_of(auth(SUSPENDED, now=NOW - 1000, expires_in=10),
                   body_appid=SUSPENDED.appid) == 9


def test_loose_mode_skips_checks_3_to_14_but_not_format():
    header = sign("999", "AKIDnobody", "wrong", now=NOW - 1000, expires_in=10)
    verdict = check(header, body_appid="other", loose=True)
    assert (verdict.appid, verdict.loose) == ("999", True)
    assert code_of(None, loose=True) == 4
    assert code_of("@@@", loose=True) == 5


def test_encode_and_parse_round_trip():
    header = encode(b"a=1&k=2&e=3&t=1", "key")
    parsed = parse(header)
    assert parsed.fields == {"a": "1", "k": "2", "e": "3", "t": "1"}
    assert parsed.digest == hmac.new(b"key", b"a=1&k=2&e=3&t=1", hashlib.sha1).digest()


def test_a_multi_use_signature_is_decoded_once():
    header = sign("1000001", "AKIDmain", "main-key", now=1_800_000_000)
    assert parse(header) is parse(f"  {header} ")
    with pytest.raises(ApiError):
        parse(header[:-4] + "!!!!")
