"""The plain values that flow between the wire, the emulator and the service."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ...core.media import ImageInfo, MediaBytes, VideoInfo, inspect_image, inspect_video
from .errors import ApiError

IN_BAND_STATUSES = ("live_status", "compare_status")


@dataclass
class RequestBody:
    """A parsed request body: known text fields as ``str``, media fields as exact bytes
    (``bytes``, or for the largest part of a large upload the ``bytearray`` the server
    received the body into; read-only either way).

    Empty values (and the multipart text ``null`` for ``session_id``) are already dropped.
    """

    kind: str  # "json" or "multipart"
    text: dict[str, str] = field(default_factory=dict)
    media: dict[str, MediaBytes] = field(default_factory=dict)
    _digests: dict[str, str] = field(default_factory=dict, repr=False)
    _images: dict[str, ImageInfo] = field(default_factory=dict, repr=False)
    _video: VideoInfo | None = field(default=None, repr=False)

    def get(self, name: str) -> str | None:
        return self.text.get(name)

    def inspect(self, name: str) -> ImageInfo | VideoInfo:
        """What media part ``name`` is (a VideoInfo for ``video``, else an ImageInfo),
        sniffed once per request however many readers ask."""
        return self.video() if name == "video" else self.image(name)

    def image(self, name: str) -> ImageInfo:
        """What image part ``name`` (any media part but ``video``) is, sniffed once."""
        facts = self._images.get(name)
        if facts is None:
            facts = self._images[name] = inspect_image(self.media[name])
        return facts

    def video(self) -> VideoInfo:
        """What the ``video`` part is, sniffed once."""
        if self._video is None:
            self._video = inspect_video(self.media["video"])
        return self._video

    def known_sha256(self, name: str) -> str | None:
        """Hex SHA-256 of media part ``name`` if something computed it already, else None."""
        return self._digests.get(name)

    def sha256(self, name: str) -> str:
        """Hex SHA-256 of media part ``name``, computed once per request."""
        digest = self._digests.get(name)
        if digest is None:
            digest = self._digests[name] = hashlib.sha256(self.media[name]).hexdigest()
        return digest


@dataclass
class Reply:
    """What the emulator answers: rendered as ``{"code", "message"[, "data"]}``."""

    code: int
    message: str
    http_status: int = 200
    data: dict[str, Any] | None = None
    detail: str = ""  # why an in-band status is not 0; for logs and the journal, never sent

    @classmethod
    def ok(cls, data: dict[str, Any]) -> Reply:
        return cls(0, "OK", 200, data)

    @property
    def plain_success(self) -> bool:
        """Code 0 with no failing in-band status (live_status, compare_status)."""
        return self.code == 0 and not any(
            (self.data or {}).get(key) not in (None, 0) for key in IN_BAND_STATUSES)

    @classmethod
    def from_error(cls, error: ApiError) -> Reply:
        return cls(error.code, error.message, error.http_status, None)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body
