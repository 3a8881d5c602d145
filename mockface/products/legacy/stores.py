"""The state stores the legacy endpoints need (declared on the emulator's state).  An equal
spec declared by another product names the same store: the lip codes and the identity
registry are shared with API 3.0's faceid, the once-signatures and rate windows with the
platform's v1 nonces and rate limits."""
from __future__ import annotations

from typing import Any

from ...core.stores import CodeBookSpec, IdentityRegistrySpec, OnceSet, RateWindow, StoreSpec

LIP_CODES = CodeBookSpec("lip_codes")
IDENTITIES = IdentityRegistrySpec("identities")
ONCE_SIGNATURES = OnceSet("once")
RATE_WINDOWS = RateWindow("rate")
STORES: tuple[StoreSpec[Any], ...] = (LIP_CODES, IDENTITIES, ONCE_SIGNATURES, RATE_WINDOWS)
