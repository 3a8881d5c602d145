"""``create_app``: the Flask application; thin, module-level routes over the Emulator."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from ..core.config import Settings, load_settings
from ..core.hosts import host_name
from ..core.logs import log_access
from ..core.product import Product, Rendered, Request
from ..core.scenarios.activations import Activation
from ..core.scenarios.model import Fault
from ..emulator import Emulator
from . import dashboard  # noqa: F401 - adds the dashboard's routes to the admin blueprint
from .admin import STARTED_CONFIG, TOKEN_CONFIG, admin
from .pages import mount_pages
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
    def of(cls, rendered: Rendered) -> RawAnswer:
        return cls(rendered.status, rendered.content_type, rendered.body, rendered.headers)

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        headers = [("Content-Length", str(len(self.body))), *self.headers, *FRAMING_HEADERS]
        if self.content_type is not None:
            headers.insert(0, ("Content-Type", self.content_type))
        start_response(f"{self.status} {HTTP_STATUS_CODES.get(self.status, 'Unknown')}",
                       headers)
        return [self.body]


def fault_response(fault: Fault, environ: dict, product: Product) -> RawAnswer:
    """The broken answer a scenario fault asks for: no answer at all when the fault drops
    the connection (``Fault.drops_connection`` decides, as it does for the journal), else
    ``product``'s cut-off or empty JSON body, or the raw answer the rule gives."""
    if fault.drops_connection:
        drop = environ.get(DROP_CONNECTION)
        if drop is not None:
            drop()
            return RawAnswer(200, None, b"")  # never sent: the connection is already closed
        error_log.warning("fault %s needs mockface's own server; answering 502 instead",
                          fault.kind)
        return RawAnswer(502, None, b"")
    if fault.kind in ("malformed_json", "empty_body"):
        return RawAnswer(200, *product.fault_body(fault.kind))
    return RawAnswer(fault.http_status, fault.content_type, fault.body.encode("utf-8"))


#: ``EnvironHeaders``' header names already translated to their environ keys (bounded: the
#: names products look up are few, but some come from requests, like signed header lists).
_ENVIRON_KEYS: dict[str, str] = {}
_MAX_ENVIRON_KEYS = 256
_BODY_KEYS = frozenset(("CONTENT_TYPE", "CONTENT_LENGTH"))


def _environ_key(name: str) -> str:
    """The WSGI environ key of the header ``name`` (any case)."""
    key = _ENVIRON_KEYS.get(name)
    if key is None:
        key = name.upper().replace("-", "_")
        if key not in _BODY_KEYS:
            key = f"HTTP_{key}"
        if len(_ENVIRON_KEYS) < _MAX_ENVIRON_KEYS:
            _ENVIRON_KEYS[name] = key
    return key


class EnvironHeaders(Mapping[str, str]):
    """The request headers of a WSGI environ by lower-case name (``content-type`` and
    ``content-length`` included when not empty), looked up on demand."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict) -> None:
        self.environ = environ

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """The header's value as sent, or ``default`` when it is absent (an empty
        Content-Type or Content-Length counts as absent).  (Mapping's own ``get`` goes
        through ``__getitem__`` and a KeyError: three calls where one does, on every header
        a product reads.)"""
        key = _ENVIRON_KEYS.get(name) or _environ_key(name)
        value = self.environ.get(key)
        if value is None or not value and key in _BODY_KEYS:
            return default
        return value

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        for key, value in self.environ.items():
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").lower()
            elif key in _BODY_KEYS and value:
                yield key.replace("_", "-").lower()

    def __len__(self) -> int:
        return sum(1 for _ in self)


class EmulatedFront:
    """The emulated products, served below Flask (its routing and request objects cost
    about half of a small request): a request a registered product owns goes straight to
    the emulator; everything else (the admin API) to the Flask app.

    Proxy mode for absolute-form requests (``POST http://<host>/...``) is decided here too:
    emulated hosts are served like any request, any other host is refused (mockface never
    forwards); a product's real host reaches only that product's requests.

    Every answer, its own or Flask's, denies framing (``deny_framing``)."""

    def __init__(self, flask_wsgi_app, emulator: Emulator) -> None:
        self.flask = flask_wsgi_app
        self.emulator = emulator
        self.registry = emulator.registry

    def at_once(self, path: str, headers: Mapping[str, str], content_length: int
                ) -> tuple[Activation, ...] | None:
        """For the server, when a request has fully arrived: the snapshot of the active
        scenarios to answer it under on the event loop (in ``environ[AT_ONCE]``), or None
        when it goes to a worker thread.  At once: a request a product owns, with no
        X-Mockface-Scenario header and a body of AT_ONCE_BODY_LIMIT bytes at most, to an
        emulator that cannot make it wait (``Emulator.at_once_view``).  ``headers`` as
        waitress parses them: upper case, ``_`` for ``-``."""
        if content_length > AT_ONCE_BODY_LIMIT or SCENARIO_ENVIRON[5:] in headers or \
                self.registry.owner(path) is None:
            return None
        return self.emulator.at_once_view()

    def __call__(self, environ: dict, start_response):
        try:
            answer = self.route(environ)
        except Exception:
            error_log.exception("unexpected error on %s %s", environ.get("REQUEST_METHOD"),
                                environ.get("PATH_INFO"))
            answer = RawAnswer.of(self.registry.default.error(500, ""))
        if answer is None:
            return self.flask(environ, framed(start_response))
        return answer(environ, start_response)

    def route(self, environ: dict) -> RawAnswer | None:
        """The answer of an emulated product, or None when Flask serves the request."""
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        refused = self.refused_host(environ, method, path)
        if refused is not None:
            return refused
        product = self.registry.owner(path)
        if product is None:
            return None
        if product.methods is not None and method not in product.methods:
            log_access(method, path, appid=None, code=3, status=405, latency_ms=0.0,
                       reason="method not allowed")
            return RawAnswer.of(product.error(405, "method not allowed",
                                              (("Allow", ", ".join(product.methods)),)))
        return self.serve(environ, method, path, product)

    def refused_host(self, environ: dict, method: str, path: str) -> RawAnswer | None:
        uri = environ.get("REQUEST_URI", "")
        if uri[:1] != "/" and (uri[:7].lower() == "http://" or uri[:8].lower() == "https://"):
            authority = urlsplit(uri).netloc
            if host_name(authority) not in self.registry.hosts:
                body = json.dumps({"error": refused_host_message(authority, self.registry.hosts),
                                   "emulated_hosts": list(self.registry.hosts)})
                log_access(method, uri[:200], appid=None, code=None, status=403,
                           latency_ms=0.0, reason="proxy request for a host mockface does "
                                                  "not emulate")
                return RawAnswer(403, "application/json", body.encode())
        if path.startswith("/__mockface/"):
            return None  # the admin API's own guard refuses foreign hosts
        product = self.registry.of_host(host_name(environ.get("HTTP_HOST", "")))
        if product is not None and not product.owns(path):
            return RawAnswer.of(self.registry.default.error(404, "unknown endpoint"))
        return None

    def serve(self, environ: dict, method: str, path: str, product: Product) -> RawAnswer:
        """Serve one request ``product`` owns through the emulator's lifecycle."""
        headers = EnvironHeaders(environ)
        exchange = self.emulator.serve(product, Request(
            method, path, environ.get("HTTP_HOST", ""), environ.get("QUERY_STRING", ""),
            headers, get_input_stream(environ), environ.get(AT_ONCE)))
        if exchange.fault is not None:
            return fault_response(exchange.fault, environ, product)
        return RawAnswer.of(self.emulator.render(product, exchange))


def http_error(error: HTTPException) -> RawAnswer:
    """Flask's own errors (unknown paths, wrong methods) as the legacy JSON."""
    message = {404: "unknown endpoint", 405: "method not allowed"}.get(
        error.code or 400, "invalid request")
    log_access(request.method, request.path, appid=None, code=3, status=error.code,
               latency_ms=0.0, reason=message)
    allow = tuple((name, value) for name, value in error.get_headers() if name == "Allow")
    return RawAnswer.of(_registry().default.error(error.code or 400, message, allow))


def unexpected(error: Exception) -> RawAnswer:
    error_log.exception("unexpected error on %s %s", request.method, request.path)
    return RawAnswer.of(_registry().default.error(500, ""))


def _registry():
    """The registry of the emulator behind the current Flask app."""
    return current_app.extensions["mockface"].registry


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
    mount_pages(app)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
    front = EmulatedFront(app.wsgi_app, emulator)
    app.wsgi_app = front  # type: ignore[method-assign]
    app.extensions[AT_ONCE] = front.at_once
    return app
