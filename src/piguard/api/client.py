"""The client's address as piguard records it: a canonical IP address, or nothing.

The address reaches the ledger (immutable), the login sessions and the login throttle. uvicorn
sets it from the TCP peer, or from ``X-Forwarded-For`` when the peer is a trusted proxy
(``PIGUARD_TRUSTED_PROXIES``); either way only a valid IP address is kept, so no header text
(a name, an ID number, markup) is ever stored, and nothing longer than the column.
"""

from __future__ import annotations

import ipaddress

from starlette.requests import HTTPConnection

# Longer text is no address (the longest IPv6 form with an embedded IPv4 is 45 characters);
# not worth parsing.
_MAX_TEXT = 64


def canonical_address(text: str) -> str | None:
    """``text`` as a canonical IPv4 or IPv6 address (IPv4-mapped IPv6 as IPv4), or None if it is none."""
    if not text or len(text) > _MAX_TEXT:
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; one client, one address.
            return str(address.ipv4_mapped)
        # Rebuilt from its number: a zone index (``fe80::1%eth0``) is free text and is dropped.
        address = ipaddress.IPv6Address(int(address))
    return str(address)


def client_address(connection: HTTPConnection) -> str | None:
    """The request's client IP address in canonical form, or None (no peer, a socket path, a test client)."""
    client = connection.client
    return canonical_address(client.host) if client is not None else None
