"""The admin routes of the emulated clock: read, freeze, advance, restore, unfreeze."""
from __future__ import annotations

import time

from flask import Response, jsonify

from ..core.logs import log_admin
from ..core.surface import AdminError, Arg
from .admin_args import argument, read_body
from .admin_blueprint import accepts, admin, emulator


#: The emulated clock stays within what a datetime can show: 1970 to the end of year 9999.
LATEST_TIME = 253_402_300_799


def clock_time(name: str, value: float) -> float:
    """``value`` as a clock time, refused unless between 1970 and the end of year 9999."""
    if not 0 <= value <= LATEST_TIME:
        raise AdminError(400, f"{name} must put the clock between 1970 and the end of year "
                              f"9999 (0 to {LATEST_TIME})")
    return value


def clock_state() -> Response:
    return jsonify(now=emulator.clock.now(), frozen=emulator.clock.frozen,
                   **emulator.clock.state())


@admin.get("/clock")
@accepts("The emulated clock.")
def clock() -> Response:
    return clock_state()


@admin.post("/clock/freeze")
@accepts("Stop the clock.", Arg("at", (int, float), "Seconds since 1970 (default: now)."))
def freeze() -> Response:
    at = argument(read_body(), "at")
    now = emulator.clock.freeze(None if at is None else clock_time("at", at))
    log_admin("clock frozen", at=now)
    return clock_state()


@admin.post("/clock/advance")
@accepts("Move the clock.", Arg("seconds", (int, float), "How far (negative: back).",
                                required=True))
def advance() -> Response:
    seconds = argument(read_body(), "seconds")
    if seconds is None:
        raise AdminError(400, "seconds is required")
    clock_time("seconds", emulator.clock.now() + seconds)
    now = emulator.clock.advance(seconds)
    log_admin("clock advanced", seconds=seconds, now=now)
    return clock_state()


@admin.post("/clock/restore")
@accepts("Put the clock back to a state read from GET clock.",
         Arg("frozen_at", (int, float), "The frozen time, or null for a running clock."),
         Arg("offset", (int, float), "Seconds added to real time.", default=0))
def restore() -> Response:
    """Put the clock back to a state read from GET clock (frozen_at and offset)."""
    payload = read_body()
    frozen_at = argument(payload, "frozen_at")
    offset = argument(payload, "offset")
    clock_time("frozen_at" if frozen_at is not None else "offset",
          frozen_at if frozen_at is not None else time.time() + offset)
    emulator.clock.restore(frozen_at, offset)
    log_admin("clock restored", frozen_at=frozen_at, offset=offset)
    return clock_state()


@admin.post("/clock/unfreeze")
@accepts("Let the clock run again (keeping any advance).")
def unfreeze() -> Response:
    read_body()  # takes no arguments: refuses any
    emulator.clock.unfreeze()
    log_admin("clock unfrozen")
    return clock_state()
