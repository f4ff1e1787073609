"""Issuer rows as API responses: the one place an :class:`Issuer` or :class:`SigningKey` becomes
an API shape. Public key material only: no response carries a private key."""

from __future__ import annotations

from collections.abc import Iterable

from service.core.config import Settings
from service.issuers.keys import verification_method_id
from service.issuers.models import Issuer, SigningKey
from service.issuers.schemas import IssuerOut, SigningKeyOut
from service.issuers.service import did_document_url


def issuer_view(settings: Settings, issuer: Issuer) -> IssuerOut:
    """The issuer's Profile, its DID, and where did:web resolution fetches the DID's document."""
    return IssuerOut.model_validate({**issuer.model_dump(), "did_document_url": did_document_url(settings, issuer)})


def signing_key_view(issuer: Issuer, key: SigningKey) -> SigningKeyOut:
    """The public description of one of the issuer's keys: JWK, verification method and dates."""
    return SigningKeyOut(
        id=key.id,
        verification_method=verification_method_id(issuer, key),
        fragment=key.fragment,
        algorithm=key.algorithm,
        public_jwk=dict(key.public_jwk),
        active=key.retired_at is None,
        created_at=key.created_at,
        retired_at=key.retired_at,
        compromised_at=key.compromised_at,
        compromise_reason=key.compromise_reason,
    )


def signing_key_views(issuer: Issuer, keys: Iterable[SigningKey]) -> list[SigningKeyOut]:
    """Every key given, in the order given."""
    return [signing_key_view(issuer, key) for key in keys]
