"""The admin API, the dashboard and the OpenAPI documents reach products only through the
registry: a stub product (``ocr``, one action) added to a registry gets its admin route
mounted, its catalogue and document served, its endpoint accepted as a filter and its part
of the dashboard (journal rows, signing helper) shown -- with no edit in ``web``.  And the
web modules name no product."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from mockface.core.product import Registry, Rendered
from mockface.core.surface import (AdminError, Arg, FormField, Names, OpenApiDocument, Route,
                                   Signer, SigningRequest)
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.legacy.product import PRODUCT as LEGACY
from mockface.web.app import create_app
from mockface.web.openapi import admin_document

from .support import MAIN, make_settings

WEB = Path(__file__).resolve().parent.parent / "mockface" / "web"
#: The modules this seam covers: the admin API, the dashboard, the OpenAPI documents.
SEAM_MODULES = sorted([*WEB.glob("admin*.py"), WEB / "dashboard.py", WEB / "openapi.py"])

TC3 = REGISTRY["tc3"]


def test_the_web_modules_of_the_seam_name_no_product():
    words = {word for product in REGISTRY
             for word in (product.name, *product.hosts, *product.endpoints(),
                          *(endpoint.partition(":")[0] for endpoint in product.endpoints()),
                          product.surface.names.document,
                          product.surface.signer.kind if product.surface.signer else "")}
    words.discard("")
    assert {"legacy", "tc3", "faceid", "iai", "livegetfour", "faceid:GetLiveCode",
            "api3"} <= words
    assert len(SEAM_MODULES) >= 8  # admin.py split by job
    for path in SEAM_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value not in words, (path.name, node.lineno, node.value)


# -- a stub product --------------------------------------------------------------------------

def pages(services: Any, args: Any, book: str) -> dict[str, Any]:
    """The stub's admin route: echoes what it read."""
    if book == "missing":
        raise AdminError(404, "no such book")
    return {"book": book, "appid": args.appid(), "first": args.get("first")}


def sign_example(form: SigningRequest) -> dict[str, Any]:
    return {"kind": "ocr", "headers": {"X-Ocr": form.values["sign_ocr"]},
            "curl": f"curl {form.url}/ocr # {form.app.appid} at {form.now}"}


class OcrSurface:
    names = Names(document="ocr", document_label="OCR", document_about="the OCR stub",
                  endpoint="an OCR action", example="ocr:Read", codes_api="ocr",
                  codes_about="the OCR names")
    signer: Signer | None = Signer(
        "ocr", "OCR", (FormField(Arg("sign_ocr", str, "ocr: the action.",
                                     default="ocr:Read"), "OCR action", ("ocr:Read",)),),
        sign_example)

    def catalogue(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        return [{"code": "Ocr.Unreadable", "endpoint": endpoint}]

    def openapi(self) -> OpenApiDocument:
        return OpenApiDocument("OCR (stub)", "One action.", {}, [], {"/ocr": {}})

    def admin_routes(self) -> tuple[Route, ...]:
        return (Route("ocr/books/<book>", ("GET",), pages, "The pages of a book.",
                      (Arg("appid", str, "Only this appid's."), Arg("first", int, "From.")),
                      errors=(404,)),)

    def targets(self) -> tuple[str, ...]:
        return ("ocr:Read",)

    def journals(self, endpoint: str) -> bool:
        return endpoint.startswith("ocr")

    def failed(self, entry: Any) -> bool:
        return entry.code != "Ok"

    def code_label(self, entry: Any, error: bool) -> str:
        return "Verdict"

    def cli_commands(self) -> tuple[Any, ...]:
        return ()


class OcrDialect:
    subject = "OCR actions"
    targets = ("ocr:Read",)
    wildcards: dict[str, tuple[str, ...]] = {}
    match_fields: tuple[str, ...] = ()
    response_keys = ("error",)
    allows_before_auth = False

    def response(self, checker: Any, entry: dict, line: int, targets: frozenset[str]) -> None:
        return None


class OcrProduct:
    name = "ocr"
    hosts: tuple[str, ...] = ()
    services = ("ocr",)
    methods = ("POST",)
    max_body = 1024
    dialect = OcrDialect()
    surface = OcrSurface()
    cli_apis: tuple[Any, ...] = ()
    helpers: dict[str, Any] = {}
    stores: tuple[Any, ...] = ()

    def owns(self, path: str) -> bool:
        return path == "/ocr"

    def endpoints(self) -> tuple[str, ...]:
        return ("ocr:Read",)

    def example(self, settings: Any, url: str, ca_cert: str | None) -> list[str]:
        return []

    def bind(self, services: Any) -> Any:
        return self

    def reset(self, appid: str | None) -> None:
        pass

    def error(self, status: int, message: str, headers: tuple = ()) -> Rendered:
        return Rendered(status, "text/plain", message.encode(), headers)

    def fault_body(self, kind: str) -> tuple[str, bytes]:
        return "text/plain", b""


@pytest.fixture
def ocr():
    """A test client of an app whose registry has the stub besides the real products, and
    its emulator."""
    emulator = Emulator(make_settings(), registry=Registry(LEGACY, TC3, OcrProduct()))
    app = create_app(emulator=emulator)
    return app, app.test_client(), emulator


def test_a_products_admin_route_is_mounted_with_its_declared_arguments(ocr):
    _, client, _ = ocr
    answer = client.get(f"/__mockface/ocr/books/atlas?appid={MAIN.appid}&first=3")
    assert answer.status_code == 200
    assert answer.get_json() == {"book": "atlas", "appid": MAIN.appid, "first": 3}
    assert client.get("/__mockface/ocr/books/missing").get_json() == {"error": "no such book"}
    unknown = client.get("/__mockface/ocr/books/atlas?appid=42")
    assert unknown.status_code == 404 and "unknown appid" in unknown.get_json()["error"]
    misspelt = client.get("/__mockface/ocr/books/atlas?firts=1")
    assert misspelt.status_code == 400
    assert misspelt.get_json() == {"error": "unknown key 'firts' in the query string; did "
                                            "you mean 'first'?"}
    assert client.get("/__mockface/ocr/books/atlas?first=x").status_code == 400


def test_a_products_admin_route_is_in_the_admin_document(ocr):
    app, _, _ = ocr
    operation = admin_document(app)["paths"]["/__mockface/ocr/books/{book}"]["get"]
    assert operation["operationId"] == "pages_get"
    assert operation["summary"] == "The pages of a book."
    assert [p["name"] for p in operation["parameters"]] == ["appid", "first", "book"]
    assert "404" in operation["responses"]


def test_a_products_catalogue_and_document_are_served(ocr):
    _, client, _ = ocr
    assert client.get("/__mockface/codes?api=ocr").get_json() == {
        "codes": [{"code": "Ocr.Unreadable", "endpoint": None}]}
    assert client.get("/__mockface/codes?endpoint=ocr:Read").get_json() == {
        "codes": [{"code": "Ocr.Unreadable", "endpoint": "ocr:Read"}]}
    document = client.get("/__mockface/openapi/ocr.json").get_json()
    assert document["info"]["title"] == "OCR (stub)" and document["paths"] == {"/ocr": {}}
    assert client.get("/__mockface/openapi/nope.json").get_json() == {
        "error": "no document 'nope': legacy, faceid, ocr or admin"}
    assert client.get("/__mockface/requests?endpoint=ocr:Read").status_code == 200
    refused = client.get("/__mockface/requests?endpoint=ocr:Write").get_json()["error"]
    assert refused.endswith(", or an OCR action such as ocr:Read)")


def test_the_dashboard_shows_a_products_rows_and_signs_for_it(ocr):
    _, client, emulator = ocr
    emulator.journal.record(time=1_800_000_000.0, endpoint="ocr:Read", appid=MAIN.appid,
                            fields={}, media={}, signature={}, rule="default",
                            http_status=200, code="Unreadable", data=None, fault=None,
                            detail=None, latency_ms=0.1)
    page = client.get("/__mockface/ui").get_data(as_text=True)
    assert '<option value="ocr:Read">ocr:Read</option>' in page  # the journal filter
    assert '<a href="openapi/ocr.json">OCR</a>' in page
    assert '<input type="radio" name="sign" value="ocr"> OCR</label>' in page
    assert '<select name="sign_ocr" aria-label="OCR action">' in page
    assert '<details class="row bad" data-id="1" data-endpoint="ocr:Read">' in page
    assert "HTTP 200, Verdict Unreadable" in page
    signed = client.get("/__mockface/ui?sign=ocr").get_data(as_text=True)
    assert f"curl http://localhost/ocr # {MAIN.appid} at " in signed
    assert '<input type="radio" name="sign" value="ocr" checked> OCR</label>' in signed


def test_a_misspelt_api_or_endpoint_of_a_legacy_endpoint_gives_its_codes(ocr):
    """``api`` names a catalogue only when no endpoint is given: the endpoint's product
    answers (``api=faceid&endpoint=livegetfour`` once failed with an internal error)."""
    _, client, _ = ocr
    answer = client.get("/__mockface/codes?api=faceid&endpoint=livegetfour")
    assert answer.status_code == 200
    assert answer.get_json() == client.get("/__mockface/codes?endpoint=livegetfour").get_json()
