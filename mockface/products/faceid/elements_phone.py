"""(being written) The phone element checks (要素核验) of faceid: a mixin of FaceIdProvider."""
from __future__ import annotations

import re
from typing import Any

from ..tc3.params import Param
from ..tc3.provider import Call, Refusal, action

#: A mainland mobile number: 11 digits on a 13x-19x prefix.
MOBILE = re.compile(r"1[3-9][0-9]{9}", re.ASCII)
_ENCRYPTION = Param("Encryption", kind=dict)


class PhoneElementActions:
    """The phone actions (declared with ``@action``)."""

    describe: Any  # Provider.describe

    @action(params=(Param("Mobile", required=True), _ENCRYPTION), match=("Mobile",),
            result_table={"0": "成功", "-1": "未查询到结果", "-2": "手机号格式不正确",
                          "-3": "验证中心服务繁忙", "-4": "认证次数超过当日限制，请次日重试",
                          "-13": "该号段不支持验证"},
            failure_fields={"StatusCode": 99})
    def MobileStatus(self, call: Call) -> dict[str, Any]:
        """``Result`` "0" with ``StatusCode`` 0 (in service) for a mainland mobile number;
        "-2" (StatusCode 99, unknown) for one that is not 11 digits on a 13x-19x prefix."""
        mobile = call.params["Mobile"]
        if not MOBILE.fullmatch(mobile):
            raise Refusal("-2", f"Mobile {mobile[:20]!r} is not a mainland mobile number")
        return {"Result": "0", "Description": self.describe("MobileStatus", "0"),
                "StatusCode": 0}

