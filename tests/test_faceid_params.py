"""Checks 12-14 of contract-faceid §2: missing, mistyped, out-of-set and unknown parameters."""
from __future__ import annotations

import pytest

from mockface.products.tc3.params import Param, check_params
from mockface.products.tc3.request import Tc3Error

SPEC = (Param("IdCard", required=True), Param("Name", required=True),
        Param("LivenessType", required=True, choices=("LIP", "ACTION", "SILENT")),
        Param("Optional"), Param("Encryption", kind=dict), Param("Count", kind=int))
GOOD = {"IdCard": "110105199003071239", "Name": "张三", "LivenessType": "LIP"}


def refusal(params) -> tuple[str, str]:
    with pytest.raises(Tc3Error) as caught:
        check_params(params, SPEC)
    return caught.value.code, caught.value.message


def test_good_parameters_pass_through():
    assert check_params({**GOOD, "Encryption": {"A": 1}, "Count": 2}, SPEC) == \
        {**GOOD, "Encryption": {"A": 1}, "Count": 2}


@pytest.mark.parametrize("params,code,message", [
    ({"Name": "张三", "LivenessType": "LIP"}, "MissingParameter",
     "The parameter `IdCard` is missing."),
    ({**GOOD, "IdCard": ""}, "MissingParameter", "The parameter `IdCard` is missing."),
    ({**GOOD, "Name": 5}, "InvalidParameter", "The type of the parameter `Name` is wrong."),
    ({**GOOD, "Count": True}, "InvalidParameter", "The type of the parameter `Count` is wrong."),
    ({**GOOD, "Encryption": "x"}, "InvalidParameter",
     "The type of the parameter `Encryption` is wrong."),
    ({**GOOD, "LivenessType": "VOICE"}, "InvalidParameterValue",
     "The value of the parameter `LivenessType` is invalid."),
    ({**GOOD, "Colour": "red"}, "UnknownParameter",
     "The parameter `Colour` is not recognised."),
])
def test_each_refusal(params, code, message):
    assert refusal(params) == (code, message)


def test_the_order_is_missing_then_type_then_unknown():
    assert refusal({"Name": 5, "Colour": 1})[0] == "MissingParameter"
    assert refusal({**GOOD, "Name": 5, "Colour": 1})[0] == "InvalidParameter"
