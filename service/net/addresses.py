"""Which IP addresses the service may connect to when it fetches a URL on someone else's behalf.

A URL in a credential, an evidence bundle or a DID is chosen by whoever wrote it, so fetching it
must never reach the service's own machine, its private network or a cloud metadata endpoint
(server-side request forgery). :func:`is_public_address` is the rule; the fetcher applies it to
every address a host name resolves to, on every redirect hop.

The rule is an allow-list of *globally routable unicast* addresses, built from the ``ipaddress``
properties and, belt and braces, an explicit list of the IANA special-purpose blocks (the
properties have changed between Python releases). Addresses that embed an IPv4 address
(IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by the
IPv4 address they lead to.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ip_network(block)
    for block in (
        # IPv4 (RFC 6890 and successors)
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, including the 169.254.169.254 metadata service
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, including 255.255.255.255
        # IPv6
        "::/96",  # unspecified, loopback and the deprecated IPv4-compatible block
        "::ffff:0:0/96",  # IPv4-mapped (judged by the embedded address before this list)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, benchmarking, ...)
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)

_NAT64 = ip_network("64:ff9b::/96")


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address a packet to ``address`` really goes to, for the translation prefixes."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public_address(address: IPAddress | str) -> bool:
    """True when ``address`` is a globally routable unicast address the service may connect to.

    False for loopback, private (RFC 1918, unique local), link-local (including the cloud metadata
    address 169.254.169.254), shared CGNAT space, multicast, reserved, unspecified, documentation
    and benchmarking blocks, and for IPv6 addresses that embed such an IPv4 address.
    """
    ip = ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
    if any(ip in network for network in BLOCKED_NETWORKS):
        return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def is_allowed_address(address: IPAddress | str, allowed_networks: Iterable[IPNetwork] = ()) -> bool:
    """True when ``address`` is public, or falls in one of the explicitly ``allowed_networks``.

    ``allowed_networks`` exists for tests (a local server on 127.0.0.1) and for deployments that
    deliberately trust one internal network; it is empty by default.
    """
    ip = ip_address(address) if isinstance(address, str) else address
    return any(ip in network for network in allowed_networks) or is_public_address(ip)
