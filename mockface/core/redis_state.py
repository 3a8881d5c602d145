"""State shared through Redis, so that several server processes (or hosts) act as one
emulator: ``mockface serve --state redis://HOST:PORT/DB``.

Everything a request changes lives in Redis and is changed atomically there (Lua scripts
for once-signatures, rate windows, rule counters, the clock, the journal and the
dashboard's thumbnails).  Writes whose reply a request does not need (the journal entry, an
issued code, a thumbnail) are sent without waiting for it (``RedisCalls.post``: the
commands go through redis_batch.py, the one module on redis-py's internals).  Settings
changed over the admin API (clock, per-app loose mode, apps, scenario activations) are
also kept in each process; a change is announced on a channel, and every process adopts it
before the change returns, so a request needs no round trip to see it.

When Redis cannot be reached, each operation raises StateUnavailable at once (short
timeouts; a broken pooled connection is tried once more, a timeout never); the outage is
logged once, and its end once, when Redis answers again.  A Redis that is full
(``maxmemory`` reached under ``noeviction``) refuses writes: StateUnavailable too, logged
at most once a minute.  Keys all start with a prefix (``mockface:`` unless the URL adds
``?prefix=``); ``?batching=off`` sends commands with public redis-py calls alone
(redis_batch.py).

The stores products declare (stores.py) are made here by ``RedisStores``, under keys named
after the spec (``once``, ``rate:APPID-HEX``, ``identities``, ``NAME:record:TOKEN`` and
its indexes for tokens; code books under ``codes:NAMESPACE``), so that every process
declaring the same specs shares them.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .clock import Clock
from .config import App, Keyring, Settings
from .journal import DEFAULT_JOURNAL_SIZE, JournalEntry, RecentImages, matching, settle_now
from .media import MediaBytes
from .redis_batch import RedisCalls, Script, sender
from .scenarios.engine import ScenarioEngine
from .identity import IdentityRecord
from .state import StateUnavailable, configured_records, owners_index
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
from .tokens import DEFAULT_TOKEN_STORE_SIZE, TokenRecord, plain, plain_json

T = TypeVar("T", bound=Store)

log = logging.getLogger("mockface.state")

DEFAULT_PREFIX = "mockface:"
TIMEOUT_SECONDS = 2.0  # per Redis operation: an outage is answered, never waited out
ANNOUNCE_SECONDS = 2.0  # how long a settings change waits for every process to adopt it
RETRY_SECONDS = 0.2  # how often a lost listener connection is tried again
#: Requests may be answered on the server's event loop (blocking it for their round trips)
#: while Redis's round trips take at most this (``RedisCalls.round_trip``); slower, they go to
#: worker threads.
QUICK_ROUND_TRIP_SECONDS = 0.001
ONCE_TTL_SECONDS = 7 * 24 * 3600  # how long a used once-signature stays used
FULL_LOG_SECONDS = 60.0  # a full Redis is logged at most this often
COUNTER_TTL_SECONDS = 7 * 24 * 3600  # rule counters of activations nobody uses any more

#: Lua: use a once-signature (ARGV[1]) unless it is in the set already; 1 when it was not.
#: Scored by Redis's time in microseconds: those older than ARGV[2] seconds no longer count
#: and are dropped, and so are the oldest past ARGV[3] entries.  ZADD is the first write,
#: so that a full Redis (noeviction) refuses the script before it changes anything.
#: Lua: register an identity: KEYS the records (hash: ID number -> JSON), the phone index
#: and the card index (hashes: number -> ID number); ARGV the ID number, the record's JSON,
#: how many phones follow, the phones, then the cards.
_IDENTITY_ADD = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local phones = tonumber(ARGV[3])
for i = 4, 3 + phones do redis.call('HSET', KEYS[2], ARGV[i], ARGV[1]) end
for i = 4 + phones, #ARGV do redis.call('HSET', KEYS[3], ARGV[i], ARGV[1]) end
return 1
"""
#: Lua: who holds a phone or card: KEYS the records and one index, ARGV[1] the number;
#: false when the index has none, else {ID number, its record's JSON (absent: none)}.
_IDENTITY_OWNER = """
local number = redis.call('HGET', KEYS[2], ARGV[1])
if not number then return false end
local record = redis.call('HGET', KEYS[1], number)
if not record then return {number} end
return {number, record}
"""
#: Lua: drop index entries (KEYS[1]) ARGV[2..] that still point at ID number ARGV[1].
_IDENTITY_UNINDEX = """
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 1
"""
_ONCE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local expired = now - tonumber(ARGV[2]) * 1000000
local used = redis.call('ZSCORE', KEYS[1], ARGV[1])
if used and tonumber(used) > expired then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', expired)
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if extra > 0 then redis.call('ZPOPMIN', KEYS[1], extra) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
#: Lua: keep an image: KEYS the bytes (hash: sha256 -> kind, newline, bytes), their order
#: (sorted set: sha256 -> time kept) and their total size; ARGV the sha256, the blob, the
#: time, the budget in bytes, the most images kept and their lifetime in seconds.  An image
#: kept already only moves to the newest.  The oldest go first.
_KEEP_IMAGE = """
local sha, blob, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local budget, most, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local function drop(names)
  for _, name in ipairs(names) do
    redis.call('DECRBY', KEYS[3], redis.call('HSTRLEN', KEYS[1], name))
    redis.call('HDEL', KEYS[1], name)
    redis.call('ZREM', KEYS[2], name)
  end
end
drop(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl))
if redis.call('HEXISTS', KEYS[1], sha) == 0 then
  redis.call('HSET', KEYS[1], sha, blob)
  redis.call('INCRBY', KEYS[3], #blob)
end
redis.call('ZADD', KEYS[2], now, sha)
while redis.call('ZCARD', KEYS[2]) > most or
      tonumber(redis.call('GET', KEYS[3]) or '0') > budget do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then redis.call('SET', KEYS[3], 0) break end
  drop(oldest)
end
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ttl) end
return 1
"""
#: Lua: one rule answer, unless its times are used up; the answers given before, or -1.
_TAKE = """
local used = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local times = tonumber(ARGV[2])
if times >= 0 and used >= times then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], used + 1)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return used
"""
#: Lua: a sliding one-second window; 1 when the request is within the limit.
_RATE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""
#: Lua: issue a token unless its record exists: KEYS the record (a hash of JSON values),
#: the issue order and the appid's index (sorted sets scored by KEYS[4], a counter); ARGV
#: the record's lifetime in seconds, the most records kept, the token, then the record's
#: fields and values.  {1, the tokens pushed out of the order} when issued, {0} when not.
#: HSET is the first write (a full Redis refuses the script before it changes anything).
_TOKEN_ISSUE = """
local ttl, most = tonumber(ARGV[1]), tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ttl)
local n = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[2], n, ARGV[3])
redis.call('ZADD', KEYS[3], n, ARGV[3])
for i = 2, 3 do
  if redis.call('TTL', KEYS[i]) < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
end
local reply = {1}
local extra = redis.call('ZCARD', KEYS[2]) - most
if extra > 0 then
  local out = redis.call('ZPOPMIN', KEYS[2], extra)
  for i = 1, #out, 2 do reply[#reply + 1] = out[i] end
end
return reply
"""
#: Lua: open a token (KEYS[1], its record) at ARGV[1]: ``issued`` becomes ``opened``
#: before ``expires_at``.  The record's fields and values after it; none when the record
#: is missing or past its ``readable_until``.
_TOKEN_OPEN = """
local now = tonumber(ARGV[1])
local t = redis.call('HMGET', KEYS[1], 'state', 'expires_at', 'readable_until')
if not t[1] or now >= tonumber(t[3]) then return {} end
if t[1] == '"issued"' and now < tonumber(t[2]) then
  redis.call('HSET', KEYS[1], 'state', '"opened"', 'opened_at', ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
"""
#: Lua: finish a token (KEYS[1], its record) at ARGV[1] with the outcome ARGV[2] unless it
#: is finished already or its ``expires_at`` has come.  1 when it finished now, else 0;
#: then the record's fields and values (none when it is missing or past its
#: ``readable_until``).
_TOKEN_FINISH = """
local now = tonumber(ARGV[1])
local t = redis.call('HMGET', KEYS[1], 'state', 'expires_at', 'readable_until')
if not t[1] or now >= tonumber(t[3]) then return {0} end
local won = 0
if t[1] ~= '"finished"' and now < tonumber(t[2]) then
  redis.call('HSET', KEYS[1], 'state', '"finished"', 'finished_at', ARGV[1],
             'outcome', ARGV[2])
  won = 1
end
local reply = redis.call('HGETALL', KEYS[1])
table.insert(reply, 1, won)
return reply
"""
#: Seconds a token's record stays in Redis past its read window (as from its issue; the
#: emulator's clock may stand still or be set back meanwhile: a read checks ``now``).
TOKEN_TTL_MARGIN_SECONDS = 7 * 24 * 3600

#: Key (after the prefix) counting the resets of issued codes: each process drops the
#: numbers it took for codes when it sees the count change.
CODES_GENERATION = "generation:codes"

#: Lua: remember a code handed out by other means.
_REMEMBER = """
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return 1
"""
#: Lua: the next journal id, and the entry appended to the bounded stream.
_JOURNAL = """
local id = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], '*', 'id', id, 'entry', ARGV[2])
return id
"""
#: Lua: change the shared clock; returns {frozen_at or '', offset}.
_CLOCK = """
local op, value = ARGV[1], ARGV[2]
if op == 'freeze' then redis.call('HSET', KEYS[1], 'frozen_at', value)
elseif op == 'advance' then
  if redis.call('HEXISTS', KEYS[1], 'frozen_at') == 1 then
    redis.call('HINCRBYFLOAT', KEYS[1], 'frozen_at', value)
  else redis.call('HINCRBYFLOAT', KEYS[1], 'offset', value) end
elseif op == 'unfreeze' then redis.call('HDEL', KEYS[1], 'frozen_at')
elseif op == 'reset' then redis.call('DEL', KEYS[1])
elseif op == 'restore' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'offset', ARGV[3])
  if value ~= '' then redis.call('HSET', KEYS[1], 'frozen_at', value) end
end
return {redis.call('HGET', KEYS[1], 'frozen_at') or '',
        redis.call('HGET', KEYS[1], 'offset') or '0'}
"""


#: The query parameters of a Redis URL that are mockface's, not redis-py's.
OWN_PARAMETERS = ("prefix", "batching")


def split_url(url: str) -> tuple[str, str]:
    """The Redis URL without mockface's own query parameters (OWN_PARAMETERS), and the
    prefix."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for name, value in query if name == "prefix"), DEFAULT_PREFIX)
    rest = urlencode([(name, value) for name, value in query if name not in OWN_PARAMETERS])
    plain = f"{parts.scheme}://{parts.netloc}{parts.path}"  # unix:///path keeps its "//"
    return plain + (f"?{rest}" if rest else "") + (f"#{parts.fragment}" if parts.fragment
                                                  else ""), prefix


def batching_of(url: str) -> bool:
    """Whether the URL leaves batching on (``?batching=off`` turns it off); ValueError for
    a value other than on or off."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    value = next((value for name, value in query if name == "batching"), "on")
    if value not in ("on", "off"):
        raise ValueError(f"batching={value!r} in the Redis URL: give on or off")
    return value == "on"


def shown_url(url: str) -> str:
    """The URL as logs and banners show it: any password masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:" if parts.username else ":"
    return urlunsplit(parts._replace(netloc=f"{user}****@{netloc}"))


class Outage:
    """Turns Redis connection failures into StateUnavailable, logging each outage once
    when it starts and once when it ends."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.down = False
        self._lock = threading.Lock()
        self._full_logged_at: float | None = None  # time.monotonic() of the last "full"

    @contextlib.contextmanager
    def guard(self, answered: bool = True) -> Iterator[None]:
        """Redis failures in the block as StateUnavailable.  ``answered``: whether the block
        finishing shows Redis answered, ending an outage (not for ``RedisCalls.post``: bytes
        written to a dead connection's socket can still succeed once)."""
        try:
            yield
        except FAILURES as error:
            self.failed(error)
            raise StateUnavailable(f"the state backend {self.where} is unreachable") from None
        except redis.exceptions.OutOfMemoryError as error:
            self.full(error)
            raise StateUnavailable(f"the state backend {self.where} is full (Redis "
                                   "maxmemory reached)") from None
        if answered and self.down:
            self.recovered()

    def full(self, error: Exception) -> None:
        """Redis refused a write for want of memory: logged at most every
        FULL_LOG_SECONDS (Redis answers, so this is no outage: reads still work)."""
        now = time.monotonic()
        with self._lock:
            last, due = self._full_logged_at, False
            if last is None or now - last >= FULL_LOG_SECONDS:
                self._full_logged_at, due = now, True
        if due:
            log.error("state backend %s is full (%s); requests that change the state are "
                      "answered with code 108 / InternalError until it has room (raise "
                      "maxmemory, or reset)", self.where, error)

    def failed(self, error: Exception) -> None:
        """Redis did not answer: log it unless this outage is logged already."""
        with self._lock:
            first, self.down = not self.down, True
        if first:
            log.error("state backend %s is unreachable (%s); requests are answered with "
                      "code 108 / InternalError until it is back", self.where, error)

    def recovered(self) -> None:
        """Redis answered again: log the end of the outage (once)."""
        with self._lock:
            recovered, self.down = self.down, False
        if recovered:
            log.warning("state backend %s is reachable again", self.where)


#: What an unreachable Redis raises.
FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
            redis.exceptions.LockError)


class _Part:
    """A store kept in Redis under the shared prefix."""

    def __init__(self, shared: RedisState) -> None:
        self.redis = shared.redis
        self.batch = shared.batch
        self.prefix = shared.prefix
        self.guard = shared.outage.guard

    def _keys(self, pattern: str) -> list[bytes]:
        return list(self.redis.scan_iter(match=self.prefix + pattern, count=1000))

    def _delete(self, pattern: str) -> int:
        keys = self._keys(pattern)
        return self.redis.delete(*keys) if keys else 0


def _tag(appid: str) -> str:
    """An appid as a key part: hex, so that no appid can form a glob pattern."""
    return appid.encode().hex()


class RedisOnceSignatures(_Part):
    """Once-signatures (and API 3.0 v1 nonces) used exactly once across every process, as
    OnceSignatureStore does in one: at most ``capacity`` remembered (the oldest forgotten
    first, whichever process used them), each for at most ONCE_TTL_SECONDS.  One sorted set
    (members ``appid-tag:digest``); checking and remembering are one Lua script."""

    _script = Script(_ONCE)

    def __init__(self, shared: RedisState, capacity: int, name: str = "once") -> None:
        super().__init__(shared)
        self.capacity = capacity
        self._key = f"{self.prefix}{name}"

    def consume(self, appid: str, key: bytes) -> bool:
        """Mark ``key`` used for ``appid``; True when it had not been used before (of any
        number of concurrent callers in any processes, exactly one gets True)."""
        with self.guard():
            return bool(self.batch.script(self._script, [self._key],
                                          [f"{_tag(appid)}:{key.hex()}", ONCE_TTL_SECONDS,
                                           self.capacity]))

    def clear(self, appid: str | None = None) -> None:
        """Forget used signatures: all, or one appid's."""
        with self.guard():
            if appid is None:
                self.redis.delete(self._key)
                return
            mine = [member for member, _ in
                    self.redis.zscan_iter(self._key, match=f"{_tag(appid)}:*", count=1000)]
            for start in range(0, len(mine), 1000):
                self.redis.zrem(self._key, *mine[start:start + 1000])

    def __len__(self) -> int:
        with self.guard():
            return self.redis.zcard(self._key)


class RedisRecentImages(_Part):
    """The dashboard's thumbnails shared by every process: RecentImages (same interface,
    same limits) in Redis, so that any process serves an image any process received.

    Each process sends an image's bytes at most once every RESEND_SECONDS (a load test
    sends the same photo over and over); in between it only marks the image newest.  The
    bytes go without waiting for Redis's reply, as a journal entry does, before the
    entry that names them; images not kept again for LIFETIME_SECONDS expire."""

    LIFETIME_SECONDS = 24 * 3600
    RESEND_SECONDS = 60.0
    _script = Script(_KEEP_IMAGE)

    def __init__(self, shared: RedisState, budget: int = 8 * 1024 * 1024,
                 largest: int = 512 * 1024, most: int = 256) -> None:
        super().__init__(shared)
        self.budget = budget  # bytes in all
        self.largest = largest  # bytes of one image
        self.most = most  # images
        self._bytes = f"{self.prefix}images"
        self._order = f"{self.prefix}images:order"
        self._size = f"{self.prefix}images:size"
        self._sent: OrderedDict[str, float] = OrderedDict()  # sha256 -> time.monotonic()
        self._lock = threading.Lock()

    def keep(self, summary: dict[str, Any], data: MediaBytes) -> None:
        """Remember ``data`` if its summary says it is a small image (RecentImages.keep)."""
        kind = summary.get("type") or ""
        sha256 = summary["sha256"]
        if kind not in RecentImages.KINDS or len(data) > self.largest or \
                not isinstance(sha256, str):
            return
        with self.guard(answered=False):
            if self._sent_lately(sha256):
                self.batch.post("ZADD", self._order, "XX", repr(time.time()), sha256)
            else:
                self.batch.post_script(self._script, [self._bytes, self._order, self._size], [
                    sha256, kind.encode() + b"\n" + bytes(data), repr(time.time()),
                    self.budget, self.most, self.LIFETIME_SECONDS])
                self._note_sent(sha256)

    def _sent_lately(self, sha256: str) -> bool:
        """Whether this process sent the image's bytes within RESEND_SECONDS."""
        with self._lock:
            sent = self._sent.get(sha256)
        return sent is not None and time.monotonic() - sent < self.RESEND_SECONDS

    def _note_sent(self, sha256: str) -> None:
        """Remember that the image's bytes were sent just now (the newest ``most``)."""
        with self._lock:
            self._sent[sha256] = time.monotonic()
            self._sent.move_to_end(sha256)
            while len(self._sent) > self.most:
                self._sent.popitem(last=False)

    def get(self, sha256: str) -> tuple[str, bytes] | None:
        """(media type, bytes) of a kept image, or None."""
        with self.guard():
            blob = self.batch.call("HGET", self._bytes, sha256)
        if blob is None:
            return None
        kind, _, data = blob.partition(b"\n")
        media_type = RecentImages.KINDS.get(kind.decode("ascii", "replace"))
        return None if media_type is None else (media_type, data)


class RedisRateLimiter(_Part):
    """Per-app requests-per-second windows shared by every process (keys ``NAME:APPID``)."""

    _script = Script(_RATE)

    def __init__(self, shared: RedisState, name: str = "rate") -> None:
        super().__init__(shared)
        self.name = name
        self._ids = random.Random()

    def allow(self, appid: str, limit: int, now: float) -> bool:
        member = f"{now}:{self._ids.getrandbits(64):x}"
        with self.guard():
            return bool(self.batch.script(
                self._script, [f"{self.prefix}{self.name}:{_tag(appid)}"], [now, limit, member]))

    def clear(self, appid: str | None = None) -> None:
        with self.guard():
            self._delete(f"{self.name}:{_tag(appid)}" if appid is not None
                         else f"{self.name}:*")


#: How the Redis code books derive each kind of code from a 32-bit number.
DERIVED: dict[Codes, Callable[[int], str]] = {
    Codes.FOUR_DIGITS: lambda value: f"{value % 10000:04d}",
    Codes.ACTION_ORDER: lambda value: "1,2" if value % 2 == 0 else "2,1",
}


def derived_code(prefix: str, number: int, make: Codes) -> str:
    """The ``number``-th code of a book: from the SHA-1 of ``prefix`` (namespace, seed and
    appid) and the number, made as ``make`` says (DERIVED)."""
    value = int(hashlib.sha1(f"{prefix}{number}".encode()).hexdigest()[:8], 16)
    return DERIVED[make](value)


class RedisCodeBook(_Part):
    """Codes issued per appid (lip codes, action sequences: as ``make`` says), shared by
    every process.

    The n-th code of an appid depends only on the seed, the namespace, the appid and n
    (``derived_code``), so a server issues the same codes in the same order as another with
    the same seed; not the same codes as the in-memory book, which draws from a generator
    per appid.  Each process takes the numbers it issues in blocks of ``BLOCK`` from
    Redis (one round trip per block), and posts each code it issues to the shared list
    before it is handed out (``RedisCalls.post``): a code is known to every process by the
    time its client can use it."""

    BLOCK = 64
    _remember = Script(_REMEMBER)

    def __init__(self, shared: RedisState, seed: int, per_app: int = 1000,
                 make: Codes = Codes.FOUR_DIGITS, namespace: str = "",
                 apps: int = 10_000) -> None:
        super().__init__(shared)
        self.seed = seed
        self.per_app = per_app
        self.make = make
        self.namespace = namespace
        self.apps = apps  # appids whose block is kept at most (loose mode admits any)
        self._base = f"{self.prefix}codes:{namespace}"
        self._blocks: OrderedDict[str, range] = OrderedDict()  # numbers left, per appid
        self._lock = threading.Lock()

    def issue(self, appid: str) -> str:
        number = self._number(appid)
        code = derived_code(f"{self.namespace}{self.seed}:{appid}:", number, self.make)
        with self.guard(answered=False):
            self.batch.post_script(self._remember, [f"{self._base}list:{_tag(appid)}"],
                                   [code, self.per_app])
        return code

    def _number(self, appid: str) -> int:
        """The next number of this process's block for ``appid``; a new block when it is
        used up."""
        with self._lock:
            block = self._blocks.pop(appid, None)
            if not block:
                with self.guard():
                    last = self.batch.call("INCRBY", f"{self._base}n:{_tag(appid)}",
                                           self.BLOCK)
                block = range(last - self.BLOCK + 1, last + 1)
            self._blocks[appid] = block[1:]
            while len(self._blocks) > self.apps:
                self._blocks.popitem(last=False)
            return block[0]

    def forget_blocks(self) -> None:
        """Drop the numbers taken but not issued, so that the sequences restart (after a
        reset, here or in another process: ``RedisState._reload``)."""
        with self._lock:
            self._blocks.clear()

    def remember(self, appid: str, code: str) -> None:
        with self.guard():
            self.batch.script(self._remember, [f"{self._base}list:{_tag(appid)}"],
                              [code, self.per_app])

    def issued(self, appid: str) -> list[str]:
        with self.guard():
            return [c.decode() for c in self.batch.call(
                "LRANGE", f"{self._base}list:{_tag(appid)}", 0, -1)]

    def all_issued(self) -> dict[str, list[str]]:
        with self.guard():
            lists = self._keys(f"codes:{self.namespace}list:*")
            found = {}
            for key in lists:
                appid = bytes.fromhex(key.decode().rsplit(":", 1)[1]).decode()
                codes = cast(list[bytes], self.redis.lrange(key, 0, -1))
                found[appid] = [c.decode() for c in codes]
        return dict(sorted(found.items()))

    def clear(self, appid: str | None = None) -> None:
        """Forget issued codes and restart the sequences: here at once, in the other
        processes when they adopt the next settings change (a reset ends with one)."""
        self.forget_blocks()
        with self.guard():
            self.redis.incr(f"{self.prefix}{CODES_GENERATION}")
            if appid is None:
                self._delete(f"codes:{self.namespace}*")
            else:
                self.redis.delete(f"{self._base}list:{_tag(appid)}",
                                  f"{self._base}n:{_tag(appid)}")


class RedisIdentities(_Part):
    """The configured identities plus those registered at run time, in Redis: a hash of
    records (ID number -> ``{"idcard_number", "idcard_name", ..., "appid"}`` as JSON; an
    entry of an earlier release, ``[name, appid]`` or a bare name, still reads as a record
    of its name alone) and the indexes ``NAME:phones`` / ``NAME:cards`` (number -> ID
    number), so that finding a phone's or card's owner is one round trip.  An index entry
    whose record no longer holds the number is passed over (the configured owner, if any,
    answers)."""

    _add = Script(_IDENTITY_ADD)
    _owner_script = Script(_IDENTITY_OWNER)
    _unindex = Script(_IDENTITY_UNINDEX)

    def __init__(self, shared: RedisState, configured: Mapping[str, str],
                 name: str = "identities", *,
                 records: Mapping[str, IdentityRecord] | None = None) -> None:
        super().__init__(shared)
        self._configured = configured_records(configured, records or {})
        self._configured_phones, self._configured_cards = owners_index(self._configured)
        self._key = f"{self.prefix}{name}"
        self._phones = f"{self._key}:phones"
        self._cards = f"{self._key}:cards"

    @staticmethod
    def _read(number: str, value: bytes | str) -> tuple[IdentityRecord, str | None]:
        """A stored entry as (its record, the appid that registered it)."""
        text = value.decode() if isinstance(value, bytes) else value
        try:
            data = json.loads(text)
        except ValueError:
            return IdentityRecord(number, text), None  # a bare name
        if isinstance(data, list):
            return IdentityRecord(number, str(data[0])), data[1] if len(data) > 1 else None
        if isinstance(data, dict):
            return IdentityRecord.from_dict({**data, "idcard_number": number}), \
                data.get("appid")
        return IdentityRecord(number, data if isinstance(data, str) else text), None

    def name_for(self, number: str) -> str | None:
        record = self.record_for(number)
        return record.name if record is not None else None

    def record_for(self, number: str) -> IdentityRecord | None:
        with self.guard():
            added = self.batch.call("HGET", self._key, number)
        return self._read(number, added)[0] if added is not None \
            else self._configured.get(number)

    def records(self) -> list[IdentityRecord]:
        with self.guard():
            stored = self.batch.call("HGETALL", self._key)
        # redis-py before 5.1 leaves the HGETALL reply flat here: key, value, key, ...
        pairs = stored.items() if isinstance(stored, dict) else \
            zip(stored[::2], stored[1::2], strict=True)
        added = {}
        for key, value in pairs:
            number = key.decode() if isinstance(key, bytes) else str(key)
            added[number] = self._read(number, value)[0]
        return list({**self._configured, **added}.values())

    def owner_of_phone(self, phone: str) -> IdentityRecord | None:
        return self._owner(phone, self._phones, self._configured_phones, IdentityRecord.phone)

    def owner_of_card(self, card: str) -> IdentityRecord | None:
        return self._owner(card, self._cards, self._configured_cards,
                           IdentityRecord.bank_card)

    def _owner(self, key: str, index: str, configured: Mapping[str, str],
               holds: Callable[[IdentityRecord, str], object]) -> IdentityRecord | None:
        with self.guard():
            reply = self.batch.script(self._owner_script, [self._key, index], [key])
        if reply:
            number = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
            if len(reply) > 1:
                record = self._read(number, reply[1])[0]
                if holds(record, key) is not None:
                    return record
        owner = configured.get(key)
        if owner is None:
            return None
        found = self.record_for(owner)  # a run-time entry may have replaced it
        return found if found is not None and holds(found, key) is not None else None

    def add(self, number: str, name: str, appid: str | None = None) -> None:
        self.add_record(IdentityRecord(number, name), appid)

    def add_record(self, record: IdentityRecord, appid: str | None = None) -> None:
        value = json.dumps({**record.as_dict(), "appid": appid}, ensure_ascii=False)
        phones = [phone.number for phone in record.phones]
        cards = [card.number for card in record.bank_cards]
        with self.guard():
            self.batch.script(self._add, [self._key, self._phones, self._cards],
                              [record.number, value, len(phones), *phones, *cards])

    def clear(self, appid: str | None = None) -> None:
        """Forget run-time entries: all, or those one appid registered (their index
        entries too; a phone or card another remaining entry holds points at it again)."""
        with self.guard():
            if appid is None:
                self.redis.delete(self._key, self._phones, self._cards)
                return
            entries = {number.decode(): self._read(number.decode(), value)
                       for number, value in cast(dict[bytes, bytes],
                                                 self.redis.hgetall(self._key)).items()}
            mine = [number for number, (_, owner) in entries.items() if owner == appid]
            if not mine:
                return
            self.redis.hdel(self._key, *mine)
            for number in mine:
                record = entries[number][0]
                for index, keys in ((self._phones, [p.number for p in record.phones]),
                                    (self._cards, [c.number for c in record.bank_cards])):
                    if keys:
                        self.batch.script(self._unindex, [index], [number, *keys])
            kept = [record for record, owner in entries.values() if owner != appid]
            dropped_phones = {p.number for n in mine for p in entries[n][0].phones}
            dropped_cards = {c.number for n in mine for c in entries[n][0].bank_cards}
            for record in kept:
                for phone in record.phones:
                    if phone.number in dropped_phones:
                        self.redis.hsetnx(self._phones, phone.number, record.number)
                for card in record.bank_cards:
                    if card.number in dropped_cards:
                        self.redis.hsetnx(self._cards, card.number, record.number)

    def __len__(self) -> int:
        with self.guard():
            added = {n.decode() for n in cast(list[bytes], self.redis.hkeys(self._key))}
        return len(self._configured.keys() | added)


def _json_time(now: float) -> str:
    """``now`` as the JSON number a record's times are kept as; ValueError unless finite."""
    return json.dumps(float(now), allow_nan=False)


class RedisTokens(_Part):
    """Verification tokens shared by every process (a ``stores.Tokens``), as TokenStore
    keeps them in one: the same answers, and of any number of concurrent ``finish`` calls
    for one token, in any processes, exactly one wins (each change is one Lua script).

    A record is a hash of JSON values under ``NAME:record:TOKEN``, which Redis drops
    TOKEN_TTL_MARGIN_SECONDS after its read window (reads check the window against the
    emulator's time).  ``NAME:order`` holds the tokens in issue order (at most ``capacity``:
    the first issued are dropped, records and all) and ``NAME:app:APPID-HEX`` each appid's;
    an entry whose record is gone is dropped when ``list`` comes across it."""

    _issue = Script(_TOKEN_ISSUE)
    _open = Script(_TOKEN_OPEN)
    _finish = Script(_TOKEN_FINISH)
    PAGE = 1000  # records read per round trip by ``list``

    def __init__(self, shared: RedisState, name: str,
                 capacity: int = DEFAULT_TOKEN_STORE_SIZE) -> None:
        super().__init__(shared)
        self.name = name
        self.capacity = capacity
        self._base = f"{self.prefix}{name}:"

    def _record_key(self, token: str | bytes) -> str:
        return f"{self._base}record:{token.decode() if isinstance(token, bytes) else token}"

    def _index(self, appid: str | None) -> str:
        return f"{self._base}order" if appid is None else f"{self._base}app:{_tag(appid)}"

    def issue(self, record: TokenRecord) -> None:
        """Keep ``record``, in whatever state it comes; ValueError when its token is kept
        already (TypeError or ValueError when its data or outcome is not JSON-able)."""
        fields = [part for name, value in plain(record).as_dict().items()
                  for part in (name, json.dumps(value, ensure_ascii=False))]
        ttl = math.ceil(max(record.readable_until - record.issued_at, 0.0)) + \
            TOKEN_TTL_MARGIN_SECONDS
        with self.guard():
            reply = self.batch.script(
                self._issue, [self._record_key(record.token), self._index(None),
                              self._index(record.appid), f"{self._base}n"],
                [ttl, self.capacity, record.token, *fields])
        if not reply[0]:
            raise ValueError(f"token {record.token!r} exists already")
        if len(reply) > 1:
            with self.guard(answered=False):
                self.batch.post("DEL", *[self._record_key(token) for token in reply[1:]])

    def get(self, token: str, now: float) -> TokenRecord | None:
        """The record of ``token``, or None (unknown, or past its read window)."""
        with self.guard():
            record = _record(self.batch.call("HGETALL", self._record_key(token)))
        return record if record is not None and record.readable_at(now) else None

    def open(self, token: str, now: float) -> TokenRecord | None:
        """The record of ``token`` after opening it (``TokenRecord.opened``), or None."""
        with self.guard():
            return _record(self.batch.script(self._open, [self._record_key(token)],
                                             [_json_time(now)]))

    def finish(self, token: str, outcome: Mapping[str, Any],
               now: float) -> tuple[bool, TokenRecord | None]:
        """Finish ``token`` with ``outcome`` at ``now`` (see ``stores.Tokens.finish``)."""
        text = json.dumps(plain_json(outcome), ensure_ascii=False)
        with self.guard():
            reply = self.batch.script(self._finish, [self._record_key(token)],
                                      [_json_time(now), text])
        return bool(reply[0]), _record(reply[1:])

    def list(self, now: float, appid: str | None = None, flow: str | None = None,
             state: str | None = None) -> list[TokenRecord]:
        """The readable records (filtered as ``stores.Tokens.list`` says), the last issued
        first."""
        index = self._index(appid)
        found: list[TokenRecord] = []
        with self.guard():
            tokens = cast(list[bytes], self.batch.call("ZREVRANGE", index, 0, -1))
            for start in range(0, len(tokens), self.PAGE):
                page = tokens[start:start + self.PAGE]
                pipe = self.redis.pipeline(transaction=False)
                for token in page:
                    pipe.hgetall(self._record_key(token))
                gone = []
                for token, fields in zip(page, pipe.execute(), strict=True):
                    record = _record(fields)
                    if record is None:
                        gone.append(token)
                    else:
                        found.append(record)
                if gone:
                    self.redis.zrem(index, *gone)
        return [record for record in found
                if record.readable_at(now) and appid in (None, record.appid)
                and flow in (None, record.flow) and state in (None, record.state_at(now))]

    def clear(self, appid: str | None = None) -> None:
        """Forget the records: all, or those of ``appid`` (a token issued meanwhile stays)."""
        with self.guard():
            if appid is None:
                self._delete(f"{self.name}:*")
                return
            index = self._index(appid)
            tokens = cast(list[bytes], self.redis.zrange(index, 0, -1))
            for start in range(0, len(tokens), self.PAGE):
                page = tokens[start:start + self.PAGE]
                pipe = self.redis.pipeline(transaction=False)
                pipe.delete(*[self._record_key(token) for token in page])
                pipe.zrem(self._index(None), *page)
                pipe.zrem(index, *page)
                pipe.execute()


def _record(fields: list[bytes] | dict[bytes, bytes]) -> TokenRecord | None:
    """The record a token's hash holds (as HGETALL answers it: a flat list of fields and
    values, or a dict), or None for no fields (no record)."""
    if isinstance(fields, list):
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    if not fields:
        return None
    return TokenRecord.from_dict({name.decode(): json.loads(value)
                                  for name, value in fields.items()})


class RedisJournal(_Part):
    """The journal as a Redis stream of at most ``capacity`` entries, visible to every
    process; ids are unique across processes."""

    _script = Script(_JOURNAL)

    def __init__(self, shared: RedisState, capacity: int) -> None:
        super().__init__(shared)
        self.capacity = capacity
        self._stream = f"{self.prefix}journal"

    def record(self, **values: Any) -> None:
        """Append an entry (its id is given in Redis) without waiting for Redis's reply
        (``RedisCalls.post``): Redis runs it before anything this process sends later; a read
        by another process after the answer went out finds it too, since the entry was on
        its way to Redis before the answer was sent."""
        text = json.dumps(settle_now(values), default=str)
        with self.guard(answered=False):
            self.batch.post_script(self._script, [f"{self.prefix}journal:id", self._stream],
                                   [self.capacity, text])

    def _entries(self) -> list[tuple[bytes, JournalEntry]]:
        with self.guard():
            raw = cast(list[tuple[bytes, dict[bytes, bytes]]], self.redis.xrange(self._stream))
        return [(stream_id, JournalEntry(id=int(fields[b"id"]), **json.loads(fields[b"entry"])))
                for stream_id, fields in raw]

    def query(self, endpoint: str | None = None, appid: str | None = None,
              code: int | str | None = None, since: float | None = None,
              after: int | None = None) -> list[JournalEntry]:
        return matching([e for _, e in self._entries()], endpoint, appid, code, since, after)

    def clear(self, appid: str | None = None) -> int:
        if appid is None:
            with self.guard():
                count = self.redis.xlen(self._stream)
                self.redis.delete(self._stream)
            return count
        mine = [stream_id for stream_id, e in self._entries() if e.appid == appid]
        if mine:
            with self.guard():
                self.redis.xdel(self._stream, *mine)
        return len(mine)

    def __len__(self) -> int:
        with self.guard():
            return self.redis.xlen(self._stream)


class RedisCounter:
    """A scenario activation's rule counters in a Redis hash (atomic across processes)."""

    def __init__(self, activations: RedisActivations, key: str, rules: int) -> None:
        self._activations = activations
        self._key = key
        self._rules = rules

    def take(self, index: int, times: int | None) -> int | None:
        store = self._activations
        with store.guard():
            used = store.batch.script(store.take_script, [store.counter_key(self._key)],
                                      [index, -1 if times is None else times,
                                       COUNTER_TTL_SECONDS])
        return None if used < 0 else int(used)

    def answered(self) -> list[int]:
        store = self._activations
        with store.guard():
            counts = store.redis.hgetall(store.counter_key(self._key))
        return [int(counts.get(str(index).encode(), 0)) for index in range(self._rules)]


class RedisActivations(_Part):
    """The ActivationStore shared through Redis: the list of recipes, its lock, and the
    rule counters."""

    shared = True
    take_script = Script(_TAKE)

    def __init__(self, shared: RedisState) -> None:
        super().__init__(shared)
        self._state = shared

    def counter_key(self, key: str) -> str:
        return f"{self.prefix}counts:{key}"

    def counter(self, key: str, rules: int) -> RedisCounter:
        return RedisCounter(self, key, rules)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        lock = self.redis.lock(f"{self.prefix}lock:activations", timeout=10,
                               blocking_timeout=TIMEOUT_SECONDS * 2)
        with self.guard():
            if not lock.acquire():
                raise redis.exceptions.LockError("the activations lock stayed taken")
        try:
            yield
        finally:
            with self.guard():
                lock.release()

    def recipes(self) -> list[dict[str, Any]]:
        with self.guard():
            raw = self.redis.get(f"{self.prefix}activations")
        return json.loads(raw) if raw else []

    def publish(self, recipes: list[dict[str, Any]]) -> None:
        with self.guard():
            self.redis.set(f"{self.prefix}activations", json.dumps(recipes))

    def announce(self) -> None:
        self._state.announce()

    def forget(self, keys: list[str] | None) -> None:
        with self.guard():
            if keys is None:
                self._delete("counts:*")
            elif keys:
                self.redis.delete(*[self.counter_key(key) for key in keys])


class SharedClock(Clock):
    """The emulated clock, changed in Redis for every process; ``now()`` is computed
    locally from the state last read (every change is announced to every process)."""

    _script = Script(_CLOCK)

    def __init__(self, shared: RedisState) -> None:
        super().__init__()
        self._shared = shared

    def _change(self, op: str, value: float | None = None, offset: float = 0.0) -> None:
        shared = self._shared
        with shared.outage.guard():
            frozen_at, current_offset = shared.batch.script(
                self._script, [f"{shared.prefix}clock"],
                [op, "" if value is None else repr(float(value)), repr(float(offset))])
        self.adopt(frozen_at, current_offset)
        shared.announce()

    def adopt(self, frozen_at: bytes | str | None, offset: bytes | str | None) -> None:
        """Take the shared state as read from Redis."""
        super().restore(float(frozen_at) if frozen_at else None, float(offset or 0))

    def freeze(self, at: float | None = None) -> float:
        current = self.now() if at is None else float(at)
        self._change("freeze", current)
        return current

    def advance(self, seconds: float) -> float:
        self._change("advance", seconds)
        return self.now()

    def unfreeze(self) -> None:
        self._change("unfreeze")

    def restore(self, frozen_at: float | None, offset: float) -> None:
        self._change("restore", frozen_at, offset)

    def reset(self) -> None:
        self._change("reset")


def app_to_json(app: App) -> str:
    return json.dumps({"appid": app.appid, "secrets": dict(app.secrets),
                       "buckets": sorted(app.buckets), "services": sorted(app.services),
                       "suspended": app.suspended, "rate_limit": app.rate_limit,
                       "nonce_replay_check": app.nonce_replay_check})


def app_from_json(text: str | bytes) -> App:
    fields = json.loads(text)
    return App(fields["appid"], fields["secrets"], frozenset(fields["buckets"]),
               frozenset(fields["services"]), fields["suspended"], fields["rate_limit"],
               fields["nonce_replay_check"])


class RedisStores:
    """Makes the Redis store of each kind (a ``StoreFactory``), bounded as ``settings``
    says, its keys named after the spec (see the module's description).

    A spec whose keys would be core's own (the journal, the clock, ...: ``CORE_KEYS``) or
    overlap another spec's (``rate`` and ``rate:x``) is refused (ValueError), and so is a
    name that Redis would read as a pattern."""

    #: The first part of the keys the backend keeps for itself (and ``codes``: the books').
    CORE_KEYS = frozenset({"acks", "activations", "apps", "changes", "clock", "codes",
                           "counts", "generation", "images", "journal", "lock", "loose"})

    def __init__(self, shared: RedisState, settings: Settings) -> None:
        self._shared = shared
        self.settings = settings
        self._owners: dict[str, StoreSpec[Any]] = {}  # key (after the prefix) -> its spec
        self._lock = threading.Lock()

    def _claim(self, key: str, spec: StoreSpec[Any], core: bool = False) -> str:
        """``key`` (after the prefix) as ``spec``'s own; ``core``: the key may start with
        one of CORE_KEYS (the code books')."""
        if any(char in key for char in "*?[]\\") or \
                (not core and key.split(":")[0] in self.CORE_KEYS):
            raise ValueError(f"{spec!r} cannot keep its state in Redis under {key!r}")
        with self._lock:
            for owned, owner in self._owners.items():
                if owner != spec and (owned == key or key.startswith(f"{owned}:") or
                                      owned.startswith(f"{key}:")):
                    raise ValueError(f"{spec!r} would share its Redis keys with {owner!r}")
            self._owners[key] = spec
        return key

    def once_set(self, spec: OnceSet) -> OnceSignatures:
        return RedisOnceSignatures(self._shared, self.settings.once_store_size,
                                   self._claim(spec.name, spec))

    def rate_window(self, spec: RateWindow) -> RateLimits:
        return RedisRateLimiter(self._shared, self._claim(spec.name, spec))

    def code_book(self, spec: CodeBookSpec) -> CodeBook:
        self._claim(f"codes:{spec.namespace}", spec, core=True)
        return RedisCodeBook(self._shared, self.settings.seed, make=spec.make,
                             namespace=spec.namespace)

    def identity_registry(self, spec: IdentityRegistrySpec) -> Identities:
        return RedisIdentities(self._shared, self.settings.identities,
                               self._claim(spec.name, spec),
                               records=self.settings.identity_records)

    def token_store(self, spec: TokenStoreSpec) -> Tokens:
        return RedisTokens(self._shared, self._claim(spec.name, spec))


def connect(url: str) -> redis.Redis:
    """A client for ``url`` that fails fast: short timeouts, and one immediate retry on a
    broken connection only (a pooled connection to a Redis that restarted since), never
    after a timeout.  Its replies are bytes (``decode_responses`` stays off), which
    redis-py annotates as ``bytes | str``: readers cast them."""
    return redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)),
        retry_on_timeout=False)


class RedisState:
    """The state backend shared through Redis (see the module's description); offers the
    same stores as MemoryState.  ``batching``: send commands through redis_batch's Batcher
    (on redis-py's internals) or, False, through public redis-py calls alone; None (the
    default): as the URL says (``?batching=off``; on without it)."""

    shared = True

    def __init__(self, url: str, settings: Settings,
                 journal_size: int = DEFAULT_JOURNAL_SIZE,
                 batching: bool | None = None) -> None:
        plain_url, self.prefix = split_url(url)
        batching = batching_of(url) if batching is None else batching
        self.description = f"redis {shown_url(url)}"
        self.outage = Outage(shown_url(url))
        self.redis = connect(plain_url)
        self.batch: RedisCalls = sender(self.redis, batching)
        self.clock = SharedClock(self)
        self._stores = DeclaredStores(RedisStores(self, settings))
        self.journal = RedisJournal(self, journal_size)
        self.recent_images = RedisRecentImages(self)  # the dashboard's thumbnails
        self.loose_appids: set[str] = set()  # as this process last read them
        self.activations = RedisActivations(self)
        self._keyring: Keyring | None = None
        self._engine: ScenarioEngine | None = None
        self._reload_lock = threading.Lock()
        self._codes_generation: bytes | None = None  # as this process last read it
        self._listening_pid = 0  # the process whose listener thread runs
        self._listener: threading.Thread | None = None
        self._live = threading.Event()  # set while the listener is subscribed
        self._closed = threading.Event()

    def store(self, spec: StoreSpec[T]) -> T:
        """The store ``spec`` declares (see ``StateBackend.store``); every process that
        declares an equal spec shares its keys."""
        return self._stores.get(spec)

    def clear_stores(self, appid: str | None = None) -> None:
        """Clear every store made so far in this process: all its entries, or one appid's.
        Other processes restart their code sequences when they adopt the next settings
        change (a reset ends with one)."""
        self._stores.clear(appid)

    def stores(self) -> tuple[StoreSpec[Any], ...]:
        """The specs declared so far in this process, in the order they were first asked
        for."""
        return self._stores.specs()


    def ping(self) -> None:
        """StateUnavailable (saying why) unless Redis answers; for start-up, not logged."""
        try:
            self.redis.ping()
        except redis.exceptions.RedisError as error:
            raise StateUnavailable(f"cannot use Redis at {self.outage.where}: {error}"
                                   ) from None

    def quick(self) -> bool:
        """Whether a request can be answered while the caller waits for Redis without
        holding others up: this process follows changes live, Redis is not in an outage,
        and its round trips take at most QUICK_ROUND_TRIP_SECONDS."""
        return (self._live.is_set() and not self.outage.down
                and self.batch.round_trip <= QUICK_ROUND_TRIP_SECONDS)

    def attach(self, keyring: Keyring, engine: ScenarioEngine) -> None:
        self._keyring = keyring
        self._engine = engine
        self.sync()

    # -- keeping every process's copy of the settings current ---------------------------------
    #
    # A change (clock, loose mode, apps, activations) is written to Redis, then announced on
    # a channel; each process's listener thread reloads the settings and acknowledges, and
    # the change returns only once every listener has.  So a request that starts after a
    # change returned sees it, in any process, without a round trip of its own.

    def sync(self) -> None:
        """Make sure this process sees every change that has returned: at once while its
        listener is subscribed and no outage is on record; otherwise (starting, during or
        just after an outage) by reading the settings now.  StateUnavailable while Redis
        cannot be reached, also before the listener has noticed it went."""
        if self._listening_pid != os.getpid():
            self._listening_pid = os.getpid()  # a new process (fork): a listener of its own
            self._live.clear()
            self._listener = threading.Thread(target=self._listen, daemon=True,
                                              name="mockface-state-listener")
            self._listener.start()
            self._live.wait(TIMEOUT_SECONDS)
        if not self._live.is_set() or self.outage.down:
            self._reload()

    def _reload(self) -> None:
        """Read the shared settings and adopt them here."""
        with self._reload_lock:
            with self.outage.guard():
                pipe = self.redis.pipeline()
                pipe.hgetall(f"{self.prefix}clock")
                pipe.smembers(f"{self.prefix}loose")
                pipe.hgetall(f"{self.prefix}apps")
                pipe.get(f"{self.prefix}{CODES_GENERATION}")
                clock, loose, apps, codes_generation = pipe.execute()
            if codes_generation != self._codes_generation:
                self._codes_generation = codes_generation
                for store in self._stores.made():
                    if isinstance(store, RedisCodeBook):
                        store.forget_blocks()
            self.clock.adopt(clock.get(b"frozen_at"), clock.get(b"offset"))
            wanted = {appid.decode() for appid in loose}
            self.loose_appids.update(wanted)
            self.loose_appids.difference_update(self.loose_appids - wanted)
            self._adopt_apps({appid.decode(): app_from_json(value)
                              for appid, value in apps.items()})
            if self._engine is not None:
                self._engine.adopt_shared()

    def _listen(self) -> None:
        """The listener thread: subscribe, reload, then reload and acknowledge on every
        announcement; on a lost connection, retry every RETRY_SECONDS."""
        channel = f"{self.prefix}changes"
        while not self._closed.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(channel)
                self._reload()
                self._live.set()
                self.outage.recovered()
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._reload()
                        ack = f"{self.prefix}acks:{message['data'].decode()}"
                        pipe = self.redis.pipeline()
                        pipe.rpush(ack, 1)
                        pipe.expire(ack, 60)
                        pipe.execute()
            except Exception as error:
                if self._closed.is_set():
                    return  # close() took the connection away
                self._live.clear()
                self.batch.reconnect()  # Redis may have restarted: its socket would be dead
                if isinstance(error, FAILURES):
                    self.outage.failed(error)
                elif not isinstance(error, StateUnavailable):  # a bug: say so, keep listening
                    log.exception("state listener failed; retrying")
                self._closed.wait(RETRY_SECONDS)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: S110 - the connection is gone already
                    pass

    def announce(self) -> None:
        """Tell every process that the settings changed, and wait (at most
        ANNOUNCE_SECONDS) until each has adopted them."""
        token = os.urandom(8).hex()
        key = f"{self.prefix}acks:{token}"
        deadline = time.monotonic() + ANNOUNCE_SECONDS
        with self.outage.guard():
            waiting = self.redis.publish(f"{self.prefix}changes", token)
            while waiting > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    log.warning("%d processes did not confirm a settings change within %g s",
                                waiting, ANNOUNCE_SECONDS)
                    break
                if self.redis.blpop([key], timeout=min(left, 1.0)) is not None:
                    waiting -= 1
            self.redis.delete(key)

    def _adopt_apps(self, shared: dict[str, App]) -> None:
        keyring = self._keyring
        if keyring is None:
            return
        for app in list(keyring.added):
            if shared.get(app.appid) != app:
                keyring.remove(app.appid)
        for appid, app in shared.items():
            if keyring.app(appid) is None:
                try:
                    keyring.add(app)
                except ValueError as error:
                    log.error("app %s from the shared state is not used here: %s", appid,
                              error)

    def set_loose(self, appid: str, enabled: bool) -> None:
        with self.outage.guard():
            key = f"{self.prefix}loose"
            self.redis.sadd(key, appid) if enabled else self.redis.srem(key, appid)
        (self.loose_appids.add if enabled else self.loose_appids.discard)(appid)
        self.announce()

    def clear_loose(self) -> None:
        with self.outage.guard():
            self.redis.delete(f"{self.prefix}loose")
        self.loose_appids.clear()
        self.announce()

    def add_app(self, keyring: Keyring, app: App) -> None:
        keyring.add(app)  # ValueError for an appid or secret id this process knows
        with self.outage.guard():
            added = self.redis.hsetnx(f"{self.prefix}apps", app.appid, app_to_json(app))
        if not added:
            keyring.remove(app.appid)
            raise ValueError(f"appid {app.appid!r} already exists")
        self.announce()

    def remove_app(self, keyring: Keyring, appid: str) -> App:
        app = keyring.remove(appid)  # KeyError unless added at run time
        with self.outage.guard():
            self.redis.hdel(f"{self.prefix}apps", appid)
        self.announce()
        return app

    def close(self) -> None:
        """Stop this process's listener thread (joined: it logs nothing afterwards) and
        close every connection."""
        self._closed.set()
        self.redis.close()  # breaks the listener's wait for a message
        listener = self._listener
        if listener is not None and listener is not threading.current_thread() and \
                self._listening_pid == os.getpid():
            listener.join(TIMEOUT_SECONDS + RETRY_SECONDS + 1.0)
        self.batch.close()
