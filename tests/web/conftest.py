"""The public page tests use the credential tests' issuer and achievement."""

from tests.credentials.conftest import achievement, issuer  # noqa: F401 (fixtures)
