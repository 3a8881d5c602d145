"""The state stores the platform's own checks need (declared on the emulator's state):
used v1 Nonce/Timestamp pairs and per-app rate windows (equal to the legacy API's specs, so
the same stores: one rate limit per app whichever API it calls)."""
from __future__ import annotations

from typing import Any

from ...core.stores import OnceSet, RateWindow, StoreSpec

ONCE_SIGNATURES = OnceSet("once")
RATE_WINDOWS = RateWindow("rate")
STORES: tuple[StoreSpec[Any], ...] = (ONCE_SIGNATURES, RATE_WINDOWS)
