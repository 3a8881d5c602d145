"""A new product is a provider or a product object plus a registry entry, with no edit in
core, web, cli or the plugin: a stub API 3.0 service ``ocr`` (one provider, one declared
action, one code of its own) on the tc3 platform, and a stub product of its own protocol
(``POST /stub/ping``) -- both defined here, registered in a test registry and served over
the real app."""
from __future__ import annotations

import json
from typing import Any

import pytest

from mockface.core.product import Exchange, Registry, Rendered, Request
from mockface.core.scenarios.model import Response
from mockface.core.surface import Names, OpenApiDocument
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.iai.provider import IaiProvider
from mockface.products.legacy.product import PRODUCT as LEGACY
from mockface.products.tc3.catalogue import Tc3Code
from mockface.products.tc3.params import Param
from mockface.products.tc3.product import Tc3Product
from mockface.products.tc3.provider import Call, Provider, action
from mockface.signing import sign_tc3
from mockface.web.app import create_app

from .support import MAIN, NOW, make_settings

OCR_HOST = "ocr.tencentcloudapi.com"
TEXT = [{"DetectedText": "mockface", "Confidence": 99}]


# -- an API 3.0 service: one provider --------------------------------------------------------

class OcrProvider(Provider):
    """``ocr`` 2018-11-19 with one action answering fixed fields."""

    service = "ocr"
    hosts = (OCR_HOST,)
    versions = ("2018-11-19",)
    match_fields = ("ImageUrl",)
    codes = (Tc3Code("FailedOperation.ImageNoText", "图片中未检测到文本。",
                     "No text was detected in the image."),)

    @action(params=(Param("ImageBase64", media=True), Param("ImageUrl"),
                    Param("LanguageType")))
    def GeneralBasicOCR(self, call: Call) -> dict[str, Any]:
        return {"TextDetections": TEXT, "Language": call.params.get("LanguageType") or "zh",
                "Angel": 0.0}


# -- a product of its own protocol -----------------------------------------------------------

class StubSurface:
    names = Names(document="stub", document_label="Stub", document_about="the stub",
                  endpoint="the stub's ping", example="stub:ping")
    signer = None

    def catalogue(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        return []

    def openapi(self) -> OpenApiDocument:
        return OpenApiDocument("stub", "One ping.", {}, [], {"/stub/ping": {}})

    def admin_routes(self) -> tuple[Any, ...]:
        return ()

    def targets(self) -> tuple[str, ...]:
        return ("stub:ping",)

    def journals(self, endpoint: str) -> bool:
        return endpoint == "stub:ping"

    def failed(self, entry: Any) -> bool:
        return False

    def code_label(self, entry: Any, error: bool) -> str:
        return "Code"

    def cli_commands(self) -> tuple[Any, ...]:
        return ()


class StubDialect:
    subject = "the stub's ping"
    targets = ("stub:ping",)
    wildcards = {"stub:*": ("stub:ping",)}
    match_fields: tuple[str, ...] = ()
    response_keys = ("delay_ms",)
    allows_before_auth = False

    def response(self, checker: Any, entry: dict, line: int,
                 targets: frozenset[str]) -> Response | None:
        checker.problem(line, "the stub answers no rules")
        return None


class PingExchange(Exchange):
    @property
    def code(self) -> Any:
        return "pong"

    def journal_values(self) -> dict[str, Any]:
        return {"fields": {}, "media": {}, "signature": {}, "data": {"pong": True},
                "message": None, "headers": self.headers}


class StubHandler:
    def begin(self, request: Request) -> Exchange:
        return PingExchange(endpoint="stub:ping")

    def handle(self, exchange: Exchange, request: Request) -> None:
        request.stream.read()

    def unavailable(self, exchange: Exchange, error: Exception) -> None:
        pass

    def unexpected(self, exchange: Exchange, error: Exception) -> None:
        pass

    def render(self, exchange: Exchange) -> Rendered:
        return Rendered(200, "application/json", b'{"pong":true}')

    def reset(self, appid: str | None) -> None:
        pass


class StubProduct:
    """A minimal ``core.product.Product``: ``POST /stub/ping`` answers ``{"pong": true}``."""

    name = "stub"
    hosts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    methods = ("POST",)
    max_body = 1024
    dialect = StubDialect()
    surface = StubSurface()
    cli_apis: tuple[Any, ...] = ()
    helpers: dict[str, Any] = {}
    stores: tuple[Any, ...] = ()

    def owns(self, path: str) -> bool:
        return path == "/stub/ping"

    def endpoints(self) -> tuple[str, ...]:
        return ("stub:ping",)

    def example(self, settings: Any, url: str, ca_cert: str | None) -> list[str]:
        return []

    def bind(self, services: Any) -> StubHandler:
        return StubHandler()

    def error(self, status: int, message: str, headers: tuple = ()) -> Rendered:
        return Rendered(status, "text/plain", message.encode(), headers)

    def fault_body(self, kind: str) -> tuple[str, bytes]:
        return "text/plain", b""


@pytest.fixture
def served():
    """A test client of a server of the test registry, and its emulator."""
    registry = Registry(LEGACY, Tc3Product(FaceIdProvider, IaiProvider, OcrProvider),
                        StubProduct())
    emulator = Emulator(make_settings(), registry=registry)
    emulator.clock.freeze(NOW)
    return create_app(emulator=emulator).test_client(), emulator


def ocr(client, params: dict, action: str = "GeneralBasicOCR") -> dict:
    secret_id, secret_key = next(iter(MAIN.secrets.items()))
    body = json.dumps(params).encode()
    headers = sign_tc3(secret_id, secret_key, service="ocr", host=OCR_HOST, action=action,
                       timestamp=NOW, body=body, version="2018-11-19")
    response = client.post("/", data=body, headers=headers)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json")
    return response.get_json()["Response"]


def test_the_ocr_action_is_served_and_journaled(served):
    client, emulator = served
    answer = ocr(client, {"ImageUrl": "https://x.invalid/a.png", "LanguageType": "en"})
    assert answer.pop("RequestId")
    assert answer == {"TextDetections": TEXT, "Language": "en", "Angel": 0.0}
    entry = emulator.journal.query(endpoint="ocr:GeneralBasicOCR")[-1]
    assert (entry.appid, entry.code, entry.http_status) == (MAIN.appid, "Success", 200)
    assert entry.fields == {"ImageUrl": "https://x.invalid/a.png", "LanguageType": "en"}


def test_the_platform_checks_the_ocr_call(served):
    client, _ = served
    assert ocr(client, {"Image": "x"})["Error"]["Code"] == "UnknownParameter"
    assert ocr(client, {}, action="Nope")["Error"]["Code"] == "InvalidAction"
    assert ocr(client, {"LanguageType": 3})["Error"]["Code"] == "InvalidParameter"


def test_a_scenario_rule_targets_the_ocr_action_with_its_own_code(served):
    client, emulator = served
    emulator.scenarios.activate(emulator.scenarios.parser.parse_text("""
rules:
  - endpoint: ocr:GeneralBasicOCR
    match: {ImageUrl: "https://x.invalid/blank.png"}
    respond: {error: FailedOperation.ImageNoText}
  - endpoint: "ocr:*"
    match: {ImageUrl: "https://x.invalid/slow.png"}
    respond: {delay_ms: 1}
""", "<inline>", "inline"))
    answer = ocr(client, {"ImageUrl": "https://x.invalid/blank.png"})
    assert answer["Error"] == {"Code": "FailedOperation.ImageNoText",
                               "Message": "图片中未检测到文本。"}
    assert ocr(client, {"ImageUrl": "https://x.invalid/slow.png"})["TextDetections"] == TEXT
    rules = [entry.rule for entry in emulator.journal.query(endpoint="ocr:GeneralBasicOCR")]
    assert rules == ["inline#1", "inline#2"]


def test_the_other_products_still_answer(served):
    client, _ = served
    secret_id, secret_key = next(iter(MAIN.secrets.items()))
    headers = sign_tc3(secret_id, secret_key, service="faceid", host="faceid.tencentcloudapi.com",
                       action="GetLiveCode", timestamp=NOW)
    assert len(client.post("/", data=b"{}", headers=headers).get_json()["Response"]
               ["LiveCode"]) == 4


def test_a_product_of_its_own_protocol_is_served_and_journaled(served):
    client, emulator = served
    response = client.post("/stub/ping", data=b"hello")
    assert (response.status_code, response.get_json()) == (200, {"pong": True})
    refused = client.get("/stub/ping")
    assert (refused.status_code, refused.headers["Allow"]) == (405, "POST")
    entry = emulator.journal.query(endpoint="stub:ping")[-1]
    assert (entry.code, entry.http_status, entry.data) == ("pong", 200, {"pong": True})


def test_the_registered_products_are_untouched():
    assert [product.name for product in REGISTRY] == ["legacy", "tc3"]
    assert "ocr" not in REGISTRY["tc3"].services
