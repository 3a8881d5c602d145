"""Reading a request body from a WSGI input stream, bounded, without needless copies."""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from .media import MediaBytes


class BodyTooLarge(Exception):
    """More than the allowed number of bytes arrived."""


def bounded_chunks(stream: IO[bytes], limit: int) -> Iterator[MediaBytes]:
    """The body in the chunks the stream holds it in (``read1`` when the stream has it:
    mockface's server then hands out the received chunks themselves, ``bytearray``s, so a
    large upload is never copied here); BodyTooLarge as soon as more than ``limit`` bytes
    arrive."""
    read = getattr(stream, "read1", stream.read)
    total = 0
    while True:
        chunk = read(limit + 1 - total)
        if not chunk:
            return
        total += len(chunk)
        if total > limit:
            raise BodyTooLarge(f"body over {limit} bytes")
        yield chunk


def read_bounded(stream: IO[bytes], limit: int) -> bytes:
    """The whole body as one byte string (the chunk itself when there is one);
    BodyTooLarge past ``limit`` bytes."""
    return b"".join(bounded_chunks(stream, limit))


def take_slice(buffer: bytearray, start: int, end: int) -> bytearray:
    """``buffer[start:end]`` made out of ``buffer`` itself, trimmed in place: dropping a
    short head and tail moves no bytes, so a part that is most of a large body is never
    copied.  The caller gives up ``buffer``.  A copy when the buffer cannot be resized
    (a view of it is still alive)."""
    try:
        del buffer[end:]
        del buffer[:start]
    except BufferError:
        return buffer[start:end]
    return buffer
