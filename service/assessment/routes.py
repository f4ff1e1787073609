"""Assessment routes: earners submit evidence bundles and appeal; reviewers work the queue.

Also the public SkillCred JSON-LD context (``public_router``): the context issued credentials use
to say how their skill was assessed.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlmodel import Session

from service.accounts.models import Account, Role
from service.api.auth import (
    AssessmentReader,
    Authenticated,
    EarnerAccount,
    EvidenceWriter,
    IssuerStaff,
    Public,
    ensure_issuer_scope,
)
from service.api.deps import ClockDep, KeystoreDep, SessionDep, SettingsDep
from service.api.errors import error_responses
from service.api.gates import IssuingSlot
from service.api.paging import PageDep, set_paging_headers
from service.assessment import quality, service, views
from service.assessment.schemas import (
    AppealRequest,
    ApproveRequest,
    AssessmentOut,
    AssessmentQualityOut,
    AssessmentSubmit,
    AssessmentSummary,
    CriterionAgreementOut,
    OverrideRequest,
    QualityAssessorOut,
    QualityFiguresOut,
    QualityGroupOut,
    QualityPeriodOut,
    QualityRubricOut,
    QualityVerdictOut,
    RejectRequest,
)
from service.core.config import Settings
from service.core.errors import NotFound
from service.core.paging import Page
from service.platforms import scopes
from service.platforms.earners.service import acting_issuer
from service.vc.skillcred import SKILLCRED_V1_FILE

router = APIRouter(prefix="/v1", tags=["assessments"])
public_router = APIRouter(tags=["assessments"])

AssessmentId = Annotated[str, Path(min_length=1, max_length=36, description="The assessment's id")]
ReviewerAccount = IssuerStaff
QualityReader = Annotated[Account, Authenticated(Role.admin, Role.issuer_admin, scopes={scopes.ASSESSMENTS_READ})]
"""Issuer admins (their issuer's) and admins; a platform of the issuer with ``assessments:read``.
Not reviewers: their decisions are what the assessor is measured against, and a reviewer who
knows how often the assessor is right is the more tempted to follow it."""


def platform_issuer(request: Request) -> str | None:
    """The issuer whose platform acts for the earner (``On-Behalf-Of``): the request is confined to
    that issuer's assessments, where the platform vouches for the earner's address."""
    return acting_issuer(getattr(request.state, "principal", None))


def _detail(
    session: Session, settings: Settings, assessment_id: str, viewer: Account, acting: str | None = None
) -> AssessmentOut:
    """The assessment as ``viewer`` may read it (``acting``: a platform of that issuer acts for
    them), shaped for the API."""
    record = service.read_assessment(session, assessment_id, viewer=viewer, platform_issuer=acting)
    return views.assessment_detail(record, viewer=viewer, public_url=settings.public_url)


@router.post(
    "/assessments",
    response_model=AssessmentOut,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[IssuingSlot],
    responses=error_responses(401, 403, 404, 409, 413, 422, 429, 503),
)
def submit_assessment(
    body: AssessmentSubmit,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    account: EvidenceWriter,
) -> AssessmentOut:
    """Submit one of your evidence bundles for assessment: it is locked and queued, and the answer
    comes at once (202, `state` `queued`, `Location` the assessment). The configured assessor
    then judges it against its achievement's current rubric, in the background: follow it with
    GET on `Location`, whose `state` goes `queued` -> `running` -> the decision: `issued` (the
    credential is issued: `credential_id`), `pending_review` (a reviewer decides; also when the
    automatic assessment failed, with the reason) or `rejected` (you may resubmit with a new
    bundle, or appeal once).

    `renews` names one of your credentials for the same achievement (active or expired, not
    revoked or suspended): the credential issued from this assessment replaces it. Earners only.

    409 `evidence_not_ready` while an item of the bundle is still being fetched (URL or
    repository), `evidence_failed` when one could not be (remove or replace it), and
    `credential_exists` when you already hold an active credential for the achievement (renew it).

    Submissions per achievement are limited: at most `SKILLCRED_ASSESSMENT_MAX_ATTEMPTS` (3) in
    `SKILLCRED_ASSESSMENT_ATTEMPT_WINDOW_DAYS` (30) days, at least
    `SKILLCRED_ASSESSMENT_COOLDOWN_HOURS` (24) hours apart; past that, 429
    `resubmission_limited` with `Retry-After`, and nothing is locked or created. An appeal is
    not a submission.

    A platform acting for an earner it provisioned (`On-Behalf-Of`) submits bundles for its own
    issuer's achievements only, also before the earner verified the address (the platform vouches
    for it there)."""
    acting = platform_issuer(request)
    assessment, _ = service.submit_assessment(
        session,
        earner=account,
        bundle_id=body.bundle_id,
        renews=body.renews,
        platform_issuer=acting,
        now=clock.now(),
        limits=service.AttemptLimits.from_settings(settings),
    )
    response.headers["Location"] = f"/v1/assessments/{assessment.id}"
    return _detail(session, settings, assessment.id, account, acting)


@router.get("/assessments", response_model=Page[AssessmentSummary], responses=error_responses(401, 422))
def list_assessments(
    request: Request,
    response: Response,
    session: SessionDep,
    account: AssessmentReader,
    page: PageDep,
    state: Annotated[str | None, Query(pattern="^(queued|running|pending_review|appealed|issued|rejected)$")] = None,
    achievement_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[AssessmentSummary]:
    """Assessments, newest first, filtered by state and achievement. Earners see their own;
    reviewers and issuer admins their issuer's; admins all. A platform acting for an earner
    (`On-Behalf-Of`) sees the earner's for its own issuer only. `flags` are shown to issuer
    staff only."""
    rows, total = service.list_assessments(
        session,
        page,
        viewer=account,
        state=state,
        achievement_id=achievement_id,
        platform_issuer=platform_issuer(request),
    )
    set_paging_headers(request, response, page, total)
    staff = service.is_staff(account)
    return Page(
        items=[views.assessment_summary(a, e, staff=staff) for a, e in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/review-queue", response_model=Page[AssessmentSummary], responses=error_responses(401, 403, 422))
def review_queue(
    request: Request,
    response: Response,
    session: SessionDep,
    account: ReviewerAccount,
    page: PageDep,
    achievement_id: Annotated[str | None, Query(max_length=36)] = None,
    issuer_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[AssessmentSummary]:
    """Assessments waiting for a reviewer (`pending_review`, and `appealed` rejections), oldest
    first, paged; filter by achievement. Reviewers and issuer admins see their issuer's queue;
    admins every issuer's (filter with `issuer_id`)."""
    rows, total = service.review_queue(
        session, page, viewer=account, achievement_id=achievement_id, issuer_id=issuer_id
    )
    set_paging_headers(request, response, page, total)
    return Page(
        items=[views.assessment_summary(a, e, staff=True) for a, e in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


def _quality_out(report: quality.Report) -> AssessmentQualityOut:
    """The report as the API shows it (the figures' dataclasses nest as the schema does)."""
    return AssessmentQualityOut(
        issuer_id=report.issuer_id,
        achievement_id=report.achievement_id,
        rubric_id=report.rubric_id,
        since=report.since,
        until=report.until,
        bucket=report.bucket,
        min_reviewed=quality.MIN_REVIEWED,
        groups=[
            QualityGroupOut(
                rubric=QualityRubricOut(id=g.rubric_id, version=g.rubric_version, name=g.rubric_name),
                assessor=QualityAssessorOut(kind=g.assessor_kind, version=g.assessor_version),
                achievement_ids=g.achievement_ids,
                figures=QualityFiguresOut.model_validate(asdict(g.figures)),
                criteria=[CriterionAgreementOut.model_validate(asdict(c)) for c in g.criteria],
                periods=[QualityPeriodOut.model_validate(asdict(p)) for p in g.periods],
                verdict=QualityVerdictOut(status=g.verdict.status, text=g.verdict.text),
            )
            for g in report.groups
        ],
    )


@router.get("/assessment-quality", response_model=AssessmentQualityOut, responses=error_responses(401, 403, 404, 422))
def assessment_quality(
    session: SessionDep,
    account: QualityReader,
    issuer_id: Annotated[str | None, Query(max_length=36, description="Admins: one issuer's (default: all)")] = None,
    achievement_id: Annotated[str | None, Query(max_length=36)] = None,
    rubric_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    since: Annotated[datetime | None, Query(description="Assessed at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Assessed before (ISO 8601)")] = None,
    bucket: Annotated[Literal["week", "month"], Query(description="The periods of `periods`")] = "month",
) -> AssessmentQualityOut:
    """How far each assessor agrees with the people who review its work, per rubric (id and
    version) and assessor (kind and version), so an issuer can see whether automatic issue is
    safe to turn on. Counted: assessments a person approved or rejected (after any level
    overrides), judged by the assessor in `[since, until)`, optionally one achievement's or one
    rubric's. For each: how many were approved, rejected, had levels overridden or were drawn at
    random for review (`auto_with_sampling`); the assessor's proposed outcome against the
    reviewer's (`decisions`: agreement, Cohen's kappa, issued-but-rejected and the reverse; and the
    same over the sampled ones, the fairest test); its levels against the reviewer's
    (`levels`: exact agreement, mean absolute difference in levels; Cohen's kappa per criterion);
    the same per `week` or `month` (`periods`); and a `verdict` in plain words (too few to judge
    below `min_reviewed`). A `since` at or after `until` is an empty period: no groups.

    Issuer admins read their own issuer's (another `issuer_id`: 404); admins any issuer's, or all
    with no `issuer_id`; a platform of the issuer with `assessments:read` too. Reviewers: 403."""
    if account.role != Role.admin:
        if issuer_id is not None:
            ensure_issuer_scope(account, issuer_id)
        issuer_id = account.issuer_id
        if issuer_id is None:  # an issuer admin always has an issuer; nothing to show otherwise
            raise NotFound("No such issuer")
    report = quality.quality_report(
        session,
        issuer_id=issuer_id,
        achievement_id=achievement_id,
        rubric_id=rubric_id,
        since=since,
        until=until,
        bucket=bucket,
    )
    return _quality_out(report)


@router.get("/assessments/{assessment_id}", response_model=AssessmentOut, responses=error_responses(401, 404, 422))
def get_assessment(
    assessment_id: AssessmentId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    account: AssessmentReader,
) -> AssessmentOut:
    """One assessment: state, per-criterion levels (after any override), each with its place on
    the criterion's scale, the rubric's description of it and an `explanation` in plain words, an
    `explanation` of the outcome, the rubric and assessor, and its history. Issuer staff also see
    what the assessor said and matched (`rationale`, `confidence`, `spread` and `evidence`
    pointers per criterion, `flags`, `findings`, `decision_reasons`, `sampled`, the assessor's
    `details`), the evidence items with links to their content, and who took each decision; the
    earner never does (the rationale names the rubric's hidden key ideas). 404 unless the caller
    is its earner or staff of its issuer (or an admin); a platform acting for the earner reads
    its own issuer's only, as the earner does."""
    return _detail(session, settings, assessment_id, account, platform_issuer(request))


@router.post(
    "/assessments/{assessment_id}/overrides",
    response_model=AssessmentOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def override_levels(
    assessment_id: AssessmentId,
    body: OverrideRequest,
    session: SessionDep,
    settings: SettingsDep,
    account: ReviewerAccount,
) -> AssessmentOut:
    """Change the level of one or more criteria, each with a reason; the total and the pass rule
    are recomputed and the assessment stays in the queue. 409 `not_pending` when it is not
    waiting for a review."""
    service.override_levels(session, assessment_id, body.overrides, reviewer=account)
    return _detail(session, settings, assessment_id, account)


@router.post(
    "/assessments/{assessment_id}/approve",
    response_model=AssessmentOut,
    dependencies=[IssuingSlot],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
def approve_assessment(
    assessment_id: AssessmentId,
    body: ApproveRequest,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeystoreDep,
    account: ReviewerAccount,
) -> AssessmentOut:
    """Approve and issue the credential (in one transaction), after applying `overrides`.
    Levels below the rubric's pass rule are refused (409 `below_pass_rule`) unless
    `approve_below_pass_rule` is true. The first decision wins: a second reviewer gets 409
    `not_pending`. An appeal is decided by someone other than the reviewer who rejected it (403
    `same_reviewer`)."""
    service.approve(
        session,
        keystore,
        settings,
        assessment_id,
        reviewer=account,
        reason=body.reason,
        overrides=body.overrides,
        approve_below_pass_rule=body.approve_below_pass_rule,
    )
    return _detail(session, settings, assessment_id, account)


@router.post(
    "/assessments/{assessment_id}/reject",
    response_model=AssessmentOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def reject_assessment(
    assessment_id: AssessmentId,
    body: RejectRequest,
    session: SessionDep,
    settings: SettingsDep,
    account: ReviewerAccount,
) -> AssessmentOut:
    """Reject with a reason (the earner sees it), after recording `overrides`. The first
    decision wins (409 `not_pending` for the second); an appeal is decided by a different
    reviewer (403 `same_reviewer`)."""
    service.reject(session, assessment_id, reviewer=account, reason=body.reason, overrides=body.overrides)
    return _detail(session, settings, assessment_id, account)


@router.post(
    "/assessments/{assessment_id}/appeal",
    response_model=AssessmentOut,
    responses=error_responses(401, 403, 404, 409, 422),
)
def appeal_assessment(
    assessment_id: AssessmentId, body: AppealRequest, session: SessionDep, settings: SettingsDep, account: EarnerAccount
) -> AssessmentOut:
    """Appeal a rejection of your assessment, once, saying why: it goes back to the review queue
    and a reviewer other than the one who rejected it decides. 409 `not_rejected` or
    `already_appealed`."""
    service.appeal(session, assessment_id, earner=account, reason=body.reason)
    return _detail(session, settings, assessment_id, account)


@public_router.get(
    "/contexts/skillcred-v1.jsonld",
    dependencies=[Public],
    response_class=Response,
    responses={
        200: {
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
            "description": "The SkillCred JSON-LD context, v1",
        }
    },
)
def skillcred_context() -> Response:
    """SkillCred's JSON-LD context (`https://w3id.org/skillcred/v1`): the terms a credential uses
    to say how its skill was assessed (`credentialSubject.assessment`). Served byte for byte as
    bundled with the service; verifiers should pin it rather than fetch it."""
    response = Response(SKILLCRED_V1_FILE.read_bytes(), media_type="application/ld+json")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
