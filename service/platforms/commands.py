"""``skillcred clients register | revoke``: an operator registers a platform's confidential client
by hand (the same registry the admin routes and dynamic registration use)."""

from __future__ import annotations

from service.core.config import Settings
from service.core.db import DatabaseLimits, make_engine, unit_of_work
from service.core.errors import NotFound
from service.issuers.service import issuer_exists
from service.platforms import service
from service.platforms.models import OAuthClient


def register_client_command(settings: Settings, issuer_id: str, name: str, scope: str) -> tuple[str, str]:
    """Register a confidential client-credentials client of ``issuer_id``; returns its id and secret."""
    engine = make_engine(settings.database_url, DatabaseLimits.for_workers(1, 1))
    try:
        with unit_of_work(engine) as session:
            if not issuer_exists(session, issuer_id):
                raise NotFound(f"No issuer {issuer_id}")
            registered = service.register_client(session, name=name, issuer_id=issuer_id, scope=scope)
            assert registered.secret is not None
            return registered.client.client_id, registered.secret
    finally:
        engine.dispose()


def revoke_client_command(settings: Settings, client_id: str) -> None:
    """Revoke a client by its ``client_id``: its tokens stop working at once."""
    from sqlmodel import col, select

    engine = make_engine(settings.database_url, DatabaseLimits.for_workers(1, 1))
    try:
        with unit_of_work(engine) as session:
            client = session.exec(select(OAuthClient).where(col(OAuthClient.client_id) == client_id)).first()
            if client is None:
                raise NotFound(f"No client {client_id}")
            service.revoke_client(session, client)
    finally:
        engine.dispose()
