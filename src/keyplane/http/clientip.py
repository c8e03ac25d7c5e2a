"""The client's IP: the socket peer, or ``X-Forwarded-For`` only when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress

from keyplane.keys.model import IpNetwork


def parse_trusted(cidrs: list[str]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _is_trusted(address: str, trusted: tuple[IpNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def forwarded_for(lines: list[str]) -> str | None:
    """Every ``X-Forwarded-For`` line, in order, as one list (``headers.getlist``).

    A proxy may add its own line instead of appending to the client's: reading only the first
    line would let the client's own words decide its IP. HTTP defines repeated lines as one
    comma-separated value, so they are joined in the order they came.
    """
    return ",".join(lines) if lines else None


def client_ip(peer: str, forwarded_for: str | None, trusted: tuple[IpNetwork, ...]) -> str:
    """Walk ``X-Forwarded-For`` from the right while the hop is a trusted proxy.

    The first untrusted address from the right is the client: anything left of it was written by
    the client itself and proves nothing.
    """
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return hops[0] if hops else peer
