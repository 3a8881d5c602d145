"""What the verification flows add to the pytest handle: finish a token without a browser
(``mockface.complete(token, err_code=2016)``), list the tokens (``mockface.verifications()``)
and finish every new token at once (``mockface.auto_complete(err_code=0)``), all through
the admin API, so they work the same in-process and attached to a shared server."""
from __future__ import annotations

from typing import Any

from ...core.product import Helper
from .config import check_auto_complete
from .outcome_rule import ISSUERS, KEY

#: The scenario ``auto_complete`` activates (replaced by the next call, gone at a reset).
AUTO_COMPLETE = "auto-complete"


def complete(handle: Any, token: str, err_code: int = 0,
             attempts: list[dict[str, Any]] | None = None, sim: str | None = None,
             identity: dict[str, str] | None = None,
             intention_code: int | None = None) -> dict[str, Any]:
    """Finish ``token`` as its user page would: with ``err_code`` (0: pass), or with
    ``attempts`` (``[{"err_code": 1004}, {"err_code": 0}]``, the last the final one)
    instead; ``sim`` ("NN.NN") the final similarity, ``identity`` ({"IdCard", "Name"}) what
    the ID card shows on an OCR rule.  Returns the finished record; AdminCallError with
    ``status`` 404 (unknown token), 409 (finished already, or expired) or 400 (invalid)."""
    return handle.admin.complete_verification(
        token, err_code=None if attempts is not None else err_code, attempts=attempts,
        sim=sim, identity=identity, intention_code=intention_code)


def verifications(handle: Any, **filters: Any) -> list[dict[str, Any]]:
    """The readable tokens, the last issued first (this namespace's when attached);
    ``filters``: ``flow`` (detect, eid, app), ``state`` (issued, opened, finished,
    expired), ``appid``."""
    if handle.server.namespace is not None:
        filters.setdefault("appid", handle.server.namespace)
    return handle.admin.verifications(**filters)


def auto_complete(handle: Any, err_code: int | None = 0) -> None:
    """From now on every token DetectAuth, GetEidToken or GetFaceIdToken issues (to this
    namespace when attached) finishes at once with ``err_code``, until
    ``auto_complete(None)`` or the next reset.  It is a scenario named "auto-complete",
    consulted after the other active ones, so their rules still win; ValueError for a code
    that is not in every flow's table."""
    namespace = handle.server.namespace
    if err_code is not None:
        try:
            check_auto_complete(err_code)
        except ValueError as error:
            raise ValueError(f"err_code {error}") from None
    handle.admin.deactivate(AUTO_COMPLETE, appid=namespace)
    if err_code is None:
        return
    document = {"name": AUTO_COMPLETE,
                "description": f"Every new verification token finishes with ErrCode "
                               f"{err_code}.",
                "rules": [{"endpoint": [f"faceid:{action}" for action in ISSUERS],
                           "respond": {KEY: {"err_code": err_code}}}]}
    handle.admin.activate(document, appid=namespace)


HELPERS = {"complete": Helper(complete), "verifications": Helper(verifications),
           "auto_complete": Helper(auto_complete)}
