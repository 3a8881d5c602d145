"""``ChunkStream``: a request body as the pieces it was received in, read without copies.

The fast path (``fastpath.BodyChunks``) hands the app a body this way; any list of byte
strings will do (the tests build their own).
"""
from __future__ import annotations

import io


class ChunkStream(io.BufferedIOBase):
    """A read-only binary stream over a list of byte strings.  ``read1`` hands out the
    chunks themselves (no copy: a 2 MB upload is parsed where it was received), and they
    are the reader's to keep: a large body comes as one ``bytearray``, which the reader may
    also trim in place (see ``core.body.take_slice``).  ``read`` always gives ``bytes``,
    joining chunks only when asked for more than one."""

    def __init__(self, chunks: list[bytes | bytearray]) -> None:
        super().__init__()
        self._chunks = chunks
        self._index = 0
        self._offset = 0  # into self._chunks[self._index]

    def readable(self) -> bool:
        return True

    def read1(self, size: int | None = -1) -> bytes | bytearray:  # type: ignore[override]
        while self._index < len(self._chunks) and not self._chunks[self._index]:
            self._index += 1
        if self._index >= len(self._chunks) or size == 0:
            return b""
        chunk, start = self._chunks[self._index], self._offset
        end = len(chunk) if size is None or size < 0 else min(len(chunk), start + size)
        if end >= len(chunk):
            self._index, self._offset = self._index + 1, 0
        else:
            self._offset = end
        return chunk if start == 0 and end == len(chunk) else chunk[start:end]

    def read(self, size: int | None = -1) -> bytes:
        wanted = -1 if size is None or size < 0 else size
        pieces: list[bytes | bytearray] = []
        while wanted != 0:
            piece = self.read1(wanted)
            if not piece:
                break
            pieces.append(piece)
            if wanted > 0:
                wanted -= len(piece)
        if len(pieces) == 1 and type(pieces[0]) is bytes:
            return pieces[0]
        return b"".join(pieces)
