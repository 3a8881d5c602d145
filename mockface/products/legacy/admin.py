"""The admin routes this product adds (mounted under ``/__mockface/`` by the web layer): the
lip codes issued, and the identity registry the ID checks answer from."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.identity import (
    EXTRA_KEYS,
    IdentityRecord,
    RecordError,
    check_extras,
    well_formed_name,
    well_formed_number,
)
from ...core.logs import log_admin
from ...core.surface import AdminError, Arg, Arguments, Route
from .stores import IDENTITIES, LIP_CODES

if TYPE_CHECKING:
    from ...core.product import Services


def lip_codes(services: Services, args: Arguments) -> dict[str, Any]:
    """The lip codes issued: to one appid, or to each."""
    appid = args.appid()
    book = services.state.store(LIP_CODES)
    if appid is not None:
        return {"lip_codes": {appid: book.issued(appid)}}
    return {"lip_codes": book.all_issued()}


def add_identity(services: Services, args: Arguments) -> tuple[dict[str, Any], int]:
    """Register who an ID number belongs to (a different name then answers -5803), with the
    phones, bank cards and ID validity dates the element checks answer from; the record
    registered, as config files write it, and the appid."""
    number = args.get("idcard_number")
    name = args.get("idcard_name")
    if number is None or name is None:
        raise AdminError(400, "idcard_number and idcard_name are required")
    if not well_formed_number(number):
        raise AdminError(400, "idcard_number must be 17 digits and a digit or X")
    if not well_formed_name(name):
        raise AdminError(400, "idcard_name must be 2 to 30 Chinese characters")
    try:
        extras = check_extras({key: args.get(key) for key in EXTRA_KEYS})
    except RecordError as error:
        raise AdminError(400, str(error)) from None
    record = IdentityRecord(number, name, **extras)
    appid = args.appid()
    services.state.store(IDENTITIES).add_record(record, appid)
    log_admin("identity registered", idcard_number=number, appid=appid)
    return {**record.as_dict(), "appid": appid}, 201


ROUTES = (
    Route("lip-codes", ("GET",), lip_codes, "The lip codes issued, per appid.",
          (Arg("appid", str, "Only this appid's."),), errors=(404,)),
    Route("identities", ("POST",), add_identity,
          "Register who an ID number belongs to (another name then answers -5803), with "
          "the phones, bank cards and validity dates the element checks answer from.",
          (Arg("idcard_number", str, "18 characters: 17 digits and a digit or X.",
               required=True),
           Arg("idcard_name", str, "2 to 30 Chinese characters.", required=True),
           Arg("phones", list, "The person's mobile numbers: each a number (11 digits on a "
               "mainland segment; the carrier follows from it) or an object {number, "
               "status (MobileStatus StatusCode: 0 正常, 1 停机, 2 销号, 4 不在网, 5 在网但不可用, "
               "99 未知; default 0), months (in service; default 36)}."),
           Arg("bank_cards", list, "The person's bank cards: objects {number (16-19 digits, "
               "valid Luhn digit), bank (AccountBank text; default: from the BIN), type "
               "(1 借记卡, 2 贷记卡, 3 预付费卡, 4 准贷记卡; default: from the BIN, else 1), "
               "status (0 正常, 1 未开通无卡支付, 2 此卡被没收, 3 无效卡号, 4 无对应发卡行, "
               "5 未初始化或睡眠卡, 6 作弊卡/吞卡, 7 已挂失, 8 已过期, 9 受限制的卡, "
               "10 密码错误次数超限, 11 发卡行不支持此交易, 12 卡状态异常; default 0)}."),
           Arg("validity", dict, "The ID card's validity dates {begin: YYYYMMDD, end: "
               "YYYYMMDD or 00000000 (long-term)}."),
           Arg("appid", str, "Register for this appid (its reset forgets it).")),
          status=201, errors=(404,)),
)
