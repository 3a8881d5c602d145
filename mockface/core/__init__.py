"""Protocol-free building blocks shared by both APIs: the clock, identity rules, media facts,
YAML documents with lines, log lines, bounded state and the request journal.  Nothing here
imports a protocol package (the legacy modules, ``faceid``) or the web layer."""
