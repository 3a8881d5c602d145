"""The public way to sign requests for mockface (and for Tencent's real services): the
legacy HMAC-SHA1 ``sign`` and API 3.0's ``sign_tc3``.  Import these from here; the
products' own modules may move."""
from __future__ import annotations

from .products.legacy.signature import sign
from .products.tc3.signature import sign_tc3

__all__ = ["sign", "sign_tc3"]
