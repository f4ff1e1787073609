"""Fixtures for the outbound-HTTP tests: a live local server and a fetcher allowed to reach it."""

from ipaddress import ip_network

import pytest

from service.net import SafeFetcher
from tests.net.local_server import LocalServer, no_dns

LOOPBACK_ONLY = (ip_network("127.0.0.1/32"),)


@pytest.fixture
def server():
    """A plain-HTTP server on 127.0.0.1; register routes in ``server.routes``."""
    with LocalServer() as local:
        yield local


@pytest.fixture
def loopback_fetcher():
    """Build a fetcher that may reach 127.0.0.1 and nothing else private (the test-only allowance).

    Plain http is allowed because the local server has no certificate; DNS lookups fail the test
    unless a ``resolver`` is given.
    """

    def build(**options) -> SafeFetcher:
        options.setdefault("resolver", no_dns)
        options.setdefault("allow_http", True)
        return SafeFetcher(allowed_networks=LOOPBACK_ONLY, **options)

    return build
