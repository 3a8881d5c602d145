"""What the annotations promise: both state backends are a ``StateBackend`` to mypy (with
the project's settings), a backend that breaks the protocol is refused, ``store(spec)`` is
typed as the spec's kind, a backend's factory lacking a kind is refused, and the media types
the annotations name are what the code hands out at run time."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mockface.core.journal import RecentImages, summarise_media
from mockface.core.media import ImageInfo, VideoInfo
from mockface.products.legacy.model import RequestBody

from .support import media

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for this module's mypy runs: the first analyses mockface, the rest reuse it."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy_errors(snippet: str, cache: Path, kind: str = "error") -> list[str]:
    """The errors (or with ``kind="note"`` the notes) mypy, configured as pyproject.toml
    says, reports in ``snippet`` (a module using mockface) as ``LINE: MESSAGE``.  mockface's
    own modules are analysed silently: only what the snippet relies on is checked here (CI
    checks mockface itself)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--follow-imports", "silent", "--cache-dir", str(cache), "--no-error-summary",
         "-c", textwrap.dedent(snippet)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2: mypy failed
    return [line.removeprefix("<string>:") for line in result.stdout.splitlines()
            if line.startswith("<string>:") and f": {kind}:" in line]


def test_memory_and_redis_states_are_state_backends(mypy_cache):
    assert mypy_errors("""
        from mockface.core.config import Settings
        from mockface.core.redis_state import RedisState
        from mockface.core.state import MemoryState, StateBackend

        def backends(settings: Settings) -> list[StateBackend]:
            return [MemoryState(settings), RedisState("redis://127.0.0.1:6379/0", settings)]
        """, mypy_cache) == []


def test_the_emulator_takes_either_state_backend(mypy_cache):
    assert mypy_errors("""
        from mockface.core.config import Settings
        from mockface.core.redis_state import RedisState
        from mockface.core.state import MemoryState
        from mockface.emulator import Emulator

        def emulators(settings: Settings) -> list[Emulator]:
            shared = RedisState("redis://127.0.0.1:6379/0", settings)
            return [Emulator(settings, state=MemoryState(settings)),
                    Emulator(settings, state=shared)]
        """, mypy_cache) == []


def test_a_backend_that_breaks_the_protocol_is_refused(mypy_cache):
    assert mypy_errors("""
        from mockface.core.config import Settings
        from mockface.core.state import MemoryState, StateBackend

        class Sluggish(MemoryState):
            def quick(self) -> str:  # type: ignore[override]
                return "later"

        def backend(settings: Settings) -> StateBackend:
            return Sluggish(settings)
        """, mypy_cache) == [
        '10: error: Incompatible return value type (got "Sluggish", expected "StateBackend")'
        '  [return-value]']


def test_a_store_is_typed_as_its_spec_s_kind_on_every_backend(mypy_cache):
    revealed = mypy_errors("""
        from mockface.core.config import Settings
        from mockface.core.redis_state import RedisState
        from mockface.core.state import MemoryState, StateBackend
        from mockface.core.stores import CodeBookSpec, IdentityRegistrySpec, OnceSet, RateWindow

        def stores(state: StateBackend, memory: MemoryState, redis: RedisState) -> None:
            reveal_type(state.store(OnceSet("once")))
            reveal_type(memory.store(RateWindow("rate")))
            reveal_type(redis.store(CodeBookSpec("lip_codes")))
            reveal_type(state.store(IdentityRegistrySpec("identities")))
        """, mypy_cache, kind="note")
    assert revealed == [
        f'{line}: note: Revealed type is "mockface.core.stores.{kind}"'
        for line, kind in ((8, "OnceSignatures"), (9, "RateLimits"), (10, "CodeBook"),
                           (11, "Identities"))]


def test_a_store_used_as_another_kind_is_refused(mypy_cache):
    assert mypy_errors("""
        from mockface.core.state import StateBackend
        from mockface.core.stores import OnceSet

        def limit(state: StateBackend) -> bool:
            return state.store(OnceSet("once")).allow("app", 1, 0.0)
        """, mypy_cache) == [
        '6: error: "OnceSignatures" has no attribute "allow"  [attr-defined]']


def test_a_backend_factory_that_lacks_a_kind_is_refused(mypy_cache):
    errors = mypy_errors("""
        from mockface.core.state import IdentityRegistry, OnceSignatureStore, RateLimiter
        from mockface.core.stores import DeclaredStores, Identities, OnceSignatures, RateLimits

        class NoCodes:
            def once_set(self, spec: object) -> OnceSignatures:
                return OnceSignatureStore()

            def rate_window(self, spec: object) -> RateLimits:
                return RateLimiter()

            def identity_registry(self, spec: object) -> Identities:
                return IdentityRegistry({})

        def declared() -> DeclaredStores:
            return DeclaredStores(NoCodes())
        """, mypy_cache)
    assert [error.split(":")[0] for error in errors] == ["16"]
    assert 'incompatible type "NoCodes"; expected "StoreFactory"' in errors[0]


def test_a_request_body_sniffs_each_media_part_once_as_what_it_is():
    body = RequestBody("multipart", media={"image": media("face.jpg"),
                                           "video": bytearray(media("video.mp4"))})
    image, video = body.image("image"), body.video()
    assert image == ImageInfo("jpeg", True, 300, 400)
    assert video == VideoInfo("mp4", 480, 640)
    assert body.image("image") is image and body.inspect("image") is image
    assert body.video() is video and body.inspect("video") is video


def test_recent_images_keep_bytes_not_the_buffer_a_request_arrived_in():
    buffer = bytearray(media("face.jpg"))
    images = RecentImages()
    summary = summarise_media("image", buffer)
    images.keep(summary, buffer)
    buffer[:] = bytes(len(buffer))  # the server's buffer, reused
    assert images.get(summary["sha256"]) == ("image/jpeg", media("face.jpg"))
    assert type(images.get(summary["sha256"])[1]) is bytes
