"""The emulated products: one folder each, reached by the rest of mockface only through the
registry (``REGISTRY``)."""
