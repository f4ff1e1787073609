"""What the reviewer's pages show, read through the service functions the API's review routes
call, with the same viewer: the queue is :func:`service.assessment.service.review_queue`
(``GET /v1/review-queue``), one assessment is :func:`~service.assessment.service.read_assessment`
shaped by :func:`service.assessment.views.assessment_detail` (``GET /v1/assessments/{id}``), and
an evidence item's bytes are :func:`service.evidence.service.item_content` (``GET
/v1/evidence/bundles/{id}/items/{item}/content``). So a page never shows a reviewer more than the
API would, and another issuer's assessment is the service's 404. No FastAPI here, nothing commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session

from service.accounts.models import Account, Role
from service.achievements import service as achievements
from service.assessment import service as assessments
from service.assessment import views as assessment_views
from service.assessment.engine.rubric import Criterion
from service.assessment.models import AssessmentState, EventKind
from service.assessment.schemas import AssessmentOut, CriterionOut
from service.assessment.state import last_rejection, rubric_of_assessment
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.paging import PageParams
from service.evidence import service as evidence
from service.evidence.blobstore import BlobStore
from service.evidence.models import EvidenceItemRecord, ItemState
from service.evidence.views import INLINE_IMAGES
from service.issuers import service as issuers
from service.portal.review.words import flag_words, reason_words, why_in_review

QUEUE_PATH = "/portal/review"
INLINE_TEXT_CHARS = 20_000
"""Longer text evidence is cut on the page (the download has all of it)."""
MARKDOWN_KINDS = frozenset({"text", "testimonial"})
"""Narratives and testimonials are written as Markdown: shown rendered (and sanitised)."""
INLINE_TEXT_TYPES = {"text/markdown": "markdown", "text/plain": "plain", "text/csv": "plain"}
"""Stored files shown on the page as text: Markdown rendered, the others as preformatted text."""
REVIEWABLE_STATES = frozenset({AssessmentState.pending_review.value, AssessmentState.appealed.value})


def review_path(assessment_id: str) -> str:
    """The page of one assessment in review."""
    return f"{QUEUE_PATH}/{assessment_id}"


class _Names:
    """Achievement and issuer names, each read once per page."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.achievements: dict[tuple[str, int], str] = {}
        self.issuers: dict[str, str] = {}

    def achievement(self, achievement_id: str, version: int) -> str:
        key = (achievement_id, version)
        if key not in self.achievements:
            try:
                self.achievements[key] = achievements.get_achievement(self.session, *key).content.name
            except NotFound:
                self.achievements[key] = "An achievement"
        return self.achievements[key]

    def issuer(self, issuer_id: str) -> str:
        if issuer_id not in self.issuers:
            try:
                self.issuers[issuer_id] = issuers.get_issuer(self.session, issuer_id).name
            except NotFound:
                self.issuers[issuer_id] = "An issuer"
        return self.issuers[issuer_id]


# --- the queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """One assessment waiting for a reviewer, and why."""

    id: str
    achievement_id: str
    achievement: str
    issuer_id: str
    issuer: str
    appeal: bool
    assessed_at: datetime
    updated_at: datetime
    total: float
    passed: bool
    reasons: list[str]
    appeal_reason: str | None


@dataclass(frozen=True)
class QueuePage:
    """One page of the review queue (oldest first), split into appeals and first reviews."""

    appeals: list[QueueRow]
    first_reviews: list[QueueRow]
    total: int
    params: PageParams
    achievement_id: str | None
    issuer_id: str | None
    all_issuers: bool
    """The viewer sees every issuer's queue (an admin): the page names each row's issuer."""

    def link(self, offset: int | None = None, **filters: str | None) -> str:
        """The queue's URL with this page's filters (``filters`` replace them) at ``offset``."""
        chosen = {"achievement_id": self.achievement_id, "issuer_id": self.issuer_id} | filters
        query = {name: value for name, value in chosen.items() if value}
        if offset is not None:
            query |= {"limit": str(self.params.limit), "offset": str(offset)}
        return f"{QUEUE_PATH}?{urlencode(query)}" if query else QUEUE_PATH

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.params.offset - self.params.limit) if self.params.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        following = self.params.offset + self.params.limit
        return following if following < self.total else None


def queue(
    session: Session,
    viewer: Account,
    params: PageParams,
    *,
    achievement_id: str | None = None,
    issuer_id: str | None = None,
) -> QueuePage:
    """One page of the queue ``viewer`` works (their issuer's; an admin's: every issuer's), as
    ``GET /v1/review-queue`` answers it, with names and the reasons each waits in plain words."""
    rows, total = assessments.review_queue(
        session, params, viewer=viewer, achievement_id=achievement_id, issuer_id=issuer_id
    )
    names = _Names(session)
    shown = []
    for assessment, current in rows:
        summary = assessment_views.assessment_summary(assessment, current, staff=True)
        appeal = summary.state == AssessmentState.appealed
        shown.append(
            QueueRow(
                id=summary.id,
                achievement_id=summary.achievement_id,
                achievement=names.achievement(summary.achievement_id, summary.achievement_version),
                issuer_id=summary.issuer_id,
                issuer=names.issuer(summary.issuer_id),
                appeal=appeal,
                assessed_at=summary.assessed_at,
                updated_at=summary.updated_at,
                total=summary.total,
                passed=summary.passed,
                reasons=why_in_review(assessment, current),
                appeal_reason=current.reason if appeal else None,
            )
        )
    return QueuePage(
        appeals=[row for row in shown if row.appeal],
        first_reviews=[row for row in shown if not row.appeal],
        total=total,
        params=params,
        achievement_id=achievement_id,
        issuer_id=issuer_id,
        all_issuers=viewer.role == Role.admin,
    )


# --- one assessment -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence item as the reviewer reads it: what it is, its text when it is text (cut at
    :data:`INLINE_TEXT_CHARS`), and the staff-only download of its stored bytes."""

    item: EvidenceItemRecord
    title: str
    text: str | None = None
    text_format: str | None = None
    """``markdown`` (rendered and sanitised by the page) or ``plain`` (shown as preformatted text)."""
    cut: bool = False
    image: bool = False
    download_path: str | None = None
    contact: list[str] = field(default_factory=list)
    """A testimonial's contact (the issuer's reviewers and admins only, as the API shows it)."""


@dataclass(frozen=True)
class CriterionRow:
    """A criterion of the rubric the assessor used, beside what the assessor proposed for it."""

    criterion: Criterion
    result: CriterionOut | None
    cited: list[tuple[str, str, str | None]]
    """The evidence the assessor cited: ``(item id, item title, locator)``."""


@dataclass(frozen=True)
class ReviewPage:
    """One assessment, its evidence beside its rubric, and what the viewer may decide."""

    assessment: AssessmentOut
    achievement: str
    issuer: str
    criteria: list[CriterionRow]
    evidence: list[EvidenceRow]
    reasons: list[str]
    findings: list[dict[str, Any]]
    policy_reasons: list[str]
    history: list[dict[str, Any]]
    reviewable: bool
    appeal: bool
    appeal_reason: str | None
    rejection_reason: str | None
    blocked: str | None
    """Why the viewer may not decide (they rejected what is now appealed), else None."""


def _item_title(item: EvidenceItemRecord) -> str:
    return item.name or item.file_name or item.url or f"{item.kind.capitalize()} item"


def _evidence_row(
    session: Session, blobs: BlobStore, viewer: Account, assessment_id: str, item: EvidenceItemRecord, contact: bool
) -> EvidenceRow:
    title = _item_title(item)
    people = [value for value in (item.contact_email, item.contact_phone) if value] if contact else []
    if item.state != ItemState.ready:
        return EvidenceRow(item, title, contact=people)
    download = f"{review_path(assessment_id)}/evidence/{item.id}"
    text_format = "markdown" if item.kind in MARKDOWN_KINDS else INLINE_TEXT_TYPES.get(item.media_type)
    text, cut = None, False
    if text_format is not None:
        _, data = evidence.item_content(session, blobs, item.bundle_id, item.id, viewer=viewer)
        decoded = data.decode("utf-8", errors="replace")
        text, cut = decoded[:INLINE_TEXT_CHARS], len(decoded) > INLINE_TEXT_CHARS
    image = item.media_type in INLINE_IMAGES
    return EvidenceRow(item, title, text, text_format, cut, image, download, people)


def _history(shown: AssessmentOut, viewer: Account) -> list[dict[str, Any]]:
    rows = []
    for event in shown.events:
        if event.actor_id is not None and event.actor_id == viewer.id:
            who = "you"
        elif event.actor_role:
            who = "the earner" if event.actor_role == "earner" else f"a {event.actor_role.replace('_', ' ')}"
        else:
            who = "SkillCred's assessor"
        rows.append({"event": event, "who": who, "what": event.kind.replace("_", " ")})
    return rows


def review_page(
    session: Session, settings: Settings, blobs: BlobStore, viewer: Account, assessment_id: str
) -> ReviewPage:
    """The assessment as ``GET /v1/assessments/{id}`` shows it to ``viewer`` (404 for another
    issuer's), with its evidence read as the content route reads it, its rubric and the decision
    the viewer may take."""
    record = assessments.read_assessment(session, assessment_id, viewer=viewer)
    shown = assessment_views.assessment_detail(record, viewer=viewer, public_url=settings.public_url)
    assessment = record.assessment
    bundle = evidence.get_bundle(session, assessment.bundle_id, viewer=viewer)
    contact = evidence.can_see_contact(viewer, bundle)
    items = [_evidence_row(session, blobs, viewer, assessment.id, item, contact) for item in record.evidence]
    titles = {row.item.id: row.title for row in items}
    results = {c.criterion_id: c for c in shown.criteria}
    criteria = []
    for criterion in rubric_of_assessment(assessment).criteria:
        result = results.get(criterion.id)
        cited = [(p.item_id, titles.get(p.item_id, "an item"), p.locator) for p in (result.evidence if result else [])]
        criteria.append(CriterionRow(criterion, result, cited))
    findings = [
        {
            "flag": flag_words(str(found.get("flag", ""))),
            "item_id": found.get("item_id"),
            "item": titles.get(str(found.get("item_id")), None),
            "reason": found.get("reason"),
            "excerpt": found.get("excerpt"),
        }
        for found in shown.findings
    ]
    events = record.events
    current = max(events, key=lambda event: event.seq)
    appeal = shown.state == AssessmentState.appealed
    rejection = last_rejection(events)
    appealed = [e for e in events if e.kind == EventKind.appealed]
    blocked = None
    if appeal and rejection is not None and rejection.actor_id == viewer.id:
        blocked = "You rejected this assessment, so its appeal must be decided by another reviewer."
    names = _Names(session)
    return ReviewPage(
        assessment=shown,
        achievement=names.achievement(shown.achievement_id, shown.achievement_version),
        issuer=names.issuer(shown.issuer_id),
        criteria=criteria,
        evidence=items,
        reasons=why_in_review(assessment, current),
        findings=findings,
        policy_reasons=[words for words in (reason_words(r) for r in shown.decision_reasons) if words],
        history=_history(shown, viewer),
        reviewable=shown.state in REVIEWABLE_STATES,
        appeal=appeal,
        appeal_reason=appealed[-1].reason if appealed else None,
        rejection_reason=rejection.reason if rejection is not None else None,
        blocked=blocked,
    )


def download(
    session: Session, blobs: BlobStore, viewer: Account, assessment_id: str, item_id: str
) -> tuple[EvidenceItemRecord, bytes]:
    """An evidence item of an assessment the viewer may review, and its stored bytes (404 for
    another issuer's assessment, an item of another bundle, or one with no bytes)."""
    assessment, _ = assessments.get_assessment(session, assessment_id, viewer=viewer)
    return evidence.item_content(session, blobs, assessment.bundle_id, item_id, viewer=viewer)


def levels_in_force(session: Session, viewer: Account, assessment_id: str) -> list[tuple[Criterion, str]]:
    """Each criterion of the rubric the assessor used, with the level in force now (after any
    override), for an assessment ``viewer`` may see (else the service's 404)."""
    assessment, events = assessments.get_assessment(session, assessment_id, viewer=viewer)
    current = max(events, key=lambda event: event.seq)
    stored = {str(c["criterion_id"]): str(c["level"]) for c in assessment.criteria}
    return [
        (criterion, current.levels.get(criterion.id, stored.get(criterion.id, "")))
        for criterion in rubric_of_assessment(assessment).criteria
    ]
