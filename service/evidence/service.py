"""Evidence bundles: create, add and remove items, read them, lock them for assessment, and hand
them to assessors and credentials. No FastAPI here and no commits (the request's session commits).

Who sees what: an earner creates and changes only their own bundles; a bundle is also visible to
the reviewers and issuer admins of its achievement's issuer, and to admins. Everyone else is told
"not found", in the same words as for a bundle that does not exist. A testimonial's contact is
shown to the earner and the issuer's reviewers and admins only (:func:`can_see_contact`).

Storage order, so a refusal stores nothing: every check (fetch, clone, sniff, archive inspection,
size and count limits under a row lock on the bundle) happens before the bytes go to the blob
store and the row is added. A blob whose row never commits (or whose item is deleted) is removed
by :func:`sweep_unreferenced_blobs` once it is older than a grace period.

The assessment domain calls :func:`lock_bundle`, :func:`open_bundle`, :func:`mark_bundle_issued`
and :func:`credential_evidence`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlmodel import Session, col, func, select

from service.accounts.models import Account, Role
from service.achievements.service import find_achievement
from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, NotFound, PayloadTooLarge
from service.core.models import utcnow
from service.core.paging import PageParams, paginate
from service.evidence.blobstore import BlobStore, get_blob_store
from service.evidence.credential import credential_evidence_entries
from service.evidence.intake import EvidenceLimits, PreparedItem
from service.evidence.models import BundleState, EvidenceBundleRecord, EvidenceItemRecord
from service.evidence.repositories import checkout_bundle
from service.evidence.sniff import TEXT_TYPES

NO_SUCH_BUNDLE = "No such evidence bundle"
NO_SUCH_ITEM = "No such evidence item"
TEXT_KINDS = frozenset({"text", "testimonial"})
_STAFF = frozenset({Role.reviewer, Role.issuer_admin})


# --- who may see what -------------------------------------------------------------------------


def can_view(account: Account, bundle: EvidenceBundleRecord) -> bool:
    """The owner, the achievement's issuer's reviewers and admins, and admins."""
    return (
        account.id == bundle.owner_id
        or account.role == Role.admin
        or (account.role in _STAFF and account.issuer_id == bundle.issuer_id)
    )


def can_see_contact(account: Account, bundle: EvidenceBundleRecord) -> bool:
    """A testimonial's contact: the owner and the issuer's reviewers and admins (not admins of
    the platform as such: they have no part in judging this evidence)."""
    return account.id == bundle.owner_id or (account.role in _STAFF and account.issuer_id == bundle.issuer_id)


def _find(session: Session, bundle_id: str, *, for_update: bool = False) -> EvidenceBundleRecord:
    bundle = session.get(EvidenceBundleRecord, bundle_id, with_for_update=True if for_update else None)
    if bundle is None:
        raise NotFound(NO_SUCH_BUNDLE)
    return bundle


def _owned(session: Session, bundle_id: str, owner: Account, *, for_update: bool = False) -> EvidenceBundleRecord:
    bundle = _find(session, bundle_id, for_update=for_update)
    if bundle.owner_id != owner.id:
        raise NotFound(NO_SUCH_BUNDLE)
    return bundle


def _ensure_open(bundle: EvidenceBundleRecord) -> None:
    if bundle.state != BundleState.open:
        raise Conflict(
            "The bundle is locked: it was submitted for assessment and can no longer change",
            code="evidence_bundle_locked",
        )


# --- bundles ----------------------------------------------------------------------------------


def create_bundle(
    session: Session, *, owner: Account, achievement_id: str, title: str | None = None
) -> EvidenceBundleRecord:
    """A new, open, empty bundle of ``owner``'s evidence for an achievement."""
    achievement = find_achievement(session, achievement_id)
    bundle = EvidenceBundleRecord(
        owner_id=owner.id, achievement_id=achievement.id, issuer_id=achievement.issuer_id, title=title
    )
    session.add(bundle)
    session.flush()
    record(
        session,
        action="evidence.bundle.create",
        object_type="evidence_bundle",
        object_id=bundle.id,
        actor=owner,
        issuer_id=bundle.issuer_id,
        after={"achievement_id": bundle.achievement_id, "title": bundle.title},
    )
    return bundle


def get_bundle(session: Session, bundle_id: str, *, viewer: Account) -> EvidenceBundleRecord:
    """A bundle ``viewer`` may see (:func:`can_view`), or NotFound."""
    bundle = _find(session, bundle_id)
    if not can_view(viewer, bundle):
        raise NotFound(NO_SUCH_BUNDLE)
    return bundle


def list_items(session: Session, bundle_id: str) -> list[EvidenceItemRecord]:
    """A bundle's items in the order they were added."""
    return list(
        session.exec(
            select(EvidenceItemRecord)
            .where(EvidenceItemRecord.bundle_id == bundle_id)
            .order_by(col(EvidenceItemRecord.position))
        )
    )


def list_bundles(session: Session, params: PageParams, *, owner: Account) -> tuple[list[EvidenceBundleRecord], int]:
    """One page of ``owner``'s bundles, newest first; returns (rows, total)."""
    statement = (
        select(EvidenceBundleRecord)
        .where(EvidenceBundleRecord.owner_id == owner.id)
        .order_by(col(EvidenceBundleRecord.created_at).desc(), col(EvidenceBundleRecord.id))
    )
    return paginate(session, statement, params)


def bundle_totals(session: Session, bundle_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """``{bundle id: (items, stored bytes)}`` for the given bundles (absent ones have none)."""
    if not bundle_ids:
        return {}
    rows = session.exec(
        select(EvidenceItemRecord.bundle_id, func.count(), func.coalesce(func.sum(EvidenceItemRecord.size), 0))
        .where(col(EvidenceItemRecord.bundle_id).in_(list(bundle_ids)))
        .group_by(EvidenceItemRecord.bundle_id)
    )
    return {bundle_id: (int(count), int(total)) for bundle_id, count, total in rows}


# --- items ------------------------------------------------------------------------------------


def check_can_add(session: Session, bundle_id: str, *, owner: Account, limits: EvidenceLimits) -> EvidenceBundleRecord:
    """Refuse early (before fetching or cloning anything) when ``owner`` cannot add to the bundle."""
    bundle = _owned(session, bundle_id, owner)
    _ensure_open(bundle)
    count, _total = bundle_totals(session, [bundle.id]).get(bundle.id, (0, 0))
    if count >= limits.max_items:
        raise Conflict(f"A bundle holds at most {limits.max_items} items", code="evidence_bundle_full")
    return bundle


def add_item(
    session: Session,
    blobs: BlobStore,
    bundle_id: str,
    prepared: PreparedItem,
    *,
    owner: Account,
    limits: EvidenceLimits,
) -> EvidenceItemRecord:
    """Store a prepared item in ``owner``'s open bundle, within the bundle's limits.

    The bundle row is locked while the limits are checked, so two concurrent additions cannot
    both squeeze past them. The bytes reach the blob store only after every check passed.
    """
    bundle = _owned(session, bundle_id, owner, for_update=True)
    _ensure_open(bundle)
    count, total = bundle_totals(session, [bundle.id]).get(bundle.id, (0, 0))
    if count >= limits.max_items:
        raise Conflict(f"A bundle holds at most {limits.max_items} items", code="evidence_bundle_full")
    if total + len(prepared.data) > limits.max_bundle_bytes:
        raise PayloadTooLarge(
            f"A bundle holds at most {limits.max_bundle_bytes} bytes; this item "
            f"({len(prepared.data)} bytes) does not fit",
            code="evidence_bundle_too_large",
        )
    last = session.exec(
        select(func.max(EvidenceItemRecord.position)).where(EvidenceItemRecord.bundle_id == bundle.id)
    ).one()
    digest = blobs.put(prepared.data)
    item = EvidenceItemRecord(
        bundle_id=bundle.id,
        position=(last or 0) + 1,
        kind=prepared.kind,
        name=prepared.name,
        sha256=digest,
        size=len(prepared.data),
        media_type=prepared.media_type,
        declared_media_type=prepared.declared_media_type,
        file_name=prepared.file_name,
        url=prepared.url,
        final_url=prepared.final_url,
        http_status=prepared.http_status,
        fetched_at=prepared.fetched_at,
        commit=prepared.commit,
        author_name=prepared.author_name,
        contact_email=prepared.contact_email,
        contact_phone=prepared.contact_phone,
    )
    session.add(item)
    bundle.updated_at = utcnow()
    session.add(bundle)
    session.flush()
    record(
        session,
        action="evidence.item.add",
        object_type="evidence_item",
        object_id=item.id,
        actor=owner,
        issuer_id=bundle.issuer_id,
        after=_audit_view(item),
    )
    return item


def _audit_view(item: EvidenceItemRecord) -> dict[str, Any]:
    """What the audit log keeps of an item: never a testimonial's contact or a text's content."""
    return {
        "bundle_id": item.bundle_id,
        "kind": item.kind,
        "sha256": item.sha256,
        "size": item.size,
        "media_type": item.media_type,
        "url": item.url,
        "commit": item.commit,
    }


def delete_item(session: Session, bundle_id: str, item_id: str, *, owner: Account) -> None:
    """Remove an item from ``owner``'s open bundle (its blob goes with the next sweep)."""
    bundle = _owned(session, bundle_id, owner, for_update=True)
    item = session.get(EvidenceItemRecord, item_id)
    if item is None or item.bundle_id != bundle.id:
        raise NotFound(NO_SUCH_ITEM)
    _ensure_open(bundle)
    before = _audit_view(item)
    session.delete(item)
    bundle.updated_at = utcnow()
    session.add(bundle)
    session.flush()
    record(
        session,
        action="evidence.item.delete",
        object_type="evidence_item",
        object_id=item_id,
        actor=owner,
        issuer_id=bundle.issuer_id,
        before=before,
    )


def item_content(
    session: Session, blobs: BlobStore, bundle_id: str, item_id: str, *, viewer: Account
) -> tuple[EvidenceItemRecord, bytes]:
    """An item's stored bytes, for whoever may see its bundle."""
    bundle = get_bundle(session, bundle_id, viewer=viewer)
    item = session.get(EvidenceItemRecord, item_id)
    if item is None or item.bundle_id != bundle.id:
        raise NotFound(NO_SUCH_ITEM)
    return item, blobs.get(item.sha256)


def public_item_content(session: Session, blobs: BlobStore, item_id: str) -> tuple[EvidenceItemRecord, bytes]:
    """An item's stored bytes, for anyone, once a credential cites its bundle; else NotFound."""
    item = session.get(EvidenceItemRecord, item_id)
    bundle = session.get(EvidenceBundleRecord, item.bundle_id) if item is not None else None
    if item is None or bundle is None or bundle.credential_id is None:
        raise NotFound(NO_SUCH_ITEM)
    return item, blobs.get(item.sha256)


# --- for the assessment domain ----------------------------------------------------------------


def lock_bundle(session: Session, bundle_id: str, *, actor: Any = None) -> EvidenceBundleRecord:
    """Make a bundle immutable (it is being submitted for assessment). Conflict if it is empty;
    locking a locked bundle again changes nothing."""
    bundle = _find(session, bundle_id, for_update=True)
    if bundle.state == BundleState.locked:
        return bundle
    if not bundle_totals(session, [bundle.id]):
        raise Conflict("An empty bundle cannot be submitted: add evidence first", code="evidence_bundle_empty")
    bundle.state = BundleState.locked.value
    bundle.locked_at = bundle.updated_at = utcnow()
    session.add(bundle)
    session.flush()
    record(
        session,
        action="evidence.bundle.lock",
        object_type="evidence_bundle",
        object_id=bundle.id,
        actor=actor,
        issuer_id=bundle.issuer_id,
        after={"state": bundle.state},
    )
    return bundle


def mark_bundle_issued(
    session: Session, bundle_id: str, credential_id: str, *, actor: Any = None
) -> EvidenceBundleRecord:
    """Record that ``credential_id`` cites this (locked) bundle: its items' bytes become public
    at ``/evidence/items/{item_id}``. A later credential (a renewal) replaces the link."""
    bundle = _find(session, bundle_id, for_update=True)
    if bundle.state != BundleState.locked:
        raise Conflict("Only a locked (assessed) bundle can back a credential", code="evidence_bundle_open")
    before = {"credential_id": bundle.credential_id}
    bundle.credential_id = credential_id
    bundle.issued_at = bundle.updated_at = utcnow()
    session.add(bundle)
    session.flush()
    record(
        session,
        action="evidence.bundle.issue",
        object_type="evidence_bundle",
        object_id=bundle.id,
        actor=actor,
        issuer_id=bundle.issuer_id,
        before=before,
        after={"credential_id": credential_id},
    )
    return bundle


def is_textual(item: EvidenceItemRecord) -> bool:
    """Whether the item's stored bytes are UTF-8 text."""
    return item.kind in TEXT_KINDS or item.media_type in TEXT_TYPES


@contextmanager
def open_bundle(session: Session, blobs: BlobStore, bundle_id: str) -> Iterator[EvidenceBundle]:
    """The bundle as assessors read it: textual items decoded exactly as stored, repositories
    checked out at their pinned commit (from the stored git bundle) in a temporary folder that
    is deleted when the ``with`` block ends. Every blob is checked against its digest."""
    _find(session, bundle_id)
    items = list_items(session, bundle_id)
    work = Path(tempfile.mkdtemp(prefix="skillcred-evidence-"))
    try:
        built = []
        for item in items:
            data = blobs.get(item.sha256)
            checkout = None
            if item.kind == "repository" and item.commit:
                stored = work / f"{item.id}.bundle"
                stored.write_bytes(data)
                checkout = checkout_bundle(stored, item.commit, work / item.id)
                stored.unlink()
            attributes = {
                key: value
                for key, value in (
                    ("file_name", item.file_name),
                    ("author_name", item.author_name),
                    ("declared_media_type", item.declared_media_type),
                    ("final_url", item.final_url),
                )
                if value
            }
            built.append(
                EvidenceItem(
                    id=item.id,
                    kind=item.kind,  # type: ignore[arg-type]  # a str column holding one of EVIDENCE_KINDS
                    sha256=item.sha256,
                    size=item.size,
                    media_type=item.media_type,
                    name=item.name,
                    text=data.decode("utf-8") if is_textual(item) else None,
                    url=item.url,
                    repository=checkout,
                    commit=item.commit,
                    attributes=MappingProxyType(attributes),
                )
            )
        yield EvidenceBundle(items=tuple(built))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def credential_evidence(settings: Settings, items: Iterable[EvidenceItemRecord]) -> list[dict[str, Any]]:
    """Open Badges 3.0 ``Evidence`` entries for ``items`` (see :mod:`service.evidence.credential`),
    reading text and testimonial statements from the blob store of ``settings``."""
    items = list(items)
    blobs = get_blob_store(settings)
    texts = [blobs.get(item.sha256).decode("utf-8") if item.kind in TEXT_KINDS else None for item in items]
    return credential_evidence_entries(settings, items, texts)


# --- housekeeping -----------------------------------------------------------------------------


def sweep_unreferenced_blobs(
    session: Session, blobs: BlobStore, *, grace_seconds: float = 3600.0, now: float | None = None
) -> list[str]:
    """Delete blobs no item refers to and nobody put within ``grace_seconds`` (an upload whose
    row is still on its way is spared); returns their digests. Run it from a periodic job."""
    cutoff = (time.time() if now is None else now) - grace_seconds
    referenced = set(session.exec(select(EvidenceItemRecord.sha256).distinct()))
    removed = []
    for digest, put_at in list(blobs.digests()):
        if digest not in referenced and put_at < cutoff:
            blobs.delete(digest)
            removed.append(digest)
    return removed
