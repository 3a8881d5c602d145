"""Every non-zero answer explains itself: the reason on the access line and as the journal's
``detail``; 213 is journaled; log lines are escaped; JSON logs; admin actions are logged."""
from __future__ import annotations

import io
import json
import logging
import queue
import re
import time

import pytest

from mockface.core.identity import with_check_digit
from mockface.core.logs import (
    TEXT_FORMAT,
    JsonFormatter,
    LogWriter,
    SafeFormatter,
    configure,
    log_access,
    log_value,
)

from .support import ID_NAME, MAIN, NOW, REGISTERED_NAME, REGISTERED_NUMBER, auth, media


def access_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mockface.access"]


@pytest.fixture
def logged(caplog):
    caplog.set_level(logging.INFO, logger="mockface")
    return caplog


def last_entry(emulator) -> dict:
    return emulator.journal.query()[-1].as_dict()


def test_future_t_reason_in_log_line_and_journal(call, emulator, logged):
    status, body = call.json("livegetfour", {"appid": MAIN.appid},
                             authorization=auth(now=NOW + 1000))
    assert (status, body) == (400, {"code": 5, "message": "sign format error"})
    reason = "t is 1000 s in the future (skew 900 s)"
    assert access_lines(logged)[-1] == (f'POST /face/livegetfour appid=1000001 code=5 status=400 '
                                        f'{access_lines(logged)[-1].split()[5]} rule=default '
                                        f'reason="{reason}"')
    assert last_entry(emulator)["detail"] == reason


def test_bad_id_checksum_reason(call, emulator, logged):
    number = with_check_digit("11010519900307123")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    status, body = call.json("idcardcompare", {"appid": MAIN.appid, "idcard_number": wrong,
                                               "idcard_name": ID_NAME, "url": "http://x/y.jpg"})
    assert (status, body["code"]) == (400, -5804)
    reason = f"idcard_number {wrong}: GB 11643 check digit or birth date invalid"
    assert access_lines(logged)[-1].endswith(f'reason="{reason}"')
    assert last_entry(emulator)["detail"] == reason


def test_wrong_secret_key_reason(call, emulator, logged):
    from mockface.products.legacy.signature import sign

    status, body = call.json("livegetfour", {"appid": MAIN.appid},
                             authorization=sign(MAIN.appid, "AKIDmain", "not-it", now=NOW))
    assert (status, body) == (401, {"code": 14, "message": "sign no pass"})
    reason = "HMAC-SHA1 does not match the secret key of AKIDmain"
    assert access_lines(logged)[-1].endswith(f'reason="{reason}"')
    assert last_entry(emulator)["detail"] == reason


def test_registry_mismatch_reason(call, emulator):
    status, body = call.json("idcardcompare", {"appid": MAIN.appid,
                                               "idcard_number": REGISTERED_NUMBER,
                                               "idcard_name": ID_NAME, "url": "http://x/y.jpg"})
    assert (status, body["code"]) == (400, -5803)
    assert last_entry(emulator)["detail"] == ("idcard_name differs from the identity "
                                              f"registry's name for {REGISTERED_NUMBER}")


def test_in_band_failure_has_a_reason_too(call, emulator, logged):
    status, body = call.multipart("livedetectfour", {"appid": MAIN.appid,
                                                     "validate_data": "1234",
                                                     "compare_flag": "false"},
                                  {"video": media("video-small.mp4")})
    assert (status, body["code"], body["data"]["live_status"]) == (200, 0, -5015)
    assert "detail" not in body and "reason" not in json.dumps(body)
    detail = last_entry(emulator)["detail"]
    assert detail.startswith("live_status -5015: video frame ") and \
        detail.endswith(" is below 270x480")
    assert access_lines(logged)[-1].endswith(f'reason="{detail}"')


def test_plain_success_has_no_reason(call, emulator, logged):
    status, body = call.json("livegetfour", {"appid": MAIN.appid})
    assert (status, body["code"]) == (200, 0)
    assert last_entry(emulator)["detail"] is None
    assert "reason=" not in access_lines(logged)[-1]


def test_scripted_answer_names_its_rule(call, emulator):
    emulator.scenarios.activate({"name": "lips", "rules": [
        {"endpoint": "livegetfour", "respond": {"code": 15}}]})
    status, body = call.json("livegetfour", {"appid": MAIN.appid})
    assert (status, body["code"]) == (429, 15)
    assert last_entry(emulator)["detail"] == "scripted by lips#1"


def test_unexpected_error_is_journaled_and_logged(call, emulator, logged, monkeypatch):
    def explode(endpoint, body):
        raise RuntimeError("boom: secret internals")

    monkeypatch.setattr(emulator.handlers["legacy"].service, "handle", explode)
    status, body = call.json("livegetfour", {"appid": MAIN.appid})
    assert (status, body) == (500, {"code": 213, "message": "internal error"})
    assert "boom" not in json.dumps(body) and "Traceback" not in json.dumps(body)
    entry = last_entry(emulator)
    assert (entry["code"], entry["http_status"], entry["appid"]) == (213, 500, MAIN.appid)
    assert entry["detail"] == "unexpected RuntimeError (see the server log)"
    assert entry["signature"]["status"] == "passed"  # what was understood is kept
    errors = [r for r in logged.records if r.name == "mockface.error"]
    assert errors and errors[-1].exc_info is not None
    assert "code=213 status=500" in access_lines(logged)[-1]


def test_client_values_cannot_forge_log_lines(call, logged):
    call.json("livegetfour", {"appid": "1\nPOST /face/livegetfour appid=123 code=0\x00"},
              authorization=None)
    line = access_lines(logged)[-1]
    assert "\n" not in line and "\x00" not in line
    assert 'appid="1\\nPOST /face/livegetfour appid=123 code=0\\u0000"' in line


def test_log_value_escapes_every_control_character():
    assert log_value("plain-value_1.2:3") == "plain-value_1.2:3"
    assert log_value(None) == "-"
    assert log_value("a b") == '"a b"'
    assert log_value("\r\n\t\x7f\x85\u2028") == '"\\r\\n\\t\\u007f\\u0085\\u2028"'
    assert log_value("x" * 500) == '"' + "x" * 200 + '...(+300)"'


def test_json_log_format_carries_the_fields():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("mockface.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        log_access("POST", "/face/livegetfour", appid="1\n2", code=9, status=401,
                   latency_ms=1.23456, reason="e expired 5 s ago")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "info" and record["logger"] == "mockface.access"
    assert (record["method"], record["path"], record["appid"], record["code"], record["status"],
            record["latency_ms"], record["reason"]) == \
        ("POST", "/face/livegetfour", "1\n2", 9, 401, 1.235, "e expired 5 s ago")


def test_the_serve_writer_prints_access_lines_itself_and_other_handlers_still_get_them():
    """configure() (the serve command's logging) hands access records to its writer
    directly; a handler someone adds to mockface.access still receives them."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    writer = configure("info", "text", stream)
    extra = io.StringIO()
    added = logging.StreamHandler(extra)
    try:
        log_access("POST", "/face/livegetfour", appid="1", code=0, status=200, latency_ms=0.4)
        logging.getLogger("mockface.access").addHandler(added)
        log_access("POST", "/face/livedetectfour", appid="2", code=-5008, status=200,
                   latency_ms=2.0, reason="wrong digits")
    finally:
        logging.getLogger("mockface.access").removeHandler(added)
        writer.stop()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    lines = [line.split(" ", 2)[2] for line in stream.getvalue().splitlines()]
    assert lines == [
        "mockface.access POST /face/livegetfour appid=1 code=0 status=200 0.4ms rule=default",
        'mockface.access POST /face/livedetectfour appid=2 code=-5008 status=200 2.0ms '
        'rule=default reason="wrong digits"']
    assert extra.getvalue() == ('POST /face/livedetectfour appid=2 code=-5008 status=200 '
                                '2.0ms rule=default reason="wrong digits"\n')
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}",
                        " ".join(stream.getvalue().split(" ", 2)[:2]))


def test_admin_actions_are_logged(client, logged):
    def admin_lines():
        return [r.getMessage() for r in logged.records if r.name == "mockface.admin"]

    client.post("/__mockface/clock/freeze", json={"at": 1_800_000_000})
    client.post("/__mockface/scenarios", json={"document": {"name": "x", "rules": [
        {"endpoint": "livegetfour", "respond": {"code": 15}}]}})
    client.post("/__mockface/reset", json={"appid": "1000001"})
    client.post("/__mockface/apps", json={"appid": "ns1"})
    client.delete("/__mockface/apps", json={"appid": "ns1"})
    assert admin_lines() == [
        "clock frozen at=1800000000.0", "scenario activated name=x",
        "reset appid=1000001", admin_lines()[3], "app deleted appid=ns1"]
    assert admin_lines()[3].startswith("app created appid=ns1 secret_id=AKIDmockface")


def test_identities_registered_over_the_admin_api(client, call, emulator):
    number = with_check_digit("44030419851120457")
    answer = client.post("/__mockface/identities",
                         json={"idcard_number": number, "idcard_name": "王五", "appid": "1000001"})
    assert answer.status_code == 201
    body = {"appid": MAIN.appid, "idcard_number": number, "url": "http://x/y.jpg"}
    assert call.json("idcardcompare", {**body, "idcard_name": ID_NAME})[1]["code"] == -5803
    assert call.json("idcardcompare", {**body, "idcard_name": "王五"})[1]["code"] == 0
    emulator.reset("1000001")
    assert call.json("idcardcompare", {**body, "idcard_name": ID_NAME})[1]["code"] == 0
    # configured identities survive any reset
    emulator.reset()
    emulator.clock.freeze(NOW)  # a full reset also returns the clock to real time
    assert call.json("idcardcompare", {**body, "idcard_number": REGISTERED_NUMBER,
                                       "idcard_name": REGISTERED_NAME})[1]["code"] == 0
    bad = client.post("/__mockface/identities", json={"idcard_number": "12", "idcard_name": "王五"})
    assert (bad.status_code, bad.get_json()) == (
        400, {"error": "idcard_number must be 17 digits and a digit or X"})


def test_deleting_an_app_only_works_for_created_ones(client):
    created = client.post("/__mockface/apps", json={"appid": "ns2"}).get_json()
    assert client.delete("/__mockface/apps", json={"appid": "ns2"}).get_json() == \
        {"deleted": "ns2"}
    missing = client.delete("/__mockface/apps", json={"appid": "ns2"})
    assert missing.status_code == 404
    configured = client.delete("/__mockface/apps", json={"appid": MAIN.appid})
    assert configured.status_code == 404
    assert created["secret_id"] not in json.dumps(client.get("/__mockface/config").get_json())


class _CountingStream(io.StringIO):
    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_the_writer_gathers_a_busy_servers_lines_into_few_writes():
    """Woken by a record, the writer waits LINGER before it writes all that arrived: 20 lines
    logged over about 10 ms (a busy server) take one or two writes, not 20."""
    stream = _CountingStream()
    records: queue.SimpleQueue = queue.SimpleQueue()
    writer = LogWriter(records, SafeFormatter(TEXT_FORMAT), stream).start()
    for number in range(20):
        records.put(logging.LogRecord("mockface.access", logging.INFO, "", 0, f"line {number}",
                                      None, None))
        time.sleep(0.0005)  # pacing the lines as requests would, not waiting for the writer
    writer.stop()
    assert [line.rsplit(" ", 1)[1] for line in stream.getvalue().splitlines()] == \
        [str(number) for number in range(20)]
    assert 1 <= stream.writes <= 2
