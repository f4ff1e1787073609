"""The Open Badges 3.0 REST API's credentials: listing them and upserting into a backpack.
No FastAPI here, and nothing commits.

Whose credentials (``GET /ims/ob/v3p0/credentials``):

- an earner (their own token, or a platform's acting for them): the credentials SkillCred issued
  to them (as ``GET /v1/credentials`` shows an earner: issued to their verified email address)
  and the ones platforms stored in their backpack (:class:`StoredCredential`). A stored
  credential with the ``id`` of an issued one stands for it (the same credential, as the platform
  last upserted it), so it is listed once;
- an issuer's account (a client's service account, or an issuer admin): that issuer's issued
  credentials;
- an issuer's platform acting for an earner it provisioned (``On-Behalf-Of``): that issuer's
  credentials issued to the earner's address (the platform vouches for it, as on ``/v1``) and what
  that issuer's clients stored in the earner's backpack, nothing of another issuer.

An issued credential is listed as its signed JSON-LD (embedded ``eddsa-rdfc-2022`` proof, in
``credential``), never twice: its VC-JWT form is at ``/v1/credentials/{id}/jwt``. A stored one is
listed in the form it was upserted in: JSON-LD in ``credential``, a compact JWS in
``compactJwsString``. Oldest first (issued or last upserted), then by id; ``since`` keeps those
issued or upserted at or after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.accounts.service import normalise_email, proven_email
from service.core.config import Settings
from service.core.errors import Forbidden
from service.core.paging import PageParams
from service.credentials.models import Credential, RecipientIdentity
from service.credentials.service import credential_url
from service.platforms.models import OAuthClient, StoredCredential

Format = Literal["jsonld", "jwt"]
_Rows = sa.Select[Any, Any, Any]  # (source, id, time) of one kind of credential


@dataclass(frozen=True)
class ListedCredential:
    """One credential of a page: its form and its text exactly as stored."""

    format: Format
    text: str


def _issued_to_earner(settings: Settings, earner: Account, platform_issuer: str | None) -> _Rows:
    # an unverified address could be anyone's, unless the issuer's own platform vouches for it
    email = proven_email(earner) if platform_issuer is None else normalise_email(earner.email)
    in_backpack = (
        sa.select(sa.literal(1))
        .where(
            col(StoredCredential.account_id) == earner.id,
            col(StoredCredential.credential_key) == sa.literal(credential_url(settings, "")).concat(col(Credential.id)),
        )
        .exists()
    )
    statement: _Rows = (
        sa.select(sa.literal("issued").label("source"), col(Credential.id).label("id"), col(Credential.issued_at))
        .join(RecipientIdentity, col(RecipientIdentity.id) == col(Credential.recipient_id))
        .where(~in_backpack)
    )
    if email is None:
        return statement.where(sa.false())
    if platform_issuer is not None:
        statement = statement.where(col(Credential.issuer_id) == platform_issuer)
    return statement.where(col(RecipientIdentity.kind) == "email", col(RecipientIdentity.email) == email)


def _sources(settings: Settings, account: Account, since: datetime | None, platform_issuer: str | None) -> list[_Rows]:
    if account.role == Role.earner:
        issued = _issued_to_earner(settings, account, platform_issuer)
        stored: _Rows = sa.select(
            sa.literal("stored").label("source"), col(StoredCredential.id).label("id"), col(StoredCredential.updated_at)
        ).where(col(StoredCredential.account_id) == account.id)
        if platform_issuer is not None:
            clients = sa.select(col(OAuthClient.id)).where(col(OAuthClient.issuer_id) == platform_issuer)
            stored = stored.where(col(StoredCredential.client_pk).in_(clients))
        if since is not None:
            issued = issued.where(col(Credential.issued_at) >= since)
            stored = stored.where(col(StoredCredential.updated_at) >= since)
        return [issued, stored]
    if account.role == Role.issuer_admin and account.issuer_id is not None:
        issued = sa.select(
            sa.literal("issued").label("source"), col(Credential.id).label("id"), col(Credential.issued_at)
        ).where(col(Credential.issuer_id) == account.issuer_id)
        if since is not None:
            issued = issued.where(col(Credential.issued_at) >= since)
        return [issued]
    raise Forbidden("Only an earner or an issuer has Open Badges credentials here", code="no_credentials")


def list_credentials(
    session: Session,
    settings: Settings,
    account: Account,
    params: PageParams,
    *,
    since: datetime | None = None,
    platform_issuer: str | None = None,
) -> tuple[list[ListedCredential], int]:
    """One page of the credentials ``account`` holds (an earner) or issued (an issuer's account),
    oldest first, each as stored; returns (page, total). ``platform_issuer``: a platform of that
    issuer acts for the earner (``On-Behalf-Of``), and sees only that issuer's credentials
    (issued to the earner's address, verified or not, as ``GET /v1/credentials`` shows it) and
    what that issuer's clients stored in the backpack."""
    union = sa.union_all(*_sources(settings, account, since, platform_issuer)).subquery()
    at = union.c[2]
    total = session.execute(sa.select(sa.func.count()).select_from(union)).scalar_one()
    rows = session.execute(
        sa.select(union.c.source, union.c.id).order_by(at, union.c.id).limit(params.limit).offset(params.offset)
    ).all()
    issued_ids = [row.id for row in rows if row.source == "issued"]
    stored_ids = [row.id for row in rows if row.source == "stored"]
    issued: dict[str, str] = {}
    if issued_ids:
        found = session.execute(
            sa.select(col(Credential.id), col(Credential.jsonld)).where(col(Credential.id).in_(issued_ids))
        )
        issued = {row.id: row.jsonld for row in found}
    stored: dict[str, StoredCredential] = {}
    if stored_ids:
        stored = {
            row.id: row
            for row in session.exec(select(StoredCredential).where(col(StoredCredential.id).in_(stored_ids)))
        }
    page = []
    for row in rows:
        if row.source == "issued":
            page.append(ListedCredential("jsonld", issued[row.id]))
        else:
            item = stored[row.id]
            page.append(ListedCredential("jwt" if item.format == "jwt" else "jsonld", item.text))
    return page, int(total)
