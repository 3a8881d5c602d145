"""The state stores the faceid actions need (declared on the emulator's state): the lip
codes GetLiveCode issues and the identity registry (equal to the legacy API's specs, so the
same stores), and the action sequences GetActionSequence issues."""
from __future__ import annotations

from ...core.stores import CodeBookSpec, Codes, IdentityRegistrySpec

LIP_CODES = CodeBookSpec("lip_codes")
IDENTITIES = IdentityRegistrySpec("identities")
ACTION_SEQUENCES = CodeBookSpec("action_sequences", make=Codes.ACTION_ORDER,
                                namespace="actions:")
