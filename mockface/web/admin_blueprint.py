"""The admin blueprint under ``/__mockface/``, what its routes act on (the emulator of the
app handling the request) and how a route declares what it accepts (``accepts``, read back
by ``route_doc`` for argument checks and the OpenAPI document).  Every admin module adds
its routes to ``admin``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Blueprint, current_app
from werkzeug.local import LocalProxy

from ..core.surface import Arg
from ..emulator import Emulator


#: Where the admin API lives on every server.
ADMIN_PREFIX = "/__mockface"
#: The admin API: routes that let tests and CI inspect and steer a running server.  Each
#: app created by ``create_app`` registers it; the routes act on that app's emulator.
admin = Blueprint("mockface_admin", __name__, url_prefix=ADMIN_PREFIX,
                  template_folder="templates")
#: The app config keys the admin API reads: its token (None: loopback only) and start time.
TOKEN_CONFIG = "MOCKFACE_ADMIN_TOKEN"
STARTED_CONFIG = "MOCKFACE_STARTED"
CA_DIR_CONFIG = "MOCKFACE_CA_DIR"  # set by the server: where its local CA lives
#: The emulator of the app handling the current request.
emulator = cast(Emulator, LocalProxy(lambda: current_app.extensions["mockface"]))


@dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI document says of a route."""

    summary: str
    args: tuple[Arg, ...] = ()
    status: int = 200  # of a success
    errors: tuple[int, ...] = ()  # route-specific error statuses (400 and the guard's: all)
    media_type: str = "application/json"  # of a success


#: The attribute of a view function that holds its RouteDoc (``accepts``, ``route_doc``).
_DOC_ATTRIBUTE = "mockface_doc"
_View = TypeVar("_View", bound=Callable[..., Any])


def accepts(summary: str, *args: Arg, status: int = 200, errors: tuple[int, ...] = (),
            media_type: str = "application/json") -> Callable[[_View], _View]:
    """Declare what a route accepts (put below the route decorator)."""
    def declare(view: _View) -> _View:
        setattr(view, _DOC_ATTRIBUTE, RouteDoc(summary, args, status, errors, media_type))
        return view
    return declare


def route_doc(view: object) -> RouteDoc | None:
    """What ``accepts`` declared of a view function; None when it declared nothing."""
    doc = getattr(view, _DOC_ATTRIBUTE, None)
    return doc if isinstance(doc, RouteDoc) else None
