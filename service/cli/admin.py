"""Operator commands on the configured database: ``skillcred admin reset-password`` and
``skillcred issuers move-dids`` (also the start-up check that a public URL change needs the latter)."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine

from service.accounts import service as accounts
from service.core.config import Settings
from service.core.db import make_engine, unit_of_work
from service.core.errors import NotFound
from service.issuers.did_moves import DidMove, move_dids, pending_moves

MOVE_DIDS_COMMAND = "skillcred issuers move-dids"
RESET_PASSWORD_COMMAND = "skillcred admin reset-password EMAIL"


def new_password() -> str:
    """A random password for a console-issued login (16 URL-safe characters, 96 bits)."""
    return secrets.token_urlsafe(12)


def reset_password(engine: Engine, email: str) -> str:
    """Give the account with this email a new random password and return it (one transaction).

    Raises :class:`~service.core.errors.NotFound` when no account has this email. The audit event
    ``account.password_reset`` has no actor (the operator at the console).
    """
    password = new_password()
    with unit_of_work(engine) as session:
        account = accounts.find_by_email(session, email)
        if account is None:
            raise NotFound(f"No account has the email {accounts.normalise_email(email)!r}")
        accounts.set_password(session, account, password)
    return password


def reset_password_command(settings: Settings, email: str) -> str:
    """:func:`reset_password` on the configured database."""
    engine = make_engine(settings.database_url)
    try:
        return reset_password(engine, email)
    finally:
        engine.dispose()


def dids_to_move(engine: Engine, settings: Settings) -> list[DidMove]:
    """The issuer DID moves the configured public URL needs (empty when every DID is current)."""
    with unit_of_work(engine) as session:
        return pending_moves(session, settings)


def move_issuer_dids(engine: Engine, settings: Settings) -> list[DidMove]:
    """Move every issuer's did:web to the configured public URL in one transaction (see
    :mod:`service.issuers.did_moves`); returns the moves made."""
    with unit_of_work(engine) as session:
        return move_dids(session, settings)


def move_dids_command(settings: Settings) -> list[DidMove]:
    """:func:`move_issuer_dids` on the configured database."""
    engine = make_engine(settings.database_url)
    try:
        return move_issuer_dids(engine, settings)
    finally:
        engine.dispose()


def public_url_changed_message(settings: Settings, moves: list[DidMove]) -> str:
    """Why ``serve`` refuses to start when issuer DIDs do not match SKILLCRED_PUBLIC_URL, and what to do."""
    listed = "\n".join(f"  issuer {m.issuer_id}: {m.old_did} -> {m.new_did}" for m in moves[:5])
    more = f"\n  ... and {len(moves) - 5} more" if len(moves) > 5 else ""
    return (
        f"skillcred: SKILLCRED_PUBLIC_URL is {settings.public_url}, but {len(moves)} issuer DID(s) were made for "
        f"another public URL:\n{listed}{more}\n"
        f"Run `{MOVE_DIDS_COMMAND}` (with the same settings) to move them; the old DIDs stay resolvable so "
        "credentials issued under them still verify. Or set SKILLCRED_PUBLIC_URL back to the URL they were made for."
    )
