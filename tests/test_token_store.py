"""The verification-token store kind (``TokenStoreSpec`` -> ``Tokens``): issue, read, open,
finish, list and clear on both backends (memory, Redis with and without batching), the
user and read windows on a controlled clock, "a finished token never changes", and
concurrent finishers -- in one process, and in two processes sharing one Redis -- of
whom exactly one wins."""
from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockface.core.redis_state import TOKEN_TTL_MARGIN_SECONDS, RedisState, RedisTokens
from mockface.core.state import MemoryState, StateBackend
from mockface.core.stores import OnceSet, Tokens, TokenStoreSpec
from mockface.core.tokens import (
    EXPIRED,
    FINISHED,
    ISSUED,
    OPENED,
    TokenRecord,
    TokenStore,
    new_token,
)

from .redis_server import open_state
from .support import NOW, declare_products_stores, make_settings

BACKENDS = ["memory", "redis", "redis-unbatched"]
SPEC = TokenStoreSpec("t-tokens")
WINDOW = 600.0  # the user window of the test records
READ = 3 * 24 * 3600.0  # their read window


@pytest.fixture(params=BACKENDS)
def processes(request) -> Iterator[Callable[[], StateBackend]]:
    """Opens backends on one shared space: the same MemoryState each time (one process),
    a new RedisState on the same prefix each time (another process)."""
    if request.param == "memory":
        state = MemoryState(make_settings())
        yield lambda: state
        return
    url = request.getfixturevalue("redis_server").url()
    batching = request.param == "redis"
    yield lambda: open_state(url, batching=batching)


@pytest.fixture
def tokens(processes) -> Tokens:
    return processes().store(SPEC)


def record(token: str | None = None, appid: str = "app-a", flow: str = "detect",
           issued_at: float = NOW, **fields: Any) -> TokenRecord:
    """A record issued at ``issued_at`` with the test windows (fields override)."""
    values: dict[str, Any] = {
        "token": token or new_token(), "flow": flow, "appid": appid, "issued_at": issued_at,
        "expires_at": issued_at + WINDOW, "readable_until": issued_at + READ,
        "data": {"rule": "1", "identity": {"Name": "张三"}}}
    return TokenRecord(**{**values, **fields})


# -- tokens and records -----------------------------------------------------------------------


def test_new_tokens_are_upper_case_uuid4_text_and_all_different():
    made = {new_token() for _ in range(1000)}
    assert len(made) == 1000
    assert all(re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-"
                            r"[0-9A-F]{12}", token) for token in made)


def test_a_record_goes_to_json_and_back():
    finished = record(state=FINISHED, opened_at=NOW + 1, finished_at=NOW + 2.25,
                      outcome={"err_code": 0, "attempts": [{"sim": "91.00"}]})
    for each in (record(), finished):
        assert TokenRecord.from_dict(json.loads(json.dumps(each.as_dict()))) == each
        assert TokenRecord.from_dict(json.loads(each.as_json())) == each


@pytest.mark.parametrize("change", [
    {"state": "expired"}, {"state": "done"}, {"issued_at": float("nan")},
    {"expires_at": "soon"}, {"readable_until": True}, {"opened_at": float("inf")},
    {"token": 7}, {"data": []}, {"expires_at": NOW - 1},
    {"expires_at": NOW + READ + 1}, {"outcome": "passed"}, {"colour": "red"}], ids=str)
def test_a_record_with_a_bad_field_is_refused(change):
    with pytest.raises(ValueError):
        TokenRecord.from_dict({**record().as_dict(), **change})


def test_a_record_lacking_a_field_is_refused():
    values = record().as_dict()
    del values["appid"]
    with pytest.raises(ValueError, match="appid"):
        TokenRecord.from_dict(values)


def test_the_state_shown_is_expired_from_the_end_of_the_user_window_unless_finished():
    issued = record()
    opened = issued.opened(NOW + 10)
    done = opened.finished({"err_code": 0}, NOW + 20)
    assert done is not None
    end = NOW + WINDOW
    assert [issued.state_at(t) for t in (NOW, end - 0.001, end, end + 1)] == \
        [ISSUED, ISSUED, EXPIRED, EXPIRED]
    assert [opened.state_at(t) for t in (end - 0.001, end)] == [OPENED, EXPIRED]
    assert [done.state_at(t) for t in (end - 0.001, end, NOW + READ)] == [FINISHED] * 3


# -- issue, get, open, finish -----------------------------------------------------------------


def test_an_issued_record_is_read_back_as_it_was_issued(tokens):
    issued = record()
    tokens.issue(issued)
    assert tokens.get(issued.token, NOW) == issued
    assert tokens.get(new_token(), NOW) is None


def test_a_token_issued_twice_is_refused_and_keeps_its_first_record(tokens):
    first = record()
    tokens.issue(first)
    with pytest.raises(ValueError, match="exists"):
        tokens.issue(record(first.token, appid="app-b", data={"other": True}))
    assert tokens.get(first.token, NOW) == first
    assert [each.token for each in tokens.list(NOW, appid="app-b")] == []


def test_records_come_back_as_json_makes_them_again(tokens):
    issued = record(data={"pair": (1, 2), "nested": {"list": [1.5, None]}})
    tokens.issue(issued)
    issued.data["pair"] = "changed after issue"
    assert tokens.get(issued.token, NOW).data == {"pair": [1, 2],
                                                  "nested": {"list": [1.5, None]}}
    won, finished = tokens.finish(issued.token, {"codes": (0,)}, NOW + 1)
    assert won and finished.outcome == {"codes": [0]}
    assert tokens.get(issued.token, NOW + 1).outcome == {"codes": [0]}


def test_what_json_cannot_hold_is_refused_and_changes_nothing(tokens):
    with pytest.raises(TypeError):
        tokens.issue(record(data={"when": object()}))
    assert tokens.list(NOW) == []
    issued = record()
    tokens.issue(issued)
    with pytest.raises(TypeError):
        tokens.finish(issued.token, {"photo": b"bytes"}, NOW + 1)
    with pytest.raises(ValueError):
        tokens.finish(issued.token, {"sim": float("nan")}, NOW + 1)
    assert tokens.get(issued.token, NOW + 1) == issued


def test_opening_marks_an_issued_token_opened_once(tokens):
    issued = record()
    tokens.issue(issued)
    opened = tokens.open(issued.token, NOW + 5)
    assert (opened.state, opened.opened_at) == (OPENED, NOW + 5)
    assert tokens.open(issued.token, NOW + 9) == opened  # opened already: unchanged
    assert tokens.get(issued.token, NOW + 9) == opened
    assert tokens.open(new_token(), NOW) is None


def test_finishing_records_the_outcome(tokens):
    issued = record()
    tokens.issue(issued)
    tokens.open(issued.token, NOW + 5)
    won, finished = tokens.finish(issued.token, {"err_code": 2016}, NOW + 30)
    assert won
    assert (finished.state, finished.opened_at, finished.finished_at, finished.outcome) == \
        (FINISHED, NOW + 5, NOW + 30, {"err_code": 2016})
    assert finished.data == issued.data
    assert tokens.get(issued.token, NOW + 30) == finished
    assert tokens.finish(new_token(), {"err_code": 0}, NOW) == (False, None)


def test_a_token_finishes_without_being_opened(tokens):
    issued = record()
    tokens.issue(issued)
    won, finished = tokens.finish(issued.token, {"err_code": 0}, NOW + 1)
    assert won and (finished.state, finished.opened_at) == (FINISHED, None)


def test_a_finished_token_never_changes(tokens):
    issued = record()
    tokens.issue(issued)
    _, finished = tokens.finish(issued.token, {"err_code": 0}, NOW + 10)
    assert tokens.finish(issued.token, {"err_code": 2016}, NOW + 11) == (False, finished)
    assert tokens.open(issued.token, NOW + 12) == finished
    after_window = NOW + WINDOW + 1
    assert tokens.finish(issued.token, {"err_code": 1}, after_window) == (False, finished)
    assert tokens.get(issued.token, after_window).state_at(after_window) == FINISHED
    assert tokens.get(issued.token, after_window) == finished


def test_a_token_issued_finished_cannot_be_finished_again(tokens):
    """A scenario rule's token: issued with its outcome already."""
    issued = record(state=FINISHED, finished_at=NOW, outcome={"err_code": 2016})
    tokens.issue(issued)
    assert tokens.finish(issued.token, {"err_code": 0}, NOW + 1) == (False, issued)
    assert tokens.open(issued.token, NOW + 1) == issued


# -- the windows ------------------------------------------------------------------------------


def test_the_user_window_ends_opening_and_finishing(tokens):
    late, later = record(), record()
    tokens.issue(late)
    tokens.issue(later)
    end = NOW + WINDOW
    assert tokens.open(late.token, end) == late  # not opened: too late
    won, seen = tokens.finish(late.token, {"err_code": 0}, end)
    assert (won, seen) == (False, late)
    assert seen.state_at(end) == EXPIRED  # the record says why
    assert tokens.get(late.token, end) == late
    assert tokens.finish(later.token, {"err_code": 0}, end - 0.001)[0]  # just in time


def test_an_opened_token_expires_unfinished(tokens):
    issued = record()
    tokens.issue(issued)
    opened = tokens.open(issued.token, NOW + 1)
    end = NOW + WINDOW
    assert tokens.finish(issued.token, {"err_code": 0}, end + 1) == (False, opened)
    assert tokens.get(issued.token, end + 1).state_at(end + 1) == EXPIRED


def test_the_read_window_ends_every_answer(tokens):
    unfinished, finished = record(), record()
    tokens.issue(unfinished)
    tokens.issue(finished)
    tokens.finish(finished.token, {"err_code": 0}, NOW + 1)
    last, gone = NOW + READ - 0.001, NOW + READ
    assert {each.token for each in tokens.list(last)} == {unfinished.token, finished.token}
    assert tokens.get(finished.token, last).state == FINISHED
    for token in (unfinished.token, finished.token):
        assert tokens.get(token, gone) is None
        assert tokens.open(token, gone) is None
        assert tokens.finish(token, {"err_code": 0}, gone) == (False, None)
    assert tokens.list(gone) == []
    assert tokens.get(unfinished.token, last) == unfinished  # the clock set back: readable


# -- list and clear ---------------------------------------------------------------------------


def test_the_list_is_newest_first_and_filtered(tokens):
    first = record(appid="app-a", flow="detect")
    second = record(appid="app-b", flow="eid", issued_at=NOW + 1)
    third = record(appid="app-a", flow="app", issued_at=NOW + 2)
    fourth = record(appid="app-a", flow="detect", issued_at=NOW + 3,
                    expires_at=NOW + 4)
    for each in (first, second, third, fourth):
        tokens.issue(each)
    tokens.open(second.token, NOW + 3)
    tokens.finish(third.token, {"err_code": 0}, NOW + 3)
    now = NOW + 5

    def listed(**filters: str) -> list[str]:
        return [each.token for each in tokens.list(now, **filters)]

    assert listed() == [fourth.token, third.token, second.token, first.token]
    assert listed(appid="app-a") == [fourth.token, third.token, first.token]
    assert listed(flow="detect") == [fourth.token, first.token]
    assert listed(state=ISSUED) == [first.token]
    assert listed(state=OPENED) == [second.token]
    assert listed(state=FINISHED) == [third.token]
    assert listed(state=EXPIRED) == [fourth.token]
    assert listed(appid="app-a", flow="detect", state=ISSUED) == [first.token]
    assert listed(appid="app-c") == []
    assert tokens.list(now, appid="app-a")[1] == tokens.get(third.token, now)


def test_every_process_sees_the_same_tokens(processes):
    one, other = processes().store(SPEC), processes().store(SPEC)
    issued = record()
    one.issue(issued)
    assert other.get(issued.token, NOW) == issued
    opened = other.open(issued.token, NOW + 1)
    assert one.finish(issued.token, {"err_code": 0}, NOW + 2)[0]
    assert other.finish(issued.token, {"err_code": 1}, NOW + 3)[0] is False
    assert [each.opened_at for each in other.list(NOW + 3)] == [opened.opened_at]


def test_clearing_one_appid_forgets_its_tokens_and_keeps_the_others(processes):
    state, other = processes(), processes()
    tokens = state.store(SPEC)
    mine, theirs = record(appid="app-a"), record(appid="app-b")
    tokens.issue(mine)
    tokens.issue(theirs)
    other.store(SPEC)  # the other process declares the same store
    other.clear_stores("app-a")
    assert tokens.get(mine.token, NOW) is None
    assert tokens.get(theirs.token, NOW) == theirs
    assert [each.token for each in tokens.list(NOW)] == [theirs.token]
    assert tokens.list(NOW, appid="app-a") == []
    tokens.issue(record(mine.token, appid="app-a"))  # its token is free again


def test_clearing_all_forgets_every_token(processes):
    state = processes()
    tokens = state.store(SPEC)
    for appid in ("app-a", "app-b"):
        tokens.issue(record(appid=appid))
    state.clear_stores()
    assert tokens.list(NOW) == []
    tokens.issue(record())
    assert len(tokens.list(NOW)) == 1


def test_equal_specs_share_one_store(processes):
    state = processes()
    assert state.store(TokenStoreSpec("t-tokens")) is state.store(SPEC)
    with pytest.raises(ValueError, match="declared already"):
        state.store(OnceSet("t-tokens"))


# -- bounds and the Redis layout --------------------------------------------------------------


def test_memory_keeps_at_most_its_capacity_the_first_issued_going_first():
    tokens = TokenStore(capacity=3)
    issued = [record(issued_at=NOW + n) for n in range(5)]
    for each in issued:
        tokens.issue(each)
    assert len(tokens) == 3
    assert [each.token for each in tokens.list(NOW + 5)] == [e.token for e in issued[:1:-1]]
    assert tokens.get(issued[1].token, NOW + 5) is None


@pytest.mark.parametrize("batching", [True, False], ids=["batched", "unbatched"])
def test_redis_keeps_at_most_its_capacity_the_first_issued_going_first(redis_server,
                                                                       batching):
    state = open_state(redis_server.url(), batching=batching)
    tokens = RedisTokens(state, "t-small", capacity=3)
    issued = [record(appid="app-a" if n % 2 else "app-b", issued_at=NOW + n)
              for n in range(5)]
    for each in issued:
        tokens.issue(each)
    assert tokens.get(issued[1].token, NOW + 5) is None
    assert [each.token for each in tokens.list(NOW + 5)] == [e.token for e in issued[:1:-1]]
    assert [each.token for each in tokens.list(NOW + 5, appid="app-a")] == [issued[3].token]
    assert len(state.redis.keys(f"{state.prefix}t-small:record:*")) == 3
    # the index entry of a dropped record went when the list came across it
    assert state.redis.zcard(f"{state.prefix}t-small:app:{b'app-a'.hex()}") == 1


def test_redis_keeps_a_hash_per_token_until_a_while_after_its_read_window(redis_server):
    state: RedisState = open_state(redis_server.url())
    issued = record()
    state.store(SPEC).issue(issued)
    base = f"{state.prefix}{SPEC.name}:"
    assert {key.decode() for key in state.redis.keys(f"{state.prefix}*")} >= {
        f"{base}record:{issued.token}", f"{base}order", f"{base}app:{b'app-a'.hex()}",
        f"{base}n"}
    assert all(key.decode().startswith(base) for key in state.redis.keys(f"{base}*"))
    fields = state.redis.hgetall(f"{base}record:{issued.token}")
    assert {name.decode(): json.loads(value) for name, value in fields.items()} == \
        issued.as_dict()
    ttl = READ + TOKEN_TTL_MARGIN_SECONDS
    assert ttl - 5 <= state.redis.ttl(f"{base}record:{issued.token}") <= ttl
    assert ttl - 5 <= state.redis.ttl(f"{base}order") <= ttl


@pytest.mark.parametrize("name", ["journal", "clock:tokens", "t-*", "rate:x"], ids=str)
def test_redis_refuses_a_token_store_whose_keys_are_core_s_or_another_store_s(redis_server,
                                                                               name):
    state = open_state(redis_server.url())
    declare_products_stores(state)
    with pytest.raises(ValueError, match="Redis"):
        state.store(TokenStoreSpec(name))
    assert TokenStoreSpec(name) not in state.stores()


# -- concurrent finishers ---------------------------------------------------------------------


def race(stores: list[Tokens], token: str, now: float) -> list[tuple[bool, TokenRecord | None]]:
    """Every store in ``stores`` finishes ``token`` on a thread of its own, all released
    together, each with its own outcome (``{"by": index}``); their answers, by index."""
    answers: list[Any] = [None] * len(stores)
    barrier = threading.Barrier(len(stores))

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = stores[index].finish(token, {"by": index}, now)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def assert_one_won(answers: list[tuple[bool, TokenRecord | None]], stored: TokenRecord) -> None:
    """Exactly one answer won, the stored outcome is the winner's, and every loser saw it."""
    winners = [index for index, (won, _) in enumerate(answers) if won]
    assert len(winners) == 1, f"winners: {winners}"
    assert stored.outcome == {"by": winners[0]}
    assert all(seen == stored for _, seen in answers)


@pytest.fixture
def switching_often() -> Iterator[None]:
    """Threads switch every microsecond, so that a finish that is not atomic is caught."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def test_one_of_sixteen_threads_finishing_a_token_in_memory_wins(switching_often):
    tokens = MemoryState(make_settings()).store(SPEC)
    for _ in range(20):
        issued = record()
        tokens.issue(issued)
        answers = race([tokens] * 16, issued.token, NOW + 1)
        assert_one_won(answers, tokens.get(issued.token, NOW + 1))


@pytest.mark.parametrize("batching", [True, False], ids=["batched", "unbatched"])
def test_one_of_two_processes_times_eight_threads_finishing_a_token_on_redis_wins(
        redis_server, batching):
    url = redis_server.url()
    processes = [open_state(url, batching=batching).store(SPEC) for _ in range(2)]
    for _ in range(10):
        issued = record()
        processes[0].issue(issued)
        answers = race(processes * 8, issued.token, NOW + 1)
        assert_one_won(answers, processes[1].get(issued.token, NOW + 1))
