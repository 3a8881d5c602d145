"""The request flow: body -> signature -> service, with the state they share.

``Emulator.serve`` is the one lifecycle of a request below the routes: it handles it (a
client's mistake is an ApiError, anything else an unexpected error answered with code 213),
waits out scripted delays and timeouts, journals the exchange and writes its access line.
It takes plain request facts (an Incoming) and returns an Exchange; it never raises.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from .core.body import BodyTooLarge, read_bounded
from .core.clock import Clock
from .core.config import App, Settings, mask
from .core.journal import (
    DEFAULT_JOURNAL_SIZE,
    clip,
    summarise_data,
    summarise_fields,
    summarise_media,
)
from .core.logs import log_access
from .core.scenarios.activations import Activation, Miss, Selection
from .core.scenarios.library import UnknownScenario
from .core.scenarios.model import Facts, Fault, Response, ScenarioError
from .core.media import MediaBytes
from .core.state import MemoryState, StateBackend, StateUnavailable
from .products.tc3 import envelope
from .products.tc3.actions import FRAME_FIELDS, SUCCESS, Answer, FaceIdActions, decode_media
from .products.tc3.request import MAX_BODY as API3_MAX_BODY
from .products.tc3.request import FaceIdError, authenticate, claim_of
from .products.tc3.scenario_rules import call_facts
from .products.tc3.signature import Verdict as Api3Verdict
from .products.legacy import signature, wire
from .products.legacy.errors import ENDPOINTS, ApiError
from .products.legacy.model import Reply, RequestBody
from .products.legacy.scenario_rules import request_facts
from .products.legacy.service import FaceService, default_photo
from .scenarios import ScenarioEngine

error_log = logging.getLogger("mockface.error")


@dataclass(frozen=True)
class Incoming:
    """The facts of one HTTP request that the emulator needs (header values as sent)."""

    method: str
    path: str
    endpoint: str
    authorization: str | None
    content_type: str | None
    content_length: str | None
    stream: IO[bytes]
    scenario_header: str | None = None
    #: answer under this snapshot of the active scenarios (see Emulator.at_once_view)
    active: tuple[Activation, ...] | None = None

    def headers_read(self) -> dict[str, str]:
        """The request headers the emulator reads, as the journal keeps them: those sent,
        the Authorization masked."""
        sent = {"Authorization": self.authorization, "Content-Type": self.content_type,
                "Content-Length": self.content_length,
                "X-Mockface-Scenario": self.scenario_header}
        return {name: mask(value) if name == "Authorization" else clip(value)
                for name, value in sent.items() if value is not None}


#: The API 3.0 request headers the emulator reads (lower-case), for the journal.
API3_HEADERS_READ = ("host", "content-type", "content-length", "authorization",
                     "x-tc-action", "x-tc-version", "x-tc-timestamp", "x-tc-region",
                     "x-tc-language", "x-tc-token", "x-tc-content-sha256",
                     "x-mockface-scenario")


@dataclass
class Exchange:
    """One handled request: what was asked (as far as it was understood) and the reply."""

    endpoint: str
    reply: Reply
    body: RequestBody | None = None
    verdict: signature.Verdict | None = None
    error_detail: str = ""
    rule: str | None = None  # "scenario#N" when a scenario rule answered
    miss: Miss | None = None  # scenarios were active but no rule matched
    delay_ms: int = 0
    fault: Fault | None = None
    active: tuple[Activation, ...] | None = None  # the scenarios to choose from; None: now's
    signature_check: str = "not reached"  # passed, loose, failed, skipped by a rule
    http_status: int | None = None  # what the client is sent; None: the connection drops
    headers: dict[str, str] = field(default_factory=dict)  # read, as the journal keeps them

    @property
    def reason(self) -> str:
        """Why the answer is not a plain success ("" when it is one)."""
        if self.fault is not None:
            return f"scripted fault {self.fault.kind} ({self.rule})"
        if self.rule is not None:
            return "" if self.reply.plain_success else f"scripted by {self.rule}"
        if self.reply.code != 0:
            return self.error_detail or self.reply.message
        return self.reply.detail

    @property
    def media(self) -> dict[str, MediaBytes]:
        """The media parts sent (as Api3Exchange.media)."""
        return self.body.media if self.body is not None else {}

    @property
    def appid(self) -> str | None:
        if self.body is not None and self.body.get("appid") is not None:
            return self.body.get("appid")
        return self.verdict.appid if self.verdict else None

    @property
    def answer_status(self) -> int:
        return self.reply.http_status

    @property
    def code(self) -> int:
        return self.reply.code

    def journal_values(self) -> dict[str, Any]:
        """What the journal keeps of this exchange besides its outcome."""
        body = self.body
        return {
            "fields": summarise_fields(body.text) if body else {},
            "media": {name: summarise_media(name, data, body.known_sha256(name),
                                            body.inspect(name))
                      for name, data in body.media.items()} if body else {},
            "signature": self._signature(),
            "data": summarise_data(self.reply.data),
            "message": self.reply.message, "headers": self.headers}

    def _signature(self) -> dict[str, Any]:
        verdict = self.verdict
        if verdict is None:
            return {"status": self.signature_check, "once": None}
        return {"status": self.signature_check, "once": verdict.once,
                "method": "HMAC-SHA1", "secret_id": clip(verdict.secret_id),
                "issued": verdict.issued, "expires": verdict.expires}


@dataclass(frozen=True)
class Api3Incoming:
    """The facts of one API 3.0 request (``POST /`` or ``GET /``); header names lower-case."""

    method: str
    path: str
    host: str
    query: str
    headers: Mapping[str, str]
    stream: IO[bytes]
    scenario_header: str | None = None
    active: tuple[Activation, ...] | None = None  # as Incoming.active


@dataclass
class Api3Exchange:
    """One handled API 3.0 request: the call as far as it was understood, and the answer
    (an Answer, or a FaceIdError answered as ``Error``)."""

    endpoint: str  # "faceid:LivenessCompare"; the product alone until the action is known
    request_id: str
    language: str | None = None
    secret_id: str | None = None
    appid: str | None = None
    params: dict[str, Any] | None = None
    media: dict[str, bytes] = field(default_factory=dict)  # the decoded base64 parameters
    answer: Answer | None = None
    error: FaceIdError | None = None
    rule: str | None = None
    miss: Miss | None = None
    delay_ms: int = 0
    fault: Fault | None = None
    active: tuple[Activation, ...] | None = None  # as Exchange.active
    signature_check: str = "not reached"
    signature_method: str | None = None
    http_status: int | None = None
    answer_status: int = envelope.STATUS
    headers: dict[str, str] = field(default_factory=dict)  # read, as the journal keeps them

    @property
    def code(self) -> str | None:
        """The Error.Code of an error, else the Result of a verification, else ``Success``
        for an answer without a Result (GetLiveCode, iai); None when nothing was answered
        (a fault)."""
        if self.error is not None:
            return self.error.code
        return self.answer.fields.get("Result", SUCCESS) if self.answer else None

    @property
    def reason(self) -> str:
        if self.fault is not None:
            return f"scripted fault {self.fault.kind} ({self.rule})"
        if self.rule is not None:
            return f"scripted by {self.rule}" if self.error or (
                self.answer and self.answer.detail) else ""
        if self.error is not None:
            return self.error.reason
        return self.answer.detail if self.answer else ""

    def payload(self) -> bytes:
        """The JSON envelope sent to the client."""
        if self.error is not None:
            return envelope.error(self.error.code, self.request_id, self.language,
                                  self.error.message)
        assert self.answer is not None
        return envelope.success(self.answer.fields, self.request_id,
                                self.answer.deprecated_warning)

    def journal_values(self) -> dict[str, Any]:
        params = self.params or {}
        media = {name: summarise_media(name, data) for name, data in self.media.items()}
        fields = {name: value for name, value in params.items()
                  if name not in media and isinstance(value, str)}
        data = None
        if self.answer is not None:
            data = summarise_data(self.answer.fields, FRAME_FIELDS)
        elif self.error is not None:
            data = {"Error": {"Code": self.error.code}}
        return {"fields": summarise_fields(fields), "media": media,
                "signature": {"status": self.signature_check, "method": self.signature_method,
                              "secret_id": clip(self.secret_id)},
                "data": data, "headers": self.headers,
                "message": envelope.error_message(self.error.code, self.language,
                                                  self.error.message) if self.error else None}


class Emulator:
    """Owns the settings, the clock and the in-memory state behind the five endpoints."""

    def __init__(self, settings: Settings, clock: Clock | None = None,
                 scenarios: ScenarioEngine | None = None,
                 allow_scenario_header: bool = False,
                 journal_size: int = DEFAULT_JOURNAL_SIZE,
                 state: StateBackend | None = None) -> None:
        """``state``: the backend holding what requests change (default: this process's
        memory); a shared one needs the ``scenarios`` engine built on its activations."""
        self.settings = settings
        self.state = state or MemoryState(settings, journal_size, clock)
        self.clock = self.state.clock
        self.scenarios = scenarios or ScenarioEngine(seed=settings.seed,
                                                     store=self.state.activations)
        if self.state.shared and self.scenarios.store is not self.state.activations:
            raise ValueError("a shared state needs a ScenarioEngine built with its "
                             "activations (store=state.activations)")
        self.allow_scenario_header = allow_scenario_header
        self.keyring = settings.keyring
        self.state.attach(self.keyring, self.scenarios)
        self.once_signatures = self.state.once_signatures
        self.rate_limiter = self.state.rate_limiter
        self.lip_codes = self.state.lip_codes
        self.journal = self.state.journal
        self.loose_appids = self.state.loose_appids  # loose mode for some apps (admin API)
        self.identities = self.state.identities
        self.service = FaceService(settings, self.lip_codes, self.clock, self.identities)
        self.faceid = FaceIdActions(self.lip_codes, self.identities, self.clock,
                                    check_idcard=settings.check_idcard,
                                    action_sequences=self.state.action_sequences,
                                    seed=settings.seed, photo=default_photo())
        self.recent_images = self.state.recent_images  # the dashboard's thumbnails (shared
        # by every process on a shared state)
        self.ready = threading.Event()  # set once the server answers requests
        self._closing = threading.Event()

    def reset(self, appid: str | None = None) -> None:
        """Forget journal, lip codes, used once-signatures, rate windows, scenario activations,
        per-app loose mode and identities registered at run time: everything, or one
        appid's (the clock is reset only with everything)."""
        self.journal.clear(appid)
        self.identities.clear(appid)
        self.lip_codes.clear(appid)
        self.faceid.action_sequences.clear(appid)
        self.once_signatures.clear(appid)
        self.rate_limiter.clear(appid)
        self.scenarios.reset(appid)
        if appid is None:
            self.state.clear_loose()
            self.clock.reset()
        else:
            self.state.set_loose(appid, False)

    def record(self, exchange: Exchange | Api3Exchange, latency_ms: float) -> None:
        """Add a handled exchange (of either API) to the journal."""
        values = exchange.journal_values()
        if exchange.fault:
            values["data"] = None
        for name, summary in values["media"].items():
            self.recent_images.keep(summary, exchange.media[name])
        self.journal.record(
            time=self.clock.now(), endpoint=exchange.endpoint, appid=exchange.appid,
            rule=exchange.rule or "default", http_status=exchange.http_status,
            code=None if exchange.fault else exchange.code,
            fault=exchange.fault.kind if exchange.fault else None,
            detail=exchange.reason or None, latency_ms=round(latency_ms, 3),
            miss=str(exchange.miss) if exchange.miss else None, **values)

    def at_once_view(self) -> tuple[Activation, ...] | None:
        """What a request answered at once -- on the server's event loop, without a worker
        thread -- is answered under: a snapshot of the active scenarios (pass it as
        ``Incoming.active``), taken only when none of them can make a request wait.  None
        when a request may wait: a rule with a delay or timeout is active, or the state
        backend is not quick now (shared state: Redis in an outage, or its round trips
        slow -- ``RedisState.quick``)."""
        if not self.state.quick():
            return None
        active = self.scenarios.snapshot()
        return None if self.scenarios.waits(active) else active

    def hold(self, seconds: float) -> None:
        """Wait ``seconds`` (a scripted delay), returning early when the server closes."""
        self._closing.wait(seconds)

    def close(self) -> None:
        """Release every held request (the server is shutting down)."""
        self._closing.set()

    def serve(self, incoming: Incoming) -> Exchange:
        """The whole lifecycle of one request: handle it, wait out any scripted delay or
        timeout, journal it (before the answer goes out, so a client that sees a dropped
        connection can already find it) and log its access line.  Never raises."""
        started = time.perf_counter()
        if incoming.endpoint not in ENDPOINTS:
            exchange = Exchange(incoming.endpoint, Reply.from_error(
                ApiError(3, "unknown endpoint", 404)),
                error_detail=f"no endpoint {incoming.endpoint!r}")
            exchange.http_status = 404
            self._log(incoming.method, incoming.path, exchange,
                      (time.perf_counter() - started) * 1000)
            return exchange
        exchange = self.handle(incoming.endpoint, incoming.authorization,
                               incoming.content_type, incoming.content_length,
                               incoming.stream, incoming.scenario_header, incoming.active)
        exchange.headers = incoming.headers_read()
        self._finish(exchange, incoming.method, incoming.path, started)
        return exchange

    def serve_api3(self, incoming: Api3Incoming) -> Api3Exchange:
        """``serve`` for an API 3.0 request: the same lifecycle (delays, faults, journal,
        access line) around ``handle_api3``.  Never raises."""
        started = time.perf_counter()
        exchange = self.handle_api3(incoming)
        self._finish(exchange, incoming.method, exchange.endpoint, started)
        return exchange

    def _finish(self, exchange: Exchange | Api3Exchange, method: str, path: str,
                started: float) -> None:
        """Wait out a scripted delay or timeout, set the HTTP status the client gets, journal
        the exchange and log its access line."""
        if exchange.delay_ms:
            self.hold(exchange.delay_ms / 1000)
        fault = exchange.fault
        if fault is not None and fault.kind == "timeout":
            self.hold(fault.timeout_ms / 1000)
        exchange.http_status = exchange.answer_status if fault is None else \
            None if fault.drops_connection else fault.http_status
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            self.record(exchange, latency_ms)
        except StateUnavailable:
            pass  # the state backend's outage is logged once by the backend
        self._log(method, path, exchange, latency_ms)

    @staticmethod
    def _log(method: str, path: str, exchange: Exchange | Api3Exchange,
             latency_ms: float) -> None:
        fault = exchange.fault
        log_access(method, path, appid=exchange.appid,
                   code=None if fault else exchange.code, status=exchange.http_status,
                   latency_ms=latency_ms,
                   rule=exchange.rule or "default", reason=exchange.reason,
                   fault=fault.kind if fault else None,
                   miss=str(exchange.miss) if exchange.miss else None)

    def handle(self, endpoint: str, authorization: str | None, content_type: str | None,
               content_length: str | None, stream: IO[bytes],
               scenario_header: str | None = None,
               active: tuple[Activation, ...] | None = None) -> Exchange:
        """Parse, authenticate and answer one request to ``/face/<endpoint>``.

        Scenario rules marked ``before_auth`` are consulted before the signature checks, the
        others after them; a request no rule answers gets the service's default behaviour.
        ``scenario_header`` (the X-Mockface-Scenario value) is honoured only when allowed;
        ``active``: rules are chosen from this snapshot of the active scenarios (see
        ``at_once_view``) instead of those active now.  An unexpected exception is logged
        with its traceback and answered with code 213; what was understood of the request up
        to then stays in the exchange.
        """
        exchange = Exchange(endpoint, Reply.ok({}), active=active)
        try:
            self.state.sync()
            exchange.body = body = wire.read_body(content_type, content_length, stream)
            facts = request_facts(body)
            if self._scripted(exchange, facts, scenario_header, before_auth=True):
                exchange.signature_check = "skipped by a rule"
                return exchange
            exchange.signature_check = "failed"
            loose = self.settings.loose or body.get("appid") in self.loose_appids
            exchange.verdict = signature.verify(
                authorization, endpoint=endpoint, body_appid=body.get("appid"),
                body_bucket=body.get("bucket"), keyring=self.keyring,
                now=self.clock.now(), once_store=self.once_signatures,
                rate_limiter=self.rate_limiter, clock_skew=self.settings.clock_skew,
                loose=loose)
            exchange.signature_check = "loose" if loose else "passed"
            if not self._scripted(exchange, facts, scenario_header, before_auth=False):
                exchange.reply = self.service.handle(endpoint, body)
        except ApiError as error:
            exchange.reply = Reply.from_error(error)
            exchange.error_detail = error.detail
        except StateUnavailable as error:
            exchange.reply = Reply.from_error(ApiError(108))
            exchange.error_detail = str(error)
            exchange.rule = exchange.fault = None
            exchange.delay_ms = 0
        except Exception as error:
            error_log.exception("unexpected error on /face/%s", endpoint)
            exchange.reply = Reply.from_error(ApiError(213))
            exchange.error_detail = f"unexpected {type(error).__name__} (see the server log)"
            exchange.rule = exchange.fault = None
            exchange.delay_ms = 0
        return exchange

    def handle_api3(self, incoming: Api3Incoming) -> Api3Exchange:
        """Read, authenticate (contract-faceid checks 1-11), check the parameters (12-14)
        and answer one API 3.0 request: from a matching scenario rule, else from the
        emulated actions.  A refused call is answered as ``Error``; an unexpected exception
        is logged with its traceback and answered ``InternalError``."""
        headers = incoming.headers
        exchange = Api3Exchange("faceid", envelope.request_id(),
                                language=headers.get("x-tc-language"), active=incoming.active,
                                headers={name: mask(headers[name]) if name == "authorization"
                                         else clip(headers[name])
                                         for name in API3_HEADERS_READ if name in headers})
        body = b""
        try:
            self.state.sync()
            try:
                body = read_bounded(incoming.stream, API3_MAX_BODY)
            except BodyTooLarge as error:
                raise FaceIdError("RequestSizeLimitExceeded", str(error)) from None
            exchange.signature_check = "failed"
            call = authenticate(
                method=incoming.method, host=incoming.host, query=incoming.query,
                headers=headers, body=body, now=self.clock.now(),
                secret_key_of=self._secret_key_of, permitted=self._permitted,
                within_rate=self._within_rate, loose=self._loose_api3,
                nonce_unused=self._nonce_unused)
            exchange.language = call.language or exchange.language
            exchange.signature_check = "loose" if call.verdict.loose else "passed"
            exchange.signature_method = call.verdict.method
            exchange.secret_id = call.verdict.secret_id
            owner = self._app_of(call.verdict.secret_id)
            exchange.appid = owner.appid
            exchange.endpoint = f"{call.product}:{call.action}"
            exchange.params = self.faceid.check(call.product, call.action, call.params)
            exchange.media = decode_media(exchange.params)
            response = self._scripted_api3(exchange, incoming.scenario_header)
            if response is not None and response.error is not None:
                exchange.error = FaceIdError(response.error, "scripted", response.message)
            elif response is not None:
                exchange.answer = self.faceid.scripted(call.product, call.action, call.version,
                                                       owner.appid, exchange.params,
                                                       response.data)
            elif exchange.fault is None:
                exchange.answer = self.faceid.answer(call.product, call.action, call.version,
                                                     owner.appid, exchange.params,
                                                     exchange.media)
        except FaceIdError as error:
            exchange.error = error
            if ":" not in exchange.endpoint:  # refused by checks 1-11
                self._note_refusal(exchange, incoming, body, error.verdict)
        except StateUnavailable as error:
            exchange.error = FaceIdError("InternalError", str(error))
            exchange.answer = None
            exchange.rule = exchange.fault = None
            exchange.delay_ms = 0
        except Exception as error:
            error_log.exception("unexpected error on API 3.0 %s", exchange.endpoint)
            exchange.error = FaceIdError("InternalError", f"unexpected {type(error).__name__} "
                                                          "(see the server log)")
            exchange.answer = None
            exchange.rule = exchange.fault = None
            exchange.delay_ms = 0
        return exchange

    def _note_refusal(self, exchange: Api3Exchange, incoming: Api3Incoming, body: bytes,
                      verdict: Api3Verdict | None) -> None:
        """What the journal keeps of a call refused before it was admitted: the action the
        request names; the signature it passed (``verdict``), else the method and SecretId
        it claims; the appid of that SecretId's app, when one holds it."""
        claim = claim_of(incoming.method, incoming.host, incoming.query, incoming.headers,
                         body)
        exchange.endpoint = claim.target or exchange.endpoint
        if verdict is not None:
            exchange.signature_check = "loose" if verdict.loose else "passed"
            exchange.signature_method, exchange.secret_id = verdict.method, verdict.secret_id
            exchange.appid = self._app_of(verdict.secret_id).appid
            return
        exchange.signature_method, exchange.secret_id = claim.method, claim.secret_id
        owner = self.keyring.owner_of(claim.secret_id) if claim.secret_id else None
        exchange.appid = owner.appid if owner else None

    def _nonce_unused(self, secret_id: str, nonce: str) -> bool:
        """Whether a v1 call's Nonce/Timestamp is new for its SecretId; always True unless
        the server or the app checks replays (``nonce_replay_check``).  Replays older than 5
        minutes already fail the timestamp check, so the bounded store suffices."""
        app = self._app_of(secret_id)
        if not (self.settings.nonce_replay_check or app.nonce_replay_check):
            return True
        key = hashlib.sha256(f"v1\0{secret_id}\0{nonce}".encode()).digest()
        return self.once_signatures.consume(app.appid, key)

    def _app_of(self, secret_id: str) -> App:
        """The app an API 3.0 SecretId belongs to; the default app for an unknown one
        (only a loose-mode call gets that far)."""
        return self.keyring.owner_of(secret_id) or self.settings.default_app

    def _secret_key_of(self, secret_id: str) -> str | None:
        app = self.keyring.owner_of(secret_id)
        return app.secrets.get(secret_id) if app else None

    def _permitted(self, secret_id: str, product: str) -> bool:
        app = self._app_of(secret_id)
        if app.suspended:
            raise FaceIdError("UnauthorizedOperation.Arrears", f"appid {app.appid} is "
                                                               "suspended")
        return product in app.services

    def _within_rate(self, secret_id: str) -> bool:
        app = self._app_of(secret_id)
        return app.rate_limit is None or \
            self.rate_limiter.allow(app.appid, app.rate_limit, self.clock.now())

    def _loose_api3(self, secret_id: str) -> bool:
        app = self.keyring.owner_of(secret_id)
        return self.settings.loose or (app is not None and app.appid in self.loose_appids)

    def _scripted_api3(self, exchange: Api3Exchange, header: str | None) -> Response | None:
        """The response of the scenario rule that answers this call (None when no rule
        does); records the rule, its delay and its fault on the exchange."""
        if self.scenarios.idle(header if self.allow_scenario_header else None,
                               exchange.active):
            return None  # no rule could answer: skip decoding the media for facts
        facts = call_facts(exchange.appid, exchange.secret_id or "", exchange.params or {},
                           exchange.media)
        response = self._select(exchange, facts, exchange.appid, False, header, lambda error:
                                FaceIdError("InvalidParameterValue",
                                            f"unknown scenario: {error}",
                                            message="The X-Mockface-Scenario header names no "
                                                    "usable scenario."))
        return None if response is None or response.fault is not None else response

    def _scripted(self, exchange: Exchange, facts: Facts, header: str | None,
                  before_auth: bool) -> bool:
        """Let an active scenario answer; True when one did."""
        assert exchange.body is not None
        response = self._select(exchange, facts, exchange.body.get("appid"), before_auth,
                                header, lambda error: ApiError(
                                    3, f"unknown scenario {(header or '')[:80]}", 400,
                                    detail=str(error)))
        if response is None:
            return False
        if response.fault is None:
            exchange.reply = self.service.scripted(exchange.endpoint, exchange.body, response)
        return True

    def _select(self, exchange: Exchange | Api3Exchange, facts: Facts,
                appid: str | None, before_auth: bool, header: str | None,
                refusal: Callable[[Exception], Exception]) -> Response | None:
        """The response of the active scenario rule that answers this request, with the
        rule, its delay and its fault recorded on the exchange; None when no rule does (a
        miss after the signature checks is recorded too).  ``header`` is the
        X-Mockface-Scenario value, honoured only when allowed; an unusable one raises
        ``refusal(error)``."""
        header = header if self.allow_scenario_header else None
        if self.scenarios.idle(header, exchange.active):
            return None
        try:
            chosen = self.scenarios.select(exchange.endpoint, facts, appid, before_auth,
                                           header, exchange.active)
        except (UnknownScenario, ScenarioError) as error:
            raise refusal(error) from None
        if isinstance(chosen, Miss):
            exchange.miss = None if before_auth else chosen
            return None
        if not isinstance(chosen, Selection):
            return None
        exchange.rule = chosen.label
        exchange.delay_ms = self.scenarios.draw_delay(chosen.response.delay_ms)
        exchange.fault = chosen.response.fault
        return chosen.response
