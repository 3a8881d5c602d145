"""The API 3.0 actions, as an emulated backend: parameters checked, then answered from the
same rules and state as the legacy API (identity checks, the identity registry, lip codes).

Implemented so far: ``GetLiveCode``, ``GetActionSequence`` and ``IdCardVerification``.
Each handler takes the calling app's appid and the checked parameters and returns the
``Response`` fields (without ``RequestId``); a refused call raises FaceIdError.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.clock import Clock
from ..core.identity import valid_number, well_formed_name, well_formed_number
from ..core.state import IdentityRegistry, LipCodeBook, action_order
from .params import Param, check_params
from .request import FaceIdError

#: IdCardVerification results and their descriptions (the official SDK's models.py).
ID_RESULTS = {
    "0": "姓名和身份证号一致",
    "-1": "姓名和身份证号不一致",
    "-2": "非法身份证号（长度、校验位等不正确）",
    "-3": "非法姓名（长度、格式等不正确）",
    "-4": "证件库服务异常",
    "-5": "证件库中无此身份证记录",
    "-6": "权威比对系统升级中，请稍后再试",
    "-7": "认证次数超过当日限制",
}


@dataclass(frozen=True)
class Action:
    """An action's parameters and the method of FaceIdActions that answers it."""

    params: tuple[Param, ...]
    handler: str


ACTIONS: dict[str, Action] = {
    "GetLiveCode": Action((), "get_live_code"),
    "GetActionSequence": Action((Param("ActionType"),), "get_action_sequence"),
    "IdCardVerification": Action((Param("IdCard", required=True),
                                  Param("Name", required=True),
                                  Param("Encryption", kind=dict)), "id_card_verification"),
}


class FaceIdActions:
    """Answers API 3.0 actions with the state the legacy endpoints use too."""

    def __init__(self, lip_codes: LipCodeBook, identities: IdentityRegistry, clock: Clock,
                 check_idcard: bool = True, action_sequences: LipCodeBook | None = None) -> None:
        self.lip_codes = lip_codes
        self.action_sequences = action_sequences if action_sequences is not None else \
            LipCodeBook(lip_codes.seed, make=action_order, namespace="actions:")
        self.identities = identities
        self.clock = clock
        self.check_idcard = check_idcard

    def answer(self, action: str, appid: str, params: dict[str, Any]) -> dict[str, Any]:
        """Check ``params`` for ``action`` and answer it (FaceIdError when refused)."""
        definition = ACTIONS.get(action)
        if definition is None:
            raise FaceIdError("InvalidAction", f"{action[:40]!r} is not emulated yet")
        handler: Callable[[str, dict[str, Any]], dict[str, Any]] = \
            getattr(self, definition.handler)
        return handler(appid, check_params(params, definition.params))

    def get_live_code(self, appid: str, params: dict[str, Any]) -> dict[str, Any]:
        """Four digits, remembered per app like the legacy ``livegetfour``'s."""
        return {"LiveCode": self.lip_codes.issue(appid)}

    def get_action_sequence(self, appid: str, params: dict[str, Any]) -> dict[str, Any]:
        """``1,2`` or ``2,1``, remembered per app for the ACTION liveness checks."""
        return {"ActionSequence": self.action_sequences.issue(appid)}

    def id_card_verification(self, appid: str, params: dict[str, Any]) -> dict[str, Any]:
        """``Result`` "0" when number and name are valid and agree with the registry;
        "-2" for a malformed number (or checksum/birth date with check_idcard), "-3" for a
        malformed name, "-1" for a name the registry does not hold for the number."""
        number, name = params["IdCard"], params["Name"]
        today = self.clock.today()
        if not well_formed_number(number) or \
                (self.check_idcard and not valid_number(number, today)):
            result = "-2"
        elif not well_formed_name(name):
            result = "-3"
        elif self.identities.name_for(number) not in (None, name):
            result = "-1"
        else:
            result = "0"
        return {"Result": result, "Description": ID_RESULTS[result]}
