"""The Redis state backend against a real redis-server: several emulators (in one process,
in several processes, or under ``--workers``) sharing one Redis act as one emulator."""
from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from mockface.core import redis_batch
from mockface.core.config import App, builtin_app
from mockface.core.journal import summarise_media
from mockface.core.redis_batch import Batcher, DirectCalls, closed_by_peer
from mockface.core.redis_state import (
    QUICK_ROUND_TRIP_SECONDS,
    RedisCodeBook,
    RedisState,
    batching_of,
    derived_code,
    shown_url,
    split_url,
)
from mockface.core.state import StateUnavailable
from mockface.core.stores import Codes
from mockface.emulator import Emulator
from mockface.products.legacy.signature import sign
from mockface.scenarios import ScenarioEngine
from mockface.web.app import create_app
from mockface.products.legacy.stores import IDENTITIES, LIP_CODES, ONCE_SIGNATURES, RATE_WINDOWS
from mockface.products.faceid.stores import ACTION_SEQUENCES

from .redis_server import RedisServer, open_state, shared_emulator
from .support import (
    MAIN,
    NOW,
    ServeProcess,
    auth,
    make_settings,
    media,
    run_concurrently,
    wait_until,
)


@pytest.fixture
def pair(redis_server):
    """Two emulators on one Redis prefix: what two server processes see."""
    url = redis_server.url()
    first, second = shared_emulator(url), shared_emulator(url)
    first.clock.freeze(NOW)
    app_of(first), app_of(second)
    yield first, second
    first.state.close()
    second.state.close()


_apps: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def app_of(emulator: Emulator):
    """The emulator's app, made once: Flask compiles its routes with ``ast``, which CPython
    3.11 cannot do from several threads at once (SystemError, "AST constructor recursion
    depth mismatch"), so the concurrent tests make theirs first (``pair``)."""
    app = _apps.get(emulator)
    if app is None:
        app = _apps[emulator] = create_app(emulator=emulator)
    return app


def post_livegetfour(emulator: Emulator, authorization: str) -> dict:
    client = app_of(emulator).test_client()
    return client.post("/face/livegetfour", json={"appid": MAIN.appid},
                       headers={"Authorization": authorization}).get_json()


# -- the stores, shared ------------------------------------------------------------------

def test_a_once_signature_is_used_exactly_once_by_20_concurrent_uses_over_two_emulators(pair):
    header = auth(once=True, fileid="race")
    turn = iter(range(20))
    codes = run_concurrently(lambda: post_livegetfour(pair[next(turn) % 2], header)["code"], 20)
    assert sorted(codes) == [0] + [13] * 19


def test_scenario_sequence_steps_are_never_given_twice_across_emulators(pair):
    first, second = pair
    steps = [f"{n:04d}" for n in range(1, 21)]
    first.scenarios.activate({"name": "steps", "rules": [{
        "endpoint": "livegetfour", "respond": [{"validate_data": s} for s in steps]}]})
    header = auth()
    turn = iter(range(20))
    answers = run_concurrently(
        lambda: post_livegetfour(pair[next(turn) % 2], header)["data"]["validate_data"], 20)
    assert sorted(answers) == steps
    (described,) = [a.describe() for a in second.scenarios.active()]
    assert described["rules"][0]["answered"] == 20


def test_times_are_shared_a_rule_answers_exactly_times_across_emulators(pair):
    first, second = pair
    second.scenarios.activate({"name": "twice", "rules": [{
        "endpoint": "livegetfour", "times": 2, "respond": {"code": 9}}]})
    header = auth()
    turn = iter(range(10))
    codes = run_concurrently(lambda: post_livegetfour(pair[next(turn) % 2], header)["code"], 10)
    assert sorted(codes) == [0] * 8 + [9, 9]


def test_the_journal_of_one_emulator_is_read_by_the_other(pair):
    first, second = pair
    code = post_livegetfour(first, auth())["data"]["validate_data"]
    (entry,) = second.journal.query(endpoint="livegetfour")
    assert (entry.appid, entry.code, entry.http_status, entry.data) == \
        (MAIN.appid, 0, 200, {"validate_data": code})
    assert second.state.store(LIP_CODES).issued(MAIN.appid) == [code]
    assert len(second.journal) == 1


def test_a_large_upload_s_sha256_is_in_the_journal_the_other_emulator_reads(pair):
    first, second = pair
    extra = 2 * 1024 * 1024  # a free box: the fixture video grows past EAGER_DIGEST_SIZE
    video = media("video.mp4") + struct.pack(">I4s", 8 + extra, b"free") + os.urandom(extra)
    answer = app_of(first).test_client().post(
        "/face/livedetectfour", headers={"Authorization": auth()}, data={
            "appid": MAIN.appid, "validate_data": "1234", "compare_flag": "false",
            "video": (io.BytesIO(video), "v.mp4")}).get_json()
    assert answer["code"] == 0
    (entry,) = second.journal.query(endpoint="livedetectfour")
    assert entry.media["video"] == {"size": len(video),
                                    "sha256": hashlib.sha256(video).hexdigest(),
                                    "type": "mp4", "width": 480, "height": 640}


def test_journal_ids_are_unique_across_emulators_and_the_stream_is_bounded(redis_server):
    url = redis_server.url()
    first, second = shared_emulator(url), shared_emulator(url)
    first.clock.freeze(NOW)
    for turn in range(8):
        post_livegetfour((first, second)[turn % 2], auth())
    ids = [e.id for e in first.journal.query()]
    assert ids == list(range(1, 9))
    small = open_state(url, journal_size=5)
    small.journal.record(time=NOW, endpoint="x", appid=None, fields={}, media={},
                         signature={}, rule="default", http_status=200, code=0, data=None,
                         fault=None, detail=None, latency_ms=1.0)
    assert [e.id for e in small.journal.query()] == [5, 6, 7, 8, 9]


def test_clock_loose_mode_and_apps_changed_on_one_emulator_reach_the_other(pair):
    first, second = pair
    second.state.sync()
    assert second.clock.frozen and second.clock.now() == NOW
    first.clock.advance(30)
    first.state.set_loose("777", True)
    first.state.add_app(first.keyring, App("4242", {"AKIDnew": "new-key"}))
    second.state.sync()
    assert second.clock.now() == NOW + 30
    assert "777" in second.loose_appids
    assert second.keyring.owner_of("AKIDnew").appid == "4242"
    first.state.remove_app(first.keyring, "4242")
    first.clock.unfreeze()
    second.state.sync()
    assert second.keyring.app("4242") is None and not second.clock.frozen


def test_an_app_added_by_one_emulator_signs_requests_to_the_other(pair):
    first, second = pair
    first.state.add_app(first.keyring, App("4242", {"AKIDnew": "new-key"}))
    header = sign("4242", "AKIDnew", "new-key", now=NOW)
    client = create_app(emulator=second).test_client()
    answer = client.post("/face/livegetfour", json={"appid": "4242"},
                         headers={"Authorization": header}).get_json()
    assert answer["code"] == 0


def test_adding_an_appid_another_emulator_added_is_refused(pair):
    first, second = pair
    first.state.add_app(first.keyring, App("4242", {"AKIDone": "k1"}))
    with pytest.raises(ValueError, match="4242"):
        second.state.add_app(second.keyring, App("4242", {"AKIDtwo": "k2"}))
    assert second.keyring.owner_of("AKIDtwo") is None


def test_rate_windows_are_shared(redis_server):
    url = redis_server.url()
    limited = {"rate_limit": 3}
    first, second = (shared_emulator(url, apps=(App(MAIN.appid, MAIN.secrets, **limited),)),
                     shared_emulator(url, apps=(App(MAIN.appid, MAIN.secrets, **limited),)))
    first.clock.freeze(NOW)
    header = auth()
    codes = [post_livegetfour((first, second)[turn % 2], header)["code"] for turn in range(5)]
    assert codes == [0, 0, 0, 15, 15]  # 15: over the app's rate limit


def test_reset_clears_everything_shared(pair, redis_server):
    first, second = pair
    first.scenarios.activate({"name": "s", "rules": [{"endpoint": "livegetfour",
                                                      "respond": {"validate_data": "0042"}}]})
    first.state.set_loose("777", True)
    first.state.store(IDENTITIES).add("11010519491231002X", "张三", MAIN.appid)
    once = auth(once=True, fileid="f")
    assert post_livegetfour(first, once)["code"] == 0
    first.state.store(LIP_CODES).issue(MAIN.appid)
    second.reset()
    first.state.sync()
    assert (first.journal.query(), first.scenarios.active(), first.loose_appids,
            first.state.store(LIP_CODES).all_issued(), first.clock.frozen,
            first.state.store(IDENTITIES).name_for("11010519491231002X")) == \
        ([], [], set(), {}, False, None)
    assert post_livegetfour(first, auth(once=True, fileid="f", now=int(time.time())))["code"] == 0
    prefix, tag = first.state.prefix, MAIN.appid.encode().hex()
    left = {key.decode()[len(prefix):] for key in first.state.redis.scan_iter(f"{prefix}*")}
    assert left == {"activations", "journal", "journal:id", f"codes:n:{tag}",
                    f"codes:list:{tag}", "generation:codes", "once"}
    assert first.state.redis.zcard(f"{prefix}once") == 1  # the request after the reset


def test_a_reset_in_one_process_restarts_the_code_sequences_of_the_others(pair):
    first, second = pair
    codes = [first.state.store(LIP_CODES).issue("7") for _ in range(3)]
    actions = [first.state.store(ACTION_SEQUENCES).issue("7") for _ in range(8)]
    second.reset()
    assert [first.state.store(LIP_CODES).issue("7") for _ in range(3)] == codes
    assert [first.state.store(ACTION_SEQUENCES).issue("7") for _ in range(8)] == actions
    assert first.state.store(LIP_CODES).issued("7") == codes


def test_reset_of_one_appid_keeps_the_others(pair):
    first, second = pair
    first.state.store(LIP_CODES).issue("1")
    first.state.store(LIP_CODES).issue("2")
    first.state.store(ACTION_SEQUENCES).issue("1")
    second.reset("1")
    assert first.state.store(LIP_CODES).all_issued().keys() == {"2"}
    assert first.state.store(ACTION_SEQUENCES).issued("1") == []


def test_the_same_seed_issues_the_same_codes_on_two_redis_prefixes(redis_server):
    one = open_state(redis_server.url(), make_settings(seed=7))
    two = open_state(redis_server.url(), make_settings(seed=7))
    other = open_state(redis_server.url(), make_settings(seed=8))
    codes = [one.store(LIP_CODES).issue("9") for _ in range(5)]
    assert codes == [two.store(LIP_CODES).issue("9") for _ in range(5)]
    assert codes != [other.store(LIP_CODES).issue("9") for _ in range(5)]
    assert all(len(code) == 4 and code.isdigit() for code in codes)


def test_the_redis_url_keeps_its_prefix_apart_and_masks_its_password():
    assert split_url("redis://h:1/2?prefix=ci7:&ssl_cert_reqs=none") == \
        ("redis://h:1/2?ssl_cert_reqs=none", "ci7:")
    assert split_url("redis://h:1/2") == ("redis://h:1/2", "mockface:")
    assert split_url("unix:///run/redis.sock?db=2&prefix=ci:") == \
        ("unix:///run/redis.sock?db=2", "ci:")
    assert shown_url("redis://user:s3cret@h:1/0") == "redis://user:****@h:1/0"
    assert shown_url("redis://:s3cret@h:1/0") == "redis://:****@h:1/0"
    assert shown_url("redis://h:1/0") == "redis://h:1/0"


def test_a_redis_on_a_unix_socket_serves_as_shared_state(redis_server):
    emulator = shared_emulator(redis_server.unix_url())
    emulator.clock.freeze(NOW)
    assert post_livegetfour(emulator, auth())["code"] == 0
    assert [entry.endpoint for entry in emulator.journal.query()] == ["livegetfour"]
    emulator.state.close()


def test_a_parsed_scenario_cannot_be_activated_on_a_shared_store(pair):
    from mockface.scenarios import parse_scenario
    scenario = parse_scenario({"name": "p", "rules": [{"endpoint": "*", "respond": {}}]})
    with pytest.raises(ValueError, match="cannot be shared"):
        pair[0].scenarios.activate(scenario)


# -- outages -----------------------------------------------------------------------------

def test_an_outage_on_record_answers_internal_error_before_the_listener_notices(tmp_path):
    """The listener learns that Redis went only when its connection breaks: until then, an
    outage a request already met still answers API 3.0 calls ``InternalError`` (not what
    the call would have got without Redis, such as an authentication failure)."""
    server = RedisServer(tmp_path)
    emulator = shared_emulator(server.url())
    emulator.clock.freeze(NOW)
    try:
        assert post_livegetfour(emulator, auth())["code"] == 0
        server.stop()
        assert post_livegetfour(emulator, auth())["code"] == 108
        emulator.state._live.set()  # the listener has not noticed yet
        client = create_app(emulator=emulator).test_client()
        api3 = client.post("/", json={}, headers={"X-TC-Action": "GetLiveCode"}).get_json()
        assert api3["Response"]["Error"]["Code"] == "InternalError"
        server.start()  # the outage ends with Redis back (a restarted Redis forgot the clock)
        assert post_livegetfour(emulator, auth(now=int(time.time())))["code"] == 0
    finally:
        emulator.state.close()  # its listener joined before Redis goes: it logs nothing more
        server.stop()


def connection_attempts(monkeypatch) -> list[str]:
    """From now on, one item per socket connection redis-py opens on this thread (the
    listener thread's attempts, every RETRY_SECONDS, are not counted)."""
    attempts: list[str] = []
    here = threading.current_thread()
    connect = redis.connection.Connection._connect

    def counted(self):
        if threading.current_thread() is here:
            attempts.append(f"{self.host}:{self.port}")
        return connect(self)

    monkeypatch.setattr(redis.connection.Connection, "_connect", counted)
    return attempts


def logged(caplog, where: str, text: str) -> list[str]:
    """The messages of mockface.state about the backend ``where`` that contain ``text``."""
    return [r.getMessage() for r in caplog.records
            if r.name == "mockface.state" and where in r.getMessage() and text in r.getMessage()]


def test_an_unreachable_redis_answers_108_and_api3_internal_error_at_once(
        tmp_path, caplog, monkeypatch):
    server = RedisServer(tmp_path)
    emulator = shared_emulator(server.url())
    where = shown_url(server.url(emulator.state.prefix))
    emulator.clock.freeze(NOW)
    try:
        assert post_livegetfour(emulator, auth())["code"] == 0
        server.stop()
        attempts = connection_attempts(monkeypatch)
        started = time.monotonic()
        answer = post_livegetfour(emulator, auth())
        assert answer == {"code": 108, "message": "auth service unavailable"}
        # refused at once, no backoff: a settings reload (when the listener saw Redis go
        # first) tried twice -- a broken pooled connection gets one immediate retry -- and
        # the journal entry, once
        assert 1 <= len(attempts) <= 3
        assert time.monotonic() - started < 10  # nor any wait (loose: a loaded runner)
        client = create_app(emulator=emulator).test_client()
        api3 = client.post("/", json={}, headers={"X-TC-Action": "GetLiveCode"}).get_json()
        assert api3["Response"]["Error"]["Code"] == "InternalError"
        admin = client.get("/__mockface/requests")
        assert admin.status_code == 503 and "unreachable" in admin.get_json()["error"]
        assert len(logged(caplog, where, "is unreachable")) == 1  # once per outage
        server.start()
        assert post_livegetfour(emulator, auth(now=int(time.time())))["code"] == 0
        assert logged(caplog, where, "reachable again") == \
            [f"state backend {where} is reachable again"]
    finally:
        emulator.state.close()
        server.stop()


def test_a_shared_state_needs_an_engine_on_its_activations(redis_server):
    settings = make_settings()
    with pytest.raises(ValueError, match="store=state.activations"):
        Emulator(settings, scenarios=ScenarioEngine(), state=open_state(redis_server.url(),
                                                                        settings))


def test_redis_state_refuses_to_start_when_unreachable():
    state = open_state("redis://127.0.0.1:1/0")
    with pytest.raises(StateUnavailable, match="cannot use Redis at redis://127.0.0.1:1/0"):
        state.ping()


# -- real server processes ------------------------------------------------------------------

BUILTIN = builtin_app({})


def builtin_auth(**options) -> str:
    secret_id, secret_key = BUILTIN.first_secret
    return sign(BUILTIN.appid, secret_id, secret_key, now=int(time.time()), **options)


def livegetfour(url: str, header: str) -> dict:
    return requests.post(f"{url}/face/livegetfour", json={"appid": BUILTIN.appid},
                         headers={"Authorization": header}, timeout=10).json()


def test_two_servers_on_one_redis_act_as_one_emulator(redis_server):
    url = redis_server.url()
    servers = [ServeProcess("--quiet", "--state", url) for _ in range(2)]
    try:
        once = builtin_auth(once=True, fileid="two-hosts")
        turn = iter(range(20))
        codes = run_concurrently(lambda: livegetfour(servers[next(turn) % 2].url, once)["code"],
                                 20)
        assert sorted(codes) == [0] + [13] * 19
        requests.post(f"{servers[0].url}/__mockface/scenarios", timeout=10, json={
            "document": {"name": "steps", "rules": [{
                "endpoint": "livegetfour",
                "respond": [{"validate_data": f"{n:04d}"} for n in range(1, 11)]}]}})
        header = builtin_auth()
        with ThreadPoolExecutor(10) as pool:
            steps = list(pool.map(lambda n: livegetfour(servers[n % 2].url, header)
                                  ["data"]["validate_data"], range(10)))
        assert sorted(steps) == [f"{n:04d}" for n in range(1, 11)]
        journal = requests.get(f"{servers[1].url}/__mockface/requests", timeout=10).json()
        assert len(journal["requests"]) == 30
        assert sorted(e["id"] for e in journal["requests"]) == list(range(1, 31))
    finally:
        for server in servers:
            server.stop()


def test_workers_serve_from_several_processes_that_share_the_state(redis_server):
    server = ServeProcess("--quiet", "--workers", "2", "--state", redis_server.url())
    try:
        assert "2 worker processes" in server.banner
        pids = {requests.get(f"{server.url}/__mockface/health", timeout=10).json()["pid"]
                for _ in range(40)}  # each request on a new connection
        assert len(pids) == 2 and server.proc.pid not in pids
        once = builtin_auth(once=True, fileid="workers")
        codes = run_concurrently(lambda: livegetfour(server.url, once)["code"], 20)
        assert sorted(codes) == [0] + [13] * 19
        freeze = requests.post(f"{server.url}/__mockface/clock/freeze", json={"at": NOW},
                               timeout=10)
        assert freeze.status_code == 200
        clocks = {requests.get(f"{server.url}/__mockface/clock", timeout=10).json()["now"]
                  for _ in range(10)}
        assert clocks == {NOW}
        assert len(requests.get(f"{server.url}/__mockface/requests", timeout=10)
                   .json()["requests"]) == 20
    finally:
        server.stop()


def test_workers_without_a_shared_state_refuse_to_start():
    from .support import run_mockface
    result = run_mockface("serve", "--port", "0", "--workers", "2")
    assert result.returncode == 2
    assert result.stderr == ("Error: --workers 2 needs a shared state: add --state "
                             "redis://HOST:PORT/DB (processes cannot share their memory)\n")


def test_serve_refuses_an_unreachable_or_unknown_state():
    from .support import run_mockface
    dead = run_mockface("serve", "--port", "0", "--state", "redis://127.0.0.1:1/0")
    assert dead.returncode == 2
    assert dead.stderr.startswith("Error: --state: cannot use Redis at redis://127.0.0.1:1/0: ")
    odd = run_mockface("serve", "--port", "0", "--state", "postgres://x")
    assert (odd.returncode, odd.stderr) == (
        2, "Error: --state 'postgres://x': give memory or redis://HOST:PORT/DB\n")


def test_a_server_survives_redis_being_killed_and_restarted(tmp_path):
    redis_server = RedisServer(tmp_path)
    server = ServeProcess("--workers", "2", "--state", redis_server.url())
    try:
        assert livegetfour(server.url, builtin_auth())["code"] == 0
        redis_server.stop()
        started = time.monotonic()
        down = [livegetfour(server.url, builtin_auth()) for _ in range(6)]
        assert time.monotonic() - started < 10
        assert down == [{"code": 108, "message": "auth service unavailable"}] * 6
        redis_server.start()
        assert [livegetfour(server.url, builtin_auth())["code"] for _ in range(6)] == [0] * 6
    finally:
        err = server.stop()
        redis_server.stop()
    unreachable = [line for line in err.splitlines() if "is unreachable (" in line]
    assert 1 <= len(unreachable) <= 2  # once per outage in each worker that saw it
    assert "Traceback" not in err


def test_the_readme_load_test_command_line_parses(redis_server):
    """``--state`` also comes from MOCKFACE_STATE, as the README says."""
    server = ServeProcess("--quiet", env={"MOCKFACE_STATE": redis_server.url()})
    try:
        health = requests.get(f"{server.url}/__mockface/health", timeout=10).json()
        assert health["state"].startswith("redis redis://127.0.0.1:")
        assert json.loads(json.dumps(health))["status"] == "ok"
    finally:
        server.stop()


#: Lua: keep Redis busy for ARGV[1] milliseconds (a slow Redis, for real).
BUSY = """
local t = redis.call('TIME')
local until_us = t[1] * 1000000 + t[2] + ARGV[1] * 1000
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= until_us
return 1
"""


def test_with_shared_state_requests_are_answered_on_the_event_loop_while_redis_is_quick(pair):
    """A request that goes to Redis blocks the event loop for its round trips: only while
    they are quick (QUICK_ROUND_TRIP_SECONDS on average) and Redis is not in an outage."""
    first, _ = pair
    batch = first.state.batch
    assert post_livegetfour(first, auth())["code"] == 0
    assert batch.round_trip > 0  # measured
    quick_again(batch)
    assert first.at_once_view() == ()
    batch.call("EVAL", BUSY, 0, 20)  # a 20 ms round trip: an eighth of it is over 1 ms
    assert batch.round_trip > QUICK_ROUND_TRIP_SECONDS
    assert first.at_once_view() is None
    quick_again(batch)  # quick round trips again: back to the event loop
    assert first.at_once_view() == ()


def quick_again(batch: Batcher) -> None:
    """PING until the batcher's round trip is quick (a loaded runner has slow ones too)."""
    wait_until(lambda: batch.call("PING") == b"PONG" and
               batch.round_trip <= QUICK_ROUND_TRIP_SECONDS)


def test_during_a_redis_outage_requests_go_to_worker_threads(tmp_path):
    server = RedisServer(tmp_path)
    emulator = shared_emulator(server.url())
    emulator.clock.freeze(NOW)
    try:
        quick_again(emulator.state.batch)
        assert emulator.at_once_view() == ()
        server.stop()
        assert post_livegetfour(emulator, auth())["code"] == 108
        assert emulator.at_once_view() is None
    finally:
        emulator.state.close()
        server.stop()


def test_while_an_outage_is_on_record_requests_go_to_worker_threads(pair):
    first, _ = pair
    first.state.outage.failed(redis.exceptions.ConnectionError("a round trip failed"))
    assert first.at_once_view() is None
    assert post_livegetfour(first, auth())["code"] == 0  # a round trip answered: it ended
    assert not first.state.outage.down
    quick_again(first.state.batch)  # PINGs do not end outages: the request did
    assert first.at_once_view() == ()


def test_a_connection_redis_closed_is_replaced_before_anything_is_written_to_it(pair):
    """Writing to a connection whose other end is closed seems to succeed once: a posted
    command (an issued code) would be lost without anyone noticing."""
    first, _ = pair
    batch = first.state.batch
    assert post_livegetfour(first, auth())["code"] == 0
    first.state.redis.client_kill_filter(_id=batch.call("CLIENT", "ID"))
    wait_until(lambda: closed_by_peer(batch._connection._sock))
    assert post_livegetfour(first, auth())["code"] == 0
    issued = first.state.store(LIP_CODES).issued(MAIN.appid)
    assert len(issued) == 2  # both codes stored
    assert [e.data["validate_data"] for e in first.journal.query()] == issued


@pytest.mark.parametrize("poll_tells", [True, False], ids=["linux", "no-POLLRDHUP"])
def test_after_redis_restarted_the_first_request_of_an_idle_process_is_answered(
        tmp_path, monkeypatch, poll_tells):
    """The batcher's connection led to the Redis that was killed: seen closed (poll), or
    the listener saw Redis go (where poll cannot tell, as on macOS), so the next request
    uses a new connection instead of failing once on the old one."""
    if not poll_tells:
        monkeypatch.setattr(redis_batch, "_PEER_CLOSED", 0)
    server = RedisServer(tmp_path)
    emulator = shared_emulator(server.url())
    emulator.clock.freeze(NOW)
    try:
        state = emulator.state
        assert post_livegetfour(emulator, auth())["code"] == 0
        server.stop()
        wait_until(lambda: state.outage.down)  # the listener saw it go (and said so)
        server.start()
        wait_until(lambda: state._live.is_set() and not state.outage.down)  # subscribed again
        answer = post_livegetfour(emulator, auth(now=int(time.time())))
        assert answer["code"] == 0
        assert emulator.state.store(LIP_CODES).issued(MAIN.appid) == [answer["data"]["validate_data"]]
    finally:
        emulator.state.close()
        server.stop()


def test_a_post_makes_a_round_trip_when_redis_has_not_answered_lately(redis_server):
    state = open_state(redis_server.url())
    batch, key = state.batch, f"{state.prefix}fresh"
    batch.post("INCR", key)  # nothing answered yet: a round trip
    assert batch._unread == 0
    batch.post("INCR", key)
    assert batch._unread == 1  # answered just now: posted
    batch.answered_at -= Batcher.FRESH_SECONDS  # a second without an answer
    batch.post("INCR", key)
    assert batch._unread == 0 and batch.call("GET", key) == b"3"
    state.close()


def test_codes_are_numbered_in_blocks_and_derived_as_redis_derives_them(redis_server):
    """One round trip per BLOCK codes; the n-th code is the SHA-1 of the book's prefix and
    n, as Redis's own sha1hex computes it (the codes of earlier versions, made in Lua)."""
    state = open_state(redis_server.url())
    book = state.store(LIP_CODES)
    codes = [book.issue("31") for _ in range(RedisCodeBook.BLOCK + 1)]
    counter = f"{state.prefix}codes:n:{'31'.encode().hex()}"
    assert state.redis.get(counter) == str(2 * RedisCodeBook.BLOCK).encode()
    assert book.issued("31") == codes
    lua = "return string.sub(redis.sha1hex(ARGV[1]), 1, 8)"
    for number in (1, 2, RedisCodeBook.BLOCK + 1):
        digest = state.redis.eval(lua, 0, f"{book.seed}:31:{number}").decode()
        assert codes[number - 1] == f"{int(digest, 16) % 10000:04d}"
    assert derived_code("p", 1, Codes.ACTION_ORDER) in ("1,2", "2,1")
    state.close()


@pytest.mark.parametrize("batching", [True, False], ids=["batched", "stock"])
def test_a_posted_command_runs_before_later_ones_and_its_reply_is_not_taken_for_theirs(
        redis_server, batching):
    state = open_state(redis_server.url(), batching=batching)
    batch, key = state.batch, f"{state.prefix}posted"
    for _ in range(3):
        batch.post("INCR", key)
    assert batch.call("GET", key) == b"3"  # not the reply (1) to the first post
    assert batch.call("PING") == b"PONG"
    state.close()


def test_replies_to_posts_are_read_before_too_many_wait(redis_server):
    state = open_state(redis_server.url())
    batch, key = state.batch, f"{state.prefix}many"
    for _ in range(Batcher.UNREAD_LIMIT * 3):
        batch.post("INCR", key)
        assert batch._unread <= Batcher.UNREAD_LIMIT
    assert batch.call("GET", key) == str(Batcher.UNREAD_LIMIT * 3).encode()
    state.close()


@pytest.mark.parametrize("batching", [True, False], ids=["batched", "stock"])
def test_a_refused_post_is_logged_once_until_one_succeeds(redis_server, caplog, batching):
    state = open_state(redis_server.url(), batching=batching)
    batch, key = state.batch, f"{state.prefix}hash"
    batch.call("HSET", key, "field", "1")
    batch.post("INCR", key)  # WRONGTYPE: the key holds a hash
    batch.post("INCR", key)
    batch.call("PING")
    refused = [r.getMessage() for r in caplog.records if "refused a command" in r.getMessage()]
    assert len(refused) == 1 and "WRONGTYPE" in refused[0]
    batch.post("INCR", f"{key}:counter")
    batch.post("INCR", key)
    batch.call("PING")
    refused = [r.getMessage() for r in caplog.records if "refused a command" in r.getMessage()]
    assert len(refused) == 2
    state.close()


def test_the_journal_is_written_without_waiting_and_readable_at_once(pair):
    """``RedisJournal.record`` does not wait for Redis's reply; a read of the journal right
    after the answer (here: from the other emulator, on other connections) finds it."""
    first, second = pair
    for turn in range(20):
        assert post_livegetfour(first, auth())["code"] == 0
        assert [e.id for e in second.journal.query()] == list(range(1, turn + 2))


# -- the stock path: public redis-py calls only (batching=False) ---------------------------

def store_operations(state: RedisState) -> dict:
    """The main operations of every store on ``state``, and what they answered."""
    once, rate = state.store(ONCE_SIGNATURES), state.store(RATE_WINDOWS)
    codes, actions, identities = state.store(LIP_CODES), state.store(ACTION_SEQUENCES), state.store(IDENTITIES)
    issued = [codes.issue("31") for _ in range(RedisCodeBook.BLOCK + 2)]
    codes.remember("31", "0042")
    identities.add("11010519491231002X", "张三", "31")
    state.journal.record(time=NOW, endpoint="x", appid="31", fields={}, media={},
                         signature={}, rule="default", http_status=200, code=0, data=None,
                         fault=None, detail=None, latency_ms=1.0)
    image = media("face.jpg")
    summary = summarise_media("image", image)
    state.recent_images.keep(summary, image)
    state.clock.freeze(NOW)
    state.clock.advance(5)
    answered = {
        "once": [once.consume("31", b"k"), once.consume("31", b"k"), once.consume("32", b"k")],
        "rate": [rate.allow("31", 2, NOW) for _ in range(3)],
        "codes": (issued, codes.issued("31") == [*issued, "0042"], codes.all_issued().keys()),
        "actions": [actions.issue("31") for _ in range(4)],
        "identities": (identities.name_for("11010519491231002X"), len(identities)),
        "journal": [(e.id, e.appid) for e in state.journal.query()],
        "image": state.recent_images.get(summary["sha256"]) == ("image/jpeg", image),
        "clock": state.clock.now(),
    }
    state.clear_stores("31")
    answered["cleared"] = (codes.issued("31"), identities.name_for("11010519491231002X"),
                           once.consume("31", b"k"), once.consume("32", b"k"),
                           rate.allow("31", 1, NOW))
    return answered


def test_the_stores_answer_alike_with_and_without_batching(redis_server):
    batched = open_state(redis_server.url(), batching=True)
    stock = open_state(redis_server.url(), batching=False)
    assert isinstance(batched.batch, Batcher) and isinstance(stock.batch, DirectCalls)
    answers = store_operations(batched)
    assert answers == store_operations(stock)
    assert (answers["once"], answers["rate"], answers["journal"], answers["image"],
            answers["clock"], answers["cleared"]) == (
        [True, False, True], [True, True, False], [(1, "31")], True, NOW + 5,
        ([], None, True, False, True))
    assert answers["codes"][1:] == (True, {"31"})
    assert answers["identities"] == ("张三", 2)  # and the configured one
    assert stock.batch.round_trip > 0 and stock.batch.answered_at > 0  # quick() can tell


def test_an_emulator_on_the_stock_path_serves_and_shares_its_state(redis_server):
    url = redis_server.url()
    settings = make_settings()
    emulators = []
    for batching in (True, False):
        state = open_state(url, settings, batching=batching)
        emulators.append(Emulator(settings, state=state, scenarios=ScenarioEngine(
            seed=settings.seed, store=state.activations)))
    emulators[0].clock.freeze(NOW)
    app_of(emulators[0]), app_of(emulators[1])
    header = auth(once=True, fileid="stock")
    turn = iter(range(10))
    codes = run_concurrently(lambda: post_livegetfour(emulators[next(turn) % 2], header)
                             ["code"], 10)
    assert sorted(codes) == [0] + [13] * 9
    (entry,) = [e for e in emulators[0].journal.query() if e.code == 0]
    assert emulators[1].state.store(LIP_CODES).issued(MAIN.appid) == [entry.data["validate_data"]]


def test_on_the_stock_path_an_outage_answers_108_until_redis_is_back(tmp_path):
    server = RedisServer(tmp_path)
    settings = make_settings()
    state = open_state(server.url(), settings, batching=False)
    emulator = Emulator(settings, state=state,
                        scenarios=ScenarioEngine(seed=settings.seed, store=state.activations))
    emulator.clock.freeze(NOW)
    try:
        assert post_livegetfour(emulator, auth())["code"] == 0
        server.stop()
        assert post_livegetfour(emulator, auth())["code"] == 108
        assert state.outage.down and emulator.at_once_view() is None
        server.start()
        assert post_livegetfour(emulator, auth(now=int(time.time())))["code"] == 0
        assert not state.outage.down
    finally:
        state.close()
        server.stop()


def test_the_redis_url_can_turn_batching_off(redis_server):
    url = redis_server.url()
    assert split_url(f"{url}&batching=off")[0] == split_url(url)[0]
    assert (batching_of(url), batching_of(f"{url}&batching=on"),
            batching_of(f"{url}&batching=off")) == (True, True, False)
    assert isinstance(open_state(f"{url}&batching=off").batch, DirectCalls)
    assert isinstance(open_state(f"{url}&batching=off", batching=True).batch, Batcher)
    with pytest.raises(ValueError, match="batching='no' in the Redis URL: give on or off"):
        open_state(f"{url}&batching=no")


def test_a_server_on_the_stock_path_serves_from_the_shared_state(redis_server):
    url = redis_server.url()
    servers = [ServeProcess("--quiet", "--state", f"{url}&batching=off"),
               ServeProcess("--quiet", "--state", url)]
    try:
        once = builtin_auth(once=True, fileid="stock-server")
        turn = iter(range(10))
        codes = run_concurrently(lambda: livegetfour(servers[next(turn) % 2].url, once)["code"],
                                 10)
        assert sorted(codes) == [0] + [13] * 9
        journal = requests.get(f"{servers[0].url}/__mockface/requests", timeout=10).json()
        assert len(journal["requests"]) == 10
    finally:
        for server in servers:
            server.stop()
