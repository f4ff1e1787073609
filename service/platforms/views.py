"""Client rows to API shapes (never the secret's hash)."""

from __future__ import annotations

from service.platforms.models import OAuthClient
from service.platforms.schemas import ClientCreated, ClientOut


def client_view(client: OAuthClient) -> ClientOut:
    metadata = client.metadata_
    return ClientOut(
        client_id=client.client_id,
        name=client.name,
        issuer_id=client.issuer_id,
        scope=metadata.get("scope", ""),
        grant_types=list(metadata.get("grant_types") or []),
        redirect_uris=list(metadata.get("redirect_uris") or []),
        created_at=client.created_at,
        revoked_at=client.revoked_at,
    )


def created_view(client: OAuthClient, secret: str) -> ClientCreated:
    return ClientCreated(**client_view(client).model_dump(), client_secret=secret)
