"""Issuer logic: create, read, list, update; DIDs, DID documents, the JWKS and the OB 3.0 Profile.

DIDs (did:web, built from ``SKILLCRED_PUBLIC_URL``):

- the first issuer of a deployment holds the host DID (``did:web:skillcred.example``, document at
  ``/.well-known/did.json``);
- every later issuer holds the path form (``did:web:skillcred.example:issuers:<id>``, document at
  ``/issuers/<id>/did.json``).

When the public URL itself has a path (``https://example.org/skillcred``), did:web resolution would
look for the host DID's document at ``/skillcred/did.json``, not under ``/.well-known``; there every
issuer gets the path form, which resolves the same way with or without a prefix.

No FastAPI here, and nothing commits (the request's unit of work does).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import BadRequest, Conflict, NotFound
from service.core.keystore import Keystore
from service.core.models import utcnow
from service.core.paging import PageParams, paginate
from service.issuers.keys import (  # active_signer, rotate_keys... are re-exported for other domains
    active_signer,
    active_signers,
    find_key,
    initial_keys,
    issuer_keys,
    jwk_entry,
    mark_compromised,
    published_key,
    rotate_keys,
    verification_method_id,
)
from service.issuers.models import Issuer, IssuerDidAlias, SigningKey
from service.vc.did import build_did_document, did_web_document_url, did_web_from_url
from service.vc.openbadges import IssuerProfile

__all__ = [
    "active_signer",
    "active_signers",
    "create_issuer",
    "did_document",
    "did_document_url",
    "find_key",
    "get_issuer",
    "host_did",
    "host_did_issuer",
    "issuer_exists",
    "issuer_keys",
    "issuer_profile",
    "jwks",
    "list_issuers",
    "mark_compromised",
    "path_did",
    "path_did_issuer",
    "rotate_keys",
    "update_issuer",
]

PROFILE_FIELDS = ("name", "url", "email", "image", "description")


# --- DIDs --------------------------------------------------------------------------------------


def host_did(settings: Settings) -> str | None:
    """The deployment's host DID (``did:web:<host>``), or None when the public URL has a path."""
    if urlsplit(settings.public_url).path.strip("/"):
        return None
    return did_web_from_url(settings.public_url)


def path_did(settings: Settings, issuer_id: str) -> str:
    """The path-form DID of an issuer: ``did:web:<host>[:<prefix>]:issuers:<id>``."""
    return did_web_from_url(f"{settings.public_url}/issuers/{issuer_id}")


def did_document_url(settings: Settings, issuer: Issuer) -> str:
    """Where did:web resolution fetches the issuer's DID document."""
    return did_web_document_url(issuer.did, scheme=urlsplit(settings.public_url).scheme)


# --- issuers -----------------------------------------------------------------------------------


def create_issuer(
    session: Session,
    keystore: Keystore,
    settings: Settings,
    *,
    name: str,
    url: str,
    email: str | None = None,
    image: str | None = None,
    description: str | None = None,
    actor: Any = None,
) -> Issuer:
    """A new issuer with its DID and two keys: Ed25519 ``key-1`` and RSA 3072 ``rsa-1``."""
    issuer = Issuer(name=name, url=url, email=email, image=image, description=description, did="")
    host = host_did(settings)
    host_taken = host is None or session.exec(select(Issuer.id).where(Issuer.did == host)).first() is not None
    issuer.did = path_did(settings, issuer.id) if host_taken else host  # type: ignore[assignment]
    session.add(issuer)
    try:
        session.flush()
    except IntegrityError as err:  # another request took the host DID between our read and write
        raise Conflict(
            "Another issuer was being created at the same moment; try again", code="concurrent_create"
        ) from err
    keys = initial_keys(keystore, issuer.id)
    session.add_all(keys)
    session.flush()
    record(
        session,
        action="issuer.create",
        object_type="issuer",
        object_id=issuer.id,
        actor=actor,
        issuer_id=issuer.id,
        after={**_profile(issuer), "did": issuer.did, "keys": [verification_method_id(issuer, k) for k in keys]},
    )
    return issuer


def get_issuer(session: Session, issuer_id: str) -> Issuer:
    """The issuer, or :class:`NotFound`."""
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound("No such issuer")
    return issuer


def issuer_exists(session: Session, issuer_id: str) -> bool:
    """Whether an issuer with this id exists."""
    return session.get(Issuer, issuer_id) is not None


def list_issuers(session: Session, params: PageParams, *, viewer: Account) -> tuple[list[Issuer], int]:
    """One page of issuers, oldest first: all of them for an admin, otherwise the viewer's own."""
    statement = select(Issuer).order_by(col(Issuer.created_at), col(Issuer.id))
    if viewer.role != Role.admin:
        statement = statement.where(Issuer.id == viewer.issuer_id)
    return paginate(session, statement, params)


def update_issuer(session: Session, issuer: Issuer, *, actor: Any = None, **changes: Any) -> Issuer:
    """Change Profile fields (name, url, email, image, description); the DID never changes.

    Records ``issuer.update`` with the changed fields before and after (nothing when nothing changed).
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise BadRequest(f"Issuer fields that cannot be changed: {', '.join(sorted(unknown))}")
    for required in ("name", "url"):
        if required in changes and not changes[required]:
            raise BadRequest(f"An issuer's {required} cannot be empty")
    changed = {k: v for k, v in changes.items() if getattr(issuer, k) != v}
    if not changed:
        return issuer
    before = {k: getattr(issuer, k) for k in changed}
    for field, value in changed.items():
        setattr(issuer, field, value)
    issuer.updated_at = utcnow()
    session.add(issuer)
    session.flush()
    record(
        session,
        action="issuer.update",
        object_type="issuer",
        object_id=issuer.id,
        actor=actor,
        issuer_id=issuer.id,
        before=before,
        after=changed,
    )
    return issuer


def _profile(issuer: Issuer) -> dict[str, Any]:
    return {field: getattr(issuer, field) for field in PROFILE_FIELDS}


def issuer_profile(issuer: Issuer) -> IssuerProfile:
    """The issuer as an OB 3.0 ``Profile`` for credentials: its ``id`` is the DID."""
    return IssuerProfile(
        id=issuer.did,
        name=issuer.name,
        url=issuer.url,
        email=issuer.email,
        image=issuer.image,
        description=issuer.description,
    )


# --- published documents -----------------------------------------------------------------------


def did_document(session: Session, issuer: Issuer) -> dict[str, Any]:
    """The issuer's DID document: every key, active and retired, under ``assertionMethod``, except
    keys reported compromised (listed with their ``revoked`` date under no relationship); the DIDs
    it held before a change of public URL (:mod:`service.issuers.did_moves`) under ``alsoKnownAs``."""
    previous = session.exec(
        select(IssuerDidAlias.did)
        .where(IssuerDidAlias.issuer_id == issuer.id)
        .order_by(col(IssuerDidAlias.moved_at), col(IssuerDidAlias.did))
    ).all()
    keys = [published_key(k) for k in issuer_keys(session, issuer.id)]
    return build_did_document(issuer.did, keys, also_known_as=previous)


def host_did_issuer(session: Session, settings: Settings) -> Issuer:
    """The issuer holding the host DID (served at ``/.well-known/did.json``), or :class:`NotFound`."""
    host = host_did(settings)
    issuer = session.exec(select(Issuer).where(Issuer.did == host)).first() if host else None
    if issuer is None:
        raise NotFound(
            "No issuer holds this service's host DID yet; issuers' DID documents are at /issuers/<id>/did.json"
        )
    return issuer


def path_did_issuer(session: Session, settings: Settings, issuer_id: str) -> Issuer:
    """The issuer whose path-form DID document is ``/issuers/<id>/did.json``, or :class:`NotFound`
    (also when that issuer holds the host DID: the detail says where its document is)."""
    issuer = get_issuer(session, issuer_id)
    if issuer.did == host_did(settings):
        raise NotFound(
            f"Issuer {issuer.id} holds the host DID {issuer.did}; its DID document is at "
            f"{did_document_url(settings, issuer)}"
        )
    return issuer


def jwks(session: Session) -> dict[str, Any]:
    """An RFC 7517 JWK Set of every issuer's public keys, active and retired, except those reported
    compromised (a JWK has no way to say "revoked", so a verifier that trusts the set must not
    find them there)."""
    rows = session.exec(
        select(Issuer, SigningKey)
        .join(SigningKey, col(SigningKey.issuer_id) == col(Issuer.id))
        .where(col(SigningKey.compromised_at).is_(None))
        .order_by(col(Issuer.created_at), col(Issuer.id), col(SigningKey.created_at), col(SigningKey.fragment))
    )
    return {"keys": [jwk_entry(issuer, key) for issuer, key in rows]}
