"""Moving the issuers' did:web when the public URL changes, and the DIDs they held before.

A did:web names the host it lives on (W3C did:web method, "Read (Resolve)": the DID document is
fetched from ``https://<host>/.well-known/did.json`` or ``https://<host>/<path>/did.json``), so
every issuer DID of this deployment is built from ``SKILLCRED_PUBLIC_URL``. After that setting
changes, :func:`move_dids` gives each issuer the DID the new URL implies (the host DID for the
issuer that held the old host DID while the new one is free, the path form otherwise) and keeps
each DID it leaves as an :class:`~service.issuers.models.IssuerDidAlias`:

- the issuer's new DID document lists its old DIDs under ``alsoKnownAs`` (W3C DID Core 1.0,
  section 5.1.3);
- an old DID still resolves, inside this service, to a document with the same keys under the
  old DID (so a credential's ``issuer`` and its proof's ``kid`` resolve as they did at signing),
  with ``alsoKnownAs`` naming the new DID;
- the public routes answer that old document when a request reaches this service under the old
  base URL (the old host name kept pointing at it), so outside verifiers resolve it too.

No FastAPI here, and nothing commits (the caller's unit of work does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict
from service.issuers.keys import issuer_keys, published_key
from service.issuers.models import Issuer, IssuerDidAlias
from service.issuers.service import host_did, path_did
from service.vc.did import build_did_document, did_web_from_url
from service.vc.errors import KeyResolutionError


@dataclass(frozen=True)
class DidMove:
    """One issuer's DID before and after a change of public URL."""

    issuer_id: str
    old_did: str
    new_did: str


def _holds_a_host_did(did: str) -> bool:
    """``did:web:<host>`` (no path segments): the form only the deployment's first issuer gets."""
    return ":" not in did.removeprefix("did:web:")


def is_current(settings: Settings, issuer: Issuer) -> bool:
    """Whether the issuer's DID is one the configured public URL implies for it."""
    return issuer.did in (host_did(settings), path_did(settings, issuer.id))


def pending_moves(session: Session, settings: Settings) -> list[DidMove]:
    """The DID moves the configured public URL needs, oldest issuer first (empty when none)."""
    issuers = session.exec(select(Issuer).order_by(col(Issuer.created_at), col(Issuer.id))).all()
    host = host_did(settings)
    stale = [issuer for issuer in issuers if not is_current(settings, issuer)]
    host_holder = None
    if host is not None and not any(issuer.did == host for issuer in issuers):
        former = session.get(IssuerDidAlias, host)  # moving back: the host DID returns to its former holder
        candidates = [i for i in stale if former is not None and i.id == former.issuer_id]
        candidates += [i for i in stale if _holds_a_host_did(i.did)]
        host_holder = candidates[0].id if candidates else None
    return [
        DidMove(issuer.id, issuer.did, host if issuer.id == host_holder and host else path_did(settings, issuer.id))
        for issuer in stale
    ]


def move_dids(session: Session, settings: Settings, *, actor: Any = None) -> list[DidMove]:
    """Give every issuer the DID the configured public URL implies; keep the old ones as aliases.

    Records ``issuer.move_did`` per issuer. Moving back to a DID the same issuer held before turns
    that alias into its DID again; a DID held or once held by another issuer raises :class:`Conflict`.
    """
    moves = pending_moves(session, settings)
    for move in moves:
        taken = session.exec(select(Issuer.id).where(Issuer.did == move.new_did)).first()
        alias = session.get(IssuerDidAlias, move.new_did)
        if taken is not None or (alias is not None and alias.issuer_id != move.issuer_id):
            raise Conflict(f"{move.new_did} belongs to another issuer; cannot move {move.issuer_id}")
        if alias is not None:
            session.delete(alias)
        issuer = session.get_one(Issuer, move.issuer_id)
        issuer.did = move.new_did
        session.add(issuer)
        session.add(IssuerDidAlias(did=move.old_did, issuer_id=move.issuer_id))
        session.flush()
        record(
            session,
            action="issuer.move_did",
            object_type="issuer",
            object_id=move.issuer_id,
            actor=actor,
            issuer_id=move.issuer_id,
            before={"did": move.old_did},
            after={"did": move.new_did, "public_url": settings.public_url},
        )
    return moves


def dids_of(session: Session, issuer: Issuer) -> list[str]:
    """Every DID the issuer holds or held: its current DID first, then those it left behind."""
    aliases = session.exec(
        select(IssuerDidAlias.did)
        .where(IssuerDidAlias.issuer_id == issuer.id)
        .order_by(col(IssuerDidAlias.moved_at), col(IssuerDidAlias.did))
    ).all()
    return [issuer.did, *aliases]


def alias_document(session: Session, did: str) -> dict[str, Any] | None:
    """The DID document of a DID an issuer held before a move (its keys under that DID, with
    ``alsoKnownAs`` naming the current DID), or None when ``did`` is no such alias."""
    alias = session.get(IssuerDidAlias, did)
    if alias is None:
        return None
    issuer = session.get_one(Issuer, alias.issuer_id)
    keys = [published_key(key) for key in issuer_keys(session, issuer.id)]
    return build_did_document(did, keys, also_known_as=[issuer.did])


def alias_document_at(session: Session, settings: Settings, url: str) -> dict[str, Any] | None:
    """The old DID document whose did:web resolves to ``url`` (a request's base URL, plus
    ``issuers/<id>`` for the path form), or None when no issuer held that DID before a move.

    A URL under the configured public URL is never answered with an old document: there the
    current issuers' documents are served."""
    try:
        did = did_web_from_url(url)
    except KeyResolutionError:
        return None
    current = did_web_from_url(settings.public_url)
    if did == current or did.startswith(current + ":"):
        return None
    return alias_document(session, did)
