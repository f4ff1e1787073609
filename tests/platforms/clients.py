"""Test helper: a platform client of an issuer and an access token for it, made directly through
the service (the token endpoint's own tests get theirs through the OAuth 2.0 grants)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from sqlmodel import Session

from service.accounts.models import Account
from service.platforms import service


@dataclass(frozen=True)
class TestClientApp:
    client_id: str
    secret: str | None
    account_id: str
    headers: dict[str, str]


def client_token(app: FastAPI, issuer_id: str, scope: str, *, name: str = "Test platform") -> TestClientApp:
    """Register a confidential client of ``issuer_id`` holding ``scope`` and mint a client
    credentials access token for it; returns its ids and the auth headers."""
    with Session(app.state.engine, expire_on_commit=False) as session:
        registered = service.register_client(session, name=name, issuer_id=issuer_id, scope=scope)
        client = registered.client
        assert client.account_id is not None
        account = session.get(Account, client.account_id)
        assert account is not None
        scope_granted = client.metadata_["scope"]
        grant = service.open_grant(session, client, account.id, scope_granted, "client_credentials", expires_at=None)
        token = service.mint_access_token(app.state.tokens, client, grant, account)
        session.commit()
    return TestClientApp(client.client_id, registered.secret, account.id, {"Authorization": f"Bearer {token}"})
