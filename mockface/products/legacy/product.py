"""The legacy product: ``POST /face/<endpoint>`` for the five endpoints, HMAC-SHA1 signed,
answered ``{"code", "message", "data"}``."""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.config import MAX_BODY_BYTES, SectionReader, Settings, mask
from ...core.journal import clip, summarise_data, summarise_fields, summarise_media
from ...core.media import MediaBytes
from ...core.pages import PageRoute
from ...core.product import Exchange, Rendered, Request, ServeOption, Services
from ...core.scenarios.model import Facts
from . import signature, wire
from .cli import CLI_APIS
from .errors import ENDPOINTS, ApiError
from .model import Reply, RequestBody
from .surface import SURFACE
from .scenario_rules import LEGACY, request_facts
from .service import FaceService
from .stores import IDENTITIES, LIP_CODES, ONCE_SIGNATURES, RATE_WINDOWS, STORES
from .testing import HELPERS

HOSTS = ("recognition.image.myqcloud.com", "service.image.myqcloud.com")
#: The cut-off JSON of the ``malformed_json`` fault.
MALFORMED = b'{"code":0,"message":"OK","data":{'


@dataclass
class LegacyExchange(Exchange):
    """One handled request to ``/face/<endpoint>``: the body as far as it was read, the
    signature's verdict and the reply."""

    reply: Reply = field(default_factory=lambda: Reply.ok({}))
    body: RequestBody | None = None
    verdict: signature.Verdict | None = None
    error_detail: str = ""
    #: The values of the headers ``handle`` reads, as sent (None: absent): Authorization,
    #: Content-Type, Content-Length, X-Mockface-Scenario (``begin``).
    sent: tuple[str | None, ...] = field(default=(None,) * 4, repr=False, compare=False)

    @property
    def where(self) -> str:
        return f"/face/{self.endpoint}"

    @property
    def access_path(self) -> str:
        return self.where

    @property
    def reason(self) -> str:
        if self.fault is not None:
            return f"scripted fault {self.fault.kind} ({self.rule})"
        if self.rule is not None:
            return "" if self.reply.plain_success else f"scripted by {self.rule}"
        if self.reply.code != 0:
            return self.error_detail or self.reply.message
        return self.reply.detail

    @property
    def media(self) -> dict[str, MediaBytes]:
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


class LegacyHandler:
    """The legacy endpoints on one emulator."""

    def __init__(self, services: Services) -> None:
        self.services = services
        state = services.state
        self.service = FaceService(services.settings, state.store(LIP_CODES), services.clock,
                                   state.store(IDENTITIES))
        self.once_signatures = state.store(ONCE_SIGNATURES)
        self.rate_windows = state.store(RATE_WINDOWS)

    def begin(self, request: Request) -> LegacyExchange:
        get = request.headers.get  # each header handle reads looked up once, here
        sent = authorization, content_type, content_length, scenario = (
            get("authorization"), get("content-type"), get("content-length"),
            get("x-mockface-scenario"))
        read: dict[str, str] = {}  # as the journal keeps them: those sent, in this order,
        if authorization is not None:  # the Authorization masked
            read["Authorization"] = mask(authorization)
        if content_type is not None:
            read["Content-Type"] = clip(content_type)
        if content_length is not None:
            read["Content-Length"] = clip(content_length)
        if scenario is not None:
            read["X-Mockface-Scenario"] = clip(scenario)
        return LegacyExchange(endpoint=request.path[6:], active=request.active, headers=read,
                              sent=sent)

    def handle(self, exchange: Exchange, request: Request) -> None:
        """Parse, authenticate and answer one request to ``/face/<endpoint>``.

        Scenario rules marked ``before_auth`` are consulted before the signature checks, the
        others after them; a request no rule answers gets the service's default behaviour.
        """
        assert isinstance(exchange, LegacyExchange)
        endpoint = exchange.endpoint
        if endpoint not in ENDPOINTS:
            exchange.reply = Reply.from_error(ApiError(3, "unknown endpoint", 404))
            exchange.error_detail = f"no endpoint {endpoint!r}"
            exchange.headers = {}
            exchange.journaled = False
            return
        services = self.services
        authorization, content_type, content_length, header = exchange.sent
        try:
            exchange.body = body = wire.read_body(content_type, content_length, request.stream)
            facts = request_facts(body)
            if self._scripted(exchange, facts, header, before_auth=True):
                exchange.signature_check = "skipped by a rule"
                return
            exchange.signature_check = "failed"
            loose = services.settings.loose or services.is_loose(body.get("appid"))
            exchange.verdict = signature.verify(
                authorization, endpoint=endpoint, body_appid=body.get("appid"),
                body_bucket=body.get("bucket"), keyring=services.keyring,
                now=services.clock.now(), once_store=self.once_signatures,
                rate_limiter=self.rate_windows, clock_skew=services.settings.clock_skew,
                loose=loose)
            exchange.signature_check = "loose" if loose else "passed"
            if not self._scripted(exchange, facts, header, before_auth=False):
                exchange.reply = self.service.handle(endpoint, body)
        except ApiError as error:
            exchange.reply = Reply.from_error(error)
            exchange.error_detail = error.detail

    def unavailable(self, exchange: Exchange, error: Exception) -> None:
        self._fail(exchange, ApiError(108), str(error))

    def unexpected(self, exchange: Exchange, error: Exception) -> None:
        self._fail(exchange, ApiError(213),
                   f"unexpected {type(error).__name__} (see the server log)")

    @staticmethod
    def _fail(exchange: Exchange, error: ApiError, detail: str) -> None:
        assert isinstance(exchange, LegacyExchange)
        exchange.reply = Reply.from_error(error)
        exchange.error_detail = detail

    def render(self, exchange: Exchange) -> Rendered:
        assert isinstance(exchange, LegacyExchange)
        status, body = wire.render(exchange.reply)
        return Rendered(status, wire.JSON_CONTENT_TYPE, body)

    def reset(self, appid: str | None) -> None:
        pass

    def _scripted(self, exchange: LegacyExchange, facts: Facts, header: str | None,
                  before_auth: bool) -> bool:
        """Let an active scenario answer; True when one did."""
        assert exchange.body is not None
        response = self.services.scripted(
            exchange, facts, exchange.body.get("appid"), before_auth, header,
            lambda error: ApiError(3, f"unknown scenario {(header or '')[:80]}", 400,
                                   detail=str(error)))
        if response is None:
            return False
        if response.fault is None:
            exchange.reply = self.service.scripted(exchange.endpoint, exchange.body, response)
        return True


class LegacyProduct:
    """The declaration of the legacy product (see core.product.Product)."""

    name = "legacy"
    hosts = HOSTS
    services = ENDPOINTS
    methods: tuple[str, ...] | None = ("POST",)
    max_body = MAX_BODY_BYTES
    surface = SURFACE
    cli_apis = CLI_APIS
    helpers = HELPERS
    stores = STORES
    dialect = LEGACY
    config_keys: Mapping[str, SectionReader] = {}
    app_config_keys: Mapping[str, SectionReader] = {}
    serve_options: tuple[ServeOption, ...] = ()
    pages: tuple[PageRoute, ...] = ()

    def owns(self, path: str) -> bool:
        return path.startswith("/face/") and "/" not in path[6:]

    def endpoints(self) -> tuple[str, ...]:
        return tuple(ENDPOINTS)

    def app_config(self, settings: Settings, appid: str) -> dict[str, Any]:
        """Nothing besides the platform's keys."""
        return {}

    def example(self, settings: Settings, url: str, ca_cert: str | None) -> list[str]:
        """A curl of ``livegetfour`` signed for the default app (valid for 30 days)."""
        app = settings.default_app
        secret_id, secret_key = app.first_secret
        authorization = signature.sign(app.appid, secret_id, secret_key,
                                       now=int(time.time()), expires_in=30 * 24 * 3600)
        body = json.dumps({"appid": app.appid})
        return ["Try it (signature valid for 30 days):",
                f"  curl -s -X POST {url}/face/livegetfour -H 'Content-Type: application/json' \\"
                + (f"\n    --cacert {ca_cert} \\" if ca_cert else ""),
                f"    -H 'Authorization: {authorization}' -d '{body}'"]

    def bind(self, services: Services) -> LegacyHandler:
        return LegacyHandler(services)

    def error(self, status: int, message: str,
              headers: tuple[tuple[str, str], ...] = ()) -> Rendered:
        if status == 413:
            error = ApiError(23)
        elif status == 500:
            error = ApiError(213)
        else:
            error = ApiError(3, message or None, status)
        code, body = wire.render(Reply.from_error(error))
        return Rendered(code, wire.JSON_CONTENT_TYPE, body, headers)

    def fault_body(self, kind: str) -> tuple[str, bytes]:
        return wire.JSON_CONTENT_TYPE, MALFORMED if kind == "malformed_json" else b""


PRODUCT = LegacyProduct()
