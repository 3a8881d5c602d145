"""The state stores the platform's own checks need (declared on the emulator's state):
used v1 Nonce/Timestamp pairs (shared with the legacy once-signatures: an equal spec) and
per-app rate windows."""
from __future__ import annotations

from typing import Any

from ...core.state import ONCE_SIGNATURES, RATE_WINDOWS
from ...core.stores import StoreSpec

STORES: tuple[StoreSpec[Any], ...] = (ONCE_SIGNATURES, RATE_WINDOWS)

__all__ = ["ONCE_SIGNATURES", "RATE_WINDOWS", "STORES"]
