"""The request flow: body -> signature -> service, with the state they share.

``Emulator.serve`` is the one lifecycle of a request below the routes: it handles it (a
client's mistake is an ApiError, anything else an unexpected error answered with code 213),
waits out scripted delays and timeouts, journals the exchange and writes its access line.
It takes plain request facts (an Incoming) and returns an Exchange; it never raises.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

from .legacy import signature, wire
from .core.clock import Clock
from .core.config import Settings
from .legacy.errors import ENDPOINTS, ApiError
from .core.journal import (DEFAULT_JOURNAL_SIZE, Journal, summarise_data, summarise_fields,
                      summarise_media)
from .core.logs import log_access
from .legacy.model import Reply, RequestBody
from .scenario_engine import Miss, ScenarioEngine, Selection, UnknownScenario
from .scenarios import Fault, ScenarioError, request_facts
from .legacy.service import FaceService
from .core.state import IdentityRegistry, LipCodeBook, OnceSignatureStore, RateLimiter

error_log = logging.getLogger("mockface.error")

#: Faults that close the connection without any answer.
DROPPING_FAULTS = ("connection_reset", "timeout")


@dataclass(frozen=True)
class Incoming:
    """The facts of one HTTP request that the emulator needs (header values as sent)."""

    method: str
    path: str
    endpoint: str
    authorization: str | None
    content_type: str | None
    content_length: str | None
    stream: BinaryIO
    scenario_header: str | None = None


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
    signature_check: str = "not reached"  # passed, loose, failed, skipped by a rule
    http_status: int | None = None  # what the client is sent; None: the connection drops

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
    def appid(self) -> str | None:
        if self.body is not None and self.body.get("appid") is not None:
            return self.body.get("appid")
        return self.verdict.appid if self.verdict else None


class Emulator:
    """Owns the settings, the clock and the in-memory state behind the five endpoints."""

    def __init__(self, settings: Settings, clock: Clock | None = None,
                 scenarios: ScenarioEngine | None = None,
                 allow_scenario_header: bool = False,
                 journal_size: int = DEFAULT_JOURNAL_SIZE) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.scenarios = scenarios or ScenarioEngine(seed=settings.seed)
        self.allow_scenario_header = allow_scenario_header
        self.keyring = settings.keyring
        self.once_signatures = OnceSignatureStore(settings.once_store_size)
        self.rate_limiter = RateLimiter()
        self.lip_codes = LipCodeBook(settings.seed)
        self.journal = Journal(journal_size)
        self.loose_appids: set[str] = set()  # loose mode for some apps only (admin API)
        self.identities = IdentityRegistry(settings.identities)
        self.service = FaceService(settings, self.lip_codes, self.clock, self.identities)
        self.ready = threading.Event()  # set once the server answers requests
        self._closing = threading.Event()

    def reset(self, appid: str | None = None) -> None:
        """Forget journal, lip codes, used once-signatures, rate windows, scenario activations,
        per-app loose mode and identities registered at run time: everything, or one
        appid's (the clock is reset only with everything)."""
        self.journal.clear(appid)
        self.identities.clear(appid)
        self.lip_codes.clear(appid)
        self.once_signatures.clear(appid)
        self.rate_limiter.clear(appid)
        self.scenarios.reset(appid)
        if appid is None:
            self.loose_appids.clear()
            self.clock.reset()
        else:
            self.loose_appids.discard(appid)

    def record(self, exchange: Exchange, latency_ms: float) -> None:
        """Add a handled exchange to the journal."""
        body = exchange.body
        self.journal.record(
            time=self.clock.now(), endpoint=exchange.endpoint, appid=exchange.appid,
            fields=summarise_fields(body.text) if body else {},
            media={name: summarise_media(name, data, body.sha256(name), body.inspect(name).kind)
                   for name, data in body.media.items()}
            if body else {},
            signature={"status": exchange.signature_check,
                       "once": exchange.verdict.once if exchange.verdict else None},
            rule=exchange.rule or "default",
            http_status=exchange.http_status,
            code=None if exchange.fault else exchange.reply.code,
            data=None if exchange.fault else summarise_data(exchange.reply.data),
            fault=exchange.fault.kind if exchange.fault else None,
            detail=exchange.reason or None,
            latency_ms=round(latency_ms, 3))

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
            self._log(incoming, exchange, (time.perf_counter() - started) * 1000)
            return exchange
        exchange = self.handle(incoming.endpoint, incoming.authorization,
                               incoming.content_type, incoming.content_length,
                               incoming.stream, incoming.scenario_header)
        if exchange.delay_ms:
            self.hold(exchange.delay_ms / 1000)
        fault = exchange.fault
        if fault is not None and fault.kind == "timeout":
            self.hold(fault.timeout_ms / 1000)
        exchange.http_status = exchange.reply.http_status if fault is None else \
            None if fault.kind in DROPPING_FAULTS else fault.http_status
        latency_ms = (time.perf_counter() - started) * 1000
        self.record(exchange, latency_ms)
        self._log(incoming, exchange, latency_ms)
        return exchange

    @staticmethod
    def _log(incoming: Incoming, exchange: Exchange, latency_ms: float) -> None:
        fault = exchange.fault
        log_access(incoming.method, incoming.path, appid=exchange.appid,
                   code=None if fault else exchange.reply.code, status=exchange.http_status,
                   latency_ms=latency_ms,
                   rule=exchange.rule or "default", reason=exchange.reason,
                   fault=fault.kind if fault else None,
                   miss=str(exchange.miss) if exchange.miss else None)

    def handle(self, endpoint: str, authorization: str | None, content_type: str | None,
               content_length: str | None, stream: BinaryIO,
               scenario_header: str | None = None) -> Exchange:
        """Parse, authenticate and answer one request to ``/face/<endpoint>``.

        Scenario rules marked ``before_auth`` are consulted before the signature checks, the
        others after them; a request no rule answers gets the service's default behaviour.
        ``scenario_header`` (the X-Mockface-Scenario value) is honoured only when allowed.
        An unexpected exception is logged with its traceback and answered with code 213;
        what was understood of the request up to then stays in the exchange.
        """
        exchange = Exchange(endpoint, Reply.ok({}))
        try:
            exchange.body = body = wire.read_body(content_type, content_length, stream)
            header = scenario_header if self.allow_scenario_header else None
            facts = request_facts(body)
            if self._scripted(exchange, facts, header, before_auth=True):
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
            if not self._scripted(exchange, facts, header, before_auth=False):
                exchange.reply = self.service.handle(endpoint, body)
        except ApiError as error:
            exchange.reply = Reply.from_error(error)
            exchange.error_detail = error.detail
        except Exception as error:
            error_log.exception("unexpected error on /face/%s", endpoint)
            exchange.reply = Reply.from_error(ApiError(213))
            exchange.error_detail = f"unexpected {type(error).__name__} (see the server log)"
            exchange.rule = exchange.fault = None
            exchange.delay_ms = 0
        return exchange

    def _scripted(self, exchange: Exchange, facts: dict[str, str], header: str | None,
                  before_auth: bool) -> bool:
        """Let an active scenario answer; True when one did."""
        assert exchange.body is not None
        try:
            chosen = self.scenarios.select(exchange.endpoint, facts, exchange.body.get("appid"),
                                           before_auth, header)
        except (UnknownScenario, ScenarioError) as error:
            raise ApiError(3, f"unknown scenario {(header or '')[:80]}", 400,
                           detail=str(error)) from None
        if isinstance(chosen, Miss):
            exchange.miss = None if before_auth else chosen
            return False
        if not isinstance(chosen, Selection):
            return False
        response = chosen.response
        exchange.rule = chosen.label
        exchange.delay_ms = self.scenarios.draw_delay(response.delay_ms)
        exchange.fault = response.fault
        if response.fault is None:
            exchange.reply = self.service.scripted(exchange.endpoint, exchange.body, response)
        return True
