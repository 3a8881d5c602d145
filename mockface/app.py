"""``create_app``: the Flask application; thin routes over the Emulator."""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .admin import admin_blueprint
from .config import Settings, load_settings
from .emulator import Emulator
from .errors import ENDPOINTS, ApiError
from .model import Reply
from .scenarios import Fault
from .wire import JSON_CONTENT_TYPE, render

access_log = logging.getLogger("mockface.access")
error_log = logging.getLogger("mockface.error")

#: WSGI environ key under which mockface's own server offers a callable that closes the
#: client connection without an answer (see server.py).
DROP_CONNECTION = "mockface.drop_connection"
SCENARIO_HEADER = "X-Mockface-Scenario"
DROPPING_FAULTS = ("connection_reset", "timeout")


def json_response(reply: Reply) -> Response:
    status, body = render(reply)
    return Response(body, status=status, content_type=JSON_CONTENT_TYPE)


def fault_response(fault: Fault, environ: dict) -> Response:
    """The broken answer a scenario fault asks for."""
    if fault.kind == "malformed_json":
        return Response(b'{"code":0,"message":"OK","data":{', 200,
                        content_type=JSON_CONTENT_TYPE)
    if fault.kind == "empty_body":
        return Response(b"", 200, content_type=JSON_CONTENT_TYPE)
    if fault.kind == "raw":
        return Response(fault.body.encode("utf-8"), fault.http_status,
                        content_type=fault.content_type)
    drop = environ.get(DROP_CONNECTION)
    if drop is not None:
        drop()
        return Response(b"", 200)  # never sent: the connection is already closed
    error_log.warning("fault %s needs mockface's own server; answering 502 instead", fault.kind)
    return Response(b"", 502, headers={"Connection": "close"})


def create_app(settings: Settings | None = None, emulator: Emulator | None = None,
               admin_token: str | None = None) -> Flask:
    """A WSGI app serving the five ``/face/*`` endpoints and the admin API (which requires
    ``admin_token`` when one is given)."""
    emulator = emulator or Emulator(settings or load_settings())
    app = Flask("mockface")
    app.json.sort_keys = False
    app.extensions["mockface"] = emulator
    app.register_blueprint(admin_blueprint(emulator, admin_token))

    @app.post("/face/<endpoint>")
    def face(endpoint: str) -> Response:
        started = time.perf_counter()
        if endpoint not in ENDPOINTS:
            reply = Reply.from_error(ApiError(3, "unknown endpoint", 404))
            access_log.info("%s %s appid=- code=3 status=404 %.1fms", request.method,
                            request.path, (time.perf_counter() - started) * 1000)
            return json_response(reply)
        exchange = emulator.handle(endpoint, request.headers.get("Authorization"),
                                   request.headers.get("Content-Type"),
                                   request.headers.get("Content-Length"), request.stream,
                                   request.headers.get(SCENARIO_HEADER))
        if exchange.delay_ms:
            emulator.hold(exchange.delay_ms / 1000)
        fault = exchange.fault
        if fault is not None and fault.kind == "timeout":
            emulator.hold(fault.timeout_ms / 1000)
        if exchange.error_detail:
            access_log.debug("code %s: %s", exchange.reply.code, exchange.error_detail)
        latency_ms = (time.perf_counter() - started) * 1000
        # Journal before answering: a client learns of a dropped connection at once.
        status = exchange.reply.http_status if fault is None else \
            None if fault.kind in DROPPING_FAULTS else fault.http_status
        emulator.record(exchange, status, latency_ms)
        response = json_response(exchange.reply) if fault is None else \
            fault_response(fault, request.environ)
        outcome = f"code={exchange.reply.code} status={response.status_code}" if fault is None \
            else f"code=- fault={fault.kind}"
        access_log.info("%s %s appid=%s %s %.1fms rule=%s%s", request.method, request.path,
                        exchange.appid or "-", outcome, latency_ms,
                        exchange.rule or "default", f" ({exchange.miss})" if exchange.miss else "")
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        message = {404: "unknown endpoint", 405: "method not allowed"}.get(
            error.code or 400, "invalid request")
        access_log.info("%s %s appid=- code=3 status=%s", request.method, request.path,
                        error.code)
        return json_response(Reply.from_error(ApiError(3, message, error.code or 400)))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        error_log.exception("unexpected error on %s %s", request.method, request.path)
        return json_response(Reply.from_error(ApiError(213)))

    return app
