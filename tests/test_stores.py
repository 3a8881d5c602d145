"""Declared state: a spec names a store of one kind; each backend makes it on first use,
shares it between equal specs, refuses a name declared twice differently, and clears every
store it made -- all of them, or one appid's -- on both backends (memory, Redis with and
without batching)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from mockface.core import stores
from mockface.core.state import (
    MemoryState,
    StateBackend,
)
from mockface.core.stores import (
    CodeBookSpec,
    Codes,
    IdentityRegistrySpec,
    OnceSet,
    RateWindow,
    StoreSpec,
    TokenStoreSpec,
)
from mockface.core.tokens import TokenRecord
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.legacy.stores import IDENTITIES, LIP_CODES, ONCE_SIGNATURES, RATE_WINDOWS
from mockface.products.faceid.stores import ACTION_SEQUENCES

from .redis_server import open_state
from .support import NOW, declare_products_stores, make_settings

BACKENDS = ["memory", "redis", "redis-unbatched"]


@pytest.fixture(params=BACKENDS)
def backends(request) -> Iterator[Callable[[], StateBackend]]:
    """Opens backends on one shared space: the same MemoryState each time (one process),
    a new RedisState on the same prefix each time (another process)."""
    if request.param == "memory":
        state = MemoryState(make_settings())
        declare_products_stores(state)
        yield lambda: state
        return
    url = request.getfixturevalue("redis_server").url()
    batching = request.param == "redis"

    def process() -> StateBackend:
        state = open_state(url, batching=batching)
        declare_products_stores(state)
        return state
    yield process


@dataclass(frozen=True)
class Kind:
    """How the tests declare a store of one kind, put one appid's entry in it, and see
    whether the entry is still there."""

    spec: StoreSpec[Any]
    fill: Callable[[Any, str], object]
    holds: Callable[[Any, str], bool]


#: One store of every kind (test_every_kind_is_covered keeps it complete).
KINDS = {
    OnceSet: Kind(OnceSet("t-once"), lambda store, appid: store.consume(appid, b"k"),
                  lambda store, appid: not store.consume(appid, b"k")),
    RateWindow: Kind(RateWindow("t-rate"), lambda store, appid: store.allow(appid, 1, NOW),
                     lambda store, appid: not store.allow(appid, 1, NOW)),
    CodeBookSpec: Kind(CodeBookSpec("t-codes", make=Codes.ACTION_ORDER, namespace="t:"),
                       lambda store, appid: store.issue(appid),
                       lambda store, appid: store.issued(appid) != []),
    IdentityRegistrySpec: Kind(
        IdentityRegistrySpec("t-identities"),
        lambda store, appid: store.add(f"number-{appid}", "张三", appid),
        lambda store, appid: store.name_for(f"number-{appid}") == "张三"),
    TokenStoreSpec: Kind(
        TokenStoreSpec("t-tokens"),
        lambda store, appid: store.issue(TokenRecord(
            f"token-{appid}", "detect", appid, NOW, NOW + 600, NOW + 3 * 86400)),
        lambda store, appid: store.get(f"token-{appid}", NOW) is not None),
}


def kinds_of(base: type) -> set[type]:
    found: set[type] = set()
    for kind in base.__subclasses__():
        found |= {kind} | kinds_of(kind)
    return found


def test_every_kind_is_covered():
    """A new kind of store joins KINDS, and so the clearing tests below."""
    assert kinds_of(StoreSpec) == set(KINDS)
    assert {name for name in dir(stores.StoreFactory) if not name.startswith("_")} == \
        {"once_set", "rate_window", "code_book", "identity_registry", "token_store"}


def test_a_store_is_made_once_and_shared_by_every_equal_spec(backends):
    state = backends()
    nonces = state.store(OnceSet("t-nonces"))
    assert state.store(OnceSet("t-nonces")) is nonces  # another product's equal spec
    assert nonces.consume("a", b"n") and not state.store(OnceSet("t-nonces")).consume("a", b"n")
    assert state.stores().count(OnceSet("t-nonces")) == 1
    assert state.store(CodeBookSpec("lip_codes")) is state.store(LIP_CODES)
    assert (state.store(ONCE_SIGNATURES), state.store(RATE_WINDOWS), state.store(ACTION_SEQUENCES),
            state.store(IDENTITIES)) == (state.store(ONCE_SIGNATURES), state.store(RATE_WINDOWS),
                                  state.store(ACTION_SEQUENCES), state.store(IDENTITIES))


def test_a_name_declared_with_another_spec_is_refused(backends):
    state = backends()
    state.store(OnceSet("t-nonces"))
    declared = state.stores()
    with pytest.raises(ValueError, match="'t-nonces' is declared already"):
        state.store(RateWindow("t-nonces"))
    with pytest.raises(ValueError, match="'lip_codes' is declared already"):
        state.store(CodeBookSpec("lip_codes", namespace="other:"))
    assert state.stores() == declared


def test_the_stores_declared_so_far_are_listed_in_order(backends):
    state = backends()
    assert state.stores()[:5] == (LIP_CODES, IDENTITIES, ONCE_SIGNATURES, RATE_WINDOWS,
                                  ACTION_SEQUENCES)
    state.store(RateWindow("t-later"))
    assert state.stores()[-1] == RateWindow("t-later")


def test_code_books_draw_every_kind_of_code(backends):
    state = backends()
    for make in Codes:
        book = state.store(CodeBookSpec(f"t-{make.name}", make=make, namespace=f"{make.name}:"))
        assert book.issue("a")


@pytest.mark.parametrize("spec", [OnceSet("journal"), RateWindow("clock"),
                                  IdentityRegistrySpec("codes:x"), OnceSet("t-*"),
                                  RateWindow("rate:x"), CodeBookSpec("t-other")],
                         ids=str)
def test_redis_refuses_a_spec_whose_keys_are_core_s_or_another_store_s(redis_server, spec):
    state = open_state(redis_server.url())
    declare_products_stores(state)
    with pytest.raises(ValueError, match="Redis"):
        state.store(spec)
    assert spec not in state.stores()


def fill_every_kind(state: StateBackend, appids: tuple[str, ...]) -> None:
    for kind in KINDS.values():
        for appid in appids:
            kind.fill(state.store(kind.spec), appid)
    for kind in KINDS.values():
        assert all(kind.holds(state.store(kind.spec), appid) for appid in appids), kind.spec


def test_clearing_one_appid_clears_its_entries_in_every_kind_and_keeps_the_others(backends):
    state, other = backends(), backends()
    fill_every_kind(state, ("a", "b"))
    for kind in KINDS.values():
        other.store(kind.spec)  # the other process declares the same stores
    other.clear_stores("a")
    left = {type(kind.spec).__name__: (kind.holds(state.store(kind.spec), "a"),
                                       kind.holds(state.store(kind.spec), "b"))
            for kind in KINDS.values()}
    assert left == {name: (False, True) for name in left}


def test_clearing_all_clears_every_kind(backends):
    state = backends()
    fill_every_kind(state, ("a", "b"))
    state.clear_stores()
    left = {type(kind.spec).__name__: (kind.holds(state.store(kind.spec), "a"),
                                       kind.holds(state.store(kind.spec), "b"))
            for kind in KINDS.values()}
    assert left == {name: (False, False) for name in left}


def test_an_emulator_declares_every_products_stores_as_it_is_built():
    emulator = Emulator(make_settings())
    declared = set(emulator.state.stores())
    assert {LIP_CODES, IDENTITIES, ACTION_SEQUENCES, ONCE_SIGNATURES, RATE_WINDOWS} <= declared
    assert all(spec in declared for product in REGISTRY for spec in product.stores)


def test_a_reset_clears_the_stores_a_process_declared_but_never_used(backends):
    """A process declares the products' stores as its emulator is built: a reset there,
    before it has served a request, clears them all the same."""
    state = backends()
    state.store(LIP_CODES).issue("a")
    state.store(IDENTITIES).add("number-a", "张三", "a")
    assert state.store(LIP_CODES).issued("a")
    backends().clear_stores("a")
    assert (state.store(LIP_CODES).issued("a"),
            state.store(IDENTITIES).name_for("number-a")) == ([], None)
