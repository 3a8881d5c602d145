"""Media facts from raw bytes: container sniffing, structural decode checks, dimensions, and
the sha256 computed only when asked (``LaterDigest``).

Content-Type headers are never trusted; only the bytes are.  Images are checked structurally
(markers, chunk layout, CRCs), which is enough to refuse truncated or garbage files without
pulling in an image library.
"""
from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import TypeAlias

#: The exact bytes of a media part: ``bytes``, or the ``bytearray`` a large upload was
#: received into (read-only either way).
MediaBytes: TypeAlias = bytes | bytearray

IMAGE_KINDS = ("jpeg", "png", "bmp")
#: Bounds on the structural walk, far above real files (a camera JPEG has some 10-30 markers
#: before its scan, a PNG a few hundred chunks): crafted files cannot make it expensive.
MAX_JPEG_STEPS = 1_000
MAX_PNG_CHUNKS = 10_000
MIN_VIDEO_SHORT_SIDE = 270
MIN_VIDEO_LONG_SIDE = 480


class LaterDigest:
    """The hex sha256 of ``data``, computed when asked (``hexdigest``), not when made:
    hashing a 2 MB video is a third of the CPU its upload costs, and often nothing asks."""

    __slots__ = ("data",)

    def __init__(self, data: MediaBytes) -> None:
        self.data = data

    def hexdigest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ImageInfo:
    """What the bytes of an image are: ``kind`` (jpeg/png/bmp/gif) or None, and whether the
    file is structurally whole (``decodes``), with its size when known."""

    kind: str | None
    decodes: bool
    width: int | None = None
    height: int | None = None

    @property
    def supported(self) -> bool:
        return self.kind in IMAGE_KINDS


@dataclass(frozen=True)
class VideoInfo:
    """The container of a video (mp4/flv/avi/webm or None) and its frame size when readable."""

    kind: str | None
    width: int | None = None
    height: int | None = None

    @property
    def too_small(self) -> bool:
        """True only when the frame size is known and below 270x480 in either orientation."""
        if self.width is None or self.height is None:
            return False
        short, long = sorted((self.width, self.height))
        return short < MIN_VIDEO_SHORT_SIDE or long < MIN_VIDEO_LONG_SIDE


def inspect_image(data: MediaBytes) -> ImageInfo:
    """Sniff and structurally check an image."""
    if data.startswith((b"GIF87a", b"GIF89a")):
        return ImageInfo("gif", False)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data)
    if data.startswith(b"BM"):
        return _bmp(data)
    return ImageInfo(None, False)


def _jpeg(data: MediaBytes) -> ImageInfo:
    pos, size = 2, None
    for _ in range(MAX_JPEG_STEPS):
        if pos + 4 > len(data):
            break
        if data[pos] != 0xFF:
            return ImageInfo("jpeg", False)
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            return ImageInfo("jpeg", False)
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                      0xCE, 0xCF) and length >= 7:
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            size = (width, height)
        if marker == 0xDA:  # start of scan: entropy-coded data up to the end-of-image marker
            whole = size is not None and size[0] > 0 and size[1] > 0 and \
                data.rfind(b"\xff\xd9") > pos + 2 + length
            return ImageInfo("jpeg", whole, *(size or (None, None)))
        pos += 2 + length
    return ImageInfo("jpeg", False)


def _png(data: MediaBytes) -> ImageInfo:
    pos, size, seen_data = 8, None, False
    for _ in range(MAX_PNG_CHUNKS):
        if pos + 12 > len(data):
            break
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            break
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(kind + body) != crc:
            break
        if pos == 8:
            if kind != b"IHDR" or length != 13:
                break
            size = struct.unpack(">II", body[:8])
        seen_data = seen_data or kind == b"IDAT"
        if kind == b"IEND":
            whole = size is not None and size[0] > 0 and size[1] > 0 and seen_data
            return ImageInfo("png", whole, *(size or (None, None)))
        pos = end
    return ImageInfo("png", False, *(size or (None, None)))


def _bmp(data: MediaBytes) -> ImageInfo:
    if len(data) < 26:
        return ImageInfo("bmp", False)
    (offset,) = struct.unpack("<I", data[10:14])
    (header_size,) = struct.unpack("<I", data[14:18])
    if header_size == 12:
        width, height = struct.unpack("<HH", data[18:22])
    elif header_size >= 40 and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
    else:
        return ImageInfo("bmp", False)
    height = abs(height)
    whole = width > 0 and height > 0 and 14 + header_size <= offset < len(data)
    return ImageInfo("bmp", whole, width, height)


def inspect_video(data: MediaBytes) -> VideoInfo:
    """Sniff a video container and read its frame size where the container makes that cheap."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return VideoInfo("mp4", *_mp4_size(data))
    if data.startswith(b"FLV\x01"):
        return VideoInfo("flv", *_flv_size(data))
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"AVI ":
        return VideoInfo("avi", *_avi_size(data))
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return VideoInfo("webm")
    return VideoInfo(None)


def _boxes(data: MediaBytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, content_start, content_end) for the ISO-BMFF boxes in data[start:end]."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1 and pos + 16 <= end:
            (size,) = struct.unpack(">Q", data[pos + 8:pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _mp4_size(data: MediaBytes) -> tuple[int | None, int | None]:
    for kind, start, end in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for trak, t_start, t_end in _boxes(data, start, end):
            if trak != b"trak":
                continue
            for box, b_start, b_end in _boxes(data, t_start, t_end):
                if box != b"tkhd":
                    continue
                offset = 88 if data[b_start] == 1 else 76
                if b_start + offset + 8 > b_end:
                    continue
                width, height = struct.unpack(">II", data[b_start + offset:b_start + offset + 8])
                if width and height:
                    return width >> 16, height >> 16
    return None, None


def _flv_size(data: MediaBytes) -> tuple[int | None, int | None]:
    head = data[:65536]
    values = []
    for name in (b"width", b"height"):
        key = struct.pack(">H", len(name)) + name + b"\x00"
        at = head.find(key)
        if at < 0 or at + len(key) + 8 > len(head):
            return None, None
        (number,) = struct.unpack(">d", head[at + len(key):at + len(key) + 8])
        if not 0 < number < 100_000:
            return None, None
        values.append(int(number))
    return values[0], values[1]


def _avi_size(data: MediaBytes) -> tuple[int | None, int | None]:
    at = data.find(b"avih", 12, 4096)
    if at < 0 or at + 8 + 40 > len(data):
        return None, None
    width, height = struct.unpack("<II", data[at + 8 + 32:at + 8 + 40])
    return (width, height) if width and height else (None, None)


def default_photo() -> bytes:
    """The small real JPEG shipped in the package: the photo answers carry (legacy
    ``photo``/``video_photo``, API 3.0 ``BestFrameBase64``)."""
    return resources.files("mockface").joinpath("data/photo.jpg").read_bytes()
