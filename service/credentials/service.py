"""Reading credentials: one by id, a page of them, their recipients and URLs. No FastAPI here,
and nothing commits. Issuing is :mod:`service.credentials.issuing` (the path) and
:mod:`service.credentials.entry_points` (the ways of issuing); revoking and suspending is
:mod:`service.credentials.lifecycle`; rows become API responses in :mod:`service.credentials.views`.

Who sees what: admins see every credential; issuer admins and reviewers their issuer's; earners
the credentials issued to their account's email address. Anyone else gets 404, never 403, so
nobody learns that a credential exists.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.accounts.service import normalise_email, proven_email
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Forbidden, NotFound
from service.core.paging import PageParams, paginate
from service.credentials.errors import InvalidCredentialRequest
from service.credentials.models import Credential, RecipientIdentity

NO_SUCH_CREDENTIAL = "No such credential"


def credential_url(settings: Settings, credential_id: str) -> str:
    """The credential's public URL, which is also its ``id``."""
    return f"{settings.public_url}/credentials/{credential_id}"


def _visible(statement: Any, viewer: Account, platform_issuer: str | None = None) -> Any:
    if platform_issuer is not None and viewer.role == Role.earner:
        # a platform of that issuer acts for an earner it provisioned: it vouches for the address
        # within its issuer (which sees those credentials anyway), and sees no other issuer's
        return statement.where(
            Credential.issuer_id == platform_issuer,
            RecipientIdentity.kind == "email",
            RecipientIdentity.email == normalise_email(viewer.email),
        )
    if viewer.role == Role.admin:
        return statement
    if viewer.role in (Role.issuer_admin, Role.reviewer):
        return statement.where(Credential.issuer_id == viewer.issuer_id)
    email = proven_email(viewer)
    if email is None:  # an unverified address could be anyone's
        return statement.where(sa.false())
    return statement.where(RecipientIdentity.kind == "email", RecipientIdentity.email == email)


def get_credential(
    session: Session, credential_id: str, *, viewer: Account | None = None, platform_issuer: str | None = None
) -> Credential:
    """The credential, or :class:`NotFound`. With a ``viewer``, only one that viewer may see;
    ``platform_issuer``: a platform of that issuer acts for the viewer (an earner it provisioned),
    and sees that issuer's credentials issued to the earner's address only, verified or not."""
    if viewer is None:
        credential = session.get(Credential, credential_id)
    else:
        statement = (
            select(Credential)
            .join(RecipientIdentity, col(RecipientIdentity.id) == col(Credential.recipient_id))
            .where(Credential.id == credential_id)
        )
        credential = session.exec(_visible(statement, viewer, platform_issuer)).first()
    if credential is None:
        raise NotFound(NO_SUCH_CREDENTIAL)
    return credential


def list_credentials(
    session: Session,
    params: PageParams,
    *,
    viewer: Account,
    issuer_id: str | None = None,
    achievement_id: str | None = None,
    recipient: str | None = None,
    platform_issuer: str | None = None,
) -> tuple[list[tuple[Credential, RecipientIdentity]], int]:
    """One page of the credentials ``viewer`` may see, newest first, with their recipients
    (``platform_issuer`` as :func:`get_credential`).

    ``recipient`` is an email address or a DID. Returns (rows, total).
    """
    statement = (
        select(Credential, RecipientIdentity)
        .join(RecipientIdentity, col(RecipientIdentity.id) == col(Credential.recipient_id))
        .order_by(col(Credential.issued_at).desc(), col(Credential.id))
    )
    statement = _visible(statement, viewer, platform_issuer)
    if issuer_id is not None:
        statement = statement.where(Credential.issuer_id == issuer_id)
    if achievement_id is not None:
        statement = statement.where(Credential.achievement_id == achievement_id)
    if recipient is not None:
        if recipient.startswith("did:"):
            statement = statement.where(RecipientIdentity.kind == "did", RecipientIdentity.did == recipient)
        elif "@" in recipient:
            statement = statement.where(
                RecipientIdentity.kind == "email", RecipientIdentity.email == normalise_email(recipient)
            )
        else:
            raise InvalidCredentialRequest("recipient: give an email address or a DID")
    rows, total = paginate(session, statement, params)
    return [(row[0], row[1]) for row in rows], total


def recipient_of(session: Session, credential: Credential) -> RecipientIdentity:
    """Whom ``credential`` was issued to."""
    identity = session.get(RecipientIdentity, credential.recipient_id)
    assert identity is not None  # a foreign key guarantees it
    return identity


def set_visibility(
    session: Session, credential_id: str, *, earner: Account, public: bool, show_name: bool
) -> Credential:
    """The earner's choice for one of their credentials: whether anyone with the link sees it
    (``public``; else its badge page and JSON-LD answer 404 to others) and whether its page shows
    their display name (``show_name``). Only the earner it was issued to (their verified address:
    :func:`get_credential` with them as viewer; anyone else's is :class:`NotFound`) decides; other
    roles are :class:`Forbidden`. Audited as ``credential.visibility`` with before and after;
    unchanged values write nothing."""
    if earner.role != Role.earner:
        raise Forbidden("Only the earner a credential was issued to chooses its visibility")
    credential = get_credential(session, credential_id, viewer=earner)
    before = {"public": credential.public, "show_name": credential.show_name}
    after = {"public": public, "show_name": show_name}
    if before == after:
        return credential
    credential.public, credential.show_name = public, show_name
    session.add(credential)
    session.flush()
    record(
        session,
        action="credential.visibility",
        object_type="credential",
        object_id=credential.id,
        actor=earner,
        issuer_id=credential.issuer_id,
        before=before,
        after=after,
    )
    return credential
