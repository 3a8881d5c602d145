"""Property tests of the bank-card and ID element checks: whatever well-typed parameters a
call carries (each declared one absent or of its declared type, the required ones present),
the answer is a ``Result`` of the action's own table with every field of its type, or a
refusal whose Error.Code the catalogue documents -- never InternalError, never an
exception of another kind."""
from __future__ import annotations

import base64
import datetime
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockface.core.clock import Clock
from mockface.core.config import App, Settings
from mockface.core.elements import BINS, PREFIXES, with_luhn_digit
from mockface.core.identity import BankCard, IdentityRecord, Phone, Validity, with_check_digit
from mockface.emulator import Emulator
from mockface.products import REGISTRY
from mockface.products.faceid.flow_common import sample
from mockface.products.faceid.provider import FaceIdProvider
from mockface.products.tc3.params import Param
from mockface.products.tc3.request import Tc3Error

from .support import NOW

CATALOGUE = REGISTRY["tc3"].catalogue
APP = App("1300000003", {"AKIDproperties03": "properties-key"})
ACTIONS = ("BankCardVerification", "BankCard2EVerification", "BankCard4EVerification",
           "CheckBankCardInformation", "CheckIdNameDate", "IdCardOCRVerification",
           "CheckIdCardInformation", "MinorsVerification")
HOLDER = with_check_digit("44030419851120456")
CARD = with_luhn_digit("622202020011223344")
RECORD = IdentityRecord(HOLDER, "李四", (Phone("13800138000"),),
                        (BankCard(CARD), BankCard(with_luhn_digit("621700000000000007"),
                                                  status=7)),
                        Validity("20200101", "20400101"))

#: The type of each answer field (None: null allowed besides).
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "Result": (str,), "Description": (str,), "AccountBank": (str,), "AccountType": (int,),
    "AgeRange": (str,), "Name": (str,), "IdCard": (str,), "IdNum": (str,),
    "Sex": (str, type(None)), "Nation": (str, type(None)), "Birth": (str, type(None)),
    "Address": (str, type(None)), "Portrait": (str,), "Warnings": (str,),
    "Quality": (float,), "Sim": (float,), "Encryption": (dict, type(None)),
    "EncryptedBody": (str,)}


@pytest.fixture(scope="module", params=["consistent", "no_record"])
def actions(request):
    clock = Clock()
    clock.freeze(NOW)
    emulator = Emulator(Settings(apps=(APP,), identities={HOLDER: "李四"},
                                 identity_records={HOLDER: RECORD},
                                 sections={"unknown_identity": request.param}), clock)
    return emulator.handlers["tc3"].actions


# -- values ------------------------------------------------------------------------------------

digits = st.text(string.digits, max_size=22)
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
surrogates = st.text(st.characters(), max_size=10)
names = st.text(st.sampled_from("张三李四王五·小明"), max_size=8)
id_numbers = st.builds(
    lambda region, born, serial: with_check_digit(f"{region}{born:%Y%m%d}{serial:03d}"),
    st.sampled_from(["110105", "440304", "310104"]),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31)),
    st.integers(0, 999))
cards = st.builds(lambda entry, rest: with_luhn_digit((entry.bin + rest)[:entry.length - 1]),
                  st.sampled_from(BINS), st.text(string.digits, min_size=13, max_size=13))
phones = st.builds(lambda prefix, rest: prefix + rest,
                   st.sampled_from([p for group in PREFIXES.values() for p in group]),
                   st.text(string.digits, min_size=8, max_size=8))
dates = st.dates().map(lambda day: f"{day:%Y%m%d}") | st.just("00000000") | digits
images = st.sampled_from([sample("card-front.jpg"), sample("card-back.jpg"),
                          base64.b64encode(b"GIF89a\0\0").decode(), "", "%%%", "AAAA"])
configs = st.sampled_from(["", "{}", '{"CopyWarn": true}', '{"Quality": false, "X": 1}',
                           "{", "[]", '{"TempIdWarn": "yes"}', "null"])
texts = {
    "IdCard": id_numbers | st.just(HOLDER) | digits | any_text,
    "Name": names | st.just("李四") | any_text | surrogates,
    "BankCard": cards | st.just(CARD) | digits | any_text,
    "Phone": phones | digits | any_text,
    "Mobile": phones | st.just("13800138000") | digits | any_text,
    "ValidityBegin": dates | any_text, "ValidityEnd": dates | any_text,
    "ImageBase64": images, "ImageUrl": st.just("https://x.invalid/a.jpg") | any_text,
    "Config": configs | any_text, "Type": st.sampled_from(["0", "1"]),
}
json_values = st.recursive(st.none() | st.booleans() | st.integers() | any_text,
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(any_text, inner, max_size=3), max_leaves=6)


def value_of(param: Param) -> st.SearchStrategy:
    """A value of ``param``'s declared type."""
    if param.kind is str:
        return texts.get(param.name, any_text)
    if param.kind is int:
        return st.sampled_from([0, 0, 1, 2, -1]) | st.integers()
    if param.kind is bool:
        return st.booleans()
    if param.kind is dict:
        return st.dictionaries(st.sampled_from(["EncryptList", "CiphertextBlob", "Iv",
                                                "Algorithm", "TagList"]) | any_text,
                               json_values, max_size=4)
    return st.lists(json_values, max_size=3)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, dict]:
    action = draw(st.sampled_from(ACTIONS))
    params = {}
    for param in FaceIdProvider.declarations[action].params:
        if param.required or draw(st.booleans()):
            params[param.name] = draw(value_of(param))
    return action, params


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=calls())
def test_any_well_typed_call_answers_a_result_of_its_table(actions, call):
    action, params = call
    try:
        fields = actions.answer("faceid", action, "2018-03-01", APP.appid, params).fields
    except Tc3Error as error:
        assert error.code in CATALOGUE and error.code != "InternalError", (action, error)
        return
    if "EncryptedBody" in fields and action != "CheckIdCardInformation":
        return  # a body the caller asked to be encrypted (the envelope's own tests)
    table = FaceIdProvider.declarations[action].result_table
    assert table is not None
    assert fields["Result"] in table, (action, params, fields)
    assert fields["Description"] == table[fields["Result"]]
    for name, value in fields.items():
        assert isinstance(value, FIELD_TYPES[name]), (action, name, value)
        if name in ("Quality", "Sim"):
            assert 0 <= value <= 100
