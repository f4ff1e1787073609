"""Which addresses the fetcher may connect to: public unicast only, unless a network is allowed."""

from ipaddress import ip_network

import pytest

from service.net.addresses import is_allowed_address, is_public_address


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",  # IPv4-mapped, leads to a public address
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    ],
)
def test_globally_routable_unicast_addresses_are_public(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "address, what",
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local cloud metadata"),
        ("169.254.0.1", "link-local"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "this network"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("192.0.2.1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
        ("::ffff:10.0.0.1", "IPv4-mapped private"),
        ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
        ("64:ff9b::a00:1", "NAT64 of a private address"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:a00:1::1", "6to4 of a private address"),
        ("2002:7f00:1::1", "6to4 of loopback"),
        ("fc00::1", "unique local"),
        ("fd12:3456::1", "unique local"),
        ("fe80::1", "link-local"),
        ("fe80::1%2", "link-local with a scope"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("2001::1", "Teredo"),
        ("100::1", "discard-only"),
    ],
)
def test_non_public_addresses_are_refused(address, what):
    assert not is_public_address(address), what


def test_an_explicitly_allowed_network_admits_only_its_own_addresses():
    loopback = [ip_network("127.0.0.1/32")]
    assert is_allowed_address("127.0.0.1", loopback)
    assert not is_allowed_address("127.0.0.2", loopback)
    assert not is_allowed_address("10.0.0.1", loopback)
    assert is_allowed_address("8.8.8.8", loopback)
    assert not is_allowed_address("127.0.0.1")
