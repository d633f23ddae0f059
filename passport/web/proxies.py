"""The client's address behind reverse proxies. X-Forwarded-For is believed only from the configured trusted proxies
(PASSPORT_TRUSTED_PROXIES), read from the right: the first address that is not a trusted proxy is the client. Anyone
else can write any X-Forwarded-For, so without that list the peer address is the client. Public URLs never come
from request headers at all (they derive from PASSPORT_PUBLIC_BASE_URL), so Host and X-Forwarded-Host/-Proto cannot
redirect a QR code or a DID."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, networks: Sequence[Network]) -> str:
    """The address rate limits and the audit log attribute a request to."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not networks or not _trusted(peer, networks):
        return peer
    forwarded = b",".join(value for name, value in scope.get("headers", ()) if name == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.decode("latin-1").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:64]
    return hops[0][:64] if hops else peer


__all__ = ["Network", "client_address", "trusted_networks"]
