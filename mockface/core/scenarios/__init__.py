"""Scenarios, protocol-free: the model (``model``), the document checker with its per-protocol
dialects (``schema``), the engine that activates and selects rules (``engine``) and the file
watcher (``watcher``)."""
