"""Command-line entry points for the issuers domain (wired into ``skillcred keys rotate``)."""

from __future__ import annotations

from service.core.config import Settings
from service.core.db import make_engine, unit_of_work
from service.core.keystore import Keystore, load_kek
from service.issuers import service
from service.issuers.keys import verification_method_id


def rotate_keys_command(settings: Settings, issuer_id: str) -> list[str]:
    """Rotate an issuer's keys in one transaction; returns the new verification method ids.

    Raises :class:`service.core.errors.NotFound` for an unknown issuer and
    :class:`service.core.keystore.KeystoreError` when the KEK is missing or not allowed.
    The audit event has no actor (the operator at the console).
    """
    keystore = Keystore(load_kek(settings))
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(engine) as session:
            issuer = service.get_issuer(session, issuer_id)
            keys = service.rotate_keys(session, keystore, issuer, actor=None)
            return [verification_method_id(issuer, key) for key in keys]
    finally:
        engine.dispose()
