"""(being written) The bank-card and ID element checks (要素核验) of faceid: a mixin of
FaceIdProvider."""
from __future__ import annotations


class BankAndIdElementActions:
    """The bank-card and ID actions (declared with ``@action``)."""
