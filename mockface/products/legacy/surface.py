"""What this product shows outside its requests (core.surface.Surface): its names, the code
catalogue, the OpenAPI document, the admin routes and its part of the dashboard."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...core.shell import curl
from ...core.surface import (Arg, FormField, Names, OpenApiDocument, Route, Signer,
                             SigningRequest, Surface, quoted)
from . import openapi
from .admin import ROUTES
from .errors import CATALOGUE, ENDPOINTS, codes_for
from .signature import sign

if TYPE_CHECKING:
    from ...core.journal import JournalEntry

#: The endpoint the signing helper offers first.
DEFAULT_ENDPOINT = "livegetfour"


def sign_example(form: SigningRequest) -> dict[str, Any]:
    """An Authorization value for the endpoint the form names (valid for an hour), and a
    curl command posting ``{"appid": ...}`` to it."""
    endpoint = form.values["sign_endpoint"]
    if endpoint not in ENDPOINTS:
        return {"error": f"unknown endpoint {quoted(endpoint, 40)}"}
    app = form.app
    secret_id, secret_key = app.first_secret
    authorization = sign(app.appid, secret_id, secret_key, now=form.now, expires_in=3600)
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    return {"kind": "legacy", "headers": {"Authorization": authorization},
            "curl": curl(f"{form.url}/face/{endpoint}", headers,
                         json.dumps({"appid": app.appid}))}


class LegacySurface:
    """This product's surface: everything from its own tables."""

    names = Names(document="legacy", document_label="legacy",
                  document_about="the /face/* endpoints", endpoint="a legacy endpoint",
                  example=DEFAULT_ENDPOINT)
    signer: Signer | None = Signer(
        "legacy", "legacy",
        (FormField(Arg("sign_endpoint", str, "legacy: the endpoint.",
                       default=DEFAULT_ENDPOINT), "legacy endpoint", ENDPOINTS),),
        sign_example)

    def catalogue(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        entries = codes_for(endpoint) if endpoint else list(CATALOGUE.values())
        return [entry.as_dict() for entry in entries]

    def openapi(self) -> OpenApiDocument:
        return openapi.document()

    def admin_routes(self) -> Sequence[Route]:
        return ROUTES

    def targets(self) -> tuple[str, ...]:
        return ENDPOINTS

    def journals(self, endpoint: str) -> bool:
        return endpoint in ENDPOINTS

    def failed(self, entry: JournalEntry) -> bool:
        return entry.code not in (0, None)

    def code_label(self, entry: JournalEntry, error: bool) -> str:
        return "code"

    def cli_commands(self) -> Sequence[Any]:
        return ()


SURFACE: Surface = LegacySurface()
