"""The sha256 of a large upload: computed when the journal is read, never while nothing reads
it, exact for every part the journal still holds the bytes of, and ``null`` beyond that."""
from __future__ import annotations

import base64
import hashlib
import os
import struct
import weakref

import pytest

from mockface.core.journal import EAGER_DIGEST_SIZE, Journal, summarise_data, summarise_media
from mockface.core.scenarios.model import Facts

from .support import MAIN, caller_with, media

MB = 1024 * 1024


class Buffer(bytearray):
    """A bytearray that can be watched with a weak reference (to see the journal let go)."""


def large_video(extra: int = 3 * MB // 2) -> bytes:
    """The fixture video with a ``free`` box of ``extra`` random bytes: a valid MP4 over
    EAGER_DIGEST_SIZE, different each time."""
    return media("video.mp4") + struct.pack(">I4s", 8 + extra, b"free") + os.urandom(extra)


@pytest.fixture
def large_hashes(monkeypatch) -> list[int]:
    """The sizes of the inputs over EAGER_DIGEST_SIZE that anything hashes with sha256."""
    sizes: list[int] = []
    real = hashlib.sha256

    def counting(data=b"", **kwargs):
        if len(data) > EAGER_DIGEST_SIZE:
            sizes.append(len(data))
        return real(data, **kwargs)

    monkeypatch.setattr(hashlib, "sha256", counting)
    return sizes


def sha(data: bytes | bytearray) -> str:
    """The expected digest (``hashlib.new``, which ``large_hashes`` does not count)."""
    return hashlib.new("sha256", data).hexdigest()


def record(journal: Journal, data: bytes | bytearray, appid: str = MAIN.appid) -> None:
    journal.record(time=0.0, endpoint="livedetectfour", appid=appid, fields={},
                   media={"video": summarise_media("video", data)}, signature={}, rule="default",
                   http_status=200, code=0, data=None, fault=None, detail=None, latency_ms=1.0)


def digests(journal: Journal) -> list[str | None]:
    return [entry.media["video"]["sha256"] for entry in journal.query()]


def test_a_part_over_a_megabyte_gets_its_sha256_when_the_journal_is_read(large_hashes):
    journal, video = Journal(), large_video()
    record(journal, video)
    assert large_hashes == []
    assert digests(journal) == [sha(video)]
    assert digests(journal) == [sha(video)]
    assert large_hashes == [len(video)]  # once, at the first read


def test_a_part_of_a_megabyte_is_hashed_when_recorded_whatever_the_window():
    journal, data = Journal(digest_window=0), os.urandom(EAGER_DIGEST_SIZE)
    record(journal, data)
    assert digests(journal) == [sha(data)]


def test_parts_beyond_the_digest_window_say_null_and_newer_ones_their_sha256():
    journal = Journal(digest_window=7 * MB // 2)
    videos = [large_video() for _ in range(3)]  # 1.5 MB each: the newest two fit
    for video in videos:
        record(journal, video)
    assert digests(journal) == [None] + [sha(v) for v in videos[1:]]


def test_a_query_settles_only_the_entries_it_returns():
    journal, video, other = Journal(), large_video(), large_video()
    record(journal, video, appid="1")
    record(journal, other, appid="2")
    [entry] = journal.query(appid="2")
    assert entry.media["video"]["sha256"] == sha(other)
    assert digests(journal) == [sha(video),
                                sha(other)]


def test_the_window_lets_go_of_the_bytes_beyond_its_budget():
    journal, first = Journal(digest_window=2 * MB), Buffer(large_video())
    gone = weakref.ref(first)
    record(journal, first)
    del first
    assert gone() is not None
    record(journal, large_video())
    assert gone() is None


def test_the_journal_lets_go_of_held_bytes_when_their_entry_leaves_it():
    journal, first = Journal(capacity=1), Buffer(large_video())
    gone = weakref.ref(first)
    record(journal, first)
    del first
    record(journal, b"small")
    assert gone() is None


def test_clearing_one_appid_lets_go_of_its_bytes_and_keeps_the_others_digests():
    journal, first, other = Journal(), Buffer(large_video()), large_video()
    gone = weakref.ref(first)
    record(journal, first, appid="1")
    record(journal, other, appid="2")
    del first
    assert journal.clear("1") == 1
    assert gone() is None
    assert digests(journal) == [sha(other)]
    held = Buffer(large_video())
    gone = weakref.ref(held)
    record(journal, held)
    del held
    assert journal.clear() == 2 and journal.query() == []
    assert gone() is None


def test_facts_compute_a_later_value_once_and_only_when_read():
    calls: list[str] = []
    facts = Facts({"seq": "1"}, {"video.sha256": lambda: calls.append("x") or "abc"})
    assert sorted(facts) == ["seq", "video.sha256"] and len(facts) == 2
    assert facts.get("seq") == "1" and calls == []
    assert facts.get("video.sha256") == "abc" and facts["video.sha256"] == "abc"
    assert calls == ["x"]
    assert facts.get("card.sha256") is None


def upload(caller, video: bytes) -> tuple[int, int]:
    """A liveness check of ``video`` without comparison (a comparison derives its ``sim``
    from the video's sha256, so it hashes the video whatever the journal does)."""
    status, body = caller.multipart(
        "livedetectfour", {"appid": MAIN.appid, "validate_data": "1234", "compare_flag": "false"},
        {"video": video})
    return status, body["code"]


def test_a_large_upload_is_hashed_only_when_its_entry_is_read(clock, large_hashes):
    caller, _ = caller_with(clock)
    video = large_video()
    assert upload(caller, video) == (200, 0)
    assert large_hashes == []
    [entry] = caller.client.get("/__mockface/requests").get_json()["requests"]
    assert entry["media"]["video"] == {"size": len(video),
                                       "sha256": sha(video),
                                       "type": "mp4", "width": 480, "height": 640}
    assert large_hashes == [len(video)]


def test_a_rule_on_a_large_upload_s_sha256_matches_and_the_journal_reuses_it(
        clock, large_hashes):
    caller, emulator = caller_with(clock)
    video = large_video()
    emulator.scenarios.activate({"name": "by-digest", "rules": [
        {"match": {"video.sha256": sha(video)},
         "respond": {"code": 24}}]})
    assert upload(caller, large_video()) == (200, 0)
    assert upload(caller, video) == (403, 24)
    [_, entry] = caller.client.get("/__mockface/requests").get_json()["requests"]
    assert entry["media"]["video"]["sha256"] == sha(video)
    assert large_hashes == [len(video)] * 2  # once each, for the rule; the journal reuses it


def test_the_dashboard_shows_a_digest_it_no_longer_holds_as_not_kept(clock):
    caller, emulator = caller_with(clock)
    emulator.journal = Journal(digest_window=0)  # lets go of every large part at once
    assert upload(caller, large_video()) == (200, 0)
    [entry] = caller.client.get("/__mockface/requests").get_json()["requests"]
    assert entry["media"]["video"]["sha256"] is None
    rows = caller.client.get("/__mockface/ui/rows?after=0")
    assert rows.status_code == 200
    assert "<td>not kept</td>" in rows.text and "None" not in rows.text


def test_a_photo_answers_repeat_is_summarised_once_and_each_entry_gets_its_own_copy(
        monkeypatch):
    photo = media("card.jpg") + os.urandom(16)  # a photo no other test summarised
    hashed: list[bytes] = []
    real = hashlib.sha256
    monkeypatch.setattr(hashlib, "sha256", lambda data=b"": hashed.append(data) or real(data))
    value = base64.b64encode(photo).decode()
    first, second = (summarise_data({"photo": value, "sim": 90}) for _ in range(2))
    expected = {"size": len(photo), "sha256": sha(photo), "type": "jpeg",
                "width": 240, "height": 320}
    assert first == second == {"photo": expected, "sim": 90}
    assert hashed.count(photo) == 1
    first["photo"]["sha256"] = None
    assert summarise_data({"photo": value})["photo"] == expected
