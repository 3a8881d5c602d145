"""The state stores the legacy endpoints need (declared on the emulator's state)."""
from __future__ import annotations

from typing import Any

from ...core.state import IDENTITIES, LIP_CODES, ONCE_SIGNATURES, RATE_WINDOWS
from ...core.stores import StoreSpec

#: Lip codes issued by livegetfour (shared with API 3.0's GetLiveCode: an equal spec), the
#: identity registry, used once-signatures and per-app rate windows.
STORES: tuple[StoreSpec[Any], ...] = (LIP_CODES, IDENTITIES, ONCE_SIGNATURES, RATE_WINDOWS)

__all__ = ["IDENTITIES", "LIP_CODES", "ONCE_SIGNATURES", "RATE_WINDOWS", "STORES"]
