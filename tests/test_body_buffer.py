"""A large upload's media part is cut out of the buffer it was received into, not copied:
``core.body.take_slice`` and the multipart reader's use of it."""
from __future__ import annotations

from mockface.core.body import take_slice
from mockface.products.legacy import wire
from mockface.web.chunkstream import ChunkStream

BOUNDARY = "b0undary"


def multipart(*parts: tuple[str, bytes]) -> bytes:
    raw = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   .encode() + value + b"\r\n" for name, value in parts)
    return raw + f"--{BOUNDARY}--\r\n".encode()


def read(chunks: list[bytes | bytearray]):
    return wire.read_body(f"multipart/form-data; boundary={BOUNDARY}",
                          str(sum(map(len, chunks))), ChunkStream(chunks))


def test_a_slice_is_taken_by_trimming_the_buffer_itself():
    buffer = bytearray(b"head:" + b"x" * 1000 + b":tail")
    kept = take_slice(buffer, 5, 1005)
    assert kept is buffer
    assert kept == b"x" * 1000


def test_a_buffer_still_viewed_is_copied_and_left_alone():
    buffer = bytearray(b"head:body:tail")
    with memoryview(buffer):
        kept = take_slice(buffer, 5, 9)
    assert kept is not buffer
    assert (kept, buffer) == (b"body", b"head:body:tail")


def test_the_largest_media_part_of_a_received_buffer_is_that_buffer():
    video, image = b"\x00\x01video" * 50_000, b"\xff\xd8image" * 100
    buffer = bytearray(multipart(("validate_data", b"1234"), ("image", image), ("video", video)))
    body = read([buffer])
    assert body.media["video"] is buffer
    assert body.media == {"image": image, "video": video}
    assert list(body.media) == ["image", "video"]  # the order the parts came in
    assert type(body.media["image"]) is bytes
    assert body.text == {"validate_data": "1234"}


def test_a_repeated_media_field_keeps_its_first_value_from_a_buffer_too():
    first, second = b"first" * 10_000, b"second" * 20_000
    body = read([bytearray(multipart(("video", first), ("video", second)))])
    assert body.media == {"video": first}


def test_received_bytes_are_never_modified():
    """Chunks that are ``bytes`` (a small body, or one split across receives) are joined."""
    raw = multipart(("video", b"v" * 200_000))
    chunks = [raw[:150_000], raw[150_000:]]
    body = read(chunks)
    assert body.media == {"video": b"v" * 200_000}
    assert b"".join(chunks) == raw
