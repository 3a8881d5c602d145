"""Requests answered at once, on the server's event loop: which ones, under which scenarios,
and that nothing that can wait is ever answered there."""
from __future__ import annotations

import io
import json
import socket
import threading
import time

import pytest
import requests

from mockface.core.product import Request
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.scenarios import ScenarioEngine, search_path
from mockface.web.app import AT_ONCE_BODY_LIMIT, create_app
from mockface.web.server import start_background

from .support import MAIN, make_settings, read_answers, signed_now, wait_until

LIVEGETFOUR = json.dumps({"appid": MAIN.appid}).encode()


def emulator_with_library() -> Emulator:
    return Emulator(make_settings(), scenarios=ScenarioEngine(search_path()),
                    allow_scenario_header=True)


def livegetfour(emulator: Emulator, active=None):
    headers = {"authorization": signed_now(), "content-type": "application/json",
               "content-length": str(len(LIVEGETFOUR))}
    return emulator.serve(REGISTRY.owner("/face/livegetfour"), Request(
        "POST", "/face/livegetfour", "", "", headers, io.BytesIO(LIVEGETFOUR), active=active))


def rule(**respond) -> dict:
    return {"name": "t", "rules": [{"endpoint": "livegetfour", "respond": respond}]}


# -- which scenarios may be answered at once ------------------------------------------------

@pytest.mark.parametrize("respond, waits", [
    ({"code": 9}, False),
    ({"delay_ms": 0}, False),
    ({"delay_ms": [0, 0]}, False),
    ({"fault": "connection_reset"}, False),
    ({"delay_ms": 1}, True),
    ({"delay_ms": [0, 5]}, True),
    ({"fault": {"timeout_ms": 100}}, True),
])
def test_a_rule_waits_when_it_has_a_delay_or_a_timeout(respond, waits):
    emulator = emulator_with_library()
    emulator.scenarios.activate(rule(**respond))
    assert emulator.scenarios.waits(emulator.scenarios.snapshot()) is waits
    assert (emulator.at_once_view() is None) is waits


def test_a_sequence_with_one_waiting_step_waits():
    emulator = emulator_with_library()
    emulator.scenarios.activate({"name": "t", "rules": [{"endpoint": "livegetfour", "respond": [
        {"code": 9}, {"code": 0, "delay_ms": 300}]}]})
    assert emulator.at_once_view() is None


def test_the_view_is_a_snapshot_of_the_active_scenarios():
    emulator = emulator_with_library()
    assert emulator.at_once_view() == ()
    activation = emulator.scenarios.activate(rule(code=9))
    assert emulator.at_once_view() == (activation,)


def test_a_request_answered_under_a_snapshot_ignores_scenarios_activated_since():
    """The server takes the snapshot when it decides to answer at once; a delay activated
    after that must not hold the event loop, and does not apply to that request."""
    emulator = emulator_with_library()
    view = emulator.at_once_view()
    emulator.scenarios.activate(rule(code=9, delay_ms=60_000))
    started = time.perf_counter()
    exchange = livegetfour(emulator, active=view)
    assert time.perf_counter() - started < 5
    assert (exchange.reply.code, exchange.rule, exchange.delay_ms) == (0, None, 0)
    assert emulator.at_once_view() is None


def test_a_request_is_answered_by_the_rules_of_its_snapshot():
    emulator = emulator_with_library()
    emulator.scenarios.activate({"name": "nine", "rules": [
        {"endpoint": "livegetfour", "respond": {"code": 9}}]})
    view = emulator.at_once_view()
    emulator.scenarios.activate({"name": "ten", "rules": [
        {"endpoint": "livegetfour", "respond": {"code": 10}}]}, first=True)
    assert livegetfour(emulator, active=view).reply.code == 9
    assert livegetfour(emulator).reply.code == 10  # without one: the scenarios active now
    assert livegetfour(emulator, active=()).reply.code == 0


@pytest.mark.parametrize("path, headers, length, at_once", [
    ("/face/livegetfour", {}, 20, True),
    ("/", {"CONTENT_TYPE": "application/json"}, 2, True),  # API 3.0
    ("/face/idcardcompare", {}, AT_ONCE_BODY_LIMIT, True),
    ("/face/idcardcompare", {}, AT_ONCE_BODY_LIMIT + 1, False),
    ("/face/livegetfour", {"X_MOCKFACE_SCENARIO": "slow-service"}, 20, False),
    ("/__mockface/health", {}, 0, False),  # the admin API (Flask)
    ("/__mockface/scenarios", {}, 20, False),
    ("/other", {}, 0, False),
])
def test_only_small_requests_to_the_emulated_apis_without_a_scenario_header(
        path, headers, length, at_once):
    app = create_app(emulator=emulator_with_library())
    assert (app.wsgi_app.at_once(path, headers, length) is not None) is at_once


# -- through the server -------------------------------------------------------------------------

@pytest.fixture
def one_worker():
    """A server with a single worker thread and the scenario library (header allowed)."""
    emulator = emulator_with_library()
    server = start_background(create_app(emulator=emulator), threads=1)
    yield server, emulator
    server.stop()


def post(server, headers: dict | None = None) -> requests.Response:
    return requests.post(f"{server.url}/face/livegetfour", json={"appid": MAIN.appid},
                         headers={"Authorization": signed_now(), **(headers or {})}, timeout=10)


def test_a_small_request_is_answered_while_every_worker_is_held(one_worker):
    server, _ = one_worker
    held_until: list[float] = []

    def held_request() -> None:  # a header's scenario: to the one worker, held 800-1500 ms
        post(server, {"X-Mockface-Scenario": "slow-service"})
        held_until.append(time.monotonic())

    held = threading.Thread(target=held_request)
    held.start()
    wait_until(lambda: server.server.task_dispatcher.active_count == 1)
    answer = post(server)
    answered = time.monotonic()
    held.join()
    assert answer.json()["code"] == 0
    # answered on the event loop, well before the held request (not queued behind it)
    assert answered < held_until[0] - 0.5


def test_with_a_delay_active_every_request_goes_to_a_worker(one_worker):
    server, emulator = one_worker
    emulator.scenarios.activate({"name": "slow", "rules": [
        {"match": {"seq": "slow"}, "respond": {"delay_ms": 1000}}]})
    held = threading.Thread(target=requests.post, args=(f"{server.url}/face/livegetfour",),
                            kwargs={"json": {"appid": MAIN.appid, "seq": "slow"}, "timeout": 10,
                                    "headers": {"Authorization": signed_now()}})
    held.start()
    wait_until(lambda: server.server.task_dispatcher.active_count == 1)
    started = time.perf_counter()
    answer = post(server)  # waits for the one worker: the event loop never holds a request
    waited = time.perf_counter() - started
    held.join()
    assert answer.json()["code"] == 0
    assert 0.2 < waited < 5


def test_pipelined_requests_are_answered_in_order_at_once_or_not(live_server):
    """The second body is over AT_ONCE_BODY_LIMIT (a worker answers it), the others are not."""
    seqs = ["1", "2" + "x" * AT_ONCE_BODY_LIMIT, "3", "4"]
    bodies = [json.dumps({"appid": MAIN.appid, "seq": seq}).encode() for seq in seqs]
    pipelined = b"".join(
        b"POST /face/livegetfour HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        b"Authorization: %s\r\nContent-Length: %d\r\n\r\n%s"
        % (signed_now().encode(), len(body), body) for body in bodies)
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(pipelined)
        answers = [json.loads(answer) for answer in read_answers(sock, len(bodies))]
    assert [answer["code"] for answer in answers] == [0, 0, 0, 0]
    entries = live_server.emulator.journal.query()[-4:]
    assert [entry.fields["seq"][0] for entry in entries] == ["1", "2", "3", "4"]
