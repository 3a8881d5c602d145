"""This server's emulator: ``core.emulator.Emulator`` over every registered product."""
from __future__ import annotations

from .core.clock import Clock
from .core.config import Settings
from .core.emulator import Emulator as _Emulator
from .core.journal import DEFAULT_JOURNAL_SIZE
from .core.product import Registry
from .core.scenarios.engine import ScenarioEngine
from .core.state import StateBackend
from .products import REGISTRY


class Emulator(_Emulator):
    """The emulator of every product in ``mockface.products.REGISTRY`` (or ``registry``)."""

    def __init__(self, settings: Settings, clock: Clock | None = None,
                 scenarios: ScenarioEngine | None = None,
                 allow_scenario_header: bool = False,
                 journal_size: int = DEFAULT_JOURNAL_SIZE,
                 state: StateBackend | None = None, *, registry: Registry = REGISTRY) -> None:
        super().__init__(settings, clock, scenarios, allow_scenario_header, journal_size,
                         state, registry=registry)
