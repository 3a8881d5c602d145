"""Regression tests for the holes a break-it pass found (issue "hostile input"): each one is
re-run as a hostile client would, and must get a documented answer."""
from __future__ import annotations

import base64
import json

import pytest

from mockface.products.legacy.signature import encode, sign
from mockface.products.legacy.stores import ONCE_SIGNATURES

from .support import ID_NAME, ID_NUMBER, MAIN, NOW, auth, read_to_close, status_and_json

# -- once-signatures cannot be replayed by re-encoding ----------------------------------------

def respell(header: str) -> list[str]:
    """Other base64 spellings of the same bytes: extra padding, non-zero trailing bits."""
    raw = base64.b64decode(header)
    spellings = [header + "=", header + "=="]
    if header.endswith("="):
        stem = header.rstrip("=")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        for other in alphabet:
            candidate = stem[:-1] + other + header[len(stem):]
            if candidate != header and base64.b64decode(candidate) == raw:
                spellings.append(candidate)
    return spellings


def test_each_respelling_of_a_used_once_signature_is_refused(call):
    header = sign(MAIN.appid, "AKIDmain", "main-key", now=NOW, once=True, fileid="x12", rand=7)
    assert header.endswith("=")  # so that trailing-bit respellings exist
    others = respell(header)
    assert len(others) >= 3
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 0
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 13
    for other in others:
        code = call.json("livegetfour", {"appid": MAIN.appid}, authorization=other)[1]["code"]
        assert code == 5, other


def test_non_canonical_base64_is_a_format_error_even_before_first_use(call, emulator):
    header = sign(MAIN.appid, "AKIDmain", "main-key", now=NOW, once=True, fileid="y", rand=7)
    trailing_bits = respell(header)[2]
    assert base64.b64decode(trailing_bits) == base64.b64decode(header)
    status, body = call.json("livegetfour", {"appid": MAIN.appid}, authorization=trailing_bits)
    assert (status, body) == (400, {"code": 5, "message": "sign format error"})
    assert emulator.journal.query()[-1].detail == "Authorization is not canonical base64"
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 0


def test_the_once_store_keeps_digests_not_headers(call, emulator):
    header = sign(MAIN.appid, "AKIDmain", "main-key", now=NOW, once=True, fileid="f" * 2000)
    assert call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)[1]["code"] == 0
    [(appid, key)] = list(emulator.state.store(ONCE_SIGNATURES)._used)
    assert (appid, len(key)) == (MAIN.appid, 20)


def test_an_oversized_authorization_is_a_format_error(call):
    plaintext = f"a={MAIN.appid}&b=&k=AKIDmain&e=0&t={NOW}&r=1&f={'f' * 5000}".encode()
    header = encode(plaintext, "main-key")
    status, body = call.json("livegetfour", {"appid": MAIN.appid}, authorization=header)
    assert (status, body["code"]) == (400, 5)


@pytest.mark.parametrize("field", ["e", "t", "r"])
def test_thousands_of_digits_in_a_signature_number_are_a_format_error(call, field, emulator):
    values = {"e": str(NOW + 60), "t": str(NOW), "r": "1"}
    values[field] = "9" * 5000
    plaintext = (f"a={MAIN.appid}&b=&k=AKIDmain&e={values['e']}&t={values['t']}"
                 f"&r={values['r']}&f=").encode()
    header = encode(plaintext, "main-key")
    # under the header length cap only when the digits are few: use a shorter run too
    short = encode(plaintext.replace(b"9" * 5000, b"9" * 30), "main-key")
    for value in (header, short):
        status, body = call.json("livegetfour", {"appid": MAIN.appid}, authorization=value)
        assert (status, body) == (400, {"code": 5, "message": "sign format error"})


# -- text that cannot be answered must be a documented code, and journaled as sent ------------

def test_a_lone_surrogate_in_a_json_field_is_code_21(call, emulator):
    raw = '{"appid": "1000001", "session_id": "\\ud800", "idcard_number": "%s", ' \
          '"idcard_name": "%s", "url": "http://x/y.jpg"}' % (ID_NUMBER, ID_NAME)
    response = call.client.post("/face/idcardcompare", data=raw,
                                content_type="application/json",
                                headers={"Authorization": auth()})
    assert (response.status_code, response.get_json()) == (
        400, {"code": 21, "message": "invalid parameter"})
    entry = emulator.journal.query()[-1]
    assert (entry.code, entry.http_status) == (21, 400)
    assert entry.detail == "field 'session_id' is not valid Unicode (lone surrogate)"


def test_repeated_json_names_keep_the_first_value_like_multipart(call, emulator):
    raw = ('{"appid": "1000001", "seq": "first", "seq": "second"}').encode()
    response = call.client.post("/face/livegetfour", data=raw, content_type="application/json",
                                headers={"Authorization": auth()})
    assert response.get_json()["code"] == 0
    assert emulator.journal.query()[-1].fields["seq"] == "first"
    status, _ = call.multipart("livegetfour", {"appid": MAIN.appid, "seq": "first"})
    assert status == 200


# -- the admin API answers 400 JSON, never 213 --------------------------------------------------

@pytest.mark.parametrize("query", ["code=--5", "code=%C2%B2", "code=" + "9" * 5000,
                                   "after=1e3", "since=nan", "since=inf", "since=" + "9" * 400])
def test_bad_admin_numbers_are_400(client, query):
    response = client.get(f"/__mockface/requests?{query}")
    assert response.status_code == 400
    assert set(response.get_json()) == {"error"}


@pytest.mark.parametrize("route,body", [
    ("clock/freeze", '{"at": 1e400}'),
    ("clock/freeze", '{"at": NaN}'),
    ("clock/advance", '{"seconds": NaN}'),
    ("clock/advance", '{"seconds": Infinity}'),
    ("clock/freeze", '{"at": 253402300800}'),
    ("clock/freeze", '{"at": -1}'),
    ("clock/advance", '{"seconds": 300000000000}'),
    ("reset", "[" * 100_000 + "]" * 100_000),
    ("reset", '{"appid": "a", "appid": '),
])
def test_bad_admin_bodies_are_400_and_leave_valid_json(client, route, body):
    before = client.get("/__mockface/clock").get_json()
    response = client.post(f"/__mockface/{route}", data=body, content_type="application/json")
    assert response.status_code == 400
    assert set(json.loads(response.get_data(as_text=True))) == {"error"}
    after = client.get("/__mockface/clock")
    json.loads(after.get_data(as_text=True))  # never NaN/Infinity
    assert (after.get_json()["frozen"], after.get_json()["offset"]) == \
        (before["frozen"], before["offset"])


def test_the_clock_accepts_the_last_second_of_year_9999(client):
    response = client.post("/__mockface/clock/freeze", json={"at": 253_402_300_799})
    assert response.status_code == 200 and response.get_json()["now"] == 253_402_300_799
    assert client.post("/__mockface/clock/advance", json={"seconds": 1}).status_code == 400


# -- no file content comes back through the admin API or the scenario header -----------------

SECRET_FILE_TEXT = "rootx:$6$pw4f7ahash:19000:0:99999:7:::\ndaemonx:*:19000:0:99999:7:::\n"


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "shadow"
    path.write_text(SECRET_FILE_TEXT)
    yaml_path = tmp_path / "credentials.yaml"
    yaml_path.write_text("db:\n  password: pw4f7a\n")
    return path, yaml_path


def assert_no_content(response):
    text = response.get_data(as_text=True)
    assert "pw4f7a" not in text and "rootx" not in text and "daemonx" not in text, text


@pytest.mark.parametrize("body", [
    lambda shadow, creds: {"path": str(shadow)},
    lambda shadow, creds: {"path": str(creds)},
    lambda shadow, creds: {"name": str(creds.with_suffix(""))},
    lambda shadow, creds: {"name": "../" * 12 + str(shadow).lstrip("/")},
    lambda shadow, creds: {"name": str(shadow)},
], ids=["path-no-suffix", "path-yaml-outside", "name-absolute", "name-traversal", "name-file"])
def test_the_admin_api_reads_no_file_outside_the_scenario_directories(client, secret_file,
                                                                       body):
    response = client.post("/__mockface/scenarios", json=body(*secret_file))
    assert response.status_code in (403, 404)
    assert_no_content(response)


def test_a_path_inside_the_search_directories_still_works(tmp_path, clock):
    from mockface.emulator import Emulator
    from mockface.scenarios import ScenarioEngine
    from mockface.web.app import create_app

    from .support import make_settings

    (tmp_path / "mine.yaml").write_text("rules:\n  - endpoint: livegetfour\n"
                                        "    respond: {code: 15}\n")
    (tmp_path / "notes.txt").write_text("rules: []\n")
    emulator = Emulator(make_settings(), clock, scenarios=ScenarioEngine([tmp_path]))
    client = create_app(emulator=emulator).test_client()
    ok = client.post("/__mockface/scenarios", json={"path": str(tmp_path / "mine.yaml")})
    assert ok.status_code == 201
    wrong_type = client.post("/__mockface/scenarios", json={"path": str(tmp_path / "notes.txt")})
    assert (wrong_type.status_code, wrong_type.get_json()) == (
        403, {"error": "only .yaml, .yml and .json files can be scenarios"})


def test_a_yaml_file_that_is_not_a_scenario_is_not_echoed(tmp_path, clock):
    from mockface.emulator import Emulator
    from mockface.scenarios import ScenarioEngine
    from mockface.web.app import create_app

    from .support import make_settings

    (tmp_path / "config.yaml").write_text("password: hunter2\nroot: daemon\n")
    emulator = Emulator(make_settings(), clock, scenarios=ScenarioEngine([tmp_path]))
    client = create_app(emulator=emulator).test_client()
    response = client.post("/__mockface/scenarios", json={"name": "config"})
    assert response.status_code == 400
    assert response.get_json()["problems"] == [
        f"{tmp_path / 'config.yaml'}:1: not a scenario: the top level must be a mapping with "
        "a 'rules' list"]


def test_the_scenario_header_takes_library_names_only(scenario_server, secret_file):
    import requests

    from .support import signed_now

    server, emulator = scenario_server
    shadow, creds = secret_file
    for value in ("../" * 12 + str(shadow).lstrip("/"), str(creds), str(shadow)):
        answer = requests.post(f"{server.url}/face/livegetfour", json={"appid": MAIN.appid},
                               headers={"Authorization": signed_now(),
                                        "X-Mockface-Scenario": value}, timeout=10)
        assert (answer.status_code, answer.json()) == (
            400, {"code": 3, "message": f"unknown scenario {value[:80]}"})
        assert "pw4f7a" not in answer.text and "daemonx" not in answer.text
    assert len(emulator.scenarios._header_activations) == 0  # refused names are not cached
    ok = requests.post(f"{server.url}/face/livegetfour", json={"appid": MAIN.appid},
                       headers={"Authorization": signed_now(),
                                "X-Mockface-Scenario": "happy-path"}, timeout=10)
    assert ok.json()["data"]["validate_data"] == "1234"


# -- YAML bombs and duplicate keys ------------------------------------------------------------

BOMB = "".join(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join(
    [f"*{chr(96 + i)}"] * 9 if i else ['"lol"'] * 9) + "]\n" for i in range(9)) + "rules: [*i]\n"


def test_an_alias_bomb_is_refused_quickly_with_a_short_message(client, tmp_path):
    import time

    started = time.monotonic()
    response = client.post("/__mockface/scenarios", json={"text": BOMB})
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert response.get_json()["problems"] == [
        "<text>:1: not valid YAML/JSON: the document expands to more than 100000 nodes "
        "(aliases repeating anchors)"]
    assert len(response.get_data()) < 500
    assert 0 < elapsed < 5.0  # unguarded, the expansion would not end in minutes
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    result = run_check(path)
    assert result.returncode == 1 and len(result.stderr) < 300


def run_check(path):
    from .support import run_mockface

    return run_mockface("check", str(path))


def test_anchors_that_stay_small_are_fine(client):
    text = ("rules:\n  - endpoint: livegetfour\n    respond: &answer {code: 15}\n"
            "  - endpoint: livedetectpicture\n    respond: *answer\n")
    assert client.post("/__mockface/scenarios", json={"text": text}).status_code == 201


def test_duplicate_keys_are_an_error_with_their_line(client):
    text = "rules:\n  - endpoint: livegetfour\n    endpoint: idcardcompare\n    respond: {}\n"
    response = client.post("/__mockface/scenarios", json={"text": text})
    assert response.get_json()["problems"] == [
        "<text>:3: not valid YAML/JSON: duplicate key 'endpoint' (first on line 2)"]


def test_long_values_are_clipped_in_problems(client):
    text = "rules:\n  - endpoint: " + "x" * 5000 + "\n"
    problems = client.post("/__mockface/scenarios", json={"text": text}).get_json()["problems"]
    assert all(len(problem) < 300 for problem in problems), problems


# -- DNS rebinding and cross-site requests ------------------------------------------------------

@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8080", "10.0.0.5",
                                  "localhost.attacker.example", "127.0.0.1.nip.io"])
def test_foreign_hosts_get_no_admin_answer_on_a_loopback_server(client, host):
    for method, route in (("GET", "requests"), ("POST", "reset"), ("GET", "health")):
        response = client.open(f"/__mockface/{route}", method=method, json={},
                               headers={"Host": host})
        assert response.status_code == 403
        assert response.get_json()["error"].startswith("the admin API answers only loopback")


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:9", "127.8.9.10",
                                  "[::1]:8080", "app.localhost", "LOCALHOST"])
def test_loopback_hosts_are_answered(client, host):
    response = client.post("/__mockface/reset", json={}, headers={"Host": host})
    assert response.status_code == 200


def test_a_form_post_cannot_change_anything(client, emulator):
    emulator.clock.freeze(1_800_000_000)
    for content_type in ("application/x-www-form-urlencoded", "text/plain",
                         "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.post("/__mockface/clock/unfreeze", data="", headers=headers)
        assert (response.status_code, response.get_json()) == (
            415, {"error": "changes need Content-Type: application/json"})
    assert emulator.clock.frozen


@pytest.mark.parametrize("origin", ["https://attacker.example", "null",
                                    "http://localhost.attacker.example"])
def test_a_foreign_origin_cannot_change_anything(client, emulator, origin):
    response = client.post("/__mockface/reset", json={}, headers={"Origin": origin})
    assert response.status_code == 403
    assert response.get_json()["error"].startswith("cross-site request refused")


def test_the_servers_own_origin_may_change_things(client):
    response = client.post("/__mockface/reset", json={},
                           headers={"Origin": "http://127.0.0.1:8080"})
    assert response.status_code == 200


def test_a_token_server_answers_any_host_that_sends_the_token(clock):
    from mockface.emulator import Emulator
    from mockface.web.app import create_app

    from .support import make_settings

    client = create_app(emulator=Emulator(make_settings(), clock),
                        admin_token="t0k").test_client()
    headers = {"Host": "mockface.internal:8080", "X-Mockface-Admin-Token": "t0k"}
    assert client.post("/__mockface/reset", json={}, headers=headers).status_code == 200
    del headers["X-Mockface-Admin-Token"]
    assert client.post("/__mockface/reset", json={}, headers=headers).status_code == 401


def test_an_empty_admin_token_is_refused_on_a_public_bind():
    from .support import run_mockface

    result = run_mockface("serve", "--host", "0.0.0.0", "--port", "0", "--admin-token", "")
    assert result.returncode == 2
    assert result.stderr == ("Error: --admin-token '' would leave the admin API open to "
                             "everyone who reaches 0.0.0.0; give a token or leave it out to "
                             "get one\n")


def test_an_empty_admin_token_on_loopback_means_none():
    from mockface.cli.serve import admin_token_for

    assert admin_token_for("127.0.0.1", "") is None
    assert admin_token_for("127.0.0.1", None) is None
    assert len(admin_token_for("0.0.0.0", None)) >= 32


# -- crafted media cannot make a request expensive -------------------------------------------

def crafted_jpeg(segments: int) -> bytes:
    """A JPEG start followed by ``segments`` empty COM segments, then a frame and a scan."""
    return (b"\xff\xd8" + b"\xff\xfe\x00\x02" * segments
            + b"\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00"
            + b"\xff\xda\x00\x02" + b"\x00" * 16 + b"\xff\xd9")


def test_a_jpeg_of_a_million_tiny_segments_costs_little():
    import time

    from mockface.core.media import MAX_JPEG_STEPS, inspect_image

    small = inspect_image(crafted_jpeg(10))
    assert (small.kind, small.decodes, small.width, small.height) == ("jpeg", True, 16, 16)
    assert inspect_image(crafted_jpeg(MAX_JPEG_STEPS - 10)).decodes
    started = time.process_time()
    huge = inspect_image(crafted_jpeg(1_500_000))
    spent = time.process_time() - started
    assert (huge.kind, huge.decodes) == ("jpeg", False)
    assert 0 <= spent < 0.1
    started = time.process_time()
    fill = inspect_image(b"\xff\xd8" + b"\xff" * 6_000_000)
    assert (fill.kind, fill.decodes) == ("jpeg", False)
    assert time.process_time() - started < 0.1


def test_a_png_of_countless_chunks_costs_little():
    import struct
    import time
    import zlib

    from mockface.core.media import inspect_image

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + \
            struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) \
        + chunk(b"tEXt", b"") * 500_000 + chunk(b"IDAT", b"x") + chunk(b"IEND", b"")
    started = time.process_time()
    info = inspect_image(png)
    assert (info.kind, info.decodes) == ("png", False)
    assert 0 <= time.process_time() - started < 0.2


def test_each_media_part_is_sniffed_once_per_request(call, monkeypatch):
    import mockface.products.legacy.model as model

    from .support import media

    counts = {"image": 0, "video": 0}
    real_image, real_video = model.inspect_image, model.inspect_video

    def count_image(data):
        counts["image"] += 1
        return real_image(data)

    def count_video(data):
        counts["video"] += 1
        return real_video(data)

    monkeypatch.setattr(model, "inspect_image", count_image)
    monkeypatch.setattr(model, "inspect_video", count_video)
    status, body = call.multipart("livedetectpicture", {"appid": MAIN.appid},
                                  {"image": media("face.jpg")})
    assert (status, body["code"], counts["image"]) == (200, 0, 1)
    call.multipart("livedetectfour", {"appid": MAIN.appid, "validate_data": "1234",
                                      "compare_flag": "true"},
                   {"video": media("video.mp4"), "card": media("card.jpg")})
    assert counts == {"image": 2, "video": 1}


# -- log lines cannot be forged ---------------------------------------------------------------

def test_every_logged_message_is_one_line_whatever_its_arguments():
    import io
    import logging

    from mockface.core.logs import configure

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    listener = configure("info", "text", stream)
    try:
        logging.getLogger("mockface.scenarios").info("activated scenario %s",
                                                     "x\nFORGED line\x00")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("mockface.error").exception("unexpected error on %s", "a\rb")
    finally:
        listener.stop()
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("mockface.scenarios activated scenario x\\u000aFORGED line\\u0000")
    assert lines[1].endswith("mockface.error unexpected error on a\\u000db")
    assert lines[2] == "Traceback (most recent call last):"  # tracebacks keep their lines
    assert not any(line.startswith("FORGED") for line in lines)


# -- socket-level limits ------------------------------------------------------------------------

def raw_exchange(url: str, request: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes to the server and read until it closes the connection."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_to_close(sock)


def test_a_huge_declared_body_is_refused_before_it_is_sent(live_server):
    import time

    started = time.monotonic()
    answer = raw_exchange(live_server.url, b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\n"
                          b"Content-Length: 300000000\r\n\r\n{")
    assert status_and_json(answer) == (400, {"code": 23, "message": "request body too large"})
    assert time.monotonic() - started < 5  # answered without waiting for 300 MB


@pytest.mark.parametrize("megabytes", [8, 11], ids=["over-the-endpoints-cap",
                                                   "over-the-servers-cap"])
def test_a_chunked_body_over_the_cap_is_code_23(live_server, megabytes):
    chunk = b"x" * 1_048_576
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(megabytes)) + \
        b"0\r\n\r\n"
    answer = raw_exchange(live_server.url, b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nConnection: close\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert status_and_json(answer) == (400, {"code": 23, "message": "request body too large"})


@pytest.mark.parametrize("headers,status", [
    (b"Content-Length: abc\r\n", 400),
    (b"Content-Length: 1\r\nContent-Length: 2\r\n", 400),
    (b"X-Long: " + b"a" * 300_000 + b"\r\n", 431),
], ids=["bad-length", "two-lengths", "huge-headers"])
def test_protocol_errors_are_json_code_3(live_server, headers, status):
    answer = raw_exchange(live_server.url, b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\n"
                          + headers + b"\r\n{}")
    assert status_and_json(answer) == (status, {"code": 3, "message": "invalid request"})


def test_a_slow_header_connection_is_closed(monkeypatch):
    import socket
    import time

    from mockface.web import server as server_module
    from mockface.web.app import create_app
    from mockface.web.server import start_background

    from .support import make_settings

    monkeypatch.setattr(server_module, "HEADER_TIMEOUT", 1.0)
    background = start_background(create_app(make_settings()))
    try:
        with socket.create_connection(("127.0.0.1", background.port), timeout=10) as slow, \
                socket.create_connection(("127.0.0.1", background.port), timeout=10) as idle:
            slow.sendall(b"POST /face/livegetfour HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server, without an answer
            waited = time.monotonic() - started
            assert 0.9 <= waited <= 4.0
            idle.settimeout(0.5)  # a connection that sent nothing is not a slow header
            with pytest.raises(socket.timeout):
                idle.recv(1)
    finally:
        background.stop()



def test_a_slow_connect_head_is_closed_like_any_slow_header(monkeypatch):
    import socket
    import time

    from mockface.web import server as server_module
    from mockface.web.app import create_app
    from mockface.web.server import start_background

    from .support import make_settings

    monkeypatch.setattr(server_module, "HEADER_TIMEOUT", 1.0)
    background = start_background(create_app(make_settings()))
    try:
        with socket.create_connection(("127.0.0.1", background.port), timeout=10) as slow:
            slow.sendall(b"CONNECT recognition.image.myqcloud.com:443 HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server, without a tunnel
            assert 0.9 <= time.monotonic() - started <= 4.0
    finally:
        background.stop()


# -- user regexes cannot stall the server --------------------------------------------------

def test_a_catastrophic_pattern_answers_at_once_and_stalls_nothing(scripted):
    import threading
    import time

    import requests

    from .support import signed_now

    server, engine = scripted
    engine.activate({"name": "evil", "rules": [
        {"endpoint": "livegetfour", "match": {"seq": {"regex": "(a+)+$"}},
         "respond": {"validate_data": "1111"}}]})
    results = {}

    def hostile():
        started = time.monotonic()
        answer = requests.post(f"{server.url}/face/livegetfour",
                               json={"appid": MAIN.appid, "seq": "a" * 4000 + "b"},
                               headers={"Authorization": signed_now()}, timeout=30)
        results["hostile"] = (answer.json()["code"], time.monotonic() - started)

    thread = threading.Thread(target=hostile)
    thread.start()
    started = time.monotonic()
    other = requests.post(f"{server.url}/face/livegetfour", json={"appid": MAIN.appid},
                          headers={"Authorization": signed_now()}, timeout=30)
    other_took = time.monotonic() - started
    thread.join(timeout=30)
    # (a+)+$ on 4,000 a's backtracks for longer than the universe's age: 5 s is generous
    assert other.json()["code"] == 0 and 0 < other_took < 5.0
    code, took = results["hostile"]
    assert code == 0 and 0 < took < 5.0  # default answer: the pattern did not match


def test_patterns_re2_cannot_run_are_refused_by_check(client):
    text = "rules:\n  - match: {seq: {regex: '(a)\\1'}}\n    respond: {}\n"
    problems = client.post("/__mockface/scenarios", json={"text": text}).get_json()["problems"]
    assert problems == ["<text>:2: match.seq.regex is not a valid RE2 regular expression: "
                        "invalid escape sequence: \\1"]


def test_values_over_the_match_limit_never_match_a_regex():
    from mockface.core.scenarios.model import MAX_MATCHED
    from mockface.scenarios import parse_scenario

    scenario = parse_scenario({"rules": [{"match": {"seq": {"regex": "a*"}}, "respond": {}}]})
    [condition] = scenario.rules[0].conditions
    assert condition.test({"seq": "a" * MAX_MATCHED}) is None
    assert condition.test({"seq": "a" * (MAX_MATCHED + 1)}) == \
        f"seq is longer than {MAX_MATCHED} characters (a regex never matches it)"


def test_a_host_name_binds_one_address_with_mockfaces_channel():
    from waitress.server import TcpWSGIServer

    from mockface.web import fastpath
    from mockface.web import server as server_module
    from mockface.web.app import create_app

    from .support import make_settings

    server = server_module.create_server(create_app(make_settings()), "localhost", 0)
    try:
        assert isinstance(server, TcpWSGIServer)
        assert server.channel_class is fastpath.Channel
        assert server.host in ("127.0.0.1", "::1") and server.port > 0
    finally:
        fastpath.shutdown(server, in_loop_thread=True)  # never ran: close it here


def test_stopping_a_server_whose_trigger_is_gone_still_closes_it():
    from mockface.web.app import create_app
    from mockface.web.server import start_background

    from .support import make_settings

    background = start_background(create_app(make_settings()))
    background.server.trigger.close()  # as if its wake-up pipe had been closed early
    background.stop()
    # The loop returned and closed the listening socket.  (Probing the port instead would
    # race with other test processes, which may be handed the freed port at once.)
    assert not background.thread.is_alive()
    assert background.server.socket is None  # wasyncore drops it on close()

