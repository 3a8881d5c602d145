"""Verification tokens: the record a token store keeps (``TokenRecord``), the tokens
themselves (``new_token``), and the store in this process's memory (``TokenStore``).

A token is issued (by a product, which makes it with ``new_token``), may be opened while
its user window lasts, and finishes at most once, with an outcome, while the window lasts;
its record can be read until its read window ends.  The store knows nothing of what the
flows mean: ``flow``, ``data`` and ``outcome`` are the product's, kept as given.  Times are
the emulator's clock's, passed in by the caller.
"""
from __future__ import annotations

import dataclasses
import json
import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: The states a record is stored in; ``EXPIRED`` is never stored, only seen (``state_at``).
ISSUED: Literal["issued"] = "issued"
OPENED: Literal["opened"] = "opened"
FINISHED: Literal["finished"] = "finished"
EXPIRED: Literal["expired"] = "expired"
STORED_STATES = (ISSUED, OPENED, FINISHED)

#: Records a memory store keeps at most (the first issued go first).
DEFAULT_TOKEN_STORE_SIZE = 100_000


def new_token() -> str:
    """A new token: upper-case UUID4 text (122 random bits from the system's source),
    e.g. ``CE661F1A-0F1E-45BD-BE13-34C05CEA7681``; never derived from anything."""
    return str(uuid.uuid4()).upper()


def _time(value: Any, name: str) -> float:
    """``value`` as a finite time in seconds; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class TokenRecord:
    """One token and what happened to it.  ``expires_at`` ends the user window (no open,
    no finish from then on), ``readable_until`` the read window (the store forgets the
    record from then on); ``data`` is what the product stored at issue, ``outcome`` what
    finished it (both JSON-able).  ``state`` is the stored state: see ``state_at`` for the
    one to show."""

    token: str
    flow: str
    appid: str
    issued_at: float
    expires_at: float
    readable_until: float
    state: str = ISSUED
    opened_at: float | None = None
    finished_at: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    outcome: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("token", "flow", "appid"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text, not {getattr(self, name)!r}")
        for name in ("issued_at", "expires_at", "readable_until"):
            object.__setattr__(self, name, _time(getattr(self, name), name))
        for name in ("opened_at", "finished_at"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _time(getattr(self, name), name))
        if not self.issued_at <= self.expires_at <= self.readable_until:
            raise ValueError("the windows must not end before the token is issued, nor the "
                             "user window after the read window")
        if self.state not in STORED_STATES:
            raise ValueError(f"state must be one of {', '.join(STORED_STATES)}, "
                             f"not {self.state!r}")
        if not isinstance(self.data, dict) or \
                not (self.outcome is None or isinstance(self.outcome, dict)):
            raise ValueError("data must be a dict, outcome a dict or None")

    def state_at(self, now: float) -> str:
        """The state at ``now``: ``finished`` once finished, else ``expired`` from
        ``expires_at`` on, else the stored state (``issued`` or ``opened``)."""
        if self.state == FINISHED:
            return FINISHED
        return EXPIRED if now >= self.expires_at else self.state

    def readable_at(self, now: float) -> bool:
        """Whether the record can still be read at ``now`` (before ``readable_until``)."""
        return now < self.readable_until

    def opened(self, now: float) -> TokenRecord:
        """This record opened at ``now`` if it is ``issued`` inside its user window, else
        this record unchanged."""
        if self.state_at(now) != ISSUED:
            return self
        return dataclasses.replace(self, state=OPENED, opened_at=now)

    def finished(self, outcome: Mapping[str, Any], now: float) -> TokenRecord | None:
        """This record finished at ``now`` with ``outcome``, or None when it cannot
        finish: finished already, or its user window is over (``state_at(now)``)."""
        if self.state_at(now) not in (ISSUED, OPENED):
            return None
        return dataclasses.replace(self, state=FINISHED, finished_at=now,
                                   outcome=dict(outcome))

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-able values (``from_dict`` makes it again)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TokenRecord:
        """The record ``values`` (as ``as_dict`` gives them) describe; ValueError for
        missing, unknown or ill-typed fields."""
        names = {each.name for each in dataclasses.fields(cls)}
        unknown = set(values) - names
        if unknown:
            raise ValueError(f"unknown fields of a token record: {', '.join(sorted(unknown))}")
        try:
            return cls(**values)
        except TypeError as error:
            raise ValueError(f"not a token record: {error}") from None

    def as_json(self) -> str:
        """The record as JSON text (TypeError when ``data`` or ``outcome`` is not
        JSON-able)."""
        return json.dumps(self.as_dict(), ensure_ascii=False, allow_nan=False)


def plain_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` as JSON makes it again; TypeError or ValueError when it is
    not JSON-able."""
    return json.loads(json.dumps(values, ensure_ascii=False, allow_nan=False))


def plain(record: TokenRecord) -> TokenRecord:
    """``record`` as it comes back from JSON (what a Redis store hands out: lists for
    tuples, text keys, copies of ``data`` and ``outcome``), so that both backends hand out
    the same; TypeError or ValueError when it is not JSON-able."""
    return TokenRecord.from_dict(json.loads(record.as_json()))


class TokenStore:
    """Verification tokens in this process's memory (a ``stores.Tokens``).

    Holds at most ``capacity`` records; past that the first issued are forgotten.  Every
    change happens under one lock: of any number of concurrent ``finish`` calls for one
    token, exactly one wins.  Records are kept and handed out as JSON would make them
    again (``plain``), so the memory and Redis stores answer alike.
    """

    def __init__(self, capacity: int = DEFAULT_TOKEN_STORE_SIZE) -> None:
        self.capacity = capacity
        self._records: OrderedDict[str, TokenRecord] = OrderedDict()  # in issue order
        self._lock = threading.Lock()

    def issue(self, record: TokenRecord) -> None:
        """Keep ``record`` (in whatever state it comes); ValueError when its token is kept
        already, TypeError or ValueError when its ``data`` or ``outcome`` is not
        JSON-able."""
        record = plain(record)
        with self._lock:
            if record.token in self._records:
                raise ValueError(f"token {record.token!r} exists already")
            self._records[record.token] = record
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)

    def _readable(self, token: str, now: float) -> TokenRecord | None:
        """The record of ``token`` if it is readable at ``now`` (call with the lock)."""
        record = self._records.get(token)
        return record if record is not None and record.readable_at(now) else None

    def get(self, token: str, now: float) -> TokenRecord | None:
        """The record of ``token``, or None (unknown, or past its read window)."""
        with self._lock:
            return self._readable(token, now)

    def open(self, token: str, now: float) -> TokenRecord | None:
        """The record of ``token`` after opening it (``TokenRecord.opened``), or None."""
        with self._lock:
            record = self._readable(token, now)
            if record is None:
                return None
            record = self._records[token] = record.opened(now)
            return record

    def finish(self, token: str, outcome: Mapping[str, Any],
               now: float) -> tuple[bool, TokenRecord | None]:
        """Finish ``token`` with ``outcome`` at ``now``: (True, the finished record) for
        the one caller that does, (False, the record as it stays) when it is finished
        already or expired, (False, None) when it is unknown or past its read window;
        TypeError or ValueError when ``outcome`` is not JSON-able."""
        outcome = plain_json(outcome)
        with self._lock:
            record = self._readable(token, now)
            if record is None:
                return False, None
            finished = record.finished(outcome, now)
            if finished is None:
                return False, record
            self._records[token] = finished
            return True, finished

    def list(self, now: float, appid: str | None = None, flow: str | None = None,
             state: str | None = None) -> list[TokenRecord]:
        """The readable records (of ``appid``, of ``flow``, in ``state`` as ``state_at``
        sees it: each filter when given), the last issued first."""
        with self._lock:
            records = list(reversed(self._records.values()))
        return [record for record in records
                if record.readable_at(now) and appid in (None, record.appid)
                and flow in (None, record.flow) and state in (None, record.state_at(now))]

    def clear(self, appid: str | None = None) -> None:
        """Forget the records: all, or those of ``appid``."""
        with self._lock:
            if appid is None:
                self._records.clear()
            else:
                for token in [t for t, r in self._records.items() if r.appid == appid]:
                    del self._records[token]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)
