"""The admin routes that change the apps at run time: private namespaces with fresh
credentials (``apps``) and loose mode for one app (``loose``)."""
from __future__ import annotations

import secrets

from flask import Response, jsonify

from ..core.config import App
from ..core.logs import log_admin
from ..core.surface import AdminError, Arg
from .admin_args import argument, known_appid, read_body
from .admin_blueprint import accepts, admin, emulator


@admin.post("/apps")
@accepts("Create an app with fresh credentials: a private namespace.",
         Arg("appid", str, "The appid (default: a new ns… one)."), status=201, errors=(409,))
def create_app() -> tuple[Response, int]:
    """A fresh app with generated credentials: a private namespace on a shared server."""
    payload = read_body()
    appid = argument(payload, "appid") or f"ns{secrets.randbelow(10**9):09d}"
    app = App(appid, {f"AKIDmockface{secrets.token_hex(12)}": secrets.token_hex(16)})
    try:
        emulator.state.add_app(emulator.keyring, app)
    except ValueError as error:
        raise AdminError(409, str(error)) from None
    secret_id, secret_key = app.first_secret
    log_admin("app created", appid=appid, secret_id=secret_id)
    return jsonify(appid=appid, secret_id=secret_id, secret_key=secret_key), 201


@admin.delete("/apps")
@accepts("Remove an app created over the admin API, and forget its state.",
         Arg("appid", str, "The app to remove.", required=True), errors=(404,))
def delete_app() -> Response:
    """Remove an app created over the admin API, and forget its state."""
    appid = argument(read_body(), "appid")
    if appid is None:
        raise AdminError(400, "appid is required")
    try:
        emulator.state.remove_app(emulator.keyring, appid)
    except KeyError:
        raise AdminError(404, f"no app {appid!r} was created over the admin API") from None
    emulator.reset(appid)
    log_admin("app deleted", appid=appid)
    return jsonify(deleted=appid)


@admin.post("/loose")
@accepts("Loose mode for one app: only the signature's format is checked.",
         Arg("appid", str, "The app.", required=True),
         Arg("enabled", bool, "On or off.", default=True), errors=(404,))
def loose() -> Response:
    payload = read_body()
    appid = known_appid(payload)
    if appid is None:
        raise AdminError(400, "appid is required (use --loose for the whole server)")
    enabled = argument(payload, "enabled")
    emulator.state.set_loose(appid, enabled)
    log_admin("loose mode", appid=appid, enabled=enabled)
    return jsonify(appid=appid, loose=enabled)
