"""The Cloud API 3.0 product: ``POST /`` and ``GET /``, TC3-HMAC-SHA256 or v1 signed,
answered in the ``{"Response": ...}`` envelope; the call goes to the provider of the service
its credential scope or Host names.  ``Tc3Product(*providers)`` is built with the provider
classes of its services (``mockface.products`` composes it)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.body import BodyTooLarge, read_bounded
from ...core.config import App, Settings, mask
from ...core.journal import clip, summarise_data, summarise_fields, summarise_media
from ...core.media import default_photo
from ...core.product import Exchange, Rendered, Request, Services
from ...core.scenarios.model import Response
from . import envelope
from .actions import Actions, Answer
from .catalogue import PLATFORM_CODES, Tc3Code
from .cli import cli_apis
from .provider import SUCCESS, Provider, ProviderContext
from .request import MAX_BODY, Tc3Error, authenticate, claim_of
from .scenario_rules import Tc3Dialect
from .signature import Verdict
from .stores import ONCE_SIGNATURES, RATE_WINDOWS, STORES
from .surface import SURFACE
from .table import ActionSpec, ActionTable
from .testing import helpers

#: The request headers the journal keeps (lower-case).
HEADERS_READ = ("host", "content-type", "content-length", "authorization",
                "x-tc-action", "x-tc-version", "x-tc-timestamp", "x-tc-region",
                "x-tc-language", "x-tc-token", "x-tc-content-sha256",
                "x-mockface-scenario")
#: The cut-off JSON of the ``malformed_json`` fault.
MALFORMED = b'{"Response":{"RequestId":'


@dataclass
class Tc3Exchange(Exchange):
    """One handled API 3.0 request: the call as far as it was understood, and the answer
    (an Answer, or a Tc3Error answered as ``Error``).  ``endpoint`` is
    ``faceid:LivenessCompare``; the service alone until the action is known.  ``catalogue``
    gives the messages of errors; ``answer_media`` names the answer fields that hold
    photos."""

    request_id: str = ""
    language: str | None = None
    secret_id: str | None = None
    caller: str | None = None  # the appid of the calling app
    params: dict[str, Any] | None = None
    decoded: dict[str, bytes] = field(default_factory=dict)  # the decoded base64 parameters
    answer: Answer | None = None
    error: Tc3Error | None = None
    signature_method: str | None = None
    catalogue: Mapping[str, Tc3Code] = field(default_factory=lambda: PLATFORM_CODES)
    answer_media: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"API 3.0 {self.endpoint}"

    @property
    def appid(self) -> str | None:
        return self.caller

    @property
    def media(self) -> dict[str, bytes]:
        return self.decoded

    @property
    def answer_status(self) -> int:
        return envelope.STATUS

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
                                  self.error.message, self.catalogue)
        assert self.answer is not None
        return envelope.success(self.answer.fields, self.request_id,
                                self.answer.deprecated_warning)

    def journal_values(self) -> dict[str, Any]:
        params = self.params or {}
        media = {name: summarise_media(name, data) for name, data in self.decoded.items()}
        fields = {name: value for name, value in params.items()
                  if name not in media and isinstance(value, str)}
        data = None
        if self.answer is not None:
            data = summarise_data(self.answer.fields, self.answer_media)
        elif self.error is not None:
            data = {"Error": {"Code": self.error.code}}
        return {"fields": summarise_fields(fields), "media": media,
                "signature": {"status": self.signature_check, "method": self.signature_method,
                              "secret_id": clip(self.secret_id)},
                "data": data, "headers": self.headers,
                "message": envelope.error_message(self.error.code, self.language,
                                                  self.error.message, self.catalogue)
                if self.error else None}


class Tc3Handler:
    """API 3.0 on one emulator: the providers of ``table``, built for it."""

    def __init__(self, services: Services, table: ActionTable, dialect: Tc3Dialect) -> None:
        self.services = services
        self.table = table
        self.dialect = dialect
        self.actions = Actions(table, ProviderContext(
            clock=services.clock, state=services.state, settings=services.settings,
            photo=default_photo(), catalogue=table.catalogue,
            listen_url=lambda: services.listen_url))

    def begin(self, request: Request) -> Tc3Exchange:
        headers = request.headers
        return Tc3Exchange(endpoint=self.table.providers[0].service,
                           request_id=envelope.request_id(), catalogue=self.table.catalogue,
                           answer_media=self.table.answer_media,
                           language=headers.get("x-tc-language"), active=request.active,
                           headers={name: mask(headers[name]) if name == "authorization"
                                    else clip(headers[name])
                                    for name in HEADERS_READ if name in headers})

    def handle(self, exchange: Exchange, request: Request) -> None:
        """Read, authenticate (contract-faceid checks 1-11), check the parameters (12-14)
        and answer one API 3.0 request: from a matching scenario rule, else from the
        providers.  A refused call is answered as ``Error``."""
        assert isinstance(exchange, Tc3Exchange)
        body = b""
        try:
            try:
                body = read_bounded(request.stream, MAX_BODY)
            except BodyTooLarge as error:
                raise Tc3Error("RequestSizeLimitExceeded", str(error)) from None
            exchange.signature_check = "failed"
            call = authenticate(
                method=request.method, host=request.host, query=request.query,
                headers=request.headers, body=body, now=self.services.clock.now(),
                secret_key_of=self._secret_key_of, versions=self.table.versions,
                permitted=self._permitted,
                within_rate=self._within_rate, loose=self._loose,
                nonce_unused=self._nonce_unused)
            exchange.language = call.language or exchange.language
            exchange.signature_check = "loose" if call.verdict.loose else "passed"
            exchange.signature_method = call.verdict.method
            exchange.secret_id = call.verdict.secret_id
            owner = self._app_of(call.verdict.secret_id)
            exchange.caller = owner.appid
            exchange.endpoint = f"{call.product}:{call.action}"
            exchange.params = self.actions.check(call.product, call.action, call.params)
            exchange.decoded = self.actions.decode(exchange.params)
            response = self._scripted(exchange, request.scenario_header)
            if response is not None and response.error is not None:
                exchange.error = Tc3Error(response.error, "scripted", response.message)
            elif response is not None:
                exchange.answer = self.actions.scripted(call.product, call.action,
                                                        call.version, owner.appid,
                                                        exchange.params, response.data)
            elif exchange.fault is None:
                exchange.answer = self.actions.answer(call.product, call.action, call.version,
                                                      owner.appid, exchange.params,
                                                      exchange.decoded)
        except Tc3Error as error:
            exchange.error = error
            if ":" not in exchange.endpoint:  # refused by checks 1-11
                self._note_refusal(exchange, request, body, error.verdict)

    def unavailable(self, exchange: Exchange, error: Exception) -> None:
        self._fail(exchange, Tc3Error("InternalError", str(error)))

    def unexpected(self, exchange: Exchange, error: Exception) -> None:
        self._fail(exchange, Tc3Error("InternalError", f"unexpected {type(error).__name__} "
                                                       "(see the server log)"))

    @staticmethod
    def _fail(exchange: Exchange, error: Tc3Error) -> None:
        assert isinstance(exchange, Tc3Exchange)
        exchange.error = error
        exchange.answer = None

    def render(self, exchange: Exchange) -> Rendered:
        assert isinstance(exchange, Tc3Exchange)
        return Rendered(envelope.STATUS, envelope.CONTENT_TYPE, exchange.payload())

    def reset(self, appid: str | None) -> None:
        pass

    def _note_refusal(self, exchange: Tc3Exchange, request: Request, body: bytes,
                      verdict: Verdict | None) -> None:
        """What the journal keeps of a call refused before it was admitted: the action the
        request names; the signature it passed (``verdict``), else the method and SecretId
        it claims; the appid of that SecretId's app, when one holds it."""
        claim = claim_of(request.method, request.host, request.query, request.headers, body,
                         self.table.versions)
        exchange.endpoint = claim.target or exchange.endpoint
        if verdict is not None:
            exchange.signature_check = "loose" if verdict.loose else "passed"
            exchange.signature_method, exchange.secret_id = verdict.method, verdict.secret_id
            exchange.caller = self._app_of(verdict.secret_id).appid
            return
        exchange.signature_method, exchange.secret_id = claim.method, claim.secret_id
        owner = self.services.keyring.owner_of(claim.secret_id) if claim.secret_id else None
        exchange.caller = owner.appid if owner else None

    def _nonce_unused(self, secret_id: str, nonce: str) -> bool:
        """Whether a v1 call's Nonce/Timestamp is new for its SecretId; always True unless
        the server or the app checks replays (``nonce_replay_check``).  Replays older than 5
        minutes already fail the timestamp check, so the bounded store suffices."""
        app = self._app_of(secret_id)
        if not (self.services.settings.nonce_replay_check or app.nonce_replay_check):
            return True
        key = hashlib.sha256(f"v1\0{secret_id}\0{nonce}".encode()).digest()
        return self.services.state.store(ONCE_SIGNATURES).consume(app.appid, key)

    def _app_of(self, secret_id: str) -> App:
        """The app an API 3.0 SecretId belongs to; the default app for an unknown one
        (only a loose-mode call gets that far)."""
        return self.services.keyring.owner_of(secret_id) or \
            self.services.settings.default_app

    def _secret_key_of(self, secret_id: str) -> str | None:
        app = self.services.keyring.owner_of(secret_id)
        return app.secrets.get(secret_id) if app else None

    def _permitted(self, secret_id: str, product: str) -> bool:
        app = self._app_of(secret_id)
        if app.suspended:
            raise Tc3Error("UnauthorizedOperation.Arrears", f"appid {app.appid} is "
                                                            "suspended")
        return app.may_use(product)

    def _within_rate(self, secret_id: str) -> bool:
        app = self._app_of(secret_id)
        return app.rate_limit is None or self.services.state.store(RATE_WINDOWS).allow(
            app.appid, app.rate_limit, self.services.clock.now())

    def _loose(self, secret_id: str) -> bool:
        app = self.services.keyring.owner_of(secret_id)
        return self.services.settings.loose or \
            (app is not None and self.services.is_loose(app.appid))

    def _scripted(self, exchange: Tc3Exchange, header: str | None) -> Response | None:
        """The response of the scenario rule that answers this call (None when no rule
        does); records the rule, its delay and its fault on the exchange."""
        services = self.services
        if services.scenarios_idle(header if services.allow_scenario_header else None,
                                   exchange.active):
            return None  # no rule could answer: skip decoding the media for facts
        facts = self.dialect.facts(exchange.caller, exchange.secret_id or "",
                                   exchange.params or {}, exchange.decoded)
        response = services.scripted(exchange, facts, exchange.caller, False, header,
                                     lambda error: Tc3Error(
                                         "InvalidParameterValue", f"unknown scenario: {error}",
                                         message="The X-Mockface-Scenario header names no "
                                                 "usable scenario."))
        return None if response is None or response.fault is not None else response


class Tc3Product:
    """The Cloud API 3.0 product of ``providers`` (see core.product.Product): one provider
    class per service, e.g. ``Tc3Product(FaceIdProvider, IaiProvider)``.

    What the surface (admin API, OpenAPI, dashboard, CLI) reads of the actions:
    ``specs()``, ``media_params``, ``current_version``, ``codes_for`` and ``catalogue``."""

    name = "tc3"
    methods: tuple[str, ...] | None = None  # checks 1-11 refuse all but GET and POST
    max_body = MAX_BODY
    surface = SURFACE

    def __init__(self, *providers: type[Provider]) -> None:
        self.table = ActionTable(*providers)
        self.dialect = Tc3Dialect(self.table)
        #: What an app's ``services`` may list: the providers' services, in order.
        self.services = tuple(provider.service for provider in providers)
        self.hosts = tuple(dict.fromkeys(host for provider in providers
                                         for host in provider.hosts))
        #: The platform's stores, then each provider's.
        self.stores = tuple(dict.fromkeys(
            (*STORES, *(spec for provider in providers for spec in provider.stores))))
        self.media_params = self.table.media_params
        self.catalogue = self.table.catalogue
        self.cli_apis = cli_apis(self.services, self.current_version, self._action_names,
                                 self.codes_for, self.catalogue, table=self.table) + \
            tuple(api for provider in providers for api in provider.cli_apis)
        self.helpers = {**helpers(self.current_version),
                        **{name: helper for provider in providers
                           for name, helper in provider.helpers.items()}}
        self.admin_routes = tuple(route for provider in providers
                                  for route in provider.admin_routes)
        self.pages = tuple(page for provider in providers for page in provider.pages)
        self.config_keys = _merged(provider.config_keys for provider in providers)
        self.app_config_keys = _merged(provider.app_config_keys for provider in providers)
        self.serve_options = tuple(option for provider in providers
                                   for option in provider.serve_options)

    def app_config(self, settings: Settings, appid: str) -> dict[str, Any]:
        """What the providers show of app ``appid`` in ``GET /__mockface/config``."""
        return {key: value for provider in self.table.providers
                for key, value in provider.app_config(settings, appid).items()}

    def specs(self) -> dict[str, ActionSpec]:
        """Every action by ``service:Action``, in declaration order."""
        return dict(self.table.specs)

    def current_version(self, service: str) -> str:
        """The newest X-TC-Version of ``service`` (what clients are signed for by default)."""
        return self.table.current_version(service)

    def codes_for(self, target: str | None = None) -> tuple[str, ...]:
        """Every Error.Code and Result name (``target`` None), or those the action
        ``service:Action`` can answer."""
        return self.table.codes_for(target)

    def results_for(self, target: str) -> tuple[str, ...]:
        """The catalogue names the action ``service:Action`` answers as ``Result`` besides
        ``Success`` (catalogue order)."""
        return self.table.results_for(target)

    def owns(self, path: str) -> bool:
        return path == "/"

    def endpoints(self) -> tuple[str, ...]:
        return self.table.targets

    def example(self, settings: Settings, url: str, ca_cert: str | None) -> list[str]:
        return []

    def bind(self, services: Services) -> Tc3Handler:
        return Tc3Handler(services, self.table, self.dialect)

    def error(self, status: int, message: str,
              headers: tuple[tuple[str, str], ...] = ()) -> Rendered:
        code = {413: "RequestSizeLimitExceeded", 500: "InternalError"}.get(
            status, "InvalidRequest")
        return Rendered(envelope.STATUS, envelope.CONTENT_TYPE,
                        envelope.error(code, envelope.request_id()), headers)

    def fault_body(self, kind: str) -> tuple[str, bytes]:
        return envelope.CONTENT_TYPE, MALFORMED if kind == "malformed_json" else b""

    def _action_names(self) -> list[str]:
        """Every action's name, sorted (``mockface codes --action``)."""
        return sorted({spec.name for spec in self.table.specs.values()})


def _merged(mappings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The providers' config keys in one mapping; ValueError for a key declared twice."""
    merged: dict[str, Any] = {}
    for mapping in mappings:
        for key, value in mapping.items():
            if key in merged:
                raise ValueError(f"two providers declare the config key {key!r}")
            merged[key] = value
    return merged
