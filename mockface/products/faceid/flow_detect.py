"""(being written) The flow_detect actions of the token flows: a mixin of FaceIdProvider."""
from __future__ import annotations


class DetectFlowActions:
    """The actions (declared with ``@action``) on ``self.flows``."""
