"""Request parsing and response rendering, independent of any web framework.

``read_body`` turns a Content-Type, a Content-Length and a byte stream into a RequestBody,
enforcing the 6 MB limit before and while reading; it raises nothing but ApiError.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, TypeGuard

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ...core.body import BodyTooLarge, bounded_chunks, take_slice
from ...core.config import MAX_BODY_BYTES
from ...core.media import MediaBytes
from ...core.strictjson import loads_strict
from .errors import ApiError
from .fields import MEDIA_FIELDS, TEXT_FIELDS
from .model import Reply, RequestBody

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

_SURROGATE = re.compile("[\ud800-\udfff]")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def read_body(content_type: str | None, content_length: str | None, stream: IO[bytes],
              limit: int = MAX_BODY_BYTES) -> RequestBody:
    """Parse a JSON or multipart body; ApiError 3 for anything malformed, 23 when too large."""
    if content_length:
        try:
            declared = int(content_length)
        except ValueError:
            raise ApiError(3, detail=f"bad Content-Length {content_length[:40]!r}") from None
        if declared > limit:
            raise ApiError(23, detail=f"Content-Length {declared} over {limit}")
    mimetype, options = parse_options_header(content_type or "")
    if mimetype == b"application/json":
        return _json_body(b"".join(_bounded_chunks(stream, limit)))
    if mimetype == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise ApiError(3, detail="multipart without boundary")
        return _multipart_body(boundary, _bounded_chunks(stream, limit))
    raise ApiError(3, detail=f"unsupported Content-Type {(content_type or '')[:60]!r}")


def _bounded_chunks(stream: IO[bytes], limit: int) -> Iterator[MediaBytes]:
    """``core.body.bounded_chunks`` with a body too large as ApiError 23."""
    try:
        yield from bounded_chunks(stream, limit)
    except BodyTooLarge as error:
        raise ApiError(23, detail=str(error)) from None


def _keep_text(body: RequestBody, name: str, value: str) -> None:
    value = value.strip()
    if value == "" or (name == "session_id" and value == "null"):
        return
    body.text.setdefault(name, value)


def _json_body(raw: bytes) -> RequestBody:
    try:
        document = loads_strict(raw)
    except ValueError:  # UnicodeDecodeError is a ValueError
        raise ApiError(3, detail="body is not valid JSON") from None
    if not isinstance(document, dict):
        raise ApiError(3, detail="JSON body is not an object")
    body = RequestBody("json")
    for name, value in document.items():
        if value is None:
            continue
        if name in MEDIA_FIELDS:
            body.media.setdefault(name, _base64_media(name, value))
        elif name in TEXT_FIELDS:
            _keep_text(body, name, _json_text(name, value))
    return body


def _json_text(name: str, value: object) -> str:
    """JSON scalars as strings: numbers where strings are documented compare as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise ApiError(21, detail=f"field {name!r} is not valid Unicode (lone surrogate)")
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    raise ApiError(21, detail=f"field {name!r} must be a string")


def _base64_media(name: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise ApiError(21, detail=f"JSON field {name!r} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(21, detail=f"JSON field {name!r} is not base64") from None


@functools.lru_cache(maxsize=256)
def _known_field(disposition: bytes) -> str | None:
    """The field a part's Content-Disposition names, when mockface reads that field.  Cached:
    clients send the same few headers again and again (a bounded cache, whatever they send)."""
    _, params = parse_options_header(disposition.decode("latin-1"))
    name = params.get(b"name")
    if name is None:
        return None
    try:
        decoded = name.decode("utf-8")
    except UnicodeError:
        return None
    return decoded if decoded in TEXT_FIELDS or decoded in MEDIA_FIELDS else None


#: A piece of a part: ``chunk[start:end]`` of a chunk the parser was given.
_Piece = tuple[MediaBytes, int, int]
#: A piece that lies in a received buffer, which ``take_slice`` can trim in place.
_Buffered = tuple[bytearray, int, int]


def _buffered(piece: _Piece) -> TypeGuard[_Buffered]:
    """Whether ``piece`` lies in a ``bytearray`` (exactly: not a subclass)."""
    return type(piece[0]) is bytearray


def _joined(pieces: list[_Piece]) -> bytes:
    views = [memoryview(chunk)[start:end] for chunk, start, end in pieces]
    try:
        return b"".join(views)
    finally:
        for view in views:
            view.release()


class _PartCollector:
    """python-multipart callbacks that gather each known part's headers and exact bytes.

    Media parts stay where they were received until the whole body is parsed (``media``):
    the largest one that lies whole in a received ``bytearray`` (the server's buffer of a
    large body) is then cut out of that buffer in place, with no copy."""

    def __init__(self) -> None:
        self.body = RequestBody("multipart")
        self.finished = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._pieces: list[_Piece] = []
        self._name: str | None = None
        self._media: dict[str, list[_Piece]] = {}

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers, self._pieces, self._name = {}, [], None

    def _header_end(self) -> None:
        self._headers[bytes(self._header_field).strip().lower()] = bytes(self._header_value).strip()
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        self._name = _known_field(self._headers.get(b"content-disposition", b""))

    def _part_data(self, data: MediaBytes, start: int, end: int) -> None:
        if self._name is not None:
            self._pieces.append((data, start, end))

    def _part_end(self) -> None:
        if self._name is None:
            return
        if self._name in MEDIA_FIELDS:
            self._media.setdefault(self._name, self._pieces)
            return
        try:
            text = _joined(self._pieces).decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(21, detail=f"field {self._name!r} is not UTF-8") from None
        _keep_text(self.body, self._name, text)

    def _end(self) -> None:
        self.finished = True

    def media(self) -> None:
        """Fill ``body.media`` (in the order the parts came), once the parser is done with
        the chunks."""
        whole = {name: pieces[0] for name, pieces in self._media.items()
                 if len(pieces) == 1 and _buffered(pieces[0])}
        owner = max(whole, key=lambda name: whole[name][2] - whole[name][1], default=None)
        for name, pieces in self._media.items():
            self.body.media[name] = b"" if name == owner else _joined(pieces)
        if owner is not None:
            self.body.media[owner] = take_slice(*whole[owner])
        self._media.clear()


def _multipart_body(boundary: bytes, chunks: Iterator[MediaBytes]) -> RequestBody:
    collector = _PartCollector()
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        for chunk in chunks:
            # Annotated bytes, python-multipart only indexes and slices what it is given (as
            # a bytearray allows), and hands it to the callbacks as it is.
            parser.write(chunk)  # type: ignore[arg-type]
        parser.finalize()
    except FormParserError as exc:
        raise ApiError(3, detail=f"malformed multipart body: {exc}") from None
    if not collector.finished:
        raise ApiError(3, detail="multipart body ends before its closing boundary")
    collector.media()
    return collector.body


def render(reply: Reply) -> tuple[int, bytes]:
    """The HTTP status and UTF-8 JSON body for a reply (keys in the order code, message, data)."""
    text = json.dumps(reply.body(), ensure_ascii=False, separators=(",", ":"))
    # A lone surrogate (only a scenario could script one) becomes its JSON escape \udXXX.
    return reply.http_status, text.encode("utf-8", "backslashreplace")
