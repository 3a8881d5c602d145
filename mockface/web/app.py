"""``create_app``: the Flask application; thin, module-level routes over the Emulator."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from ..core.config import Settings, load_settings
from ..core.hosts import API3_HOSTS, EMULATED_HOSTS, LEGACY_HOSTS, host_name, is_emulated
from ..core.logs import log_access
from ..core.scenarios.activations import Activation
from ..core.scenarios.model import Fault
from ..emulator import Api3Incoming, Emulator, Incoming
from ..products.tc3 import envelope
from ..products.legacy.errors import ApiError
from ..products.legacy.model import Reply
from ..products.legacy.wire import JSON_CONTENT_TYPE, render
from . import dashboard  # noqa: F401 - adds the dashboard's routes to the admin blueprint
from .admin import STARTED_CONFIG, TOKEN_CONFIG, admin
from .proxy import refused_host_message

error_log = logging.getLogger("mockface.error")

#: WSGI environ key under which mockface's own server offers a callable that closes the
#: client connection without an answer (see server.py).
DROP_CONNECTION = "mockface.drop_connection"
SCENARIO_HEADER = "X-Mockface-Scenario"
SCENARIO_ENVIRON = "HTTP_X_MOCKFACE_SCENARIO"
#: WSGI environ key under which mockface's own server passes the scenario snapshot of a
#: request it answers on its event loop; the app's extension of the same name is
#: ``EmulatedFront.at_once``, which the server asks.
AT_ONCE = "mockface.at_once"
#: Bodies up to this size may be answered on the event loop; larger ones go to a worker
#: thread, where hashing them overlaps with other requests (bench-peers: W2 at 100 KB is
#: faster at once, W3 at 2 MB on workers).
AT_ONCE_BODY_LIMIT = 256 * 1024
#: What every answer carries so that no page of another origin may frame it (a framed
#: dashboard is one click away from a frozen clock): the old header and the CSP directive.
FRAME_OPTIONS = ("X-Frame-Options", "DENY")
FRAME_ANCESTORS = "frame-ancestors 'none'"
FRAMING_HEADERS = (("Content-Security-Policy", FRAME_ANCESTORS), FRAME_OPTIONS)


def _without_frame_ancestors(policy: str) -> str:
    """A Content-Security-Policy value without its frame-ancestors directives."""
    kept = [directive.strip() for directive in policy.split(";")]
    return "; ".join(d for d in kept
                     if d and d.split(None, 1)[0].lower() != "frame-ancestors")


def deny_framing(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` with framing denied: the others as they are, then every
    Content-Security-Policy with ``frame-ancestors 'none'`` (instead of any frame-ancestors
    it had; a policy of its own when there was none), then a single ``X-Frame-Options:
    DENY`` whatever was there.  Idempotent; FRAMING_HEADERS when given no policy."""
    others: list[tuple[str, str]] = []
    policies: list[tuple[str, str]] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-security-policy":
            rest = _without_frame_ancestors(value)
            policies.append((name, f"{rest}; {FRAME_ANCESTORS}" if rest else FRAME_ANCESTORS))
        elif lowered != "x-frame-options":
            others.append((name, value))
    return [*others, *(policies or FRAMING_HEADERS[:1]), FRAME_OPTIONS]


def framed(start_response):
    """A WSGI ``start_response`` that denies framing (``deny_framing``) of what it starts."""
    def start(status: str, headers: list[tuple[str, str]], exc_info=None):
        return start_response(status, deny_framing(headers), exc_info)
    return start


class RawAnswer:
    """A complete answer as a minimal WSGI app (Flask takes one from a view or error handler
    too): every answer mockface writes itself, without the cost of a Response object (a
    tenth of a small request).  It denies framing (FRAMING_HEADERS) after its own headers;
    ``headers`` must not name X-Frame-Options or Content-Security-Policy."""

    __slots__ = ("status", "content_type", "body", "headers")

    def __init__(self, status: int, content_type: str | None, body: bytes,
                 headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.status, self.content_type, self.body = status, content_type, body
        self.headers = headers

    @classmethod
    def of(cls, reply: Reply) -> RawAnswer:
        status, body = render(reply)
        return cls(status, JSON_CONTENT_TYPE, body)

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        headers = [("Content-Length", str(len(self.body))), *self.headers, *FRAMING_HEADERS]
        if self.content_type is not None:
            headers.insert(0, ("Content-Type", self.content_type))
        start_response(f"{self.status} {HTTP_STATUS_CODES.get(self.status, 'Unknown')}",
                       headers)
        return [self.body]


#: The cut-off JSON of the ``malformed_json`` fault, per API.
MALFORMED = {"legacy": b'{"code":0,"message":"OK","data":{',
             "api3": b'{"Response":{"RequestId":'}


def fault_response(fault: Fault, environ: dict, api: str = "legacy") -> RawAnswer:
    """The broken answer a scenario fault asks for: no answer at all when the fault drops
    the connection (``Fault.drops_connection`` decides, as it does for the journal), else a
    cut-off or empty JSON body, or the raw answer the rule gives."""
    if fault.drops_connection:
        drop = environ.get(DROP_CONNECTION)
        if drop is not None:
            drop()
            return RawAnswer(200, None, b"")  # never sent: the connection is already closed
        error_log.warning("fault %s needs mockface's own server; answering 502 instead",
                          fault.kind)
        return RawAnswer(502, None, b"", (("Connection", "close"),))
    content_type = JSON_CONTENT_TYPE if api == "legacy" else envelope.CONTENT_TYPE
    if fault.kind == "malformed_json":
        return RawAnswer(200, content_type, MALFORMED[api])
    if fault.kind == "empty_body":
        return RawAnswer(200, content_type, b"")
    return RawAnswer(fault.http_status, fault.content_type, fault.body.encode("utf-8"))


def _legacy_path(path: str) -> bool:
    """Whether ``path`` is a legacy endpoint's: ``/face/<endpoint>``."""
    return path.startswith("/face/") and "/" not in path[6:]


class EmulatedFront:
    """The emulated APIs, served below Flask (its routing and request objects cost about
    half of a small request): ``POST /face/<endpoint>`` (legacy) and ``/`` (API 3.0) go
    straight to the emulator; everything else (the admin API) to the Flask app.

    Proxy mode for absolute-form requests (``POST http://<host>/...``) is decided here too:
    emulated hosts are served like any request, any other host is refused (mockface never
    forwards); a legacy host reaches only ``/face/*``, an API 3.0 host only ``/``.

    Every answer, its own or Flask's, denies framing (``deny_framing``)."""

    def __init__(self, flask_wsgi_app, emulator: Emulator) -> None:
        self.flask = flask_wsgi_app
        self.emulator = emulator

    def at_once(self, path: str, headers: Mapping[str, str], content_length: int
                ) -> tuple[Activation, ...] | None:
        """For the server, when a request has fully arrived: the snapshot of the active
        scenarios to answer it under on the event loop (in ``environ[AT_ONCE]``), or None
        when it goes to a worker thread.  At once: a request to an emulated API, with no
        X-Mockface-Scenario header and a body of AT_ONCE_BODY_LIMIT bytes at most, to an
        emulator that cannot make it wait (``Emulator.at_once_view``).  ``headers`` as
        waitress parses them: upper case, ``_`` for ``-``."""
        if content_length > AT_ONCE_BODY_LIMIT or SCENARIO_ENVIRON[5:] in headers or \
                path != "/" and not _legacy_path(path):
            return None
        return self.emulator.at_once_view()

    def __call__(self, environ: dict, start_response):
        try:
            answer = self.route(environ)
        except Exception:
            error_log.exception("unexpected error on %s %s", environ.get("REQUEST_METHOD"),
                                environ.get("PATH_INFO"))
            answer = RawAnswer.of(Reply.from_error(ApiError(213)))
        if answer is None:
            return self.flask(environ, framed(start_response))
        return answer(environ, start_response)

    def route(self, environ: dict) -> RawAnswer | None:
        """The answer of an emulated API, or None when Flask serves the request."""
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        refused = self.refused_host(environ, method, path)
        if refused is not None:
            return refused
        if path == "/":
            return self.api3(environ, method)
        if _legacy_path(path):
            if method != "POST":
                log_access(method, path, appid=None, code=3, status=405, latency_ms=0.0,
                           reason="method not allowed")
                status, body = render(Reply.from_error(ApiError(3, "method not allowed", 405)))
                return RawAnswer(status, JSON_CONTENT_TYPE, body, (("Allow", "POST"),))
            return self.legacy(environ, path)
        return None

    @staticmethod
    def refused_host(environ: dict, method: str, path: str) -> RawAnswer | None:
        uri = environ.get("REQUEST_URI", "")
        if uri[:7].lower() == "http://" or uri[:8].lower() == "https://":
            authority = urlsplit(uri).netloc
            if not is_emulated(authority):
                body = json.dumps({"error": refused_host_message(authority),
                                   "emulated_hosts": list(EMULATED_HOSTS)})
                log_access(method, uri[:200], appid=None, code=None, status=403,
                           latency_ms=0.0, reason="proxy request for a host mockface does "
                                                  "not emulate")
                return RawAnswer(403, "application/json", body.encode())
        if path.startswith("/__mockface/"):
            return None  # the admin API's own guard refuses foreign hosts
        host = host_name(environ.get("HTTP_HOST", ""))
        if host in LEGACY_HOSTS and not path.startswith("/face/") or \
                host in API3_HOSTS and path != "/":
            return RawAnswer.of(Reply.from_error(ApiError(3, "unknown endpoint", 404)))
        return None

    def legacy(self, environ: dict, path: str) -> RawAnswer:
        exchange = self.emulator.serve(Incoming(
            "POST", path, path[6:], environ.get("HTTP_AUTHORIZATION"),
            environ.get("CONTENT_TYPE"), environ.get("CONTENT_LENGTH"),
            get_input_stream(environ), environ.get(SCENARIO_ENVIRON), environ.get(AT_ONCE)))
        if exchange.fault is None:
            return RawAnswer.of(exchange.reply)
        return fault_response(exchange.fault, environ)

    def api3(self, environ: dict, method: str) -> RawAnswer:
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        exchange = self.emulator.serve_api3(Api3Incoming(
            method, "/", headers.get("host", ""), environ.get("QUERY_STRING", ""), headers,
            get_input_stream(environ), headers.get(SCENARIO_HEADER.lower()),
            environ.get(AT_ONCE)))
        if exchange.fault is not None:
            return fault_response(exchange.fault, environ, "api3")
        return RawAnswer(envelope.STATUS, envelope.CONTENT_TYPE, exchange.payload())


def http_error(error: HTTPException) -> RawAnswer:
    """Flask's own errors (unknown paths, wrong methods) as the legacy JSON."""
    message = {404: "unknown endpoint", 405: "method not allowed"}.get(
        error.code or 400, "invalid request")
    log_access(request.method, request.path, appid=None, code=3, status=error.code,
               latency_ms=0.0, reason=message)
    status, body = render(Reply.from_error(ApiError(3, message, error.code or 400)))
    allow = tuple((name, value) for name, value in error.get_headers() if name == "Allow")
    return RawAnswer(status, JSON_CONTENT_TYPE, body, allow)


def unexpected(error: Exception) -> RawAnswer:
    error_log.exception("unexpected error on %s %s", request.method, request.path)
    return RawAnswer.of(Reply.from_error(ApiError(213)))


def create_app(settings: Settings | None = None, emulator: Emulator | None = None,
               admin_token: str | None = None) -> Flask:
    """A WSGI app serving both APIs and the admin API (which requires ``admin_token`` when
    one is given) over ``emulator`` (a new one from ``settings`` when not given)."""
    app = Flask("mockface")
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False
    emulator = emulator or Emulator(settings or load_settings())
    app.extensions["mockface"] = emulator
    app.config[TOKEN_CONFIG] = admin_token
    app.config[STARTED_CONFIG] = time.monotonic()
    app.register_blueprint(admin)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
    front = EmulatedFront(app.wsgi_app, emulator)
    app.wsgi_app = front  # type: ignore[method-assign]
    app.extensions[AT_ONCE] = front.at_once
    return app
