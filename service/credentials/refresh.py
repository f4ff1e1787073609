"""The credential refresh service (OB 3.0 ``refreshService`` of type ``1EdTechCredentialRefresh``).

Every issued credential names it::

    "refreshService": {"id": "<public_url>/v1/credentials/<id>/refresh",
                       "type": "1EdTechCredentialRefresh"}

and ``GET`` on that URL gives the credential's holder its *current version*: the newest credential
in its replacement chain (each renewal or reissue names the credential it replaces, ``replaces_id``),
with its state (a credential may have been renewed and the renewal since revoked: the answer says
so rather than hiding it). The chain is only followed through credentials of the same recipient.

Who may ask: the holder, i.e. the earner account whose email the credential was issued to (and the
issuer's staff, who can see the credential anyway); anyone else gets 404, as for the credential
itself. The OB 3.0 REST API's OAuth 2.0 bearer tokens (platform clients acting for an earner) are
not implemented yet; when they are, they are a second way in. A credential issued to a DID has no
account that holds it, so its refresh answers only the issuer's staff for now.

No FastAPI here, and nothing commits.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.core.config import Settings
from service.credentials.models import Credential
from service.credentials.service import get_credential

REFRESH_SERVICE_TYPE = "1EdTechCredentialRefresh"
MAX_CHAIN_LENGTH = 1000
"""A guard: a chain is one renewal or reissue per step, never anywhere near this long."""


def refresh_service_url(settings: Settings, credential_id: str) -> str:
    """The ``refreshService.id`` of credential ``credential_id``."""
    return f"{settings.public_url}/v1/credentials/{credential_id}/refresh"


def replacement_chain(session: Session, credential: Credential) -> list[Credential]:
    """``credential`` and the credentials that replaced it, oldest first: at each step the newest
    credential (of the same recipient) whose ``replaces_id`` names the previous one. The last
    element is the current version (``credential`` itself when nothing replaced it)."""
    chain = [credential]
    seen = {credential.id}
    while len(chain) < MAX_CHAIN_LENGTH:
        successor = session.exec(
            select(Credential)
            .where(Credential.replaces_id == chain[-1].id, Credential.recipient_id == credential.recipient_id)
            .order_by(col(Credential.issued_at).desc(), col(Credential.id).desc())
        ).first()
        if successor is None or successor.id in seen:
            break
        chain.append(successor)
        seen.add(successor.id)
    return chain


def current_version(
    session: Session, credential_id: str, *, viewer: Account
) -> tuple[Credential, list[Credential], Credential]:
    """What the refresh service answers ``viewer`` about ``credential_id``: that credential, its
    :func:`replacement_chain` and the current version. :class:`~service.core.errors.NotFound`
    unless ``viewer`` may see both the credential and its current version."""
    requested = get_credential(session, credential_id, viewer=viewer)
    chain = replacement_chain(session, requested)
    return requested, chain, get_credential(session, chain[-1].id, viewer=viewer)
