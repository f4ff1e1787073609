"""Evidence bundles: create, add and remove items, read them, lock them for assessment, and hand
them to assessors and credentials. No FastAPI here and no commits (the request's session commits).

Who sees what: an earner creates and changes only their own bundles; a bundle is also visible to
the reviewers and issuer admins of its achievement's issuer, and to admins. Everyone else is told
"not found", in the same words as for a bundle that does not exist. A testimonial's contact is
shown to the earner and the issuer's reviewers and admins only (:func:`can_see_contact`).

Who may write: only an account whose email address is verified creates bundles and adds items
(``403 email_unverified``), so a throwaway registration can neither store bytes nor make the
service fetch or clone anything (issue 9, item 5).

Quotas per account, besides the limits per item and per bundle: stored bytes over all its bundles
(``413 evidence_quota_exceeded``), open bundles (``409 evidence_quota_exceeded``) and items added
in any 24 hours, counted from the audit log so deleting items does not reset it (``429
evidence_quota_exceeded`` with ``Retry-After``). They are checked twice: before anything is
fetched, cloned or read (:func:`admit`, which also caps how many bytes a fetch or an upload may
bring, :class:`~service.evidence.intake.Room`), and again exactly while the addition is written,
serialised per account (:func:`_serialise_account`), so parallel requests never overshoot them.

Storage order, so a refusal stores nothing: every check (fetch, clone, sniff, archive inspection,
size and count limits and quotas under the account's and the bundle's locks) happens before the
bytes go to the blob store and the row is added. When the blob store's disk has no room, the
addition is refused with ``507 evidence_storage_full`` (:class:`EvidenceStorageFull`): the store
removed what it wrote, no row is added, and earlier evidence is untouched. A blob whose row
never commits (or whose item is deleted) is removed by :func:`sweep_unreferenced_blobs` once it
is older than a grace period. Bundles never submitted and untouched for long are deleted by
:func:`expire_bundle`.

URL and repository items are added without their bytes, in state ``fetching``
(:class:`~service.evidence.models.ItemState`); the job ``evidence:fetch_item``
(:mod:`service.evidence.fetching`) stores the bytes under the same locks and limits, or marks the
item ``failed``. Only ``ready`` items are assessed (:func:`open_bundle`), cited by a credential
(:func:`credential_evidence`) or served; a bundle with another is not submitted
(:func:`ensure_items_ready`).

The assessment domain calls :func:`lock_bundle`, :func:`ensure_items_ready`, :func:`open_bundle`,
:func:`mark_bundle_issued` and :func:`credential_evidence`.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from service.accounts.models import Account, Role
from service.achievements.service import find_achievement
from service.assessment.engine.bundle import EvidenceBundle, EvidenceItem
from service.assessment.engine.embedded import PDF_SECONDS, EmbeddedContent, read_embedded
from service.audit.models import AuditEvent
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceError, TooManyRequests
from service.core.models import utcnow
from service.core.paging import PageParams, paginate
from service.evidence.blobstore import BlobStore, NoRoomForBlob, get_blob_store
from service.evidence.credential import credential_evidence_entries
from service.evidence.intake import EvidenceLimits, PreparedItem, Room, file_too_large
from service.evidence.models import BundleState, EvidenceBundleRecord, EvidenceItemRecord, ItemState
from service.evidence.repositories import checkout_bundle
from service.evidence.sniff import TEXT_TYPES

log = logging.getLogger("skillcred.evidence")

NO_SUCH_BUNDLE = "No such evidence bundle"
NO_SUCH_ITEM = "No such evidence item"
TEXT_KINDS = frozenset({"text", "testimonial"})
QUOTA_EXCEEDED = "evidence_quota_exceeded"
ITEM_ADDED = "evidence.item.add"
DAY = timedelta(days=1)
_STAFF = frozenset({Role.reviewer, Role.issuer_admin})
READ_FILES_SECONDS = 10.0
"""How long opening a bundle may spend reading what its binary files carry (PDFs, each in a
bounded child process): later files stay unread, with the reason."""


class EvidenceStorageFull(ServiceError):
    """The blob store has no room for an item's bytes: 507 Insufficient Storage (RFC 4918
    section 11.5), an operator's problem that clears once space is freed."""

    status_code, code = 507, "evidence_storage_full"


# --- who may see what -------------------------------------------------------------------------


def can_view(account: Account, bundle: EvidenceBundleRecord, *, platform_issuer: str | None = None) -> bool:
    """The owner, the achievement's issuer's reviewers and admins, and admins. ``platform_issuer``:
    a platform of that issuer acts for the owner (only that issuer's bundles; see
    :func:`_owned`)."""
    if platform_issuer is not None and bundle.issuer_id != platform_issuer:
        return False
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
    bundle = session.get(
        EvidenceBundleRecord,
        bundle_id,
        with_for_update=True if for_update else None,
        populate_existing=for_update,  # locked: read it afresh, not as this session saw it before
    )
    if bundle is None:
        raise NotFound(NO_SUCH_BUNDLE)
    return bundle


def _owned(
    session: Session, bundle_id: str, owner: Account, *, for_update: bool = False, platform_issuer: str | None = None
) -> EvidenceBundleRecord:
    """``owner``'s bundle. ``platform_issuer``: a platform of that issuer acts for the owner
    (``On-Behalf-Of``); it reaches only bundles for that issuer's achievements, and vouches there
    for the owner's address (:func:`require_verified`)."""
    bundle = _find(session, bundle_id, for_update=for_update)
    if bundle.owner_id != owner.id or (platform_issuer is not None and bundle.issuer_id != platform_issuer):
        raise NotFound(NO_SUCH_BUNDLE)
    return bundle


def _ensure_open(bundle: EvidenceBundleRecord) -> None:
    if bundle.state != BundleState.open:
        raise Conflict(
            "The bundle is locked: it was submitted for assessment and can no longer change",
            code="evidence_bundle_locked",
        )


# --- who may write, and how much ---------------------------------------------------------------


def require_verified(account: Account, *, platform_issuer: str | None = None) -> None:
    """Refuse (403 ``email_unverified``, the code submission uses too) an account whose email
    address is not verified: it may not store evidence or make the service fetch or clone.

    Not when a platform of an issuer (``platform_issuer``) acts for the account, an earner it
    provisioned: the platform vouches for the address within its own issuer, and the caller
    confines the request to that issuer's bundles and achievements."""
    if platform_issuer is None and not account.email_verified:
        raise Forbidden(
            "Verify your email address (POST /v1/auth/verify-email) before adding evidence",
            code="email_unverified",
        )


def _serialise_account(session: Session, owner: Account) -> None:
    """Make this transaction the only one changing ``owner``'s evidence until it ends, so a quota
    check and the write it allows cannot interleave with another request's. PostgreSQL: the
    account row is locked ``FOR NO KEY UPDATE``, which rows referring to the account (an
    assessment being recorded, say) do not wait for, so no lock cycle with them can form. SQLite
    ignores it; there every caller writes before it counts anything, which takes SQLite's single,
    database-wide write lock. Lock order: the account, then the bundle."""
    session.exec(select(Account.id).where(Account.id == owner.id).with_for_update(key_share=True)).first()


def _claim_bundle(
    session: Session, bundle_id: str, owner: Account, *, platform_issuer: str | None = None
) -> EvidenceBundleRecord:
    """``owner``'s bundle, locked for this transaction and read afresh: the UPDATE of its
    ``updated_at`` takes the row lock (PostgreSQL) or the write lock (SQLite) first."""
    session.exec(
        update(EvidenceBundleRecord)
        .where(col(EvidenceBundleRecord.id) == bundle_id, col(EvidenceBundleRecord.owner_id) == owner.id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return _owned(session, bundle_id, owner, for_update=True, platform_issuer=platform_issuer)


def account_bytes(session: Session, owner: Account) -> int:
    """Bytes stored for ``owner``: the sizes of the items in all their bundles (duplicates too)."""
    total = session.exec(
        select(func.coalesce(func.sum(EvidenceItemRecord.size), 0))
        .join(EvidenceBundleRecord, col(EvidenceBundleRecord.id) == col(EvidenceItemRecord.bundle_id))
        .where(EvidenceBundleRecord.owner_id == owner.id)
    ).one()
    return int(total)


def retarget_bundle(
    session: Session,
    *,
    owner: Account,
    bundle_id: str,
    achievement_id: str,
    platform_issuer: str | None = None,
) -> EvidenceBundleRecord:
    """Point ``owner``'s open bundle at another achievement (one a skill-discovery suggestion
    named, say), keeping its items: the earner applies with the same evidence. Only while the
    bundle is open (409 ``evidence_bundle_locked`` once submitted). ``platform_issuer``: a platform
    of that issuer acts for the owner; both the bundle and the new achievement must be that
    issuer's (404 otherwise). Audited with the achievement before and after."""
    require_verified(owner, platform_issuer=platform_issuer)
    bundle = _owned(session, bundle_id, owner, for_update=True, platform_issuer=platform_issuer)
    _ensure_open(bundle)
    achievement = find_achievement(session, achievement_id)
    if platform_issuer is not None and achievement.issuer_id != platform_issuer:
        raise NotFound("No such achievement")
    before = {"achievement_id": bundle.achievement_id, "issuer_id": bundle.issuer_id}
    bundle.achievement_id, bundle.issuer_id = achievement.id, achievement.issuer_id
    bundle.updated_at = utcnow()
    session.add(bundle)
    session.flush()
    record(
        session,
        action="evidence.bundle.retarget",
        object_type="evidence_bundle",
        object_id=bundle.id,
        actor=owner,
        issuer_id=bundle.issuer_id,
        before=before,
        after={"achievement_id": bundle.achievement_id, "issuer_id": bundle.issuer_id},
    )
    return bundle


def _open_bundles(session: Session, owner: Account) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(EvidenceBundleRecord)
            .where(EvidenceBundleRecord.owner_id == owner.id, EvidenceBundleRecord.state == BundleState.open.value)
        ).one()
    )


def _check_daily_items(session: Session, owner: Account, limits: EvidenceLimits) -> None:
    """429 once ``owner`` added ``account_max_items_per_day`` items in the last 24 hours (from the
    audit log, so items deleted since still count); ``Retry-After`` is when the oldest leaves."""
    now = utcnow()
    added, oldest = session.exec(
        select(func.count(), func.min(AuditEvent.at)).where(
            AuditEvent.actor_id == owner.id, AuditEvent.action == ITEM_ADDED, col(AuditEvent.at) > now - DAY
        )
    ).one()
    if added < limits.account_max_items_per_day:
        return
    oldest = _aware(oldest) if oldest is not None else now
    retry = max(1, math.ceil((oldest + DAY - now).total_seconds()))
    raise TooManyRequests(
        f"An account adds at most {limits.account_max_items_per_day} evidence items in 24 hours; "
        f"try again in {retry} s",
        code=QUOTA_EXCEEDED,
        headers={"Retry-After": str(retry)},
    )


def _aware(moment: datetime | str) -> datetime:
    """An aggregate's timestamp as timezone-aware UTC (SQLite hands ``min()`` back as text)."""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def _account_full(limits: EvidenceLimits, used: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"An account stores at most {limits.account_max_bytes} bytes of evidence ({used} stored); "
        "remove items you no longer need",
        code=QUOTA_EXCEEDED,
    )


def _bundle_full(limits: EvidenceLimits) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"A bundle holds at most {limits.max_bundle_bytes} bytes; this item does not fit",
        code="evidence_bundle_too_large",
    )


def _room(limits: EvidenceLimits, bundle_bytes: int, used: int) -> Room:
    """The :class:`Room` for one more item, given the bundle's and the account's stored bytes."""
    rooms = [
        Room(limits.max_file_bytes, file_too_large(limits)),
        Room(limits.max_bundle_bytes - bundle_bytes, _bundle_full(limits)),
        Room(limits.account_max_bytes - used, _account_full(limits, used)),
    ]
    return min(rooms, key=lambda room: room.max_bytes)


def _check_bundle_count(limits: EvidenceLimits, count: int) -> None:
    if count >= limits.max_items:
        raise Conflict(f"A bundle holds at most {limits.max_items} items", code="evidence_bundle_full")


# --- bundles ----------------------------------------------------------------------------------


def create_bundle(
    session: Session,
    *,
    owner: Account,
    achievement_id: str,
    title: str | None = None,
    limits: EvidenceLimits | None = None,
    platform_issuer: str | None = None,
) -> EvidenceBundleRecord:
    """A new, open, empty bundle of ``owner``'s evidence for an achievement: for a verified
    account with fewer than ``account_max_open_bundles`` open bundles (409 otherwise).
    ``platform_issuer``: a platform of that issuer acts for ``owner``; only that issuer's
    achievements are found, and the address need not be verified (:func:`require_verified`)."""
    limits = limits or EvidenceLimits()
    require_verified(owner, platform_issuer=platform_issuer)
    achievement = find_achievement(session, achievement_id)
    if platform_issuer is not None and achievement.issuer_id != platform_issuer:
        raise NotFound("No such achievement")
    _serialise_account(session, owner)
    bundle = EvidenceBundleRecord(
        owner_id=owner.id, achievement_id=achievement.id, issuer_id=achievement.issuer_id, title=title
    )
    session.add(bundle)
    session.flush()  # written before counting (SQLite's write lock); the refusal below rolls it back
    if _open_bundles(session, owner) > limits.account_max_open_bundles:
        raise Conflict(
            f"An account has at most {limits.account_max_open_bundles} open evidence bundles; "
            "submit or finish one first",
            code=QUOTA_EXCEEDED,
        )
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


def get_bundle(
    session: Session, bundle_id: str, *, viewer: Account, platform_issuer: str | None = None
) -> EvidenceBundleRecord:
    """A bundle ``viewer`` may see (:func:`can_view`), or NotFound."""
    bundle = _find(session, bundle_id)
    if not can_view(viewer, bundle, platform_issuer=platform_issuer):
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


def list_bundles(
    session: Session, params: PageParams, *, owner: Account, platform_issuer: str | None = None
) -> tuple[list[EvidenceBundleRecord], int]:
    """One page of ``owner``'s bundles (``platform_issuer``: that issuer's only), newest first;
    returns (rows, total)."""
    statement = (
        select(EvidenceBundleRecord)
        .where(EvidenceBundleRecord.owner_id == owner.id)
        .order_by(col(EvidenceBundleRecord.created_at).desc(), col(EvidenceBundleRecord.id))
    )
    if platform_issuer is not None:
        statement = statement.where(EvidenceBundleRecord.issuer_id == platform_issuer)
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


def admit(
    session: Session, bundle_id: str, *, owner: Account, limits: EvidenceLimits, platform_issuer: str | None = None
) -> tuple[EvidenceBundleRecord, Room]:
    """Refuse early, before anything is fetched, cloned or read, when ``owner`` cannot add to the
    bundle (unverified, not theirs, locked, full, a quota used up); else the bundle and the
    :class:`Room` one more item has. :func:`add_item` checks all of it again, exactly.
    ``platform_issuer``: as :func:`_owned`."""
    require_verified(owner, platform_issuer=platform_issuer)
    bundle = _owned(session, bundle_id, owner, platform_issuer=platform_issuer)
    _ensure_open(bundle)
    count, total = bundle_totals(session, [bundle.id]).get(bundle.id, (0, 0))
    _check_bundle_count(limits, count)
    _check_daily_items(session, owner, limits)
    room = _room(limits, total, account_bytes(session, owner))
    if room.max_bytes <= 0:
        raise room.refusal
    return bundle, room


def check_can_add(session: Session, bundle_id: str, *, owner: Account, limits: EvidenceLimits) -> EvidenceBundleRecord:
    """:func:`admit`, for callers that need only the bundle."""
    return admit(session, bundle_id, owner=owner, limits=limits)[0]


def add_item(
    session: Session,
    blobs: BlobStore,
    bundle_id: str,
    prepared: PreparedItem,
    *,
    owner: Account,
    limits: EvidenceLimits,
    platform_issuer: str | None = None,
) -> EvidenceItemRecord:
    """Store a prepared item in ``owner``'s open bundle, within the bundle's limits and the
    account's quotas (``platform_issuer``: as :func:`_owned`).

    The account and the bundle are locked (:func:`_serialise_account`, :func:`_claim_bundle`)
    before the limits are counted, so concurrent additions, to one bundle or to several of the
    account's, cannot together go past them. The bytes reach the blob store only after every
    check passed.
    """
    require_verified(owner, platform_issuer=platform_issuer)
    _serialise_account(session, owner)
    bundle = _claim_bundle(session, bundle_id, owner, platform_issuer=platform_issuer)
    _ensure_open(bundle)
    count, total = bundle_totals(session, [bundle.id]).get(bundle.id, (0, 0))
    _check_bundle_count(limits, count)
    _check_daily_items(session, owner, limits)
    room = _room(limits, total, account_bytes(session, owner))
    if len(prepared.data) > room.max_bytes:
        raise room.refusal
    last = session.exec(
        select(func.max(EvidenceItemRecord.position)).where(EvidenceItemRecord.bundle_id == bundle.id)
    ).one()
    pending = prepared.state == ItemState.fetching
    digest = "" if pending else put_blob(blobs, prepared.data)
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
        state=prepared.state,
    )
    session.add(item)
    bundle.updated_at = utcnow()
    session.add(bundle)
    session.flush()
    record(
        session,
        action=ITEM_ADDED,
        object_type="evidence_item",
        object_id=item.id,
        actor=owner,
        issuer_id=bundle.issuer_id,
        after=_audit_view(item),
    )
    return item


def put_blob(blobs: BlobStore, data: bytes) -> str:
    """Store ``data`` in the blob store; its digest, or 507 ``evidence_storage_full``."""
    try:
        return blobs.put(data)
    except NoRoomForBlob as err:
        log.error("evidence blob store is out of room: %s", err)
        raise EvidenceStorageFull(
            "The evidence store has no room for these bytes; nothing was stored. Try again later."
        ) from err


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


def delete_item(
    session: Session, bundle_id: str, item_id: str, *, owner: Account, platform_issuer: str | None = None
) -> None:
    """Remove an item from ``owner``'s open bundle (its blob goes with the next sweep;
    ``platform_issuer``: as :func:`_owned`)."""
    bundle = _owned(session, bundle_id, owner, for_update=True, platform_issuer=platform_issuer)
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
    session: Session,
    blobs: BlobStore,
    bundle_id: str,
    item_id: str,
    *,
    viewer: Account,
    platform_issuer: str | None = None,
) -> tuple[EvidenceItemRecord, bytes]:
    """An item's stored bytes, for whoever may see its bundle (NotFound until it is ``ready``)."""
    bundle = get_bundle(session, bundle_id, viewer=viewer, platform_issuer=platform_issuer)
    item = session.get(EvidenceItemRecord, item_id)
    if item is None or item.bundle_id != bundle.id:
        raise NotFound(NO_SUCH_ITEM)
    if item.state != ItemState.ready:
        raise NotFound("The item has no stored bytes: it is still being fetched, or its fetch failed")
    return item, blobs.get(item.sha256)


def public_item_content(session: Session, blobs: BlobStore, item_id: str) -> tuple[EvidenceItemRecord, bytes]:
    """An item's stored bytes, for anyone, once a credential cites its bundle; else NotFound."""
    item = session.get(EvidenceItemRecord, item_id)
    bundle = session.get(EvidenceBundleRecord, item.bundle_id) if item is not None else None
    if item is None or bundle is None or bundle.credential_id is None or item.state != ItemState.ready:
        raise NotFound(NO_SUCH_ITEM)
    return item, blobs.get(item.sha256)


# --- for the assessment domain ----------------------------------------------------------------


def ensure_items_ready(session: Session, bundle_id: str) -> None:
    """Refuse (409) a bundle with an item still being fetched (``evidence_not_ready``) or whose
    fetch failed (``evidence_failed``): only stored bytes can be assessed and cited."""
    states = set(
        session.exec(select(EvidenceItemRecord.state).where(EvidenceItemRecord.bundle_id == bundle_id).distinct())
    )
    if ItemState.fetching.value in states:
        raise Conflict(
            "An item of the bundle is still being fetched: wait until every item is fetched, then submit",
            code="evidence_not_ready",
        )
    if ItemState.failed.value in states:
        raise Conflict(
            "An item of the bundle could not be fetched: remove or replace it, then submit",
            code="evidence_failed",
        )


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


def ready_items(items: Iterable[EvidenceItemRecord]) -> list[EvidenceItemRecord]:
    """The items whose bytes are stored (state ``ready``)."""
    return [item for item in items if item.state == ItemState.ready]


def is_textual(item: EvidenceItemRecord) -> bool:
    """Whether the item's stored bytes are UTF-8 text."""
    return item.kind in TEXT_KINDS or item.media_type in TEXT_TYPES


@contextmanager
def open_bundle(session: Session, blobs: BlobStore, bundle_id: str) -> Iterator[EvidenceBundle]:
    """The bundle as assessors read it: textual items decoded exactly as stored, binary files with
    what they carry (:func:`read_embedded`, within :data:`READ_FILES_SECONDS` for the bundle),
    repositories checked out at their pinned commit (from the stored git bundle) in a temporary
    folder that is deleted when the ``with`` block ends. Every blob is checked against its digest."""
    _find(session, bundle_id)
    items = ready_items(list_items(session, bundle_id))
    deadline = time.monotonic() + READ_FILES_SECONDS
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
                    embedded=EmbeddedContent()
                    if is_textual(item)
                    else read_embedded(data, item.media_type, seconds=min(PDF_SECONDS, deadline - time.monotonic())),
                )
            )
        yield EvidenceBundle(items=tuple(built))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def credential_evidence(settings: Settings, items: Iterable[EvidenceItemRecord]) -> list[dict[str, Any]]:
    """Open Badges 3.0 ``Evidence`` entries for ``items`` (see :mod:`service.evidence.credential`),
    reading text and testimonial statements from the blob store of ``settings``. Only ``ready``
    items: one still being fetched, or whose fetch failed, has no bytes to cite."""
    items = ready_items(items)
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


def unsubmitted_bundles(session: Session, *, untouched_since: datetime) -> list[str]:
    """Ids of the bundles never submitted for assessment (still open) whose items have not
    changed since ``untouched_since``, oldest first."""
    return list(
        session.exec(
            select(EvidenceBundleRecord.id)
            .where(
                EvidenceBundleRecord.state == BundleState.open.value,
                col(EvidenceBundleRecord.updated_at) < untouched_since,
            )
            .order_by(col(EvidenceBundleRecord.updated_at), col(EvidenceBundleRecord.id))
        )
    )


def expire_bundle(session: Session, bundle_id: str, *, untouched_since: datetime) -> bool:
    """Delete a bundle and its items if it is still open and untouched since ``untouched_since``;
    whether it was. Its bytes go with the next :func:`sweep_unreferenced_blobs`.

    The bundle is claimed with a conditional UPDATE, which takes its row lock (PostgreSQL, which
    evaluates the condition again once it holds the lock) or the write lock (SQLite): an item
    being added at the same moment either lands first, and the bundle is spared, or finds the
    bundle gone (404). A submitted bundle is never touched (assessments refer to it).
    """
    claimed = session.exec(
        update(EvidenceBundleRecord)
        .where(
            col(EvidenceBundleRecord.id) == bundle_id,
            col(EvidenceBundleRecord.state) == BundleState.open.value,
            col(EvidenceBundleRecord.updated_at) < untouched_since,
        )
        .values(state=BundleState.open.value)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:
        return False
    bundle = _find(session, bundle_id, for_update=True)
    items = list_items(session, bundle_id)
    for item in items:
        session.delete(item)
    session.flush()  # the items first: they refer to the bundle
    session.delete(bundle)
    session.flush()
    record(
        session,
        action="evidence.bundle.expire",
        object_type="evidence_bundle",
        object_id=bundle_id,
        issuer_id=bundle.issuer_id,
        before={
            "owner_id": bundle.owner_id,
            "achievement_id": bundle.achievement_id,
            "items": len(items),
            "bytes": sum(item.size for item in items),
            "updated_at": bundle.updated_at.isoformat(),
        },
    )
    return True
