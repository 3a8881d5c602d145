"""How mockface's server (the fast path) holds a request body: as the chunks it was received in
(``BodyChunks``), or for a large body as one buffer it is received straight into, read
through ``ChunkStream`` without copies, exactly Content-Length bytes per request."""
from __future__ import annotations

import hashlib
import io
import socket
import time
import uuid

import pytest
from waitress.receiver import FixedStreamReceiver

from mockface.products.legacy.signature import sign
from mockface.web.chunkstream import ChunkStream
from mockface.web.fastpath import (
    BODY_RECV_BYTES,
    RECV_BYTES,
    BodyChunks,
    receive_size,
    waiting_bytes,
)
from mockface.web.server import start_background

from .support import MAIN, media, read_answers

MP4 = media("video.mp4")


# -- ChunkStream ------------------------------------------------------------------------------

def test_read1_hands_out_each_chunk_itself():
    first, second = b"a" * 1000, b"b" * 500
    stream = ChunkStream([first, second])
    assert stream.read1() is first
    assert stream.read1(10_000) is second
    assert stream.read1() == b""


def test_read1_with_a_size_splits_a_chunk_and_keeps_the_rest():
    stream = ChunkStream([b"abcdef", b"gh"])
    assert stream.read1(4) == b"abcd"
    assert stream.read1(4) == b"ef"
    assert stream.read1(4) == b"gh"
    assert stream.read1(4) == b""


@pytest.mark.parametrize("size, pieces", [
    (3, [b"abc", b"def", b"gh", b""]),
    (5, [b"abcde", b"fgh", b""]),
    (8, [b"abcdefgh", b""]),
    (100, [b"abcdefgh", b""]),
])
def test_read_gathers_across_chunks_up_to_size(size, pieces):
    stream = ChunkStream([b"ab", b"cdef", b"", b"gh"])
    assert [stream.read(size) for _ in pieces] == pieces


def test_read_gives_bytes_also_from_a_buffer_read1_hands_out_itself():
    """Frameworks that ``read`` (the admin API's Flask) get ``bytes``; ``read1`` readers,
    which may keep the buffer, get the buffer."""
    buffer = bytearray(b"abcd")
    assert type(ChunkStream([buffer]).read()) is bytes
    assert ChunkStream([buffer]).read() == b"abcd"
    assert ChunkStream([buffer]).read1() is buffer


def test_read_of_everything_and_of_one_whole_chunk_does_not_copy():
    only = b"x" * 4096
    assert ChunkStream([only]).read() is only
    assert ChunkStream([only]).read(len(only)) is only
    assert ChunkStream([b"ab", b"cd"]).read() == b"abcd"
    assert ChunkStream([]).read() == b""


def test_the_rest_of_the_io_protocol_comes_from_read():
    stream = ChunkStream([b"line one\nli", b"ne two\n", b"tail"])
    assert stream.readable() and not stream.seekable() and not stream.writable()
    assert stream.readline() == b"line one\n"
    buffer = bytearray(4)
    assert stream.readinto(buffer) == 4 and bytes(buffer) == b"line"
    assert list(stream) == [b" two\n", b"tail"]
    with pytest.raises(io.UnsupportedOperation):
        stream.seek(0)


# -- BodyChunks: waitress's receiver protocol -------------------------------------------------

def test_the_receiver_takes_exactly_content_length_and_reports_the_rest_unconsumed():
    body = BodyChunks(10)
    assert (body.received(b"0123"), body.completed, len(body)) == (4, False, 4)
    assert (body.received(b"456789NEXT"), body.completed, len(body)) == (6, True, 10)
    assert body.received(b"more") == 0
    assert body.getfile().read() == b"0123456789"
    assert body.getbuf() is body


def test_closing_the_receiver_frees_the_body_for_a_stream_still_referenced():
    """waitress closes the receiver when a request is done, but an idle worker thread keeps
    its last task (environ, stream) until its next one: the bytes must go anyway."""
    body = BodyChunks(4)
    body.received(b"abcd")
    stream = body.getfile()
    body.close()
    assert stream.read() == b""


# -- through the server ------------------------------------------------------------------------

def multipart_request(video: bytes, authorization: str) -> bytes:
    boundary = uuid.uuid4().hex
    fields = {"appid": MAIN.appid, "validate_data": "1234", "compare_flag": "false"}
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode() for name, value in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="video"; '
             f'filename="v.mp4"\r\nContent-Type: video/mp4\r\n\r\n').encode()
    body += video + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /face/livedetectfour HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {authorization}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    return head + body


def signed() -> str:
    return sign(MAIN.appid, "AKIDmain", "main-key", now=int(time.time()))


def test_a_large_upload_sent_in_small_pieces_is_received_whole(live_server):
    video = MP4 + bytes(range(256)) * 6000  # about 1.5 MB: many receives on the server
    request = multipart_request(video, signed())
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(request), 8191):
            sock.sendall(request[start:start + 8191])
        [answer] = read_answers(sock, 1)
    assert b'"code":0' in answer
    entry = live_server.emulator.journal.query()[-1]
    assert entry.media["video"]["size"] == len(video)
    assert entry.media["video"]["sha256"] == hashlib.sha256(video).hexdigest()


def test_pipelined_requests_each_get_their_own_body(live_server):
    first, second = MP4 + b"\x01" * 300_000, MP4 + b"\x02" * 200_000
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(multipart_request(first, signed()) + multipart_request(second, signed()))
        answers = read_answers(sock, 2)
    assert all(b'"code":0' in answer for answer in answers)
    sizes = [entry.media["video"]["size"] for entry in live_server.emulator.journal.query()[-2:]]
    assert sizes == [len(first), len(second)]


def _bodies_seen_by_the_app(*requests: bytes) -> list[list[bytes | bytearray]]:
    """Send ``requests`` on one connection (all at once) to a server whose app records the
    chunks its ``wsgi.input`` hands out (``read1``)."""
    seen: list[list[bytes | bytearray]] = []

    def app(environ, start_response):
        seen.append(list(iter(environ["wsgi.input"].read1, b"")))
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server = start_background(app)
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"".join(requests))
            read_answers(sock, len(requests))
    finally:
        server.stop()
    return seen


def post(body: bytes) -> bytes:
    return b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def test_a_large_body_reaches_the_app_as_one_buffer_it_was_received_into():
    """No joined copy of an upload: the rest of a large body is received straight into one
    buffer, which ``wsgi.input`` hands out itself."""
    body = bytes(range(256)) * 4000  # about 1 MB
    [chunks] = _bodies_seen_by_the_app(post(body))
    assert [type(chunk) for chunk in chunks] == [bytearray]
    assert chunks[0] == body


def test_pipelined_large_bodies_are_each_received_whole_and_no_further():
    """The direct receive stops at Content-Length: the next request's bytes stay its own."""
    first, second = b"\x01" * 1_500_000, b"\x02" * 700_000
    seen = _bodies_seen_by_the_app(post(first), post(second), post(b"tail"))
    assert [b"".join(chunks) for chunks in seen] == [first, second, b"tail"]
    assert [type(chunks[0]) for chunks in seen] == [bytearray, bytearray, bytes]


def test_a_small_body_reaches_the_app_as_it_was_received():
    [chunks] = _bodies_seen_by_the_app(post(b"x" * 100_000))
    assert b"".join(chunks) == b"x" * 100_000
    assert all(type(chunk) is bytes for chunk in chunks)


# -- the direct receive, piece by piece (a socket pair stands in for the client) ---------------

def test_a_body_only_announced_gets_no_buffer_until_half_of_it_is_there():
    """A client that claims a large Content-Length and sends little costs only what it sent:
    the buffer of the full length comes once half of the body is in hand or in the socket."""
    server_side, client = socket.socketpair()
    with server_side, client:
        body = BodyChunks(600_000)
        body.received(b"a" * 250_000)
        assert not body.wants_buffer(server_side)
        client.sendall(b"b" * 49_999)
        wait_for_bytes(server_side, 49_999)
        assert not body.wants_buffer(server_side)  # 299,999 of 600,000
        client.sendall(b"c")
        wait_for_bytes(server_side, 50_000)
        assert body.wants_buffer(server_side)  # exactly half
        assert body.buffer is None  # nothing allocated by asking


def wait_for_bytes(sock: socket.socket, count: int) -> None:
    deadline = time.monotonic() + 5
    while waiting_bytes(sock) < count:
        assert time.monotonic() < deadline, f"{waiting_bytes(sock)} of {count} bytes arrived"
        time.sleep(0.001)


def test_the_direct_receive_keeps_what_came_before_and_leaves_the_last_byte_to_waitress():
    server_side, client = socket.socketpair()
    with server_side, client:
        body = BodyChunks(400_000)
        body.received(b"a" * 100)
        body.received(b"b" * 299_900)
        client.sendall(b"c" * 99_999 + b"Z")
        wait_for_bytes(server_side, 100_000)
        last = b""
        while not last:
            last = body.receive_into(server_side)
        assert (last, body.size, body.remain, body.completed) == (b"Z", 399_999, 1, False)
        assert body.received(last + b"NEXT REQUEST") == 1
        assert body.completed and len(body) == 400_000
        [whole] = body.chunks
        assert whole == b"a" * 100 + b"b" * 299_900 + b"c" * 99_999 + b"Z"
        assert body.getfile().read1() is whole


def test_a_receive_that_stops_one_byte_short_waits_for_the_last_byte():
    """Only a byte actually received completes the body: a receive that leaves exactly one
    byte to come hands back nothing (the buffer's next byte is not the client's yet)."""
    server_side, client = socket.socketpair()
    with server_side, client:
        body = BodyChunks(400_000)
        body.received(b"a" * 300_000)
        client.sendall(b"b" * 99_999)
        wait_for_bytes(server_side, 99_999)
        while body.remain > 1:
            assert body.receive_into(server_side) == b""
        assert (body.size, body.completed) == (399_999, False)
        client.sendall(b"Z")
        wait_for_bytes(server_side, 1)
        assert body.receive_into(server_side) == b"Z"
        assert body.received(b"Z") == 1
        assert body.completed and body.chunks[0][-2:] == b"bZ"


def test_the_direct_receive_reports_a_client_that_went_away():
    server_side, client = socket.socketpair()
    with server_side:
        body = BodyChunks(400_000)
        client.close()
        with pytest.raises(ConnectionError):
            body.receive_into(server_side)


class _Request:
    def __init__(self, body_rcv) -> None:
        self.body_rcv = body_rcv


@pytest.mark.parametrize("request_, size", [
    (None, RECV_BYTES),  # between requests
    (_Request(None), RECV_BYTES),  # headers still arriving
    (_Request(BodyChunks(2_000_000)), 2_000_000),  # the rest of a body, in one receive
    (_Request(BodyChunks(9_000_000)), BODY_RECV_BYTES),
    (_Request(BodyChunks(1_000)), RECV_BYTES),
    (_Request(FixedStreamReceiver(2_000_000, None)), RECV_BYTES),  # not ours: waitress's way
])
def test_a_body_still_arriving_is_received_in_as_few_calls_as_its_size_allows(request_, size):
    assert receive_size(request_, RECV_BYTES) == size


def test_a_body_trickled_in_tiny_pieces_is_kept_in_few_chunks():
    """A hostile client sending one byte per packet must not cost an object per byte."""
    body = BodyChunks(200_000)
    for _ in range(200_000):
        body.received(b"x")
    assert body.completed and len(body) == 200_000
    assert len(body.chunks) <= 4  # 65,536 bytes each, and the rest
    assert body.getfile().read() == b"x" * 200_000


def test_small_and_large_pieces_keep_their_order():
    body = BodyChunks(10 + 70_000 + 5)
    for piece in (b"a" * 10, b"b" * 70_000, b"c" * 5):
        body.received(piece)
    assert body.getfile().read() == b"a" * 10 + b"b" * 70_000 + b"c" * 5


def test_a_client_gone_halfway_through_a_large_body_leaves_the_server_serving(live_server):
    """More than half of an announced body arrives (so it is being received into its
    buffer), then the client goes away: the next client is answered as usual."""
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(b"POST /face/livedetectfour HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\n"
                     b"Content-Length: 5000000\r\n\r\n" + b"a" * 3_000_000)
    video = MP4 + b"\x03" * 1_000_000
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(multipart_request(video, signed()))
        [answer] = read_answers(sock, 1)
    assert b'"code":0' in answer
    assert live_server.emulator.journal.query()[-1].media["video"]["size"] == len(video)


def test_a_large_body_after_100_continue_is_received_whole(live_server):
    video = MP4 + b"\x04" * 1_200_000
    head, _, body = multipart_request(video, signed()).partition(b"\r\n\r\n")
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall(head + b"\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        [answer] = read_answers(sock, 1)
    assert b'"code":0' in answer
    entry = live_server.emulator.journal.query()[-1]
    assert entry.media["video"]["sha256"] == hashlib.sha256(video).hexdigest()
