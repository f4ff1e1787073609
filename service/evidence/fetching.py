"""Fetching a URL or repository item after the request that added it: the work of the job
``evidence:fetch_item`` (:mod:`service.evidence.jobs`). No FastAPI here and no commits.

The request records the item ``fetching`` (no bytes yet) and defers the job in its transaction.
The job reads what to fetch in one short transaction (:func:`fetch_plan`), fetches or clones with
no transaction open, then stores the outcome in another short one: the bytes, content-addressed,
and state ``ready`` (:func:`store_fetched`), or state ``failed`` with the reason
(:func:`mark_failed`). The bundle's and the account's byte limits are checked again when storing,
under the same locks as an upload (the bundle may have grown meanwhile). Both are no-ops unless
the item is still ``fetching``, so a job that runs twice changes nothing the second time, and an
item deleted meanwhile is simply forgotten.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.audit.service import record
from service.core.errors import ServiceError
from service.core.models import utcnow
from service.evidence import intake
from service.evidence.blobstore import BlobStore
from service.evidence.intake import EvidenceFetchers, EvidenceLimits, PreparedItem, Room
from service.evidence.models import BundleState, EvidenceBundleRecord, EvidenceItemRecord, ItemState
from service.evidence.service import (
    _claim_bundle,
    _room,
    _serialise_account,
    account_bytes,
    bundle_totals,
    put_blob,
)

log = logging.getLogger("skillcred.evidence")

MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class FetchPlan:
    """What the job fetches: the item's kind, URL and commit, and the room its bytes may take."""

    item_id: str
    kind: str
    url: str
    commit: str | None
    name: str | None
    room: Room


def fetch_plan(session: Session, item_id: str, limits: EvidenceLimits) -> FetchPlan | None:
    """What to fetch for ``item_id``, or None when there is nothing to do (the item is gone,
    or no longer ``fetching``)."""
    item = session.get(EvidenceItemRecord, item_id)
    if item is None or item.state != ItemState.fetching or item.url is None:
        return None
    bundle = session.get(EvidenceBundleRecord, item.bundle_id)
    owner = session.get(Account, bundle.owner_id) if bundle is not None else None
    if bundle is None or owner is None:
        return None
    _count, total = bundle_totals(session, [bundle.id]).get(bundle.id, (0, 0))
    room = _room(limits, total, account_bytes(session, owner))
    return FetchPlan(item.id, item.kind, item.url, item.commit, item.name, room)


def fetch(plan: FetchPlan, fetchers: EvidenceFetchers, limits: EvidenceLimits) -> PreparedItem:
    """Fetch the URL or clone the repository (no transaction may be open): the prepared bytes,
    or a :class:`ServiceError` saying why not (``url_unreachable``, ``repository_timeout``...)."""
    if plan.room.max_bytes <= 0:
        raise plan.room.refusal
    if plan.kind == "repository":
        return intake.prepare_repository(fetchers.repositories, plan.url, plan.commit or "", limits, name=plan.name)
    return intake.prepare_url(fetchers.urls, plan.url, limits, name=plan.name, room=plan.room)


def describe(error: ServiceError) -> str:
    """An item's ``error`` text: the refusal's code, then its words."""
    return f"{error.code}: {error}"[:MAX_ERROR_CHARS]


def _claim_fetching(session: Session, item_id: str) -> tuple[EvidenceItemRecord, EvidenceBundleRecord] | None:
    """The item, still ``fetching``, with its owner's account and bundle locked (the order
    additions lock them in), or None."""
    item = session.get(EvidenceItemRecord, item_id)
    bundle = session.get(EvidenceBundleRecord, item.bundle_id) if item is not None else None
    owner = session.get(Account, bundle.owner_id) if bundle is not None else None
    if item is None or bundle is None or owner is None:
        return None
    _serialise_account(session, owner)
    bundle = _claim_bundle(session, bundle.id, owner)
    item = session.get(EvidenceItemRecord, item_id, with_for_update=True, populate_existing=True)
    if item is None or item.state != ItemState.fetching:
        return None
    return item, bundle


def _fail(session: Session, item: EvidenceItemRecord, bundle: EvidenceBundleRecord, error: str) -> None:
    item.state, item.error = ItemState.failed.value, error[:MAX_ERROR_CHARS]
    session.add(item)
    session.flush()
    record(
        session,
        action="evidence.item.fetch",
        object_type="evidence_item",
        object_id=item.id,
        issuer_id=bundle.issuer_id,
        after={"bundle_id": bundle.id, "state": item.state, "error": item.error},
    )
    log.info("evidence item %s: fetch failed: %s", item.id, item.error)


def mark_failed(session: Session, item_id: str, error: str) -> bool:
    """Mark a ``fetching`` item ``failed`` with ``error``; whether it was still fetching."""
    claimed = _claim_fetching(session, item_id)
    if claimed is None:
        return False
    _fail(session, *claimed, error)
    return True


def store_fetched(
    session: Session, blobs: BlobStore, item_id: str, prepared: PreparedItem, limits: EvidenceLimits
) -> str | None:
    """Store fetched bytes for a ``fetching`` item and make it ``ready``; the new state, or None
    when the item is gone or was finished by another run. Bytes that no longer fit the bundle or
    the account (it grew meanwhile), or a bundle submitted meanwhile, make it ``failed``."""
    claimed = _claim_fetching(session, item_id)
    if claimed is None:
        return None
    item, bundle = claimed
    if bundle.state != BundleState.open:
        _fail(session, item, bundle, "evidence_bundle_locked: the bundle was submitted before the item was fetched")
        return item.state
    owner = session.get(Account, bundle.owner_id)
    _count, total = bundle_totals(session, [bundle.id]).get(bundle.id, (0, 0))
    room = _room(limits, total, account_bytes(session, owner) if owner is not None else 0)
    if len(prepared.data) > room.max_bytes:
        refusal = room.refusal
        _fail(session, item, bundle, describe(refusal))
        return item.state
    try:
        digest = put_blob(blobs, prepared.data)
    except ServiceError as err:
        _fail(session, item, bundle, describe(err))
        return item.state
    item.sha256, item.size, item.media_type = digest, len(prepared.data), prepared.media_type
    item.declared_media_type = prepared.declared_media_type
    item.final_url, item.http_status = prepared.final_url, prepared.http_status
    item.commit = prepared.commit or item.commit
    item.fetched_at = prepared.fetched_at or utcnow()
    item.state, item.error = ItemState.ready.value, None
    session.add(item)
    session.flush()
    record(
        session,
        action="evidence.item.fetch",
        object_type="evidence_item",
        object_id=item.id,
        issuer_id=bundle.issuer_id,
        after={
            "bundle_id": bundle.id,
            "state": item.state,
            "sha256": item.sha256,
            "size": item.size,
            "media_type": item.media_type,
        },
    )
    return item.state


def fetching_items(session: Session) -> list[str]:
    """Ids of the items still ``fetching``, oldest first (for recovery after a restart)."""
    return list(
        session.exec(
            select(EvidenceItemRecord.id)
            .where(EvidenceItemRecord.state == ItemState.fetching.value)
            .order_by(col(EvidenceItemRecord.created_at), col(EvidenceItemRecord.id))
        )
    )
