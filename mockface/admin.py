"""The admin API under ``/__mockface/``: JSON in and out."""
from __future__ import annotations

import time

from flask import Blueprint, jsonify

from . import __version__
from .emulator import Emulator


def admin_blueprint(emulator: Emulator) -> Blueprint:
    """Routes that let tests and CI look inside a running server."""
    admin = Blueprint("mockface_admin", __name__, url_prefix="/__mockface")
    started = time.monotonic()

    @admin.get("/health")
    def health():
        return jsonify(status="ok", version=__version__,
                       uptime=round(time.monotonic() - started, 3))

    return admin
