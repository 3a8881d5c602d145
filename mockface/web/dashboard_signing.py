"""The dashboard's signing helper: each product's part of the form (``Surface.signer``), the
form as last submitted, and the example it signs."""
from __future__ import annotations

from typing import Any

from flask import request

from ..core.config import Settings
from ..core.product import Registry
from ..core.surface import Arg, Signer, SigningRequest, quoted
from .admin_args import argument
from .admin_blueprint import emulator


def signers(registry: Registry) -> list[Signer]:
    """The products' parts of the signing helper, in the registry's order."""
    return [product.surface.signer for product in registry
            if product.surface.signer is not None]


def signing_args(registry: Registry) -> tuple[Arg, ...]:
    """The query parameters of the signing helper: the kind, the app, each product's
    fields."""
    kinds = " or ".join(signer.kind for signer in signers(registry))
    return (Arg("sign", str, f"Sign an example request: {kinds}."),
            Arg("sign_appid", str, "The app to sign for (default: the first)."),
            *(field.arg for signer in signers(registry) for field in signer.fields))


def form_values() -> dict[str, str]:
    """The signing form's fields as given, by name (their defaults when not given; a text
    area left empty counts as its default).  Read from the query string as it is (what
    ``argument`` gives of a string argument) so that the products of any registry are read,
    not only those ``GET ui`` declares."""
    values: dict[str, str] = {}
    for signer in signers(emulator.registry):
        for field in signer.fields:
            value = request.args.get(field.arg.name, field.arg.default)
            values[field.arg.name] = value if field.choices is not None \
                else value or field.arg.default
    return values


def signing_form(settings: Settings) -> dict[str, Any]:
    """The signing form as last submitted (its defaults before): the kind (the first
    product's unless another is chosen), the app and each product's fields."""
    kinds = [signer.kind for signer in signers(emulator.registry)]
    kind = argument({}, "sign")
    return {"kind": kind if kind in kinds else next(iter(kinds), ""),
            "appid": argument({}, "sign_appid") or settings.default_app.appid,
            "values": form_values()}


def signing_example() -> dict[str, Any] | None:
    """What the signing form asked for (``sign=<kind>``), signed by the product of that
    kind."""
    kind = argument({}, "sign")
    signer = next((s for s in signers(emulator.registry) if s.kind == kind), None)
    if signer is None:
        return None
    appid = argument({}, "sign_appid") or emulator.settings.default_app.appid
    app = emulator.keyring.app(appid)
    if app is None:
        return {"error": f"no app {quoted(appid, 40)} is configured"}
    return signer.example(SigningRequest(form_values(), app, request.host_url.rstrip("/"),
                                         int(emulator.clock.now())))
