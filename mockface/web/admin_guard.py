"""Who may use the admin API (``guard``: the Host, the token, the Origin and the body type of
changes) and how its refusals look (``{"error": ...}`` with a status)."""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import Response, current_app, jsonify, request

from ..client import TOKEN_HEADER
from ..core.hosts import is_loopback
from ..core.state import StateUnavailable
from ..core.surface import AdminError
from ..core.yamlsource import show
from .admin_blueprint import TOKEN_CONFIG, admin, emulator


def loopback_name(host: str) -> bool:
    """Whether a Host header value (port allowed) names this machine's loopback interface:
    ``localhost``, ``*.localhost``, 127.0.0.0/8 or ``[::1]``.  An empty Host counts (HTTP/1.0
    clients); browsers always send one."""
    if not host:
        return True
    name = host[1:host.index("]")] if host.startswith("[") and "]" in host \
        else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return is_loopback(name)


def _same_or_loopback(origin: str, host: str) -> bool:
    """Whether a browser's Origin is this server itself or another loopback page."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" and the like: sandboxed or file pages
    return parts.netloc.lower() == host.lower() or loopback_name(parts.netloc)


@admin.errorhandler(AdminError)
def admin_error(error: AdminError) -> tuple[Response, int]:
    return jsonify(error=str(error), **error.extra), error.status


@admin.errorhandler(StateUnavailable)
def state_unavailable(error: StateUnavailable) -> tuple[Response, int]:
    return jsonify(error=str(error)), 503


@admin.before_request
def guard() -> tuple[Response, int] | None:
    """Who may use the admin API: with a token, whoever sends it; without one (a loopback
    bind), only requests for a loopback Host (no DNS rebinding).  Changes also need a
    JSON body type and no foreign Origin (no cross-site form posts)."""
    token = current_app.config.get(TOKEN_CONFIG)
    if token is None and not loopback_name(request.host):
        return jsonify(error=f"the admin API answers only loopback hosts, not "
                             f"{show(request.host)} (bind a public address to use a "
                             "token instead)"), 403
    if request.endpoint == "mockface_admin.health":
        return None
    if token is not None:
        sent = request.headers.get(TOKEN_HEADER, "")
        if not sent and request.endpoint == "mockface_admin.dashboard":
            sent = request.args.get("token", "")  # a browser's first visit
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return jsonify(error=f"missing or wrong {TOKEN_HEADER} header"), 401
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        origin = request.headers.get("Origin")
        if origin is not None and not _same_or_loopback(origin, request.host):
            return jsonify(error=f"cross-site request refused (Origin {show(origin)})"), 403
        if request.mimetype != "application/json":
            return jsonify(error="changes need Content-Type: application/json"), 415
    emulator.state.sync()  # what other processes sharing the state changed
    return None
