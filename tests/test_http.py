"""Through a real waitress server on a free loopback port, with ``requests``: the request
quirks of contract §1 and the malformed-input list of the core issue."""
from __future__ import annotations

import json
import time

import pytest
import requests

from mockface.core.identity import with_check_digit
from mockface.products.legacy.signature import sign

from .support import ID_NAME, ID_NUMBER, MAIN, media, run_concurrently

JPEG = media("face.jpg")
MP4 = media("video.mp4")


def live_auth(**options) -> str:
    """A signature for MAIN issued now (the live server runs on real time)."""
    return sign(MAIN.appid, "AKIDmain", "main-key", now=int(time.time()), **options)


def post(server, endpoint: str, authorization: str | None = "default", **kwargs):
    headers = kwargs.pop("headers", {})
    if authorization == "default":
        authorization = live_auth()
    if authorization is not None:
        headers["Authorization"] = authorization
    return requests.post(f"{server.url}/face/{endpoint}", headers=headers, timeout=10, **kwargs)


def assert_json_error(response, status: int, code: int, message: str | None = None) -> None:
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and "data" not in body
    if message is not None:
        assert body["message"] == message


# -- every field as a file part, media as plain parts -------------------------------------

def test_every_field_as_a_file_part(live_server):
    files = {"appid": "1000001", "idcard_number": ID_NUMBER, "idcard_name": ID_NAME,
             "validate_data": "1234", "seq": "s1", "video": ("video.flv", MP4, "image/jpg")}
    response = post(live_server, "idcardlivedetectfour", files=files)
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["live_status"], data["compare_status"]) == (0, 0)


def test_every_field_as_a_file_part_for_image_endpoints(live_server):
    files = {"appid": "1000001", "idcard_number": ID_NUMBER, "idcard_name": ID_NAME,
             "session_id": "abc", "image": ("face.jpg", JPEG)}
    response = post(live_server, "idcardcompare", files=files)
    assert response.json()["data"]["session_id"] == "abc"
    files = {"appid": "1000001", "validate_data": "5555", "compare_flag": "true",
             "video": ("v.mp4", MP4), "card": ("card.jpg", media("card.jpg"))}
    assert post(live_server, "livedetectfour", files=files).json()["data"]["compare_status"] == 0
    response = post(live_server, "livedetectpicture",
                    files={"appid": "1000001", "image": ("f.jpg", JPEG)})
    assert response.json()["code"] == 0
    assert post(live_server, "livegetfour", files={"appid": "1000001"}).json()["code"] == 0


def test_media_as_non_file_parts_keeps_exact_bytes(live_server):
    fields = {"appid": "1000001", "idcard_number": ID_NUMBER, "idcard_name": ID_NAME}
    as_file = post(live_server, "idcardcompare", data=fields, files={"image": ("f.jpg", JPEG)})
    as_plain = post(live_server, "idcardcompare", data=fields, files={"image": (None, JPEG)})
    assert as_plain.status_code == 200
    assert as_plain.json()["data"]["similarity"] == as_file.json()["data"]["similarity"]


def test_a_1_5_mb_video(live_server):
    video = MP4 + bytes(1_500_000)
    fields = {"appid": "1000001", "validate_data": "1234", "compare_flag": "false"}
    response = post(live_server, "livedetectfour", data=fields, files={"video": ("v.mp4", video)})
    assert response.status_code == 200
    assert response.json()["data"] == {"live_status": 0, "live_msg": "OK"}


def test_session_id_null_is_treated_as_absent(live_server):
    fields = {"appid": "1000001", "idcard_number": ID_NUMBER, "idcard_name": ID_NAME,
              "session_id": "null"}
    response = post(live_server, "idcardcompare", data=fields, files={"image": ("f.jpg", JPEG)})
    assert response.json()["data"]["session_id"] == ""


def test_numeric_appid_and_charset_in_json(live_server):
    response = post(live_server, "livegetfour", data=json.dumps({"appid": 1000001}),
                    headers={"Content-Type": "application/json; charset=UTF-8"})
    assert response.status_code == 200 and response.json()["code"] == 0


def test_host_header_is_not_checked(live_server):
    response = post(live_server, "livegetfour", json={"appid": "1000001"},
                    headers={"Host": "service.image.myqcloud.com"})
    assert response.json()["code"] == 0


def test_extra_and_empty_fields_are_ignored(live_server):
    body = {"appid": "1000001", "bucket": "tencentyun", "sign": "x", "session_id": "",
            "whatever": [1, 2], "seq": ""}
    assert post(live_server, "livegetfour", json=body).json()["code"] == 0


# -- signatures over HTTP -------------------------------------------------------------------

def test_once_signature_succeeds_exactly_once_among_20_concurrent_requests(live_server):
    header = live_auth(once=True, fileid=f"race-{time.time_ns()}")

    def attempt() -> int:
        return post(live_server, "livegetfour", authorization=header,
                    json={"appid": "1000001"}).json()["code"]

    codes = run_concurrently(attempt, 20)
    assert sorted(codes) == [0] + [13] * 19


def test_java_layout_signature_over_http(live_server):
    header = live_auth(layout="java", bucket="tencentyun")
    assert post(live_server, "livegetfour", authorization=header,
                json={"appid": "1000001"}).json()["code"] == 0


# -- malformed and hostile requests ----------------------------------------------------------

@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"", b'{"appid": "\xff"}'])
def test_malformed_json_is_3(live_server, body):
    response = post(live_server, "livegetfour", data=body,
                    headers={"Content-Type": "application/json"})
    assert_json_error(response, 400, 3, "invalid request")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data", "image/jpeg"])
def test_wrong_content_type_or_missing_boundary_is_3(live_server, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = post(live_server, "livegetfour", data=b"appid=1000001", headers=headers)
    assert_json_error(response, 400, 3)


def test_truncated_multipart_is_3(live_server):
    body = (b"--XYZ\r\nContent-Disposition: form-data; name=\"appid\"\r\n\r\n1000001\r\n"
            b"--XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f.jpg\"\r\n\r\n"
            + JPEG[:500])
    response = post(live_server, "livedetectpicture", data=body,
                    headers={"Content-Type": "multipart/form-data; boundary=XYZ"})
    assert_json_error(response, 400, 3)


def test_multipart_with_wrong_boundary_is_3(live_server):
    body = b"--AAA\r\nContent-Disposition: form-data; name=\"appid\"\r\n\r\n1\r\n--AAA--\r\n"
    response = post(live_server, "livegetfour", data=body,
                    headers={"Content-Type": "multipart/form-data; boundary=BBB"})
    assert_json_error(response, 400, 3)


def test_seed_style_multipart_with_trailing_semicolons(live_server):
    body = (b"-------acebdf13572468\r\nContent-Disposition: form-data; name=\"appid\";\r\n\r\n"
            b"1000001\r\n-------acebdf13572468--\r\n")
    response = post(live_server, "livegetfour", data=body,
                    headers={"Content-Type": "multipart/form-data;boundary=-----acebdf13572468"})
    assert response.json()["code"] == 0


def test_invalid_utf8_in_name_is_21(live_server):
    files = {"appid": "1000001", "idcard_number": ID_NUMBER,
             "idcard_name": (None, "张三".encode("gbk")), "url": "http://x/y.jpg"}
    assert_json_error(post(live_server, "idcardcompare", files=files), 400, 21,
                      "invalid parameter")


def test_oversized_body_with_content_length_is_23(live_server):
    video = bytes(6 * 1024 * 1024 + 1)
    response = post(live_server, "livedetectfour", files={"appid": "1000001", "video": video})
    assert_json_error(response, 400, 23, "request body too large")


def test_body_just_under_the_limit_is_accepted(live_server):
    fields = {"appid": "1000001", "validate_data": "1234", "compare_flag": "false"}
    overhead = 1024  # multipart boundaries, headers and the three text fields
    video = MP4 + bytes(6 * 1024 * 1024 - len(MP4) - overhead)
    response = post(live_server, "livedetectfour", data=fields, files={"video": ("v.mp4", video)})
    assert int(response.request.headers["Content-Length"]) <= 6 * 1024 * 1024
    assert response.status_code == 200
    assert response.json()["data"] == {"live_status": 0, "live_msg": "OK"}


def test_oversized_chunked_body_is_23(live_server):
    def chunks():
        for _ in range(7):
            yield bytes(1024 * 1024)
    response = post(live_server, "livegetfour", data=chunks(),
                    headers={"Content-Type": "application/json"})
    assert_json_error(response, 400, 23)


def test_chunked_body_within_limit_is_accepted(live_server):
    def chunks():
        yield b'{"appid": '
        yield b'"1000001"}'
    response = post(live_server, "livegetfour", data=chunks(),
                    headers={"Content-Type": "application/json"})
    assert response.json()["code"] == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_is_json_405(live_server, method):
    response = requests.request(method, f"{live_server.url}/face/livegetfour", timeout=10)
    assert_json_error(response, 405, 3, "method not allowed")


@pytest.mark.parametrize("path", ["/face/unknown", "/face/livegetfour/extra", "/x.php", "/faceid"])
def test_unknown_path_is_json_404(live_server, path):
    response = requests.post(f"{live_server.url}{path}", timeout=10)
    assert_json_error(response, 404, 3, "unknown endpoint")


def test_garbage_authorization_header_is_5(live_server):
    response = post(live_server, "livegetfour", authorization="QCloud abc==",
                    json={"appid": "1000001"})
    assert_json_error(response, 400, 5, "sign format error")


def test_unexpected_exception_is_213_without_traceback(emulator, client, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(emulator.handlers["legacy"].service, "livegetfour", explode)
    from .support import auth
    response = client.post("/face/livegetfour", json={"appid": "1000001"},
                           headers={"Authorization": auth()})
    assert response.status_code == 500
    assert response.get_json() == {"code": 213, "message": "internal error"}
    assert b"secret internals" not in response.data and b"Traceback" not in response.data
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


def test_one_access_log_line_per_request(client, caplog):
    from .support import auth
    with caplog.at_level("INFO", logger="mockface.access"):
        client.post("/face/livegetfour", json={"appid": "1000001"},
                    headers={"Authorization": auth()})
    lines = [r.getMessage() for r in caplog.records if r.name == "mockface.access"]
    assert len(lines) == 1
    method, path, appid, code, status, millis, rule = lines[0].split()
    assert (method, path, appid, code, status, rule) == (
        "POST", "/face/livegetfour", "appid=1000001", "code=0", "status=200", "rule=default")
    assert millis.endswith("ms") and float(millis[:-2]) >= 0


def test_second_valid_identity(live_server):
    fields = {"appid": "1000001", "idcard_number": with_check_digit("32010219781231456"),
              "idcard_name": "王小明", "url": "http://example.invalid/a.jpg"}
    assert post(live_server, "idcardcompare", json=fields).json()["code"] == 0
