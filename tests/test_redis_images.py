"""The dashboard's thumbnails kept in the state backend (``state.recent_images``): in memory
a RecentImages, on Redis a store with the same interface and limits that every process of
a server shares, so that ``--workers 2`` serves a thumbnail whichever worker received it."""
from __future__ import annotations

import hashlib
import io
import time

import pytest
import redis
import requests

from mockface.core.config import builtin_app
from mockface.core.journal import RecentImages, summarise_media
from mockface.core.media import LaterDigest
from mockface.core.redis_state import RedisRecentImages
from mockface.core.state import MemoryState, StateUnavailable
from mockface.products.legacy.signature import sign
from mockface.web.app import create_app

from .redis_server import open_state, shared_emulator
from .support import MAIN, NOW, ServeProcess, auth, make_settings, media, wait_until

JPEG, PNG, BMP = media("face.jpg"), media("face.png"), media("face.bmp")


def summary(data: bytes, name: str = "image") -> dict:
    return summarise_media(name, data)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def distinct_jpeg(n: int, size: int = 0) -> bytes:
    """A JPEG of its own: the fixture with ``n`` (and ``size`` bytes) after its end."""
    return JPEG + f"{n:08d}".encode() + b"\0" * size


@pytest.fixture(params=["memory", "redis"])
def store(request, redis_server):
    """The thumbnail store of a fresh state of each backend."""
    if request.param == "memory":
        return MemoryState(make_settings()).recent_images
    return open_state(redis_server.url()).recent_images


# -- the interface both backends offer -----------------------------------------------------------

def test_a_memory_state_keeps_them_in_a_recent_images():
    assert isinstance(MemoryState(make_settings()).recent_images, RecentImages)


@pytest.mark.parametrize("data,media_type", [(JPEG, "image/jpeg"), (PNG, "image/png"),
                                             (BMP, "image/bmp")])
def test_a_small_image_is_served_back_with_its_media_type(store, data, media_type):
    store.keep(summary(data), data)
    assert store.get(sha(data)) == (media_type, data)
    assert store.get("0" * 64) is None


def test_what_is_not_a_small_image_is_not_kept(store):
    video = media("video.mp4")
    store.keep(summary(video, "video"), video)
    gif = media("face.gif")
    store.keep(summary(gif), gif)  # not a thumbnail type
    large = distinct_jpeg(1, 512 * 1024)
    store.keep(summary(large), large)
    later = summary(JPEG)
    later["sha256"] = LaterDigest(JPEG)  # no digest yet: nothing to serve it by
    store.keep(later, JPEG)
    limit = distinct_jpeg(2, 512 * 1024 - len(distinct_jpeg(2)))
    store.keep(summary(limit), limit)  # exactly 512 KB: kept
    assert [store.get(sha(data)) for data in (video, gif, large, JPEG)] == [None] * 4
    assert store.get(sha(limit)) == ("image/jpeg", limit)


# -- Redis: shared, bounded, expiring ---------------------------------------------------------

def test_an_image_kept_through_one_state_is_served_through_another(redis_server):
    url = redis_server.url()
    first, second = open_state(url), open_state(url)
    first.recent_images.keep(summary(JPEG), JPEG)
    assert second.recent_images.get(sha(JPEG)) == ("image/jpeg", JPEG)
    assert open_state(redis_server.url()).recent_images.get(sha(JPEG)) is None  # prefixes


@pytest.mark.parametrize("resend", [RedisRecentImages.RESEND_SECONDS, 0],
                         ids=["marked-newest", "sent-again"])
def test_past_the_most_images_the_oldest_kept_goes_first(redis_server, resend):
    state = open_state(redis_server.url())
    images = RedisRecentImages(state, most=3)
    images.RESEND_SECONDS = resend
    one, two, three, four = (distinct_jpeg(n) for n in range(4))
    for data in (one, two, three):
        images.keep(summary(data), data)
    images.keep(summary(one), one)  # kept again: the newest now
    images.keep(summary(four), four)
    assert [images.get(sha(d)) is not None for d in (one, two, three, four)] == \
        [True, False, True, True]
    assert state.redis.zcard(f"{state.prefix}images:order") == 3


def test_past_the_byte_budget_the_oldest_go_first_and_the_size_is_kept_exactly(redis_server):
    state = open_state(redis_server.url())
    one, two, three = (distinct_jpeg(n, 10_000) for n in range(3))
    blob = len(b"jpeg\n") + len(one)  # what Redis holds of each
    images = RedisRecentImages(state, budget=2 * blob + blob // 2)
    for data in (one, two):
        images.keep(summary(data), data)
    assert int(state.redis.get(f"{state.prefix}images:size")) == 2 * blob
    images.keep(summary(three), three)
    assert [images.get(sha(d)) is not None for d in (one, two, three)] == [False, True, True]
    assert int(state.redis.get(f"{state.prefix}images:size")) == 2 * blob
    assert state.redis.hlen(f"{state.prefix}images") == 2


def test_images_expire_in_redis(redis_server):
    state = open_state(redis_server.url())
    state.recent_images.keep(summary(JPEG), JPEG)
    for key in ("images", "images:order", "images:size"):
        ttl = state.redis.ttl(f"{state.prefix}{key}")
        assert RedisRecentImages.LIFETIME_SECONDS - 60 < ttl <= RedisRecentImages.LIFETIME_SECONDS
    images = RedisRecentImages(state)
    images.LIFETIME_SECONDS, images.RESEND_SECONDS = 1, 0
    images.keep(summary(PNG), PNG)

    def png_gone() -> bool:
        images.keep(summary(JPEG), JPEG)  # keeps the store alive, and has it drop old ones
        return images.get(sha(PNG)) is None
    wait_until(png_gone)
    assert images.get(sha(JPEG)) == ("image/jpeg", JPEG)


def test_an_image_s_bytes_are_sent_once_a_minute_by_each_process(redis_server):
    """A load test sends one photo over and over: a process sends its bytes once, then
    only marks it newest (until RESEND_SECONDS passed)."""
    state = open_state(redis_server.url())
    images = state.recent_images
    images.keep(summary(JPEG), JPEG)
    state.redis.hdel(f"{state.prefix}images", sha(JPEG))  # as if evicted meanwhile
    images.keep(summary(JPEG), JPEG)
    assert images.get(sha(JPEG)) is None  # not sent again
    images.RESEND_SECONDS = 0
    images.keep(summary(JPEG), JPEG)
    assert images.get(sha(JPEG)) == ("image/jpeg", JPEG)


def test_bytes_that_could_not_be_sent_are_sent_with_the_next_keep(redis_server, monkeypatch):
    state = open_state(redis_server.url())
    images = state.recent_images

    def unreachable(*args):
        raise redis.exceptions.ConnectionError("Redis went away")
    monkeypatch.setattr(state.batch, "post_script", unreachable)
    with pytest.raises(StateUnavailable):
        images.keep(summary(JPEG), JPEG)
    monkeypatch.undo()
    images.keep(summary(JPEG), JPEG)
    assert images.get(sha(JPEG)) == ("image/jpeg", JPEG)


# -- through the emulator and the dashboard -------------------------------------------------

def upload_photo(client, data: bytes) -> None:
    answer = client.post("/face/livedetectpicture", headers={"Authorization": auth()},
                         data={"appid": MAIN.appid, "image": (io.BytesIO(data), "f.jpg")})
    assert answer.get_json()["code"] == 0


def wire(emulator):
    """What emulator.py is to do itself: keep thumbnails in its state's store."""
    emulator.recent_images = emulator.state.recent_images
    return emulator


def test_a_photo_one_emulator_received_is_a_thumbnail_on_the_other_s_dashboard(redis_server):
    url = redis_server.url()
    first, second = wire(shared_emulator(url)), wire(shared_emulator(url))
    first.clock.freeze(NOW)
    upload_photo(create_app(emulator=first).test_client(), JPEG)
    served = create_app(emulator=second).test_client().get(f"/__mockface/ui/media/{sha(JPEG)}")
    assert (served.status_code, served.mimetype, served.data) == (200, "image/jpeg", JPEG)


def test_the_emulator_keeps_thumbnails_in_its_state_s_store(redis_server):
    assert shared_emulator(redis_server.url()).recent_images.__class__ is RedisRecentImages


def test_under_two_workers_every_thumbnail_request_finds_the_image(redis_server):
    server = ServeProcess("--quiet", "--workers", "2", "--state", redis_server.url())
    try:
        app = builtin_app({})
        secret_id, secret_key = app.first_secret
        header = sign(app.appid, secret_id, secret_key, now=int(time.time()))
        answer = requests.post(f"{server.url}/face/livedetectpicture", timeout=10,
                               headers={"Authorization": header}, data={"appid": app.appid},
                               files={"image": ("f.jpg", JPEG)}).json()
        assert answer["code"] == 0
        statuses = [requests.get(f"{server.url}/__mockface/ui/media/{sha(JPEG)}",
                                 timeout=10).status_code for _ in range(20)]  # new connections
        assert statuses == [200] * 20
    finally:
        server.stop()
