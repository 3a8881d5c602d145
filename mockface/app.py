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
from .wire import JSON_CONTENT_TYPE, render

access_log = logging.getLogger("mockface.access")
error_log = logging.getLogger("mockface.error")


def json_response(reply: Reply) -> Response:
    status, body = render(reply)
    return Response(body, status=status, content_type=JSON_CONTENT_TYPE)


def create_app(settings: Settings | None = None, emulator: Emulator | None = None) -> Flask:
    """A WSGI app serving the five ``/face/*`` endpoints and the admin API."""
    emulator = emulator or Emulator(settings or load_settings())
    app = Flask("mockface")
    app.extensions["mockface"] = emulator
    app.register_blueprint(admin_blueprint(emulator))

    @app.post("/face/<endpoint>")
    def face(endpoint: str) -> Response:
        started = time.perf_counter()
        if endpoint not in ENDPOINTS:
            reply = Reply.from_error(ApiError(3, "unknown endpoint", 404))
            appid = None
        else:
            exchange = emulator.handle(endpoint, request.headers.get("Authorization"),
                                       request.headers.get("Content-Type"),
                                       request.headers.get("Content-Length"), request.stream)
            reply, appid = exchange.reply, exchange.appid
            if exchange.error_detail:
                access_log.debug("code %s: %s", reply.code, exchange.error_detail)
        access_log.info("%s %s appid=%s code=%s status=%s %.1fms", request.method, request.path,
                        appid or "-", reply.code, reply.http_status,
                        (time.perf_counter() - started) * 1000)
        return json_response(reply)

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
