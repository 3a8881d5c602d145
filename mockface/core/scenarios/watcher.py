"""``ScenarioWatcher``: polls the files of active scenarios and has the engine reload the
ones that changed (``mockface serve --watch``)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from .engine import ScenarioEngine

log = logging.getLogger("mockface.scenarios")


class ScenarioWatcher:
    """Polls the files of active scenarios and reloads them when they change."""

    def __init__(self, engine: ScenarioEngine, interval: float = 0.5) -> None:
        self.engine = engine
        self.interval = interval
        self._stop = threading.Event()
        self._mtimes: dict[Path, tuple[int, int]] = {}
        self._thread = threading.Thread(target=self._run, name="mockface-watch", daemon=True)

    def start(self) -> ScenarioWatcher:
        self._snapshot()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _stamp(self, path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _snapshot(self) -> set[Path]:
        changed = set()
        for path in self.engine.watched_files():
            stamp = self._stamp(path)
            if stamp is not None and self._mtimes.get(path) not in (None, stamp):
                changed.add(path)
            if stamp is not None:
                self._mtimes[path] = stamp
        return changed

    def check_now(self) -> None:
        """Reload whatever changed since the last check."""
        changed = self._snapshot()
        if changed:
            self.engine.reload_changed(changed)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_now()
            except Exception:  # a watcher must never die silently
                log.exception("scenario watcher failed")
