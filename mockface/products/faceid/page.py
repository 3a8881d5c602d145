"""(being written) The user page of the verification tokens."""
from __future__ import annotations

from ...core.pages import PageRoute

PAGES: tuple[PageRoute, ...] = ()
