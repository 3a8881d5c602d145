"""The state backend in this process's memory (``MemoryState``) and what every backend
offers (``StateBackend``).

The stores products declare (stores.py) are made here, in memory, by ``MemoryStores``:
used once-signatures, rate windows, issued codes, identities registered at run time and
verification tokens (tokens.py).
Core's own state -- the journal, the dashboard's thumbnails, loose appids and scenario
activations -- is no product store.  Each store has a fixed bound so that memory stays flat
whatever the load.
"""
from __future__ import annotations

import random
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from .clock import Clock
from .config import App, Keyring, Settings
from .identity import IdentityRecord
from .journal import DEFAULT_JOURNAL_SIZE, Journal, JournalEntry, RecentImages
from .media import MediaBytes
from .scenarios.activations import ActivationStore, LocalActivations
from .scenarios.engine import ScenarioEngine
from .stores import (
    CodeBook,
    CodeBookSpec,
    Codes,
    DeclaredStores,
    Identities,
    IdentityRegistrySpec,
    OnceSet,
    OnceSignatures,
    RateLimits,
    RateWindow,
    Store,
    StoreSpec,
    Tokens,
    TokenStoreSpec,
)
from .tokens import TokenStore

T = TypeVar("T", bound=Store)


class OnceSignatureStore:
    """Remembers once-signatures (``e=0``) that have been used.

    Holds at most ``capacity`` entries; past that the oldest are forgotten (and could be
    used again).  ``consume`` is atomic: of any number of concurrent callers with the same
    key, exactly one gets True.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._used: OrderedDict[tuple[str, bytes], None] = OrderedDict()
        self._lock = threading.Lock()

    def consume(self, appid: str, key: bytes) -> bool:
        """Mark ``key`` (a signature's HMAC digest: small, and the same for every spelling
        of one signature) used for ``appid``; True when it had not been used before."""
        with self._lock:
            if (appid, key) in self._used:
                return False
            self._used[(appid, key)] = None
            if len(self._used) > self.capacity:
                self._used.popitem(last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._used)

    def clear(self, appid: str | None = None) -> None:
        """Forget used signatures: all, or one appid's."""
        with self._lock:
            if appid is None:
                self._used.clear()
            else:
                for key in [k for k in self._used if k[0] == appid]:
                    del self._used[key]


class RateLimiter:
    """Per-app requests-per-second limit over a sliding one-second window."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, appid: str, limit: int, now: float) -> bool:
        """Count one request for ``appid`` at ``now``; False when over ``limit`` per second."""
        with self._lock:
            window = self._hits.setdefault(appid, deque())
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    def clear(self, appid: str | None = None) -> None:
        with self._lock:
            if appid is None:
                self._hits.clear()
            else:
                self._hits.pop(appid, None)


def four_digits(generator: random.Random) -> str:
    """A lip-reading code: four digits, leading zeros allowed."""
    return f"{generator.randrange(10_000):04d}"


def action_order(generator: random.Random) -> str:
    """An API 3.0 action sequence: ``1,2`` or ``2,1`` (1 open the mouth, 2 close the eyes)."""
    return ",".join(generator.sample(["1", "2"], 2))


#: How the memory code books draw each kind of code from their generator.
DRAWS: dict[Codes, Callable[[random.Random], str]] = {
    Codes.FOUR_DIGITS: four_digits,
    Codes.ACTION_ORDER: action_order,
}


class LipCodeBook:
    """Issues codes per appid from a seeded generator and remembers them: 4-digit lip codes
    by default, or whatever ``make`` draws (API 3.0 action sequences).

    The sequence for an appid depends only on the server seed, the book's ``namespace`` and
    the appid, so two servers started with the same seed issue the same codes in the same
    order.  At most ``per_app`` codes are remembered per appid (oldest forgotten first).
    """

    def __init__(self, seed: int, per_app: int = 1000, apps: int = 10_000,
                 make: Callable[[random.Random], str] = four_digits,
                 namespace: str = "") -> None:
        self.seed = seed
        self.per_app = per_app
        self.apps = apps  # appids remembered at most (loose mode admits any appid)
        self.make = make
        self.namespace = namespace
        self._generators: OrderedDict[str, random.Random] = OrderedDict()
        self._issued: OrderedDict[str, deque[str]] = OrderedDict()
        self._lock = threading.Lock()

    def issue(self, appid: str) -> str:
        """A new code for ``appid`` (remembered as issued)."""
        with self._lock:
            generator = self._generators.get(appid)
            if generator is None:
                generator = self._generators[appid] = random.Random(
                    f"{self.namespace}{self.seed}:{appid}")
                if len(self._generators) > self.apps:
                    self._generators.popitem(last=False)
            code = self.make(generator)
        self.remember(appid, code)
        return code

    def remember(self, appid: str, code: str) -> None:
        """Record a code handed out by other means (a scenario) as issued to ``appid``."""
        with self._lock:
            if appid not in self._issued:
                self._issued[appid] = deque(maxlen=self.per_app)
                if len(self._issued) > self.apps:
                    self._issued.popitem(last=False)
            self._issued[appid].append(code)

    def issued(self, appid: str) -> list[str]:
        """The codes issued to ``appid``, oldest first."""
        with self._lock:
            return list(self._issued.get(appid, ()))

    def all_issued(self) -> dict[str, list[str]]:
        with self._lock:
            return {appid: list(codes) for appid, codes in self._issued.items()}

    def clear(self, appid: str | None = None) -> None:
        """Forget issued codes and restart the sequence (for one appid, or all)."""
        with self._lock:
            if appid is None:
                self._generators.clear()
                self._issued.clear()
            else:
                self._generators.pop(appid, None)
                self._issued.pop(appid, None)


class IdentityRegistry:
    """Who each ID number belongs to: the configured identities plus those registered at
    run time (admin API), each remembered with the appid that registered it so that a
    namespace's reset forgets its own.  Bounded: the oldest run-time entries go first.

    ``configured``: ID number -> name; ``records``: whole records of configured numbers
    (phones, bank cards, validity dates).  Phones and cards are indexed (number -> ID
    number), the run-time index before the configured one; an index entry whose record no
    longer holds the number (replaced or forgotten) is passed over."""

    def __init__(self, configured: Mapping[str, str], capacity: int = 100_000, *,
                 records: Mapping[str, IdentityRecord] | None = None) -> None:
        self._configured = configured_records(configured, records or {})
        self._added: OrderedDict[str, tuple[IdentityRecord, str | None]] = OrderedDict()
        self._phones: dict[str, str] = {}  # run-time: phone -> ID number
        self._cards: dict[str, str] = {}
        self._configured_phones, self._configured_cards = owners_index(self._configured)
        self.capacity = capacity
        self._lock = threading.Lock()

    def name_for(self, number: str) -> str | None:
        """The registered name of ``number`` (a run-time entry wins), or None."""
        record = self.record_for(number)
        return record.name if record is not None else None

    def record_for(self, number: str) -> IdentityRecord | None:
        """The registered record of ``number`` (a run-time entry wins), or None."""
        with self._lock:
            added = self._added.get(number)
        return added[0] if added is not None else self._configured.get(number)

    def records(self) -> list[IdentityRecord]:
        with self._lock:
            added = {number: record for number, (record, _) in self._added.items()}
        return list({**self._configured, **added}.values())

    def owner_of_phone(self, phone: str) -> IdentityRecord | None:
        return self._owner(phone, self._phones, self._configured_phones, IdentityRecord.phone)

    def owner_of_card(self, card: str) -> IdentityRecord | None:
        return self._owner(card, self._cards, self._configured_cards,
                           IdentityRecord.bank_card)

    def _owner(self, key: str, added: dict[str, str], configured: dict[str, str],
               holds: Callable[[IdentityRecord, str], object]) -> IdentityRecord | None:
        for index in (added, configured):
            with self._lock:
                number = index.get(key)
            record = self.record_for(number) if number is not None else None
            if record is not None and holds(record, key) is not None:
                return record
        return None

    def add(self, number: str, name: str, appid: str | None = None) -> None:
        self.add_record(IdentityRecord(number, name), appid)

    def add_record(self, record: IdentityRecord, appid: str | None = None) -> None:
        with self._lock:
            self._added[record.number] = (record, appid)
            self._added.move_to_end(record.number)
            for phone in record.phones:
                self._phones[phone.number] = record.number
            for card in record.bank_cards:
                self._cards[card.number] = record.number
            if len(self._added) > self.capacity:
                _, (dropped, _) = self._added.popitem(last=False)
                self._unindex(dropped)

    def _unindex(self, record: IdentityRecord) -> None:
        """Drop the run-time index entries pointing at ``record`` (holding the lock)."""
        for phone in record.phones:
            if self._phones.get(phone.number) == record.number:
                del self._phones[phone.number]
        for card in record.bank_cards:
            if self._cards.get(card.number) == record.number:
                del self._cards[card.number]

    def clear(self, appid: str | None = None) -> None:
        """Forget run-time entries: all, or those one appid registered."""
        with self._lock:
            if appid is None:
                self._added.clear()
                self._phones.clear()
                self._cards.clear()
            else:
                for number in [n for n, (_, a) in self._added.items() if a == appid]:
                    del self._added[number]
                self._phones = {phone.number: record.number
                                for record, _ in self._added.values() for phone in record.phones}
                self._cards = {card.number: record.number
                               for record, _ in self._added.values() for card in record.bank_cards}

    def __len__(self) -> int:
        with self._lock:
            return len(self._configured.keys() | self._added.keys())


def configured_records(names: Mapping[str, str],
                       records: Mapping[str, IdentityRecord]) -> dict[str, IdentityRecord]:
    """The configured identities as records: ``records`` (whole ones, by ID number) plus a
    record of its name alone for each other number of ``names``."""
    made = {number: IdentityRecord(number, name) for number, name in names.items()}
    made.update(records)
    return made


def owners_index(records: Mapping[str, IdentityRecord]
                 ) -> tuple[dict[str, str], dict[str, str]]:
    """Who each configured phone and bank card belongs to: (phone -> ID number, card -> ID
    number), as both backends look them up."""
    phones = {phone.number: record.number for record in records.values()
              for phone in record.phones}
    cards = {card.number: record.number for record in records.values()
             for card in record.bank_cards}
    return phones, cards




class MemoryStores:
    """Makes the memory store of each kind (a ``StoreFactory``), bounded as ``settings``
    says, drawing codes from its seed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def once_set(self, spec: OnceSet) -> OnceSignatures:
        return OnceSignatureStore(self.settings.once_store_size)

    def rate_window(self, spec: RateWindow) -> RateLimits:
        return RateLimiter()

    def code_book(self, spec: CodeBookSpec) -> CodeBook:
        return LipCodeBook(self.settings.seed, make=DRAWS[spec.make], namespace=spec.namespace)

    def identity_registry(self, spec: IdentityRegistrySpec) -> Identities:
        return IdentityRegistry(self.settings.identities,
                                records=self.settings.identity_records)

    def token_store(self, spec: TokenStoreSpec) -> Tokens:
        return TokenStore()


class StateUnavailable(RuntimeError):
    """The shared state backend cannot be reached: the request cannot be answered now."""


# -- what every backend offers ------------------------------------------------------------
#
# The product stores' protocols are in stores.py; these are core's own stores', which
# MemoryState's (in journal.py) and RedisState's satisfy.


class JournalStore(Protocol):
    """The request journal (``Journal``)."""

    @property
    def capacity(self) -> int:
        """Entries kept at most."""

    def record(self, **values: Any) -> None:
        """Add an entry (fields as JournalEntry's, without ``id``)."""

    def query(self, endpoint: str | None = None, appid: str | None = None,
              code: int | str | None = None, since: float | None = None,
              after: int | None = None) -> list[JournalEntry]:
        """Entries matching every given filter, oldest first."""

    def clear(self, appid: str | None = None) -> int:
        """Drop all entries, or one appid's; how many were dropped."""


class ImageStore(Protocol):
    """The dashboard's thumbnails (``RecentImages``)."""

    def keep(self, summary: dict[str, Any], data: MediaBytes) -> None:
        """Remember ``data`` if its summary says it is a small image."""

    def get(self, sha256: str) -> tuple[str, bytes] | None:
        """(media type, bytes) of a kept image, or None."""


class StateBackend(Protocol):
    """Where the state requests change lives: this process (``MemoryState``) or Redis
    (``RedisState``).  What the emulator and the web layer use of it, nothing more."""

    @property
    def shared(self) -> bool:
        """Whether other processes share this state."""

    @property
    def description(self) -> str:
        """The backend, for people (status, start-up banner)."""

    @property
    def clock(self) -> Clock: ...

    def store(self, spec: StoreSpec[T]) -> T:
        """The store ``spec`` declares, made on first use; the same object for every equal
        spec afterwards (products declaring equal specs share it); ValueError when its name
        is declared already with a different spec."""

    def clear_stores(self, appid: str | None = None) -> None:
        """Clear every store made so far: all its entries, or one appid's."""

    def stores(self) -> tuple[StoreSpec[Any], ...]:
        """The specs declared so far, in the order they were first asked for."""


    @property
    def journal(self) -> JournalStore: ...

    @property
    def recent_images(self) -> ImageStore: ...

    @property
    def loose_appids(self) -> set[str]:
        """The apps in loose mode (as this process last read them)."""

    @property
    def activations(self) -> ActivationStore: ...

    def attach(self, keyring: Keyring, engine: ScenarioEngine) -> None:
        """Bind the keyring and scenario engine whose changes this backend shares."""

    def sync(self) -> None:
        """Bring settings changed by other processes into this one (StateUnavailable when
        the backend cannot be reached)."""

    def quick(self) -> bool:
        """Whether every store answers now without waiting on anything slow."""

    def set_loose(self, appid: str, enabled: bool) -> None:
        """Loose mode on or off for one app."""

    def clear_loose(self) -> None:
        """Loose mode off for every app."""

    def add_app(self, keyring: Keyring, app: App) -> None:
        """Add ``app`` to ``keyring`` (and to every process sharing the state);
        ValueError when its appid or secret id is taken."""

    def remove_app(self, keyring: Keyring, appid: str) -> App:
        """Remove an app added at run time (KeyError for any other) and return it."""


class MemoryState:
    """The state of one server process, in its memory (the default backend).

    Every backend offers the same stores; the emulator, the products and the admin API use
    only these.  ``sync`` brings settings changed by another process (clock, loose mode,
    apps, scenario activations) into this one: nothing to do here."""

    shared = False
    description = "memory (this process)"

    def __init__(self, settings: Settings, journal_size: int = DEFAULT_JOURNAL_SIZE,
                 clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self._stores = DeclaredStores(MemoryStores(settings))
        self.journal = Journal(journal_size)
        self.recent_images = RecentImages()  # the dashboard's thumbnails
        self.loose_appids: set[str] = set()  # loose mode for some apps only (admin API)
        self.activations = LocalActivations()

    def store(self, spec: StoreSpec[T]) -> T:
        """The store ``spec`` declares (see ``StateBackend.store``)."""
        return self._stores.get(spec)

    def clear_stores(self, appid: str | None = None) -> None:
        """Clear every store made so far: all its entries, or one appid's."""
        self._stores.clear(appid)

    def stores(self) -> tuple[StoreSpec[Any], ...]:
        """The specs declared so far, in the order they were first asked for."""
        return self._stores.specs()


    def attach(self, keyring: Keyring, engine: ScenarioEngine) -> None:
        """Bind the keyring and scenario engine whose changes this backend shares."""

    def sync(self) -> None:
        """Nothing is shared with other processes."""

    def quick(self) -> bool:
        """Whether every store answers without waiting on anything: always, in memory."""
        return True

    def set_loose(self, appid: str, enabled: bool) -> None:
        """Loose mode on or off for one app."""
        (self.loose_appids.add if enabled else self.loose_appids.discard)(appid)

    def clear_loose(self) -> None:
        """Loose mode off for every app."""
        self.loose_appids.clear()

    def add_app(self, keyring: Keyring, app: App) -> None:
        keyring.add(app)

    def remove_app(self, keyring: Keyring, appid: str) -> App:
        return keyring.remove(appid)

    def close(self) -> None:
        pass
