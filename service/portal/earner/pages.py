"""What the earner's pages show, read through the same service functions the API's routes call
(with the same viewer checks), shaped for the templates. No FastAPI here, and nothing commits.

Each function returns plain dictionaries and the API's own view models (``AssessmentOut``,
``RubricView``...), so a page never shows more than the API would tell the same account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from service.accounts.models import Account
from service.achievements import service as achievements
from service.achievements import views as achievement_views
from service.achievements.schemas import RubricView
from service.assessment import service as assessments
from service.assessment import views as assessment_views
from service.assessment.schemas import AssessmentOut
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.paging import PageParams
from service.credentials import service as credentials
from service.discovery.schemas import Suggestions
from service.endorsements import service as endorsements
from service.endorsements.models import EndorsementState
from service.evidence import service as evidence
from service.evidence.models import BundleState, EvidenceBundleRecord, EvidenceItemRecord
from service.issuers import service as issuers

HOME_ITEMS = 100
"""How many credentials and assessments the home page lists (newest first)."""
ENDORSEMENTS_SHOWN = 20
"""How many endorsements of each credential the home page lists (newest first)."""
RENEW_WITHIN = timedelta(days=30)
"""A credential ending within this long (or ended) offers to apply again."""
ENDORSEMENT_WORDS = {
    EndorsementState.pending: "Waiting for your decision",
    EndorsementState.accepted: "Shown on your badge page",
    EndorsementState.hidden: "Hidden",
    EndorsementState.revoked: "Withdrawn by the issuer",
}
DOWNLOADS = {"jsonld": "JSON-LD", "jwt": "VC-JWT", "png": "Baked PNG", "svg": "Baked SVG"}
STATE_WORDS = {
    "queued": "Waiting to be assessed",
    "running": "Being assessed",
    "pending_review": "With a reviewer",
    "appealed": "Appealed: with another reviewer",
    "issued": "Issued",
    "rejected": "Not passed",
}
STATE_KIND = {"issued": "ok", "rejected": "bad", "queued": "warn", "running": "warn"}


def _names(session: Session, achievement_id: str, version: int | None = None) -> tuple[str, str]:
    """(achievement name, issuer name); placeholders for rows that are gone."""
    try:
        found = achievements.get_achievement(session, achievement_id, version)
        issuer = issuers.get_issuer(session, found.achievement.issuer_id)
    except NotFound:
        return "An achievement", "An issuer"
    return found.content.name, issuer.name


def _endorsements(session: Session, credential_id: str, account: Account) -> list[dict[str, Any]]:
    """A credential's endorsements as its earner decides on them (revoked ones cannot be)."""
    rows, _ = endorsements.list_endorsements(
        session, credential_id, PageParams(limit=ENDORSEMENTS_SHOWN, offset=0), viewer=account
    )
    return [
        {
            "id": row.id,
            "endorser": row.endorser_name,
            "comment": row.comment,
            "issued_at": row.issued_at,
            "state": row.state,
            "state_words": ENDORSEMENT_WORDS.get(EndorsementState(row.state), row.state),
            "can_accept": row.state in (EndorsementState.pending, EndorsementState.hidden),
            "can_hide": row.state in (EndorsementState.pending, EndorsementState.accepted),
        }
        for row in rows
    ]


def home(session: Session, settings: Settings, account: Account, *, now: datetime) -> dict[str, Any]:
    """The earner's home: their credentials (with visibility, links, endorsements and, near
    their end, the way to renew), assessments and open bundles."""
    rows, _ = credentials.list_credentials(session, PageParams(limit=HOME_ITEMS, offset=0), viewer=account)
    shown = []
    for credential, _identity in rows:
        achievement, issuer = _names(session, credential.achievement_id, credential.achievement_version)
        shown.append(
            {
                "id": credential.id,
                "achievement": achievement,
                "issuer": issuer,
                "issued_at": credential.issued_at,
                "valid_until": credential.valid_until,
                "state": str(credential.state),
                "public": credential.public,
                "show_name": credential.show_name,
                "url": credentials.credential_url(settings, credential.id),
                "path": f"/credentials/{credential.id}",
                "achievement_id": credential.achievement_id,
                "renewable": str(credential.state) != "revoked"
                and credential.valid_until is not None
                and credential.valid_until - now <= RENEW_WITHIN,
                "endorsements": _endorsements(session, credential.id, account),
            }
        )
    found, _ = assessments.list_assessments(session, PageParams(limit=HOME_ITEMS, offset=0), viewer=account)
    assessed = []
    for assessment, current in found:
        achievement, issuer = _names(session, assessment.achievement_id, assessment.achievement_version)
        state = str(current.state)
        assessed.append(
            {
                "id": assessment.id,
                "achievement": achievement,
                "issuer": issuer,
                "state": state,
                "state_words": STATE_WORDS.get(state, state),
                "kind": STATE_KIND.get(state, "warn"),
                "updated_at": current.at,
            }
        )
    bundles, _ = evidence.list_bundles(session, PageParams(limit=HOME_ITEMS, offset=0), owner=account)
    open_bundles = []
    for bundle in bundles:
        if bundle.state == BundleState.open:
            achievement, issuer = _names(session, bundle.achievement_id)
            open_bundles.append({"achievement_id": bundle.achievement_id, "achievement": achievement, "issuer": issuer})
    return {
        "credentials": shown,
        "assessments": assessed,
        "open_bundles": open_bundles,
        "downloads": DOWNLOADS,
        "now": now,
    }


@dataclass(frozen=True)
class ApplyPage:
    """The apply page: the achievement, its rubric as earners see it, and the open bundle."""

    achievement_id: str
    name: str
    issuer: str
    description: str
    criteria: str
    rubric: RubricView | None
    bundle: EvidenceBundleRecord | None
    items: list[EvidenceItemRecord]
    suggestions: Suggestions | None = None
    """What the evidence shows, when the earner asked (achievements other than this one first)."""


def open_bundle_for(session: Session, account: Account, achievement_id: str) -> EvidenceBundleRecord | None:
    """The earner's newest open bundle for the achievement, if any."""
    return session.exec(
        select(EvidenceBundleRecord)
        .where(
            EvidenceBundleRecord.owner_id == account.id,
            EvidenceBundleRecord.achievement_id == achievement_id,
            EvidenceBundleRecord.state == BundleState.open.value,
        )
        .order_by(col(EvidenceBundleRecord.created_at).desc(), col(EvidenceBundleRecord.id))
    ).first()


def apply_page(session: Session, account: Account, achievement_id: str) -> ApplyPage:
    """The achievement (404 when there is none), its current rubric without the assessor's hints
    (the API's earner view: ``complete=False``), and the earner's open bundle for it."""
    found = achievements.get_achievement(session, achievement_id)
    issuer = issuers.get_issuer(session, found.achievement.issuer_id)
    try:
        rubric: RubricView | None = achievement_views.rubric_view(
            achievements.get_rubric_version(session, achievement_id), complete=False
        )
    except NotFound:
        rubric = None
    bundle = open_bundle_for(session, account, achievement_id)
    items = evidence.list_items(session, bundle.id) if bundle is not None else []
    return ApplyPage(
        achievement_id=found.achievement.id,
        name=found.content.name,
        issuer=issuer.name,
        description=found.content.description,
        criteria=found.content.criteria_narrative or "",
        rubric=rubric,
        bundle=bundle,
        items=items,
    )


def assessment_page(session: Session, settings: Settings, account: Account, assessment_id: str) -> dict[str, Any]:
    """One assessment as the API shows it to this account (404 unless it is theirs), with names."""
    record = assessments.read_assessment(session, assessment_id, viewer=account)
    shown: AssessmentOut = assessment_views.assessment_detail(record, viewer=account, public_url=settings.public_url)
    achievement, issuer = _names(session, shown.achievement_id, shown.achievement_version)
    return {
        "assessment": shown,
        "achievement": achievement,
        "issuer": issuer,
        "state_words": STATE_WORDS.get(shown.state, shown.state),
        "kind": STATE_KIND.get(shown.state, "warn"),
        "undecided": shown.state in ("queued", "running"),
        "credential_path": f"/credentials/{shown.credential_id}" if shown.credential_id else None,
    }
