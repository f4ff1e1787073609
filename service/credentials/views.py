"""Credential rows as API responses: the one place where they become ``CredentialSummary``,
``CredentialOut`` and ``CredentialRefreshOut``."""

from __future__ import annotations

import json
from collections.abc import Sequence

from service.core.config import Settings
from service.credentials.models import Credential, RecipientIdentity
from service.credentials.schemas import (
    CredentialLinks,
    CredentialOut,
    CredentialRefreshOut,
    CredentialSummary,
    RecipientOut,
)
from service.credentials.service import credential_url


def summary(settings: Settings, credential: Credential, identity: RecipientIdentity) -> CredentialSummary:
    """The API view of a credential's metadata."""
    url = credential_url(settings, credential.id)
    api = f"{settings.public_url}/v1/credentials/{credential.id}"
    return CredentialSummary(
        id=credential.id,
        url=url,
        issuer_id=credential.issuer_id,
        achievement_id=credential.achievement_id,
        achievement_version=credential.achievement_version,
        recipient=RecipientOut(
            type="email" if identity.kind == "email" else "did", email=identity.email, did=identity.did
        ),
        issued_at=credential.issued_at,
        valid_from=credential.valid_from,
        valid_until=credential.valid_until,
        state=str(credential.state),
        status_changed_at=credential.status_changed_at,
        status_reason=credential.status_reason,
        issued_by=credential.issued_by,
        replaces_id=credential.replaces_id,
        public=credential.public,
        show_name=credential.show_name,
        links=CredentialLinks(
            jsonld=f"{api}/jsonld",
            jwt=f"{api}/jwt",
            png=f"{api}/png",
            svg=f"{api}/svg",
            public_png=f"{url}/badge.png",
            public_svg=f"{url}/badge.svg",
        ),
    )


def detail(settings: Settings, credential: Credential, identity: RecipientIdentity) -> CredentialOut:
    """The API view of a credential with its signed JSON-LD (parsed from the stored text)."""
    return CredentialOut(
        **summary(settings, credential, identity).model_dump(), credential=json.loads(credential.jsonld)
    )


def refresh_view(
    settings: Settings,
    requested: Credential,
    chain: Sequence[Credential],
    current: Credential,
    identity: RecipientIdentity,
) -> CredentialRefreshOut:
    """The refresh service's answer: the credential asked about, its replacement ``chain`` and
    the ``current`` version (issued to ``identity``) in full."""
    return CredentialRefreshOut(
        requested_id=requested.id,
        replaced=current.id != requested.id,
        chain=[c.id for c in chain],
        current=detail(settings, current, identity),
    )
