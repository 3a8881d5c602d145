"""The admin API's product side, all through the registry: each product's own admin routes
(``Surface.admin_routes``, mounted on every app the blueprint is registered on, from that
app's emulator), the ``endpoint`` argument, the code catalogues (``codes``) and the
OpenAPI documents (``openapi/<name>.json``)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from ..core.product import Registry
from ..core.surface import AdminError, Arg, Route
from ..products import REGISTRY
from . import openapi as documents
from .admin_args import RequestArguments, read_body, read_query
from .admin_blueprint import accepts, admin, emulator

#: The name of the admin API's own OpenAPI document.
ADMIN_DOCUMENT = "admin"


def endpoints_described(registry: Registry) -> str:
    """What the ``endpoint`` argument names, with an example of each product's."""
    text = " or ".join(f"{product.surface.names.endpoint} ({product.surface.names.example})"
                       for product in registry)
    return f"{text[:1].upper()}{text[1:]}."


def endpoint_query() -> str | None:
    """The ``endpoint`` query parameter, checked to name an endpoint of a product."""
    endpoint = request.args.get("endpoint")
    registry = emulator.registry
    if endpoint is not None and registry.of_endpoint(endpoint) is None:
        kinds = ", or ".join(f"{product.surface.names.endpoint} such as "
                             f"{product.surface.names.example}" for product in registry)
        raise AdminError(400, f"unknown endpoint {endpoint[:80]!r} ({kinds})")
    return endpoint


# -- the products' own routes -----------------------------------------------------------------

def _mount(state: BlueprintSetupState) -> None:
    """Add the admin routes of each product of the app's emulator to the app."""
    for product in state.app.extensions["mockface"].registry:
        for route in product.surface.admin_routes():
            state.add_url_rule(route.rule, route.view.__name__, _view_of(route),
                               methods=list(route.methods))


admin.record(_mount)


def _view_of(route: Route) -> Callable[..., tuple[Response, int]]:
    """The Flask view of a product's route: its declared arguments read (from the query
    string of a GET, else the JSON body), its view called, its answer as JSON."""
    def view(**values: Any) -> tuple[Response, int]:
        payload = read_query() if request.method in ("GET", "HEAD") else read_body()
        answer = route.view(emulator, RequestArguments(payload), **values)
        value, status = answer if isinstance(answer, tuple) else (answer, 200)
        if route.media_type != "application/json" and 200 <= status < 300:
            return Response(value, status=status, content_type=route.media_type), status
        return jsonify(value), status
    return accepts(route.summary, *route.args, status=route.status, errors=route.errors,
                   media_type=route.media_type)(view)


# -- what the server documents of the products ------------------------------------------------

def _codes_apis(registry: Registry) -> str:
    """What the ``api`` argument of ``codes`` takes."""
    return "; ".join(f"{product.surface.names.codes_api}: {product.surface.names.codes_about}"
                     for product in registry if product.surface.names.codes_api) + "."


@admin.get("/codes")
@accepts("The error catalogue.",
         Arg("endpoint", str, "Only what this endpoint or action answers."),
         Arg("api", str, _codes_apis(REGISTRY)))
def codes() -> Response:
    """The catalogue of the product owning ``endpoint``, else of the product ``api`` names,
    else of the default product."""
    read_query()
    endpoint = endpoint_query()
    registry = emulator.registry
    api = request.args.get("api")
    owner = registry.of_endpoint(endpoint) if endpoint else None
    named = next((product for product in registry
                  if api and product.surface.names.codes_api == api), None)
    return jsonify(codes=(owner or named or registry.default).surface.catalogue(endpoint))


def _documents(registry: Registry) -> list[str]:
    """The names of the OpenAPI documents the server serves: each product's, then its own."""
    return [product.surface.names.document for product in registry] + [ADMIN_DOCUMENT]


@admin.get("/openapi/<name>.json")
@accepts("An OpenAPI 3.1 document of this server: "
         + ", ".join(f"{product.surface.names.document} ({product.surface.names.document_about})"
                     for product in REGISTRY) + f" or {ADMIN_DOCUMENT} (this API).",
         errors=(404,))
def openapi(name: str) -> Response:
    registry = emulator.registry
    if name == ADMIN_DOCUMENT:
        return jsonify(documents.admin_document(current_app))
    for product in registry:
        if product.surface.names.document == name:
            return jsonify(documents.product_document(product.surface))
    names = _documents(registry)
    raise AdminError(404, f"no document {name[:40]!r}: {', '.join(names[:-1])} or {names[-1]}")
