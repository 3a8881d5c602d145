"""Host names: which are this machine's loopback interface, and the host of an authority."""
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


def host_name(authority: str) -> str:
    """The host of ``host[:port]`` or ``[v6]:port``, lower-case, without a trailing dot."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1:authority.find("]")] if "]" in authority else authority[1:]
    if authority.count(":") == 1:
        authority = authority.split(":", 1)[0]
    return authority.rstrip(".")

