"""The admin API under ``/__mockface/``: JSON in and out, for tests, fixtures and CI.

Every route calls the same Emulator and ScenarioEngine functions the CLI uses.  When a token
is configured, every route but ``health`` requires it in the ``X-Mockface-Admin-Token``
header.  A route takes only the arguments it declares (``accepts``): an unknown key, a value
of the wrong type or an appid the server does not know is refused, saying which.

One module per job, all adding to one blueprint (``admin_blueprint.admin``):

- ``admin_guard``: who may call it (Host, token, Origin) and how refusals look;
- ``admin_args``: how routes read their arguments;
- ``admin_server``: health, reset, config, the local CA;
- ``admin_apps``: apps created at run time, loose mode;
- ``admin_scenarios``, ``admin_journal``, ``admin_clock``: those three;
- ``admin_products``: what the products add, through the registry -- their own routes,
  their code catalogues and their OpenAPI documents.

Importing this module registers every route on the blueprint.
"""
from __future__ import annotations

from . import (admin_apps, admin_clock, admin_guard, admin_journal,  # noqa: F401 - add routes
               admin_products, admin_scenarios, admin_server)
from .admin_blueprint import ADMIN_PREFIX, CA_DIR_CONFIG, STARTED_CONFIG, TOKEN_CONFIG, admin

__all__ = ["ADMIN_PREFIX", "CA_DIR_CONFIG", "STARTED_CONFIG", "TOKEN_CONFIG", "admin"]
