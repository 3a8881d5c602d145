"""Property tests for API 3.0 on ``/``: whatever the method, headers, query or body — and
whatever parameters a correctly signed call carries — the answer is HTTP 200, exactly
``application/json``, a ``Response`` with a uuid ``RequestId`` and either an ``Error`` whose
code the catalogue documents (never ``InternalError``) or the action's fields."""
from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockface.core.clock import Clock
from mockface.emulator import Emulator
from mockface.faceid.actions import ACTIONS
from mockface.faceid.catalogue import CATALOGUE
from mockface.faceid.signature import sign_tc3
from mockface.web.app import create_app

from .support import MAIN, NOW, make_settings

SECRET_ID, SECRET_KEY = next(iter(MAIN.secrets.items()))
TARGETS = sorted(f"{product}:{action}" for product, action in ACTIONS)
PARAMETERS = sorted({param.name for action in ACTIONS.values() for param in action.params})

any_text = st.text(st.characters(blacklist_categories=()), max_size=40)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | any_text
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(any_text, inner, max_size=3), max_leaves=8)
header_names = st.sampled_from(["Authorization", "X-TC-Action", "X-TC-Version",
                                "X-TC-Timestamp", "X-TC-Language", "X-TC-Token",
                                "Content-Type", "X-TC-Content-SHA256"])
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)


@pytest.fixture(scope="module")
def client():
    clock = Clock()
    clock.freeze(NOW)
    return create_app(emulator=Emulator(make_settings(), clock)).test_client()


def assert_documented(response) -> dict:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    answer = json.loads(response.data)["Response"]
    assert uuid.UUID(answer["RequestId"])
    if "Error" in answer:
        assert answer["Error"]["Code"] in CATALOGUE
        assert answer["Error"]["Code"] != "InternalError", answer
    return answer


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST"]), headers=st.dictionaries(header_names,
       header_values, max_size=6), query=st.text(max_size=60), body=st.binary(max_size=300))
def test_any_request_gets_the_envelope(client, method, headers, query, body):
    response = client.open("/", method=method, headers=headers, data=body,
                           query_string=query)
    assert_documented(response)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS),
       params=st.dictionaries(st.sampled_from(PARAMETERS) | any_text, json_values, max_size=5))
def test_any_parameters_of_a_signed_call_get_a_documented_answer(client, target, params):
    product, action = target.split(":")
    body = json.dumps(params).encode()
    signed = sign_tc3(SECRET_ID, SECRET_KEY, service=product, host="localhost", action=action,
                      timestamp=NOW, body=body,
                      version="2020-03-03" if product == "iai" else "2018-03-01")
    answer = assert_documented(client.post("/", data=body, headers=signed))
    if "Error" not in answer and "Result" in answer:
        assert answer["Result"] in CATALOGUE or answer["Result"] in ("Success", "0", "-1",
                                                                     "-2", "-3")
