"""The verification tests use the credential tests' issuer and achievement."""

from tests.credentials.conftest import achievement, issuer  # noqa: F401 (fixtures)
