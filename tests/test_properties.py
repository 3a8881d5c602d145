"""Property tests: the parsers and the scenario loader, fed arbitrary input, only ever produce
their documented error types; any reply renders as valid JSON; scenarios that pass ``check``
never make the server answer 213.

Example counts come from the Hypothesis profile: ``ci`` (default, fast) or ``fuzz`` (long):
``MOCKFACE_HYPOTHESIS_PROFILE=fuzz pytest tests/test_properties.py``.
"""
from __future__ import annotations

import base64
import io
import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mockface.core.scenarios.model import ScenarioError
from mockface.core.state import OnceSignatureStore, RateLimiter
from mockface.products.legacy import signature, wire
from mockface.products.legacy.errors import CATALOGUE, ENDPOINTS, ApiError, codes_for
from mockface.products.legacy.model import Reply
from mockface.scenarios import parse_scenario, parse_scenario_text
from mockface.web.chunkstream import ChunkStream

from .support import MAIN, NOW, caller_with, make_settings, media

AUTH_CODES = {3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16, 21, 24}
BODY_CODES = {3, 21, 23}
FIELD_NAMES = sorted(wire.TEXT_FIELDS | wire.MEDIA_FIELDS) + ["other", ""]

any_text = st.text(st.characters(blacklist_categories=()), max_size=30)  # surrogates too
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12)


# -- the signature parser and checks ----------------------------------------------------------

def verify_or_auth_code(header: str) -> None:
    """Verify ``header``: a verdict, or an ApiError with a documented auth code."""
    try:
        signature.verify(header, endpoint="livegetfour", body_appid=MAIN.appid,
                         body_bucket=None, keyring=make_settings().keyring, now=NOW,
                         once_store=OnceSignatureStore(), rate_limiter=RateLimiter())
    except ApiError as error:
        assert error.code in AUTH_CODES


@given(st.text(max_size=300) | st.binary(max_size=200).map(
    lambda raw: base64.b64encode(raw).decode()))
def test_any_authorization_gives_a_verdict_or_a_documented_auth_code(header):
    verify_or_auth_code(header)


@given(plaintext=st.dictionaries(st.sampled_from("abketurfx"), st.text(max_size=30),
                                 max_size=8),
       key=st.sampled_from(["main-key", "other"]))
def test_any_signed_plaintext_gives_a_verdict_or_a_documented_auth_code(plaintext, key):
    text = "&".join(f"{k}={v}" for k, v in plaintext.items())
    verify_or_auth_code(signature.encode(text.encode("utf-8", "surrogatepass"), key))


# -- the body parser ----------------------------------------------------------------------------

def parse(content_type: str | None, raw: bytes):
    try:
        return wire.read_body(content_type, str(len(raw)), io.BytesIO(raw))
    except ApiError as error:
        assert error.code in BODY_CODES, error
        return None


@given(st.binary(max_size=2000), st.sampled_from([
    "application/json", "multipart/form-data; boundary=B", "multipart/form-data",
    "text/plain", None, "application/json; charset=latin-1"]))
def test_any_bytes_parse_or_give_a_body_code(raw, content_type):
    parse(content_type, raw)


@given(json_values)
def test_any_json_document_parses_or_gives_a_body_code(document):
    raw = json.dumps(document, allow_nan=True).encode("utf-8", "surrogatepass")
    body = parse("application/json", raw)
    if body is not None:
        for value in body.text.values():
            value.encode("utf-8")  # every kept text is sendable UTF-8


@given(st.lists(st.tuples(st.sampled_from(FIELD_NAMES), st.binary(max_size=200),
                          st.booleans()), max_size=6),
       st.binary(max_size=20))
def test_any_multipart_body_parses_or_gives_a_body_code(parts, trailer):
    chunks = []
    for name, value, as_file in parts:
        filename = '; filename="f.bin"' if as_file else ""
        chunks.append(b'--B\r\nContent-Disposition: form-data; name="%s"%s\r\n\r\n%s\r\n'
                      % (name.encode(), filename.encode(), value))
    raw = b"".join(chunks) + b"--B--\r\n" + trailer
    body = parse("multipart/form-data; boundary=B", raw)
    if body is not None:
        for value in body.text.values():
            value.encode("utf-8")


@given(video=st.binary(min_size=1, max_size=3000).map(lambda raw: raw.replace(b"\r\n--B", b"")),
       code=st.from_regex(r"\A[0-9]{4}\Z"), cuts=st.lists(st.integers(0, 4000), max_size=12),
       buffers=st.booleans())
def test_a_multipart_body_in_any_chunks_parses_to_what_was_sent(video, code, cuts, buffers):
    """The server hands the parser the body in the pieces it was received in (ChunkStream),
    ``bytes`` or a received ``bytearray``: wherever the pieces split it, even inside a
    boundary, the fields come out whole."""
    raw = (b'--B\r\nContent-Disposition: form-data; name="validate_data"\r\n\r\n'
           + code.encode() + b'\r\n--B\r\nContent-Disposition: form-data; name="video"; '
           b'filename="v.mp4"\r\n\r\n' + video + b"\r\n--B--\r\n")
    edges = sorted({0, len(raw), *(cut for cut in cuts if cut < len(raw))})
    chunks = [(bytearray if buffers else bytes)(raw[start:end])
              for start, end in zip(edges, edges[1:])]
    body = wire.read_body("multipart/form-data; boundary=B", str(len(raw)), ChunkStream(chunks))
    assert body.text == {"validate_data": code}
    assert body.media == {"video": video}


# -- rendering ------------------------------------------------------------------------------

@given(code=st.sampled_from(sorted(CATALOGUE)) | st.integers(), message=any_text,
       data=st.none() | st.dictionaries(any_text, json_values, max_size=5))
def test_any_reply_renders_as_valid_json(code, message, data):
    status, raw = wire.render(Reply(code, message, 200, data))
    decoded = json.loads(raw.decode("utf-8"))
    assert decoded["code"] == code and status == 200
    assert decoded["message"] == message  # surrogates too, as JSON escapes


# -- the scenario loader ------------------------------------------------------------------------

@given(st.text(st.characters(blacklist_categories=()), max_size=400))
def test_any_text_is_a_scenario_or_scenario_problems(text):
    try:
        parse_scenario_text(text)
    except ScenarioError as error:
        assert error.problems and all(len(str(p)) < 400 for p in error.problems)


SCHEMA_WORDS = ["rules", "endpoint", "match", "respond", "times", "cycle", "before_auth",
                "code", "message", "http_status", "delay_ms", "fault", "similarity", "score",
                "validate_data", "live_status", "sim", "seq", "regex", "present", "name",
                "description", "timeout_ms", "body", "*", "idcardcompare", "livegetfour"]
schema_like = st.recursive(
    st.none() | st.booleans() | st.integers(-10_000, 10_000) | st.floats()
    | st.sampled_from(SCHEMA_WORDS) | any_text,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(SCHEMA_WORDS) | st.text(max_size=5), inner, max_size=4),
    max_leaves=20)


@given(schema_like)
def test_any_structure_is_a_scenario_or_scenario_problems(document):
    try:
        parse_scenario(document)
    except ScenarioError as error:
        assert error.problems


# -- valid scenarios never make the server fail -------------------------------------------------

def data_for(endpoint: str) -> st.SearchStrategy[dict]:
    strings = any_text
    choices = {
        "idcardcompare": {"similarity": st.floats(0, 100).map(lambda v: round(v, 2)),
                          "session_id": strings},
        "livedetectpicture": {"score": st.integers(0, 100)},
        "livegetfour": {"validate_data": st.from_regex(r"[0-9]{4}", fullmatch=True)},
    }.get(endpoint, {"sim": st.integers(0, 100), "live_msg": strings})
    return st.fixed_dictionaries({}, optional=choices)


@st.composite
def valid_scenarios(draw):
    rules = []
    for _ in range(draw(st.integers(1, 3))):
        endpoint = draw(st.sampled_from(ENDPOINTS))
        kind = draw(st.sampled_from(["data", "code", "fault"]))
        if kind == "code":
            respond = {"code": draw(st.sampled_from([c.code for c in codes_for(endpoint)]))}
        elif kind == "fault":
            respond = {"fault": draw(st.sampled_from(["malformed_json", "empty_body"]))}
        else:
            respond = draw(data_for(endpoint))
        rule = {"endpoint": endpoint, "respond": respond}
        if draw(st.booleans()):
            rule["match"] = {"seq": {"regex": draw(st.sampled_from(["a.*", "[0-9]+", ".*"]))}}
        rules.append(rule)
    return {"name": "generated", "rules": rules}


REQUESTS = {
    "idcardcompare": lambda caller: caller.json("idcardcompare", {
        "appid": MAIN.appid, "idcard_number": "11010519900307123X", "idcard_name": "张三",
        "url": "http://x/y.jpg", "seq": "a1"}),
    "livedetectpicture": lambda caller: caller.multipart(
        "livedetectpicture", {"appid": MAIN.appid, "seq": "123"}, {"image": media("face.jpg")}),
    "livegetfour": lambda caller: caller.json("livegetfour", {"appid": MAIN.appid}),
    "idcardlivedetectfour": lambda caller: caller.multipart(
        "idcardlivedetectfour", {"appid": MAIN.appid, "validate_data": "1234",
                                 "idcard_number": "11010519900307123X", "idcard_name": "张三"},
        {"video": media("video.mp4")}),
    "livedetectfour": lambda caller: caller.multipart(
        "livedetectfour", {"appid": MAIN.appid, "validate_data": "1234", "compare_flag": "true"},
        {"video": media("video.mp4"), "card": media("card.jpg")}),
}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(document=valid_scenarios())
def test_scenarios_that_pass_check_never_make_the_server_fail(clock, document):
    """No unexpected error (a scripted ``code: 213`` is the scenario's own choice)."""
    try:
        parse_scenario(document)
    except ScenarioError:
        assume(False)
    caller, emulator = caller_with(clock)
    emulator.scenarios.activate(document)
    for send in REQUESTS.values():
        try:
            send(caller)
        except ValueError:
            pass  # a scripted malformed_json/empty_body fault: not JSON, on purpose
    entries = emulator.journal.query()
    assert len(entries) == len(REQUESTS)
    unexpected = [e for e in entries if (e.detail or "").startswith("unexpected")]
    assert unexpected == []


def test_the_cache_of_part_headers_stays_bounded_whatever_clients_send():
    for number in range(400):
        parse("multipart/form-data; boundary=B",
              b'--B\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n--B--\r\n' % number)
    assert wire._known_field.cache_info().currsize <= 256
    assert wire._known_field(b'form-data; name="appid"') == "appid"
    assert wire._known_field(b'form-data; name="other"') is None
    assert wire._known_field(b'form-data; filename="x"') is None
