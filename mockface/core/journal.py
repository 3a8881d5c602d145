"""The request journal: a bounded, thread-safe record of what the server received and answered.

Entries summarise media (size, sha256, detected type): at most ``capacity`` entries are kept,
oldest dropped first.  The sha256 of a part over ``EAGER_DIGEST_SIZE`` is computed only when the
journal is read (hashing a 2 MB video is a third of the CPU its upload costs); the bytes of the
newest such parts, ``DIGEST_WINDOW`` in all, are kept for that, so memory stays bounded whatever
the load, and an older part nobody read keeps ``sha256: None``.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import itertools
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from .media import ImageInfo, LaterDigest, MediaBytes, VideoInfo, inspect_image, inspect_video

DEFAULT_JOURNAL_SIZE = 1000
VIDEO_PARTS = ("video", "VideoBase64")  # media parameters that carry a video
MAX_TEXT = 1000  # characters of a text value an entry keeps
EAGER_DIGEST_SIZE = 1024 * 1024  # bytes: a larger media part is hashed when the journal is read
DIGEST_WINDOW = 32 * 1024 * 1024  # bytes of such parts the journal keeps to hash them then


def clip(value: Any) -> Any:
    """Strings longer than MAX_TEXT cut short, saying how much was left out, with any lone
    surrogate written as its escape (see escape_surrogates)."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_TEXT:
        value = f"{value[:MAX_TEXT]}...({len(value) - MAX_TEXT} more characters)"
    elif value.isascii():  # escape_surrogates' own first test, without the call
        return value
    return escape_surrogates(value)


def escape_surrogates(text: str) -> str:
    """``text`` with each lone UTF-16 surrogate (JSON's ``"\\ud800"``, which no UTF-8 page
    or log can carry) written as the six characters ``\\ud800``; other text as it is."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def summarise_fields(fields: dict[str, str]) -> dict[str, str]:
    """Request text fields, each clipped to MAX_TEXT characters."""
    return {name: clip(value) for name, value in fields.items()}


def summarise_media(name: str, data: MediaBytes, sha256: str | None = None,
                    info: ImageInfo | VideoInfo | None = None) -> dict[str, Any]:
    """Size, sha256, sniffed type and, when readable, width and height of a media part
    (each computed unless given).  The sha256 of a part over EAGER_DIGEST_SIZE is a
    LaterDigest unless given: a journal store computes it when the entry is read
    (``Journal``), or at once if another process may read it (``settle_now``)."""
    if info is None:
        info = inspect_video(data) if name in VIDEO_PARTS else inspect_image(data)
    digest: str | LaterDigest
    if sha256 is not None:
        digest = sha256
    elif len(data) > EAGER_DIGEST_SIZE:
        digest = LaterDigest(data)
    else:
        digest = hashlib.sha256(data).hexdigest()
    summary = {"size": len(data), "sha256": digest, "type": info.kind}
    if info.width is not None and info.height is not None:
        summary.update(width=info.width, height=info.height)
    return summary


class RecentImages:
    """The bytes of the most recent small images requests carried (JPEG, PNG, BMP of at
    most ``largest`` bytes), by sha256, for the dashboard's thumbnails; at most ``budget``
    bytes in all, oldest forgotten first."""

    KINDS = {"jpeg": "image/jpeg", "png": "image/png", "bmp": "image/bmp"}

    def __init__(self, budget: int = 8 * 1024 * 1024, largest: int = 512 * 1024) -> None:
        self.budget = budget
        self.largest = largest
        self._images: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def keep(self, summary: dict[str, Any], data: MediaBytes) -> None:
        """Remember ``data`` (as ``bytes``) if its summary says it is a small image."""
        media_type = self.KINDS.get(summary.get("type") or "")
        if media_type is None or len(data) > self.largest or not isinstance(summary["sha256"], str):
            return
        with self._lock:
            if summary["sha256"] in self._images:
                self._images.move_to_end(summary["sha256"])
                return
            self._images[summary["sha256"]] = (media_type, bytes(data))
            self._size += len(data)
            while self._size > self.budget:
                _, (_, dropped) = self._images.popitem(last=False)
                self._size -= len(dropped)

    def get(self, sha256: str) -> tuple[str, bytes] | None:
        """(media type, bytes) of a kept image, or None."""
        with self._lock:
            return self._images.get(sha256)


def summarise_data(data: dict[str, Any] | None,
                   media: tuple[str, ...] = ("photo", "video_photo")) -> dict[str, Any] | None:
    """Answer fields with the base64 photos named in ``media`` (a string, or a list of
    them) replaced by their summaries, and every other string clipped -- also inside
    nested objects and lists (``media`` names apply at any depth)."""
    if data is None:
        return None
    return {name: clip(value) if name not in media and not isinstance(value, (dict, list))
            else _summarise_value(name, value, media)  # (the usual case without a call)
            for name, value in data.items()}


def _summarise_value(name: str, value: Any, media: tuple[str, ...]) -> Any:
    if name in media:
        return _summarise_photo(name, value)
    if isinstance(value, dict):
        return {key: _summarise_value(key, item, media) for key, item in value.items()}
    if isinstance(value, list):
        return [_summarise_value(name, item, media) for item in value]
    return clip(value)


def _summarise_photo(name: str, value: Any) -> Any:
    if isinstance(value, list):
        return [_summarise_photo(name, item) for item in value]
    if not isinstance(value, str):
        return value
    return dict(_photo_summary(name, value))


@functools.lru_cache(maxsize=4)
def _photo_summary(name: str, value: str) -> dict[str, Any]:
    """The summary of a base64 photo an answer carries, its sha256 computed here (a store
    settles only the request's media); cached, since most answers carry the same constant
    photo (callers copy it: entries never share a summary)."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = value.encode()
    return summarise_media(name, raw, hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class JournalEntry:
    """One exchange as the journal keeps it."""

    id: int
    time: float
    endpoint: str
    appid: str | None
    fields: dict[str, str]
    media: dict[str, dict[str, Any]]
    signature: dict[str, Any]
    rule: str
    http_status: int | None
    code: int | str | None  # legacy code; API 3.0 Error.Code or Result
    data: dict[str, Any] | None
    fault: str | None
    detail: str | None  # why the answer is not a plain success
    latency_ms: float
    miss: str | None = None  # scenarios were active, no rule matched: the closest, and why
    message: str | None = None  # the answer's message (legacy) or Error.Message (API 3.0)
    headers: dict[str, str] = field(default_factory=dict)  # the request headers mockface
    # read (Authorization masked)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def matching(entries: list[JournalEntry], endpoint: str | None, appid: str | None,
             code: int | str | None, since: float | None,
             after: int | None) -> list[JournalEntry]:
    """The entries that pass every given filter (each store's ``query``), in their order."""
    return [e for e in entries
            if (endpoint is None or e.endpoint == endpoint)
            and (appid is None or e.appid == appid)
            and (code is None or e.code == code)
            and (since is None or e.time >= since)
            and (after is None or e.id > after)]


def settle_now(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (an entry's, as ``Journal.record`` takes them) with every LaterDigest of
    its media computed: for a store whose entries are read elsewhere."""
    for summary in values["media"].values():
        if isinstance(summary["sha256"], LaterDigest):
            summary["sha256"] = summary["sha256"].hexdigest()
    return values


class _HeldParts:
    """The bytes of the media parts whose sha256 the journal computes when read, by entry id,
    oldest first, at most ``budget`` bytes in all; not thread-safe (the journal's lock)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._parts: OrderedDict[int, list[tuple[dict[str, Any], LaterDigest]]] = OrderedDict()
        self._size = 0

    def hold(self, entry: JournalEntry) -> None:
        """Take the LaterDigests out of a new entry's media (their sha256 is None until
        settled), keeping them; lets the oldest go beyond the budget."""
        parts = []
        for summary in entry.media.values():
            later = summary["sha256"]
            if isinstance(later, LaterDigest):
                summary["sha256"] = None
                parts.append((summary, later))
        if not parts:
            return
        self._parts[entry.id] = parts
        self._size += sum(len(later.data) for _, later in parts)
        while self._size > self.budget:
            self.forget(next(iter(self._parts)))

    def forget(self, entry_id: int) -> None:
        for _, later in self._parts.pop(entry_id, ()):
            self._size -= len(later.data)

    def clear(self) -> None:
        self._parts.clear()
        self._size = 0

    def of(self, entries: list[JournalEntry]) -> list[tuple[int, list]]:
        """(entry id, its held parts) for those of ``entries`` that have some."""
        return [(e.id, self._parts[e.id]) for e in entries if e.id in self._parts]


class Journal:
    """The most recent ``capacity`` entries, newest last.  The sha256 of a media part over
    EAGER_DIGEST_SIZE is computed when a query first returns its entry, from bytes kept for
    the newest parts (``digest_window`` bytes); an older part keeps ``sha256: None``."""

    def __init__(self, capacity: int = DEFAULT_JOURNAL_SIZE,
                 digest_window: int = DIGEST_WINDOW) -> None:
        self.capacity = capacity
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._held = _HeldParts(digest_window)
        self._settling = threading.Lock()

    def record(self, **values: Any) -> None:
        """Add an entry (fields as JournalEntry's, without ``id``, which it is given here)."""
        with self._lock:
            if len(self._entries) == self.capacity and self._entries:
                self._held.forget(self._entries[0].id)
            entry = JournalEntry(id=next(self._ids), **values)
            self._entries.append(entry)
            self._held.hold(entry)

    def query(self, endpoint: str | None = None, appid: str | None = None,
              code: int | str | None = None, since: float | None = None,
              after: int | None = None) -> list[JournalEntry]:
        """Entries matching every given filter, oldest first, with their digests."""
        with self._lock:
            entries = list(self._entries)
        found = matching(entries, endpoint, appid, code, since, after)
        self._settle(found)
        return found

    def _settle(self, entries: list[JournalEntry]) -> None:
        """Compute the held digests of ``entries``: outside the journal's lock, so requests
        are recorded meanwhile, and one query at a time, so no part is hashed twice."""
        with self._settling:
            with self._lock:
                todo = self._held.of(entries)
            for _, parts in todo:
                for summary, later in parts:
                    summary["sha256"] = later.hexdigest()
            with self._lock:
                for entry_id, _ in todo:
                    self._held.forget(entry_id)

    def clear(self, appid: str | None = None) -> int:
        """Drop all entries, or one appid's; returns how many were dropped."""
        with self._lock:
            before = len(self._entries)
            if appid is None:
                self._entries.clear()
                self._held.clear()
            else:
                kept: deque[JournalEntry] = deque(maxlen=self.capacity)
                for entry in self._entries:
                    if entry.appid == appid:
                        self._held.forget(entry.id)
                    else:
                        kept.append(entry)
                self._entries = kept
            return before - len(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
