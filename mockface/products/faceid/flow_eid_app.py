"""(being written) The flow_eid_app actions of the token flows: a mixin of FaceIdProvider."""
from __future__ import annotations


class EidAppFlowActions:
    """The actions (declared with ``@action``) on ``self.flows``."""
