"""``create_app``: the Flask application; thin, module-level routes over the Emulator."""
from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.local import LocalProxy

from ..core.config import Settings, load_settings
from ..core.hosts import API3_HOSTS, EMULATED_HOSTS, LEGACY_HOSTS, host_name, is_emulated
from ..core.logs import log_access
from ..core.scenarios.model import Fault
from ..emulator import Api3Incoming, Emulator, Incoming
from ..faceid import envelope
from ..legacy.errors import ApiError
from ..legacy.model import Reply
from ..legacy.wire import JSON_CONTENT_TYPE, render
from .admin import STARTED_CONFIG, TOKEN_CONFIG, admin
from .proxy import refused_host_message

error_log = logging.getLogger("mockface.error")

#: WSGI environ key under which mockface's own server offers a callable that closes the
#: client connection without an answer (see server.py).
DROP_CONNECTION = "mockface.drop_connection"
SCENARIO_HEADER = "X-Mockface-Scenario"


def json_response(reply: Reply) -> Response:
    status, body = render(reply)
    return Response(body, status=status, content_type=JSON_CONTENT_TYPE)


#: The cut-off JSON of the ``malformed_json`` fault, per API.
MALFORMED = {"legacy": b'{"code":0,"message":"OK","data":{',
             "api3": b'{"Response":{"RequestId":'}
API3_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def fault_response(fault: Fault, environ: dict, api: str = "legacy") -> Response:
    """The broken answer a scenario fault asks for."""
    content_type = JSON_CONTENT_TYPE if api == "legacy" else envelope.CONTENT_TYPE
    if fault.kind == "malformed_json":
        return Response(MALFORMED[api], 200, content_type=content_type)
    if fault.kind == "empty_body":
        return Response(b"", 200, content_type=content_type)
    if fault.kind == "raw":
        return Response(fault.body.encode("utf-8"), fault.http_status,
                        content_type=fault.content_type)
    drop = environ.get(DROP_CONNECTION)
    if drop is not None:
        drop()
        return Response(b"", 200)  # never sent: the connection is already closed
    error_log.warning("fault %s needs mockface's own server; answering 502 instead", fault.kind)
    return Response(b"", 502, headers={"Connection": "close"})


#: The emulated APIs: the legacy ``/face/*`` endpoints and API 3.0 on ``/``.  Each app
#: created by ``create_app`` registers it; the routes act on that app's emulator.
emulated = Blueprint("mockface_emulated", __name__)
#: The emulator of the app handling the current request.
emulator: Emulator = LocalProxy(lambda: current_app.extensions["mockface"])  # type: ignore


@emulated.before_app_request
def proxied_hosts() -> Response | None:
    """Proxy mode for absolute-form requests (``POST http://<host>/...``): emulated hosts
    are served like any request, any other host is refused (mockface never forwards).  A
    request for a legacy host reaches only ``/face/*``, one for an API 3.0 host only ``/``."""
    uri = request.environ.get("REQUEST_URI", "")
    if uri[:7].lower() == "http://" or uri[:8].lower() == "https://":
        authority = urlsplit(uri).netloc
        if not is_emulated(authority):
            body = json.dumps({"error": refused_host_message(authority),
                               "emulated_hosts": list(EMULATED_HOSTS)})
            log_access(request.method, uri[:200], appid=None, code=None, status=403,
                       latency_ms=0.0, reason="proxy request for a host mockface does not "
                                              "emulate")
            return Response(body, 403, content_type="application/json")
    host, path = host_name(request.host), request.path
    if path.startswith("/__mockface/"):
        return None  # the admin API's own guard refuses foreign hosts
    if host in LEGACY_HOSTS and not path.startswith("/face/") or \
            host in API3_HOSTS and path != "/":
        return json_response(Reply.from_error(ApiError(3, "unknown endpoint", 404)))
    return None


@emulated.post("/face/<endpoint>")
def face(endpoint: str) -> Response:
    exchange = emulator.serve(Incoming(
        request.method, request.path, endpoint, request.headers.get("Authorization"),
        request.headers.get("Content-Type"), request.headers.get("Content-Length"),
        request.stream, request.headers.get(SCENARIO_HEADER)))
    if exchange.fault is None:
        return json_response(exchange.reply)
    return fault_response(exchange.fault, request.environ)


@emulated.route("/", methods=API3_METHODS, provide_automatic_options=False)
def api3() -> Response:
    exchange = emulator.serve_api3(Api3Incoming(
        request.method, request.path, request.host, request.query_string.decode("latin-1"),
        {name.lower(): value for name, value in request.headers.items()},
        request.stream, request.headers.get(SCENARIO_HEADER)))
    if exchange.fault is not None:
        return fault_response(exchange.fault, request.environ, "api3")
    response = Response(exchange.payload(), status=envelope.STATUS)
    response.headers["Content-Type"] = envelope.CONTENT_TYPE  # exactly; no charset
    return response


@emulated.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    message = {404: "unknown endpoint", 405: "method not allowed"}.get(
        error.code or 400, "invalid request")
    log_access(request.method, request.path, appid=None, code=3, status=error.code,
               latency_ms=0.0, reason=message)
    return json_response(Reply.from_error(ApiError(3, message, error.code or 400)))


@emulated.app_errorhandler(Exception)
def unexpected(error: Exception) -> Response:
    error_log.exception("unexpected error on %s %s", request.method, request.path)
    return json_response(Reply.from_error(ApiError(213)))


def create_app(settings: Settings | None = None, emulator: Emulator | None = None,
               admin_token: str | None = None) -> Flask:
    """A WSGI app serving both APIs and the admin API (which requires ``admin_token`` when
    one is given) over ``emulator`` (a new one from ``settings`` when not given)."""
    app = Flask("mockface")
    app.json.sort_keys = False
    app.extensions["mockface"] = emulator or Emulator(settings or load_settings())
    app.config[TOKEN_CONFIG] = admin_token
    app.config[STARTED_CONFIG] = time.monotonic()
    app.register_blueprint(admin)
    app.register_blueprint(emulated)
    return app
