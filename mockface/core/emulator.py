"""The emulator: the settings, the clock and the state behind every product, and the one
lifecycle of a request.

``Emulator.serve`` takes a product's request (``core.product.Request``) and returns its
``Exchange``; it never raises.  The product's handler parses, authenticates and answers; the
emulator owns what is the same for every product: the unexpected-error net (an exception is
logged with its traceback and answered with the product's internal error), scripted delays,
timeouts and faults (``Fault.drops_connection`` alone decides what the client and the journal
see), the journal and the access line.  It names no product: they come from a
``core.product.Registry``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .clock import Clock
from .config import Keyring, Settings
from .journal import DEFAULT_JOURNAL_SIZE
from .logs import access_log, log_access
from .product import Exchange, Handler, Product, Registry, Rendered, Request
from .scenarios.activations import Activation, Miss, Selection
from .scenarios.engine import ScenarioEngine
from .scenarios.library import UnknownScenario
from .scenarios.model import Facts, Response, ScenarioError
from .scenarios.schema import ScenarioParser
from .state import MemoryState, StateBackend, StateUnavailable

error_log = logging.getLogger("mockface.error")


def parser_of(registry: Registry) -> ScenarioParser:
    """The scenario parser that reads every product's dialect."""
    return ScenarioParser(tuple(product.dialect for product in registry))


class Emulator:
    """Owns the settings, the clock, the state and the scenario engine behind every product
    of ``registry``, and serves their requests (``serve``)."""

    def __init__(self, settings: Settings, clock: Clock | None = None,
                 scenarios: ScenarioEngine | None = None,
                 allow_scenario_header: bool = False,
                 journal_size: int = DEFAULT_JOURNAL_SIZE,
                 state: StateBackend | None = None, *, registry: Registry) -> None:
        """``state``: the backend holding what requests change (default: this process's
        memory); a shared one needs the ``scenarios`` engine built on its activations."""
        self.settings = settings
        self.registry = registry
        self.state: StateBackend = state or MemoryState(settings, journal_size, clock)
        self.scenarios = scenarios or ScenarioEngine(parser_of(registry), seed=settings.seed,
                                                     store=self.state.activations)
        if self.state.shared and self.scenarios.store is not self.state.activations:
            raise ValueError("a shared state needs a ScenarioEngine built with its "
                             "activations (store=state.activations)")
        self.allow_scenario_header = allow_scenario_header
        self.keyring: Keyring = settings.keyring
        self.state.attach(self.keyring, self.scenarios)
        self.journal = self.state.journal
        self.loose_appids = self.state.loose_appids  # loose mode for some apps (admin API)
        self.recent_images = self.state.recent_images  # the dashboard's thumbnails (shared
        # by every process on a shared state)
        for product in registry:
            for spec in product.stores:
                self.state.store(spec)
        self.handlers: dict[str, Handler] = {product.name: product.bind(self)
                                             for product in registry}
        self.ready = threading.Event()  # set once the server answers requests
        #: The base URL the server answering for this emulator listens on (``http://`` or
        #: ``https://``, no trailing slash), set by the server once it is bound; None until
        #: then, or when it listens on every address (no one URL reaches it).  Pages the
        #: products link to use it when ``settings.public_url`` is not set.
        self.listen_url: str | None = None
        self._closing = threading.Event()

    @property
    def clock(self) -> Clock:
        return self.state.clock

    def reset(self, appid: str | None = None) -> None:
        """Forget the journal, every product's stores (lip codes, used once-signatures, rate
        windows, identities registered at run time, ...), scenario activations and per-app
        loose mode: everything, or one appid's (the clock is reset only with everything)."""
        self.journal.clear(appid)
        self.state.clear_stores(appid)
        for handler in self.handlers.values():
            handler.reset(appid)
        self.scenarios.reset(appid)
        if appid is None:
            self.state.clear_loose()
            self.clock.reset()
        else:
            self.state.set_loose(appid, False)

    def is_loose(self, appid: str | None) -> bool:
        """Whether the admin API put ``appid``'s app in loose mode."""
        return appid in self.loose_appids

    def record(self, exchange: Exchange, latency_ms: float) -> None:
        """Add a handled exchange (of any product) to the journal."""
        self._record(exchange, latency_ms, exchange.appid,
                     None if exchange.fault else exchange.code, exchange.reason,
                     str(exchange.miss) if exchange.miss else None)

    def _record(self, exchange: Exchange, latency_ms: float, appid: str | None, code: Any,
                reason: str, miss: str | None) -> None:
        """``record``, given what the access line reads too (``_finish`` reads each of the
        exchange's properties once)."""
        values = exchange.journal_values()
        fault = exchange.fault
        if fault:
            values["data"] = None
        media = values["media"]
        if media:
            for name, summary in media.items():
                self.recent_images.keep(summary, exchange.media[name])
        self.journal.record(
            time=self.state.clock.now(), endpoint=exchange.endpoint, appid=appid,
            rule=exchange.rule or "default", http_status=exchange.http_status,
            code=code, fault=fault.kind if fault else None,
            detail=reason or None, latency_ms=round(latency_ms, 3), miss=miss, **values)

    def at_once_view(self) -> tuple[Activation, ...] | None:
        """What a request answered at once -- on the server's event loop, without a worker
        thread -- is answered under: a snapshot of the active scenarios (pass it as
        ``Request.active``), taken only when none of them can make a request wait.  None
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

    def serve(self, product: Product, request: Request) -> Exchange:
        """The whole lifecycle of one request to ``product``: its handler answers it (an
        outage of the state backend or an unexpected exception is answered with the
        product's error for it, the scenario rule's part forgotten), then any scripted delay
        or timeout is waited out, the exchange journaled (before the answer goes out, so a
        client that sees a dropped connection can already find it) and its access line
        logged.  Never raises."""
        started = time.perf_counter()
        handler = self.handlers[product.name]
        exchange = handler.begin(request)
        try:
            self.state.sync()
            handler.handle(exchange, request)
        except StateUnavailable as error:
            exchange.unscripted()
            handler.unavailable(exchange, error)
        except Exception as error:
            error_log.exception("unexpected error on %s", exchange.where)
            exchange.unscripted()
            handler.unexpected(exchange, error)
        self._finish(exchange, request.method, started)
        return exchange

    def render(self, product: Product, exchange: Exchange) -> Rendered:
        """The wire answer of an exchange without a fault (``product``'s format)."""
        return self.handlers[product.name].render(exchange)

    def _finish(self, exchange: Exchange, method: str, started: float) -> None:
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
        # Each property the journal and the access line share is read once.
        appid, reason = exchange.appid, exchange.reason
        code = None if fault else exchange.code
        miss = str(exchange.miss) if exchange.miss else None
        if exchange.journaled:
            try:
                self._record(exchange, latency_ms, appid, code, reason, miss)
            except StateUnavailable:
                pass  # the state backend's outage is logged once by the backend
        if access_log.isEnabledFor(logging.INFO):  # else log_access builds nothing either
            log_access(method, exchange.access_path, appid=appid, code=code,
                       status=exchange.http_status, latency_ms=latency_ms,
                       rule=exchange.rule or "default", reason=reason,
                       fault=fault.kind if fault else None, miss=miss)

    # -- what products use (core.product.Services) -----------------------------------

    def scenarios_idle(self, header: str | None,
                       active: tuple[Activation, ...] | None) -> bool:
        """Whether no scenario rule could answer a request (none active, no header)."""
        return self.scenarios.idle(header, active)

    def scripted(self, exchange: Exchange, facts: Facts, appid: str | None,
                 before_auth: bool, header: str | None,
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
