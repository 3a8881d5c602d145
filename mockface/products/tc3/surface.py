"""What this product shows outside its requests (core.surface.Surface): its names, the code
catalogue, the OpenAPI document and its part of the dashboard, all read from the product
instance it is built with (``Tc3Surface(product)``): its actions (``specs()``), catalogue
and versions."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...core.shell import curl
from ...core.surface import (Arg, FormField, Names, OpenApiDocument, Route, Signer,
                             SigningRequest, Surface, quoted)
from . import openapi
from .provider import REMOVED_NOTE
from .signature import sign_tc3

if TYPE_CHECKING:
    from ...core.journal import JournalEntry
    from .product import Tc3Product

#: The action the signing helper offers first.
DEFAULT_TARGET = "faceid:GetLiveCode"
#: The dashboard's mark beside an action gone from Tencent's current SDKs.
REMOVED_MARK = "removed from SDKs"


class Tc3Surface:
    """The surface of one API 3.0 product instance."""

    names = Names(document="faceid", document_label="API 3.0", document_about="API 3.0",
                  endpoint="an API 3.0 action", example=DEFAULT_TARGET, codes_api="faceid",
                  codes_about="the API 3.0 names")

    def __init__(self, product: Tc3Product) -> None:
        self.product = product
        self.signer: Signer | None = Signer(
            "api3", "API 3.0",
            (FormField(Arg("sign_action", str, "api3: the product:Action.",
                           default=DEFAULT_TARGET), "API 3.0 action", self.targets()),
             FormField(Arg("sign_body", str, "api3: the JSON body to sign.", default="{}"),
                       "API 3.0 body")),
            self.sign_example)

    def catalogue(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """The Error.Code and Result names (of ``endpoint``, a ``service:Action``, or all)
        as ``{"code", "message", "meaning"}`` entries; of an action with its own Result
        table, followed by one ``{"kind": "result", "result", "description", "charged"}``
        entry per code (``ResultCode.as_dict``), as ``mockface codes --json`` lists them."""
        names: list[dict[str, Any]] = [self.product.catalogue[name].as_dict()
                                       for name in self.product.codes_for(endpoint)]
        spec = self.product.specs().get(endpoint) if endpoint else None
        return names + [row.as_dict() for row in (spec.results if spec else ())]

    def openapi(self) -> OpenApiDocument:
        return openapi.document(self.product)

    def admin_routes(self) -> Sequence[Route]:
        """The providers' own routes."""
        return self.product.admin_routes

    def targets(self) -> tuple[str, ...]:
        """Every ``service:Action``, sorted."""
        return tuple(sorted(self.product.specs()))

    def target_marks(self) -> Mapping[str, tuple[str, str]]:
        """``service:Action`` -> (the short mark the dashboard shows beside it, the
        sentence explaining it) for the actions declared gone from Tencent's current SDKs
        (``@action(removed=...)``): ("removed from SDKs", "removed from current SDKs:
        <reason>"); sorted like ``targets``."""
        return {target: (REMOVED_MARK, f"{REMOVED_NOTE}: {spec.removed}")
                for target, spec in sorted(self.product.specs().items()) if spec.removed}

    def journals(self, endpoint: str) -> bool:
        """Its actions' entries, and those of calls refused before the action was known
        (named by the service alone)."""
        services = {spec.service for spec in self.product.specs().values()}
        return endpoint.partition(":")[0] in services or self._page(endpoint)

    def _page(self, endpoint: str) -> bool:
        """Whether ``endpoint`` names an entry of one of its providers' pages."""
        return any(endpoint in page.endpoints for page in self.product.pages)

    def failed(self, entry: JournalEntry) -> bool:
        """An ``Error`` in the envelope (a ``Result`` is a verdict, not an error)."""
        return isinstance(entry.data, dict) and "Error" in entry.data

    def code_label(self, entry: JournalEntry, error: bool) -> str:
        if self._page(entry.endpoint):
            return "ErrCode"
        return "Error" if error else "Result"

    def cli_commands(self) -> Sequence[Any]:
        return ()

    def sign_example(self, form: SigningRequest) -> dict[str, Any]:
        """The TC3-HMAC-SHA256 headers of the action and body the form names, for the
        service's current version, and a curl command sending them."""
        target = form.values["sign_action"]
        spec = self.product.specs().get(target)
        if spec is None:
            return {"error": f"unknown action {quoted(target, 60)}"}
        secret_id, secret_key = form.app.first_secret
        body = form.values["sign_body"]
        headers = sign_tc3(secret_id, secret_key, service=spec.service,
                           host=urlsplit(form.url).netloc, action=spec.name,
                           timestamp=form.now, body=body.encode("utf-8"),
                           version=self.product.current_version(spec.service))
        return {"kind": "api3", "headers": headers, "curl": curl(f"{form.url}/", headers, body)}


#: The surface of the instance it is read from, built with it on first use
#: (``surface = SURFACE`` in ``Tc3Product``).
SURFACE: cached_property[Surface] = cached_property(Tc3Surface)
