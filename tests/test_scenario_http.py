"""Scenario faults and delays through a real server, and `mockface serve` with scenarios."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from mockface.core.config import DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from mockface.products.legacy.signature import sign
from mockface.scenarios import ScenarioEngine

from .support import ServeProcess, run_mockface, signed_now, valid_request


def post(server, endpoint: str, authorization="default", **kwargs):
    headers = kwargs.pop("headers", {})
    if authorization == "default":
        authorization = signed_now()
    if authorization is not None:
        headers["Authorization"] = authorization
    return requests.post(f"{server.url}/face/{endpoint}", headers=headers, timeout=10,
                         **{**valid_request(endpoint), **kwargs})


def activate(engine, respond, **rule):
    engine.activate({"name": "t", "rules": [{"respond": respond, **rule}]})


def test_fault_malformed_json(scripted):
    server, engine = scripted
    activate(engine, {"fault": "malformed_json"})
    response = post(server, "livegetfour")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        response.json()


def test_fault_empty_body(scripted):
    server, engine = scripted
    activate(engine, {"fault": "empty_body"})
    response = post(server, "livegetfour")
    assert (response.status_code, response.content) == (200, b"")


def test_fault_raw_answer(scripted):
    server, engine = scripted
    activate(engine, {"fault": {"http_status": 502, "body": "bad gateway",
                                "content_type": "text/html"}})
    response = post(server, "idcardcompare")
    assert (response.status_code, response.text) == (502, "bad gateway")
    assert response.headers["Content-Type"].startswith("text/html")


def test_fault_connection_reset_closes_without_answer(scripted):
    server, engine = scripted
    activate(engine, {"fault": "connection_reset"}, times=1)
    with pytest.raises(requests.ConnectionError):
        post(server, "livegetfour")
    assert post(server, "livegetfour").json()["code"] == 0  # the server is fine afterwards


@pytest.mark.parametrize("fault,client_gets", [
    ("malformed_json", 200), ("empty_body", 200), ({"http_status": 503, "body": "x"}, 503),
    ("connection_reset", None), ({"timeout_ms": 50}, None)],
    ids=["malformed_json", "empty_body", "raw", "connection_reset", "timeout"])
def test_the_journal_reports_the_status_the_client_got(scenario_server, scripted, fault,
                                                        client_gets):
    """Whether a fault drops the connection is decided in one place: the journal never
    reports a status the client did not get, nor a drop the client did not see."""
    server, engine = scripted
    _, emulator = scenario_server
    emulator.journal.clear()
    activate(engine, {"fault": fault})
    try:
        got = post(server, "livegetfour").status_code
    except requests.ConnectionError:
        got = None
    [entry] = emulator.journal.query()
    assert (got, entry.http_status) == (client_gets, client_gets)


def test_fault_timeout_holds_then_drops(scripted):
    server, engine = scripted
    activate(engine, {"fault": {"timeout_ms": 300}}, times=1)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        post(server, "livegetfour")
    assert time.monotonic() - started >= 0.3


def test_client_timeout_shorter_than_the_hold(scripted):
    server, engine = scripted
    activate(engine, {"fault": {"timeout_ms": 3000}}, times=1)
    with pytest.raises(requests.Timeout):
        requests.post(f"{server.url}/face/livegetfour", json={"appid": "1000001"},
                      headers={"Authorization": signed_now()}, timeout=0.3)


def test_fixed_delay_is_a_lower_bound(scripted):
    server, engine = scripted
    activate(engine, {"delay_ms": 250})
    started = time.monotonic()
    assert post(server, "livegetfour").json()["code"] == 0
    assert time.monotonic() - started >= 0.25


def test_random_delays_come_from_the_seeded_generator():
    first, second = ScenarioEngine(seed=3), ScenarioEngine(seed=3)
    draws = [first.draw_delay((100, 200)) for _ in range(20)]
    assert draws == [second.draw_delay((100, 200)) for _ in range(20)]
    assert all(100 <= d <= 200 for d in draws) and len(set(draws)) > 1


def test_slow_requests_do_not_starve_fast_ones(scripted):
    server, engine = scripted
    engine.activate({"name": "slow", "rules": [
        {"match": {"seq": "slow"}, "respond": {"delay_ms": 2000}}]})
    slow = [threading.Thread(target=post, args=(server, "livegetfour"),
                             kwargs={"json": {"appid": "1000001", "seq": "slow"}})
            for _ in range(8)]
    for thread in slow:
        thread.start()
    assert post(server, "livegetfour").json()["code"] == 0
    still_held = sum(thread.is_alive() for thread in slow)
    for thread in slow:
        thread.join()
    assert still_held == 8  # the fast answer came while all eight were still being held


def test_header_selection_over_http(scripted):
    server, _ = scripted
    response = post(server, "livegetfour", headers={"X-Mockface-Scenario": "rate-limited"})
    assert (response.status_code, response.json()["code"]) == (429, 15)
    assert post(server, "livegetfour").json()["code"] == 0


# -- mockface serve ---------------------------------------------------------------------------

def default_signature() -> str:
    """A signature for the built-in development app, issued now."""
    return sign(DEFAULT_APPID, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, now=int(time.time()))


def test_serve_activates_scenarios_in_order(tmp_path):
    first = tmp_path / "first.yaml"
    first.write_text("rules:\n  - match: {seq: a}\n    respond: {validate_data: '1111'}\n")
    second = tmp_path / "second.yaml"
    second.write_text("rules:\n  - respond: {validate_data: '2222'}\n")
    server = ServeProcess("--scenario", str(first), "--scenarios", str(tmp_path),
                          "--scenario", "second")
    try:
        assert "scenarios:  first, second" in server.banner
        header = default_signature()

        def code(seq):
            return requests.post(f"{server.url}/face/livegetfour", timeout=10,
                                 json={"appid": DEFAULT_APPID, "seq": seq},
                                 headers={"Authorization": header}).json()["data"]
        assert code("a") == {"validate_data": "1111"}
        assert code("b") == {"validate_data": "2222"}
    finally:
        log = server.stop()
    assert "rule=first#1" in log and "rule=second#1" in log


def test_serve_refuses_an_invalid_scenario(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - respond: {similarity: 200}\n")
    result = run_mockface("serve", "--scenario", str(bad))
    assert result.returncode != 0
    assert f"{bad}:2: similarity must be a number from 0 to 100, got 200" in result.stderr
    missing = run_mockface("serve", "--scenario", "nope")
    assert missing.returncode != 0 and "unknown scenario 'nope'" in missing.stderr


def test_serve_watch_reloads_a_changed_file(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("rules:\n  - respond: {validate_data: '1111'}\n")
    server = ServeProcess("--scenario", str(path), "--watch")
    header = default_signature()

    def code():
        return requests.post(f"{server.url}/face/livegetfour", json={"appid": DEFAULT_APPID},
                             headers={"Authorization": header}, timeout=10
                             ).json()["data"]["validate_data"]
    try:
        assert code() == "1111"
        path.write_text("rules:\n  - respond: {validate_data: '2222'}\n")
        deadline = time.monotonic() + 15
        while code() != "2222":  # poll until the watcher has reloaded
            assert time.monotonic() < deadline, "the file was never reloaded"
            time.sleep(0.1)
    finally:
        log = server.stop()
    assert "reloaded scenario w" in log
