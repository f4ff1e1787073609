"""``GET`` and ``PUT /ims/ob/v3p0/profile``: the OB 3.0 ``Profile`` of the authenticated entity.
No FastAPI here, and nothing commits.

- An issuer's account (a client's service account, or an issuer admin): the issuer's Profile, as
  its credentials carry it (``id`` its DID). ``PUT`` replaces what SkillCred keeps of it: ``name``
  and ``url`` (required), ``email``, ``description`` and ``image`` (left out: cleared). Its ``id``
  (the DID) never changes; an image's caption is not kept.
- An earner: ``id`` ``urn:uuid:<account id>`` (stable, and the same for every platform), and
  their email address once verified. SkillCred keeps no other profile data for an earner (no
  display name yet) and the address changes only through the account's own verified flow, so
  ``PUT`` is refused (403) for an earner.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from service.accounts.models import Account, Role
from service.accounts.service import proven_email
from service.core.errors import BadRequest, Forbidden, NotFound
from service.issuers.models import Issuer
from service.issuers.service import issuer_profile, update_issuer
from service.vc.openbadges import build_profile

EARNER_PROFILE_READ_ONLY = (
    "An earner's profile cannot be changed through this API: SkillCred keeps no profile data for an earner "
    "but the account's email address, which changes only through the account's own verification flow"
)


def earner_profile_id(earner: Account) -> str:
    """An earner's Profile ``id``: ``urn:uuid:`` and their account id."""
    return f"urn:uuid:{earner.id}"


def earner_profile(earner: Account) -> dict[str, Any]:
    """An earner's OB 3.0 Profile: their id and, once verified, their email address."""
    profile: dict[str, Any] = {"id": earner_profile_id(earner), "type": ["Profile"]}
    email = proven_email(earner)
    if email is not None:
        profile["email"] = email
    return profile


def own_issuer(session: Session, account: Account) -> Issuer:
    """The issuer an issuer's account acts for (404 when it has none)."""
    issuer = session.get(Issuer, account.issuer_id) if account.issuer_id else None
    if issuer is None:
        raise NotFound("No issuer profile for this account", code="profile_not_found")
    return issuer


def profile_of(session: Session, account: Account) -> dict[str, Any]:
    """The authenticated entity's OB 3.0 Profile: an earner's, or their issuer's."""
    if account.role == Role.earner:
        return earner_profile(account)
    if account.role == Role.issuer_admin:
        return build_profile(issuer_profile(own_issuer(session, account)))
    raise NotFound("No Open Badges profile for this account", code="profile_not_found")


def replace_profile(session: Session, account: Account, fields: dict[str, Any], *, profile_id: str | None) -> Issuer:
    """Replace the issuer's Profile fields with ``fields`` (name, url, email, description, image;
    the ones left out are cleared). ``profile_id``, when sent, must be the issuer's DID."""
    if account.role == Role.earner:
        raise Forbidden(EARNER_PROFILE_READ_ONLY, code="profile_read_only")
    issuer = own_issuer(session, account)
    if profile_id is not None and profile_id != issuer.did:
        raise BadRequest(f"id: an issuer's Profile id is its DID {issuer.did}; it cannot change", code="invalid_data")
    return update_issuer(session, issuer, actor=account, **fields)
