"""Helpers of the token-flow action tests (tests/test_flow_*.py): an emulator with the flows'
test config on a frozen clock, TC3-signed calls through Flask's test client signed at the
emulator's time, the check of an answer against the SDK's response model (every field
present, nothing more, each of its documented type), and Tencent's official SDK against a
background server."""
from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import faceid_client, models

from mockface.core.clock import Clock
from mockface.core.config import App
from mockface.emulator import Emulator
from mockface.products.faceid.config import Merchant, Rule
from mockface.products.faceid.flows import flows_of
from mockface.products.tc3.signature import sign_tc3
from mockface.scenarios import parse_scenario_text
from mockface.web.app import create_app
from mockface.web.server import start_background

from .redis_server import open_state
from .support import BUCKETED, ID_NAME, ID_NUMBER, MAIN, media, make_settings

HOST = "faceid.tencentcloudapi.com"
#: The public URL the user pages are announced on (``--public-url``).
PUBLIC = "http://mockface.test"
DETECT_WINDOW, EID_WINDOW, APP_WINDOW = 7200, 600, 600
READ_WINDOW = 3 * 24 * 3600
IDENTITY = {"IdCard": ID_NUMBER, "Name": ID_NAME}
MASKED_NAME = ID_NAME[0] + "*" * (len(ID_NAME) - 1)
MASKED_NUMBER = ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]
TOKEN = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")
NEVER_ISSUED = "CE661F1A-0F1E-45BD-BE13-34C05CEA7681"
IMAGE = base64.b64encode(media("face.jpg")).decode()

#: The apps' configured RuleIds beside the built-in "1" (identity, SILENT) and "2" (OCR).
RULES = {"3": Rule("3", needs_identity=True, liveness="LIP"),
         "4": Rule("4", needs_identity=False, ocr=True, liveness="ACTION"),
         "5": Rule("5", disabled=True)}
BUILTIN_MERCHANT = "0NSJ2106111700001"
RETURNING_MERCHANT = "0NSJ2106111700002"  # return_identity: true
MERCHANTS = {RETURNING_MERCHANT: Merchant(RETURNING_MERCHANT, return_identity=True)}
FLOW_MAIN = dataclasses.replace(MAIN, sections={"rules": RULES, "merchants": MERCHANTS})
#: Another app: its SecretId must not reach FLOW_MAIN's tokens.
OTHER = BUCKETED


def flow_settings(**changes: Any):
    """The test settings with FLOW_MAIN's rules and merchants and PUBLIC as public URL."""
    changes.setdefault("public_url", PUBLIC)
    return make_settings(apps=(FLOW_MAIN, OTHER), **changes)


class Api:
    """One emulator on ``clock`` (frozen) and a Flask test client calling its API 3.0
    actions, each call signed at the emulator's current time."""

    def __init__(self, clock: Clock, state_url: str | None = None, **changes: Any) -> None:
        """``state_url``: keep the state on that Redis (a state opened for the test) instead
        of in memory; ``self.clock`` is then the state's shared clock, frozen at
        ``clock.now()`` (advance that one)."""
        settings = flow_settings(**changes)
        state = None if state_url is None else open_state(state_url, settings)
        self.emulator = Emulator(settings, clock, state=state)
        self.clock = self.emulator.clock
        if state is not None:
            self.clock.freeze(clock.now())
        self.client = create_app(emulator=self.emulator).test_client()
        self.flows = flows_of(self.emulator)

    def __call__(self, action: str, params: Mapping[str, Any] | None = None,
                 app: App = FLOW_MAIN) -> dict[str, Any]:
        """The ``Response`` object of one signed call (the HTTP answer must be 200 JSON)."""
        secret_id, secret_key = app.first_secret
        body = json.dumps(dict(params or {})).encode()
        signed = sign_tc3(secret_id, secret_key, service="faceid", host=HOST, action=action,
                          timestamp=int(self.clock.now()), body=body)
        response = self.client.post("/", data=body, headers=signed)
        assert response.status_code == 200, response.data[:300]
        assert response.headers["Content-Type"] == "application/json"
        return response.get_json()["Response"]

    def ok(self, action: str, params: Mapping[str, Any] | None = None,
           app: App = FLOW_MAIN) -> dict[str, Any]:
        """The answer of a call that must succeed."""
        answer = self(action, params, app)
        assert "Error" not in answer, answer["Error"]
        return answer

    def error(self, action: str, params: Mapping[str, Any] | None = None,
              app: App = FLOW_MAIN) -> tuple[str, str]:
        """(Code, Message) of a call that must fail."""
        answer = self(action, params, app)
        assert "Error" in answer, answer
        assert set(answer) == {"Error", "RequestId"}
        return answer["Error"]["Code"], answer["Error"]["Message"]

    def code(self, action: str, params: Mapping[str, Any] | None = None,
             app: App = FLOW_MAIN) -> str:
        """The error Code of a call that must fail."""
        return self.error(action, params, app)[0]

    def complete(self, token: str, **request: Any) -> dict[str, Any]:
        """Finish ``token`` through the engine with ``request`` (err_code 0 unless it
        gives a code or attempts); the call must win.  Returns the record's outcome."""
        if "attempts" not in request:
            request.setdefault("err_code", 0)
        state, record = self.flows.complete(token, request)
        assert state == "finished", state
        assert record is not None and record.outcome is not None
        return record.outcome

    def open(self, token: str) -> None:
        """What the user page's first GET does."""
        assert self.flows.open(token) is not None

    def activate(self, text: str) -> None:
        """Activate an inline scenario (YAML text)."""
        self.emulator.scenarios.activate(parse_scenario_text(text))


# -- the SDK's models ----------------------------------------------------------------------

_TYPE = re.compile(r":type (\w+): (.+)")


def field_types(model: str) -> dict[str, str]:
    """The fields of the SDK model ``model`` and their documented types (``int``, ``str``,
    ``list of DetectDetail``, ``:class:`...DetectInfoText```)."""
    doc = getattr(models, model).__init__.__doc__ or ""
    return {name: kind.strip() for name, kind in _TYPE.findall(doc)}


def assert_model(model: str, value: Any, where: str | None = None) -> None:
    """``value`` has exactly the fields of the SDK model ``model`` (recursively), each null
    or of its documented type; and the SDK reads it."""
    where = where or model
    types = field_types(model)
    assert types, f"no SDK model {model}"
    assert isinstance(value, dict), f"{where}: {value!r:.80} is not an object"
    assert not set(types) - set(value), f"{where}: missing {sorted(set(types) - set(value))}"
    assert not set(value) - set(types), f"{where}: not in the SDK's model " \
                                        f"{sorted(set(value) - set(types))}"
    for name, kind in types.items():
        _assert_type(kind, value[name], f"{where}.{name}")
    getattr(models, model)()._deserialize(value)


def _assert_type(kind: str, value: Any, where: str) -> None:
    if value is None:
        return
    if kind.startswith("list of "):
        assert isinstance(value, list), f"{where}: {value!r:.80} is not a list"
        for index, item in enumerate(value):
            _assert_type(kind[len("list of "):], item, f"{where}[{index}]")
    elif kind.startswith(":class:"):
        assert_model(kind.rsplit(".", 1)[1].rstrip("`"), value, where)
    elif kind in ("int", "float"):
        assert isinstance(value, (int, float) if kind == "float" else int) and \
            not isinstance(value, bool), f"{where}: {value!r:.80} is not {kind}"
    elif kind == "str":
        assert isinstance(value, str), f"{where}: {value!r:.80} is not str"
    elif kind == "bool":
        assert isinstance(value, bool), f"{where}: {value!r:.80} is not bool"
    else:
        assert isinstance(value, (dict, list)), f"{where}: unknown SDK type {kind}"
        for model in re.findall(r"\b([A-Z]\w+)\b", kind):
            if hasattr(models, model) and isinstance(value, dict):
                assert_model(model, value, where)


def all_null(block: Mapping[str, Any] | None) -> bool:
    """Whether ``block`` is an object whose members are all null."""
    return isinstance(block, dict) and bool(block) and all(v is None for v in block.values())


def is_image(text: Any) -> bool:
    """Whether ``text`` is base64 of a JPEG or PNG."""
    if not isinstance(text, str) or not text:
        return False
    data = base64.b64decode(text)
    return data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n"


def is_video(text: Any) -> bool:
    """Whether ``text`` is base64 of an MP4 (an ``ftyp`` box first)."""
    return isinstance(text, str) and bool(text) and base64.b64decode(text)[4:8] == b"ftyp"


def ms(seconds: float) -> str:
    """A ReqTime: the 13-digit milliseconds of ``seconds``."""
    return str(int(seconds * 1000))


# -- Tencent's SDK against a real server ----------------------------------------------------

@contextmanager
def sdk_server(**changes: Any) -> Iterator[tuple[Any, Emulator]]:
    """A background server on a free loopback port over an emulator on real time with the
    flow settings; yields (server, emulator)."""
    emulator = Emulator(flow_settings(**changes))
    server = start_background(create_app(emulator=emulator))
    try:
        yield server, emulator
    finally:
        server.stop()


def sdk_client(server: Any, app: App = FLOW_MAIN) -> faceid_client.FaceidClient:
    """Tencent's typed faceid client pointed at ``server`` with ``app``'s first secret."""
    secret_id, secret_key = app.first_secret
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}")
    return faceid_client.FaceidClient(credential.Credential(secret_id, secret_key), "",
                                      ClientProfile(httpProfile=http))


def sdk_request(action: str, **params: Any) -> Any:
    """The SDK's request model of ``action`` filled from ``params``."""
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return request


def sdk_json(answer: Any) -> dict[str, Any]:
    """An SDK response model as the JSON object it was read from."""
    return json.loads(answer.to_json_string())
