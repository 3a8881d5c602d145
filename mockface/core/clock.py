"""An injectable clock: real time by default, frozen or shifted on demand."""
from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable


class Clock:
    """Seconds since the epoch, as the signature checks and rate limits see them.

    ``freeze(at)`` stops time at ``at``; ``advance(seconds)`` moves it (frozen or not);
    ``unfreeze()`` returns to real time while keeping any advance.  Thread-safe.
    """

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._frozen_at: float | None = None
        self._offset = 0.0

    def now(self) -> float:
        """The current emulated time."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return self._source() + self._offset

    def today(self) -> datetime.date:
        """The emulated date in UTC (what birth dates are judged against)."""
        return datetime.datetime.fromtimestamp(self.now(), datetime.timezone.utc).date()

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen_at is not None

    def freeze(self, at: float | None = None) -> float:
        """Stop the clock at ``at`` (default: now); returns the frozen time."""
        current = self.now() if at is None else float(at)
        with self._lock:
            self._frozen_at = current
        return current

    def advance(self, seconds: float) -> float:
        """Move the clock forward (or back, if negative); returns the new time."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        return self.now()

    def unfreeze(self) -> None:
        """Let time run again from the real clock."""
        with self._lock:
            self._frozen_at = None

    def state(self) -> dict[str, float | None]:
        """What ``restore`` needs to put the clock back exactly as it is now."""
        with self._lock:
            return {"frozen_at": self._frozen_at, "offset": self._offset}

    def restore(self, frozen_at: float | None, offset: float) -> None:
        """Put back a state taken with ``state()``."""
        with self._lock:
            self._frozen_at = None if frozen_at is None else float(frozen_at)
            self._offset = float(offset)

    def reset(self) -> None:
        """Back to plain real time."""
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0
