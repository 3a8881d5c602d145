"""The admin routes this product adds (mounted under ``/__mockface/`` by the web layer): the
lip codes issued, and the identity registry the ID checks answer from."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.identity import well_formed_name, well_formed_number
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
    """Register who an ID number belongs to (a different name then answers -5803)."""
    number = args.get("idcard_number")
    name = args.get("idcard_name")
    if number is None or name is None:
        raise AdminError(400, "idcard_number and idcard_name are required")
    if not well_formed_number(number):
        raise AdminError(400, "idcard_number must be 17 digits and a digit or X")
    if not well_formed_name(name):
        raise AdminError(400, "idcard_name must be 2 to 30 Chinese characters")
    appid = args.appid()
    services.state.store(IDENTITIES).add(number, name, appid)
    log_admin("identity registered", idcard_number=number, appid=appid)
    return {"idcard_number": number, "idcard_name": name, "appid": appid}, 201


ROUTES = (
    Route("lip-codes", ("GET",), lip_codes, "The lip codes issued, per appid.",
          (Arg("appid", str, "Only this appid's."),), errors=(404,)),
    Route("identities", ("POST",), add_identity,
          "Register who an ID number belongs to (another name then answers -5803).",
          (Arg("idcard_number", str, "18 characters: 17 digits and a digit or X.",
               required=True),
           Arg("idcard_name", str, "2 to 30 Chinese characters.", required=True),
           Arg("appid", str, "Register for this appid (its reset forgets it).")),
          status=201, errors=(404,)),
)
