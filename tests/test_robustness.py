"""Hostile and mutated requests: every answer is documented JSON, never code 213 or a 5xx."""
from __future__ import annotations

import io
import json
import random

import pytest

from mockface.products.legacy import wire
from mockface.products.legacy.errors import CATALOGUE, ApiError

from .support import ID_NAME, ID_NUMBER, auth, media


@pytest.mark.parametrize("body,code", [
    (b"[" * 100_000, 3),  # nesting deep enough to exhaust the recursion limit
    (b'{"appid": NaN}', 3),
    (b'{"appid": Infinity}', 3),
    (b'{"appid": 1e999}', 21),  # overflows to infinity
    (b'{"appid": {"nested": 1}}', 21),
    (b'{"appid": [1]}', 21),
    (b'{"image": 5, "appid": "1"}', 21),
])
def test_hostile_json(body, code):
    with pytest.raises(ApiError) as caught:
        wire.read_body("application/json", str(len(body)), io.BytesIO(body))
    assert caught.value.code == code


@pytest.mark.parametrize("length,code", [("abc", 3), ("1e3", 3), ("-", 3),
                                         ("99999999999999999999", 23), ("6291457", 23)])
def test_bad_or_huge_content_length(length, code):
    with pytest.raises(ApiError) as caught:
        wire.read_body("application/json", length, io.BytesIO(b"{}"))
    assert caught.value.code == code


def test_multipart_with_a_huge_header_line_is_3():
    body = (b"--B\r\nContent-Disposition: form-data; name=\"appid\"\r\nX-Long: " + b"a" * 20000
            + b"\r\n\r\n1\r\n--B--\r\n")
    with pytest.raises(ApiError) as caught:
        wire.read_body("multipart/form-data; boundary=B", str(len(body)), io.BytesIO(body))
    assert caught.value.code == 3


def _valid_multipart() -> tuple[bytes, str]:
    boundary = "fuzzboundary"
    fields = {"appid": "1000001", "idcard_number": ID_NUMBER, "idcard_name": ID_NAME,
              "validate_data": "1234", "compare_flag": "true"}
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for name, data in (("video", media("video.mp4")), ("card", media("card.jpg"))):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="x"\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        at = rng.randrange(len(buf) or 1)
        if choice < 0.4 and buf:
            buf[at] = rng.randrange(256)
        elif choice < 0.6:
            del buf[at:at + rng.randint(1, 64)]
        elif choice < 0.8:
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            buf[at:at] = rng.choice([b"\r\n", b"--", b'"', b"\r\n\r\n", b"{", b"}", b";"])
    return bytes(buf)


@pytest.mark.parametrize("endpoint", ["idcardlivedetectfour", "livedetectfour", "livegetfour",
                                      "idcardcompare"])
def test_mutated_bodies_never_break_the_server(client, endpoint):
    rng = random.Random(f"fuzz-{endpoint}")
    multipart, multipart_type = _valid_multipart()
    json_body = json.dumps({"appid": "1000001", "idcard_number": ID_NUMBER,
                            "idcard_name": ID_NAME, "url": "http://x/y.jpg"}).encode()
    for round_ in range(300):
        body, content_type = (multipart, multipart_type) if round_ % 2 else \
            (json_body, "application/json")
        response = client.post(f"/face/{endpoint}", data=_mutate(body, rng),
                               headers={"Authorization": auth(), "Content-Type": content_type})
        answer = response.get_json()
        assert response.status_code < 500, answer
        assert answer["code"] in CATALOGUE or answer["code"] == 0
        assert answer["code"] != 213
