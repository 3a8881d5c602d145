"""Declared state: the kinds of store a product can ask a state backend for.

A product declares each store it needs as a *spec* -- a frozen dataclass naming the store
and choosing its kind (``OnceSet``, ``RateWindow``, ``CodeBookSpec``,
``IdentityRegistrySpec``, ``TokenStoreSpec``) -- and gets it from the backend with
``state.store(spec)``, typed as the kind's protocol (``OnceSignatures``, ``RateLimits``,
``CodeBook``, ``Identities``, ``Tokens``).  Every
backend (``state.MemoryState``, ``redis_state.RedisState``) keeps the stores it made in a
``DeclaredStores``: made on first use, shared by every equal spec, cleared together (all, or
one appid's) by ``clear_stores``.

A new kind is a spec class here (with its protocol and a ``StoreFactory`` method) plus that
method in each backend's factory; mypy refuses a backend whose factory lacks it.
"""
from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar, cast

from .identity import IdentityRecord
from .tokens import TokenRecord

# -- what each kind of store offers --------------------------------------------------------
#
# Each protocol names exactly what the emulator, the products and the web layer use of a
# store; the memory stores (state.py) and the Redis stores (redis_state.py) satisfy them.


class Store(Protocol):
    """What every store offers: it can forget what it holds, for everyone or one appid."""

    def clear(self, appid: str | None = None) -> None:
        """Forget the entries: all, or one appid's."""


class OnceSignatures(Protocol):
    """Keys usable once per appid: once-signatures, nonces (``OnceSet``)."""

    def consume(self, appid: str, key: bytes) -> bool:
        """Mark ``key`` used for ``appid`` (atomically); True when it had not been used."""

    def clear(self, appid: str | None = None) -> None:
        """Forget used keys: all, or one appid's."""


class RateLimits(Protocol):
    """Per-app requests-per-second windows (``RateWindow``)."""

    def allow(self, appid: str, limit: int, now: float) -> bool:
        """Count one request for ``appid`` at ``now``; False when over ``limit`` per second."""

    def clear(self, appid: str | None = None) -> None:
        """Forget the windows: all, or one appid's."""


class CodeBook(Protocol):
    """Codes issued per appid from the server seed (``CodeBookSpec``)."""

    @property
    def seed(self) -> int:
        """The server seed the codes are drawn from."""

    def issue(self, appid: str) -> str:
        """A new code for ``appid``, remembered as issued."""

    def remember(self, appid: str, code: str) -> None:
        """Record a code handed out by other means as issued to ``appid``."""

    def issued(self, appid: str) -> list[str]:
        """The codes issued to ``appid``, oldest first."""

    def all_issued(self) -> dict[str, list[str]]:
        """The codes issued to each appid, oldest first."""

    def clear(self, appid: str | None = None) -> None:
        """Forget issued codes and restart the sequence (for one appid, or all)."""


class Identities(Protocol):
    """Who each ID number belongs to, and the phones and bank cards each person holds
    (``IdentityRegistrySpec``; the record: identity.py).  A run-time entry replaces the
    configured one of its number until it is cleared; a phone or card registered by two
    people belongs to the one registered last (run-time before configured)."""

    def name_for(self, number: str) -> str | None:
        """The registered name of ``number``, or None."""

    def record_for(self, number: str) -> IdentityRecord | None:
        """The registered record of ID ``number``, or None."""

    def records(self) -> list[IdentityRecord]:
        """Every registered record (a run-time one over a configured one of its number):
        for lookups no index serves, such as comparing hashes."""

    def owner_of_phone(self, phone: str) -> IdentityRecord | None:
        """The record of the person ``phone`` is registered to, or None (an index lookup)."""

    def owner_of_card(self, card: str) -> IdentityRecord | None:
        """The record of the person holding bank ``card``, or None (an index lookup)."""

    def add(self, number: str, name: str, appid: str | None = None) -> None:
        """Register ``number`` as ``name``'s (on behalf of ``appid``), with no phones,
        bank cards or validity dates."""

    def add_record(self, record: IdentityRecord, appid: str | None = None) -> None:
        """Register ``record`` (on behalf of ``appid``), replacing what its number had."""

    def clear(self, appid: str | None = None) -> None:
        """Forget run-time entries: all, or those one appid registered."""

    def __len__(self) -> int:
        """How many numbers are known."""


class Tokens(Protocol):
    """Verification tokens and what happened to them (``TokenStoreSpec``; the record and
    its states: tokens.py).  The caller makes the tokens (``tokens.new_token``) and passes
    the emulator's time; a record is forgotten once its read window is over."""

    def issue(self, record: TokenRecord) -> None:
        """Keep ``record``, in whatever state it comes; ValueError when its token is kept
        already (TypeError or ValueError when its data or outcome is not JSON-able)."""

    def get(self, token: str, now: float) -> TokenRecord | None:
        """The record of ``token``, or None (unknown, or past its read window)."""

    def open(self, token: str, now: float) -> TokenRecord | None:
        """The record of ``token`` after opening it: ``issued`` becomes ``opened`` inside
        the user window, any other record stays as it is; None as for ``get``."""

    def finish(self, token: str, outcome: Mapping[str, Any],
               now: float) -> tuple[bool, TokenRecord | None]:
        """Finish ``token`` with ``outcome`` (JSON-able) at ``now``.  Of any number of
        concurrent callers, in any processes sharing the store, exactly one wins: (True,
        the finished record).  The others, and any caller once the token is finished or
        its user window is over, get (False, the record as it stays: ``state_at(now)``
        says ``finished`` or ``expired``); (False, None) as for ``get``."""

    def list(self, now: float, appid: str | None = None, flow: str | None = None,
             state: str | None = None) -> list[TokenRecord]:
        """The readable records (of ``appid``, of ``flow``, in ``state`` as
        ``TokenRecord.state_at(now)`` sees it: each filter when given), the last issued
        first."""

    def clear(self, appid: str | None = None) -> None:
        """Forget the records: all, or those of ``appid``."""


# -- the specs ------------------------------------------------------------------------------

T = TypeVar("T", bound=Store)


@dataclass(frozen=True)
class StoreSpec(Generic[T]):
    """One declared store: its ``name`` (unique in a backend) and, by its class, its kind,
    whose protocol ``T`` is what ``state.store(spec)`` returns."""

    name: str

    def build(self, factory: StoreFactory) -> T:
        """A new store of this kind, made by ``factory`` (one backend's)."""
        raise NotImplementedError(f"{type(self).__name__} names no factory method")


@dataclass(frozen=True)
class OnceSet(StoreSpec[OnceSignatures]):
    """Keys used at most once per appid, as many as ``Settings.once_store_size`` (the
    oldest forgotten first).  In Redis: one sorted set, the key ``name``."""

    def build(self, factory: StoreFactory) -> OnceSignatures:
        return factory.once_set(self)


@dataclass(frozen=True)
class RateWindow(StoreSpec[RateLimits]):
    """Sliding one-second request windows per appid.  In Redis: ``name:APPID-HEX`` keys."""

    def build(self, factory: StoreFactory) -> RateLimits:
        return factory.rate_window(self)


class Codes(enum.Enum):
    """What a code book's codes look like; each backend knows how to make each."""

    FOUR_DIGITS = "digits"  #: four digits, leading zeros allowed ("0427")
    ACTION_ORDER = "actions"  #: an action sequence: "1,2" or "2,1"


@dataclass(frozen=True)
class CodeBookSpec(StoreSpec[CodeBook]):
    """Codes issued per appid from the server seed, and remembered.  ``namespace`` sets the
    sequence apart from other books' (it is part of what the codes are drawn from) and, in
    Redis, holds its keys: ``codes:NAMESPACE...``; give each book its own."""

    make: Codes = Codes.FOUR_DIGITS
    namespace: str = ""

    def build(self, factory: StoreFactory) -> CodeBook:
        return factory.code_book(self)


@dataclass(frozen=True)
class IdentityRegistrySpec(StoreSpec[Identities]):
    """The configured identities (``Settings.identities``, with the records of
    ``Settings.identity_records``) plus those registered at run time, each with the appid
    that registered it.  In Redis: one hash, the key ``name`` (ID number -> the record as
    JSON), and the indexes ``name:phones`` and ``name:cards`` (number -> ID number)."""

    def build(self, factory: StoreFactory) -> Identities:
        return factory.identity_registry(self)


@dataclass(frozen=True)
class TokenStoreSpec(StoreSpec[Tokens]):
    """Verification tokens (tokens.py), as many as ``tokens.DEFAULT_TOKEN_STORE_SIZE`` (the
    first issued forgotten first).  In Redis: a hash per token (``name:record:TOKEN``) that
    Redis drops a while after its read window, the issue order (``name:order``) and an index
    per appid (``name:app:APPID-HEX``)."""

    def build(self, factory: StoreFactory) -> Tokens:
        return factory.token_store(self)


class StoreFactory(Protocol):
    """How one backend makes a store of each kind: one method per kind."""

    def once_set(self, spec: OnceSet) -> OnceSignatures: ...

    def rate_window(self, spec: RateWindow) -> RateLimits: ...

    def code_book(self, spec: CodeBookSpec) -> CodeBook: ...

    def identity_registry(self, spec: IdentityRegistrySpec) -> Identities: ...

    def token_store(self, spec: TokenStoreSpec) -> Tokens: ...


# -- a backend's stores ---------------------------------------------------------------------


class DeclaredStores:
    """The stores one backend has made, by name, in the order they were first asked for."""

    def __init__(self, factory: StoreFactory) -> None:
        self._factory = factory
        self._made: dict[str, tuple[StoreSpec[Any], Store]] = {}
        self._lock = threading.Lock()

    def get(self, spec: StoreSpec[T]) -> T:
        """The store ``spec`` declares: made now on first use, the same object for every
        equal spec afterwards; ValueError when its name is taken by a different spec."""
        made = self._made.get(spec.name)
        if made is None or (made[0] is not spec and made[0] != spec):
            with self._lock:
                made = self._made.get(spec.name)
                if made is None:
                    made = self._made[spec.name] = (spec, spec.build(self._factory))
                elif made[0] != spec:
                    raise ValueError(f"store {spec.name!r} is declared already as "
                                     f"{made[0]!r}, not as {spec!r}")
        return cast(T, made[1])

    def clear(self, appid: str | None = None) -> None:
        """Clear every store made so far: all its entries, or one appid's."""
        for store in self.made():
            store.clear(appid)

    def specs(self) -> tuple[StoreSpec[Any], ...]:
        """The specs declared so far, in the order they were first asked for."""
        with self._lock:
            return tuple(spec for spec, _ in self._made.values())

    def made(self) -> list[Store]:
        """The stores made so far, in the order they were first asked for."""
        with self._lock:
            return [store for _, store in self._made.values()]
