"""The limits of the Redis state backend: once-signatures bounded by ``once_store_size`` (as
in memory) and expiring, and a full Redis (``maxmemory``, ``noeviction``) answered as an
unavailable state, never as an unexpected error."""
from __future__ import annotations

import hashlib
import json
import threading

import pytest

from mockface.core import redis_state
from mockface.core.state import MemoryState
from mockface.emulator import Emulator
from mockface.products.tc3.signature import sign_tc3
from mockface.web.app import create_app
from mockface.products.legacy.stores import ONCE_SIGNATURES

from .redis_server import RedisServer, open_state, shared_emulator
from .support import MAIN, NOW, auth, make_settings, run_concurrently, wait_until


def digest(name: str) -> bytes:
    """A once-store key, as the signature checks make them (an HMAC digest: 20 bytes)."""
    return hashlib.sha1(name.encode()).digest()


@pytest.fixture(params=["memory", "redis"])
def backend(request, redis_server):
    """A factory of once-signature stores of one backend; with Redis, every store it makes
    shares one key prefix (as the processes of one server do)."""
    url = redis_server.url()

    def make(capacity: int):
        settings = make_settings(once_store_size=capacity)
        if request.param == "memory":
            return MemoryState(settings).store(ONCE_SIGNATURES)
        return open_state(url, settings).store(ONCE_SIGNATURES)
    return make


# -- the bound: once_store_size, the oldest forgotten first -------------------------------------

def test_past_its_capacity_the_store_forgets_the_oldest_signature_first(backend):
    store = backend(3)
    assert [store.consume(MAIN.appid, digest(k)) for k in ("a", "b", "c", "d")] == [True] * 4
    assert len(store) == 3
    assert store.consume(MAIN.appid, digest("d")) is False  # the newest three are remembered
    assert store.consume(MAIN.appid, digest("c")) is False
    assert store.consume(MAIN.appid, digest("b")) is False
    assert store.consume(MAIN.appid, digest("a")) is True  # forgotten: usable again


def test_a_refused_reuse_does_not_make_a_signature_newer(backend):
    store = backend(3)
    for key in ("a", "b", "c"):
        store.consume(MAIN.appid, digest(key))
    assert store.consume(MAIN.appid, digest("a")) is False
    store.consume(MAIN.appid, digest("d"))  # pushes out the oldest use: still a's
    assert store.consume(MAIN.appid, digest("b")) is False
    assert store.consume(MAIN.appid, digest("a")) is True


def test_the_bound_counts_every_appid_and_clearing_one_keeps_the_others(backend):
    store = backend(4)
    for appid in ("1", "2"):
        for key in ("a", "b"):
            store.consume(appid, digest(key))
    store.clear("1")
    assert len(store) == 2
    assert store.consume("1", digest("a")) is True
    assert store.consume("2", digest("a")) is False
    store.clear()
    assert len(store) == 0


def test_the_bound_holds_across_processes_the_oldest_use_of_any_goes_first(redis_server):
    url = redis_server.url()
    settings = make_settings(once_store_size=3)
    first = open_state(url, settings).store(ONCE_SIGNATURES)
    second = open_state(url, settings).store(ONCE_SIGNATURES)
    assert first.consume(MAIN.appid, digest("a")) and second.consume(MAIN.appid, digest("b"))
    assert first.consume(MAIN.appid, digest("c")) and second.consume(MAIN.appid, digest("d"))
    assert (len(first), len(second)) == (3, 3)
    assert second.consume(MAIN.appid, digest("a")) is True  # the first use of all: gone
    assert first.consume(MAIN.appid, digest("d")) is False


def test_concurrent_uses_of_one_signature_over_two_connections_succeed_once(redis_server):
    url = redis_server.url()
    stores = [open_state(url).store(ONCE_SIGNATURES) for _ in range(2)]
    turn = iter(range(20))
    codes = run_concurrently(lambda: stores[next(turn) % 2].consume(MAIN.appid, digest("a")), 20)
    assert sorted(codes) == [False] * 19 + [True]


def test_concurrent_uses_over_two_connections_stay_within_the_bound(redis_server):
    url = redis_server.url()
    settings = make_settings(once_store_size=10)
    states = [open_state(url, settings) for _ in range(2)]
    turn = iter(range(40))
    lock = threading.Lock()

    def use():
        with lock:
            n = next(turn)
        return states[n % 2].store(ONCE_SIGNATURES).consume(MAIN.appid, digest(str(n)))

    assert run_concurrently(use, 40) == [True] * 40
    kept = states[0].redis.zrange(f"{states[0].prefix}once", 0, -1)
    assert len(kept) == 10 and len(states[1].store(ONCE_SIGNATURES)) == 10


def test_the_configured_size_bounds_the_redis_store_of_a_server(redis_server):
    """Through requests: with ``once_store_size: 2``, a third once-signature pushes the first
    out, which is then accepted again, on Redis as in memory."""
    url = redis_server.url()
    results = {}
    for name, emulator in (("memory", Emulator(make_settings(once_store_size=2))),
                           ("redis", shared_emulator(url, once_store_size=2))):
        emulator.clock.freeze(NOW)
        client = create_app(emulator=emulator).test_client()
        headers = [auth(once=True, fileid=f"f{n}") for n in range(3)]
        codes = [client.post("/face/livegetfour", json={"appid": MAIN.appid},
                             headers={"Authorization": header}).get_json()["code"]
                 for header in (*headers, headers[2], headers[0])]
        results[name] = codes
    assert results == {"memory": [0, 0, 0, 13, 0], "redis": [0, 0, 0, 13, 0]}


# -- expiry -----------------------------------------------------------------------------------

def test_a_used_signature_expires_after_the_ttl_and_leaves_the_set(redis_server, monkeypatch):
    monkeypatch.setattr(redis_state, "ONCE_TTL_SECONDS", 1)
    state = open_state(redis_server.url())
    store, key = state.store(ONCE_SIGNATURES), f"{state.prefix}once"
    assert store.consume(MAIN.appid, digest("a")) is True
    assert 0 < state.redis.ttl(key) <= 1

    def new_again() -> bool:
        state.redis.expire(key, 60)  # the set lives on: only the entry's own age counts
        return store.consume(MAIN.appid, digest("a"))
    wait_until(new_again)  # after a second
    state.redis.expire(key, 60)
    wait_until(lambda: store.consume(MAIN.appid, digest(f"b{len(store)}")) and len(store) == 1)


def test_the_once_set_expires_with_the_ttl(redis_server):
    state = open_state(redis_server.url())
    state.store(ONCE_SIGNATURES).consume(MAIN.appid, digest("a"))
    ttl = state.redis.ttl(f"{state.prefix}once")
    assert redis_state.ONCE_TTL_SECONDS - 60 < ttl <= redis_state.ONCE_TTL_SECONDS


# -- a full Redis ------------------------------------------------------------------------------

def test_a_full_redis_answers_108_internal_error_and_503_never_213(tmp_path, caplog):
    server = RedisServer(tmp_path)
    emulator = shared_emulator(server.url())
    where = redis_state.shown_url(server.url(emulator.state.prefix))
    emulator.clock.freeze(NOW)
    client = create_app(emulator=emulator).test_client()
    try:
        emulator.state.redis.config_set("maxmemory", 1)  # every write refused: OOM
        header = auth(once=True, fileid="full")
        once = client.post("/face/livegetfour", json={"appid": MAIN.appid},
                           headers={"Authorization": header})
        assert (once.status_code, once.get_json()) == (
            503, {"code": 108, "message": "auth service unavailable"})
        secret_id, secret_key = next(iter(MAIN.secrets.items()))
        body = json.dumps({}).encode()
        signed = sign_tc3(secret_id, secret_key, service="faceid",
                          host="faceid.tencentcloudapi.com", action="GetLiveCode",
                          timestamp=NOW, body=body)
        api3 = client.post("/", data=body, headers=signed).get_json()["Response"]
        assert api3["Error"]["Code"] == "InternalError"
        created = client.post("/__mockface/apps", json={})
        assert (created.status_code, created.get_json()) == (
            503, {"error": f"the state backend {where} is full (Redis maxmemory reached)"})
        full = [r for r in caplog.records if r.name == "mockface.state" and
                r.getMessage().startswith(f"state backend {where} is full (")]
        assert len(full) == 1  # logged once, not per request
        assert not [r for r in caplog.records if r.name == "mockface.error"]  # no 213
        emulator.state.redis.config_set("maxmemory", 0)  # room again
        again = client.post("/face/livegetfour", json={"appid": MAIN.appid},
                            headers={"Authorization": header})
        assert again.get_json()["code"] == 0  # the refused use was not remembered
        replay = client.post("/face/livegetfour", json={"appid": MAIN.appid},
                             headers={"Authorization": header})
        assert replay.get_json()["code"] == 13
    finally:
        emulator.state.close()
        server.stop()
