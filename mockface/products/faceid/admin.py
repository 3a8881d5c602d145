"""The admin routes of the verification tokens (mounted under ``/__mockface/`` by the web
layer): list and read the tokens of the three flows, open one as the user page would, and
finish one without a browser::

    GET  /__mockface/verifications?flow=detect&state=issued&appid=1250000000
    GET  /__mockface/verifications/<token>
    POST /__mockface/verifications/<token>/open
    POST /__mockface/verifications/<token>/complete   {"err_code": 0}

Each answers the record as ``Flows.view`` shows it; an unknown token (or one past its
three-day read window) is 404, a completion of a finished or expired token 409, an invalid
completion 400."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.logs import log_admin
from ...core.surface import AdminError, Arg, Arguments, Route
from ...core.yamlsource import show
from .flows import ALREADY, FLOWS, MAX_ATTEMPTS, STATES, TOO_LATE, UNKNOWN, Flows, flows_of

if TYPE_CHECKING:
    from ...core.product import Services

#: The arguments of a completion, as the body of ``…/complete`` gives them.
COMPLETION_ARGS = (
    Arg("err_code", int, "The final ErrCode: 0 (pass) or a code of the flow's table "
                         "(give this or attempts)."),
    Arg("attempts", list, f"Instead of err_code: 1 to {MAX_ATTEMPTS} attempts, each "
                          '{"err_code": N} with an optional "sim"; the last is the final one.'),
    Arg("sim", str, 'The final Sim, "NN.NN" (default: from the identity and the seed).'),
    Arg("identity", dict, 'On an OCR rule: {"IdCard", "Name"} the ID card shows (default: '
                          "a generated valid identity)."),
    Arg("intention_code", int, "The intention check's code (default 0: passed)."),
)


def verifications(services: Services, args: Arguments) -> dict[str, Any]:
    """The readable tokens (of one flow, in one state, of one appid: each filter when
    given), the last issued first."""
    flows = flows_of(services)
    appid = args.appid()
    flow, state = args.get("flow"), args.get("state")
    if flow is not None and flow not in FLOWS:
        raise AdminError(400, f"flow must be one of {', '.join(FLOWS)}, not {show(flow)}")
    if state is not None and state not in STATES:
        raise AdminError(400, f"state must be one of {', '.join(STATES)}, not {show(state)}")
    return {"verifications": [flows.view(record)
                              for record in flows.records(appid, flow, state)]}


def verification(services: Services, args: Arguments, token: str) -> dict[str, Any]:
    """One token's record."""
    flows = flows_of(services)
    return flows.view(_record(flows, token))


def open_verification(services: Services, args: Arguments, token: str) -> dict[str, Any]:
    """Open a token as its user page does (``issued`` becomes ``opened`` inside its user
    window; any other token stays as it is)."""
    flows = flows_of(services)
    _record(flows, token)
    record = flows.open(token)
    if record is None:  # forgotten in between: its read window ended
        raise AdminError(404, _unknown(token))
    return flows.view(record)


def complete_verification(services: Services, args: Arguments, token: str
                          ) -> dict[str, Any]:
    """Finish a token with the outcome the body gives; 409 (with the record) when it is
    finished already or its user window is over."""
    flows = flows_of(services)
    request = {arg.name: value for arg in COMPLETION_ARGS
               if (value := args.get(arg.name)) is not None}
    try:
        result, record = flows.complete(token, request)
    except ValueError as error:
        raise AdminError(400, f"invalid completion: {error}") from None
    if result == UNKNOWN or record is None:
        raise AdminError(404, _unknown(token))
    if result in (ALREADY, TOO_LATE):
        why = "is finished already" if result == ALREADY else "has expired (its user " \
            "window is over)"
        raise AdminError(409, f"verification {record.token} {why}",
                         verification=flows.view(record))
    outcome = record.outcome or {}
    log_admin("verification completed", token=record.token, flow=record.flow,
              appid=record.appid, err_code=outcome.get("err_code"))
    return flows.view(record)


def _record(flows: Flows, token: str) -> Any:
    """The readable record of ``token``; AdminError 404 otherwise."""
    record = flows.get(token)
    if record is None:
        raise AdminError(404, _unknown(token))
    return record


def _unknown(token: str) -> str:
    return f"unknown verification token {show(token)} (never issued, or past its " \
           "3-day read window)"


_TOKEN = "The verification token (BizToken, EidToken or FaceIdToken)."
ROUTES = (
    Route("verifications", ("GET",), verifications,
          "The verification tokens of the token flows, the last issued first.",
          (Arg("flow", str, f"Only this flow's: {', '.join(FLOWS)}."),
           Arg("state", str, f"Only those in this state: {', '.join(STATES)}."),
           Arg("appid", str, "Only this appid's.")), errors=(404,)),
    Route("verifications/<token>", ("GET",), verification,
          f"One verification token's record. {_TOKEN}", errors=(404,)),
    Route("verifications/<token>/open", ("POST",), open_verification,
          "Open a verification token as its user page does.", errors=(404,)),
    Route("verifications/<token>/complete", ("POST",), complete_verification,
          "Finish a verification token with an outcome, as its user page does (once: a "
          "finished token never changes).", COMPLETION_ARGS, errors=(404, 409)),
)
