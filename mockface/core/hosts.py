"""Which host names and addresses are this machine's loopback interface."""
from __future__ import annotations

import ipaddress


def is_loopback(name: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761), 127.0.0.0/8 or ``::1`` (no port, no
    brackets); case and a trailing dot do not matter."""
    name = name.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
