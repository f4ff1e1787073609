"""How well an assessor agrees with the people who review its work: reviewer decisions are data.

For each rubric (id and version) and each assessor (kind and version), over the assessments a
person decided (approved or rejected, after any level overrides):

- **decisions**: the assessor's proposed outcome against the reviewer's. The proposal is the
  decision the policy made or would have made from the assessor's levels: an automatic
  ``reject`` that was appealed, the withheld ``auto_issue``/``reject`` of an assessment drawn for
  review by ``auto_with_sampling`` (``Assessment.sampled``: the draw is the only thing that sent
  it to review, so the pass rule on the assessor's levels says what it would have been), and for
  an assessment sent to review for another reason (a flag, doubt, the ``review`` policy) whether
  the assessor's levels meet the pass rule. Reported: agreement, Cohen's kappa, and the two kinds
  of miss (the assessor would have issued what the reviewer rejected, and the reverse);
- **levels**: each criterion's level from the assessor against the level the reviewer decided
  with: exact agreement, mean absolute difference in levels (positions on the criterion's scale)
  and, per criterion, Cohen's kappa;
- the same per period (``week`` or ``month``, by when the assessor judged), and a verdict in plain
  words: too few reviewed assessments to judge (fewer than :data:`MIN_REVIEWED`), or how often the
  assessor matched reviewers and whether automatic issue looks safe.

Sampled assessments are counted apart as well: they are drawn at random from automatic
decisions, so they are the fairest test of what auto-issue would do; the rest were sent to review
because they were hard (flagged, uncertain) and understate the assessor on ordinary cases.

Not counted: assessments nobody has decided yet, automatic decisions never appealed (no person
looked), and runs that failed (no assessor judgement; ``assessor_kind`` ``none``).

The figures are pure functions over :class:`ReviewedCase` values; :func:`quality_report` is the one
function that reads the database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session, col, select

from service.assessment.engine.rubric import Rubric, RubricError, load_rubric
from service.assessment.models import Assessment, AssessmentEvent, EventKind

Bucket = Literal["week", "month"]
Outcome = Literal["issue", "reject"]

MIN_REVIEWED = 20
"""Fewer reviewed assessments than this: no verdict (too few to judge)."""
SAFE_AGREEMENT = 0.95
"""Decisions must match reviewers at least this often for automatic issue to look safe..."""
MAX_WRONG_ISSUE_RATE = 0.02
"""... and the assessor may have proposed issuing what a reviewer rejected in at most this share."""
HUMAN_DECISIONS = (EventKind.approved, EventKind.rejected)
FAILED_RUN = "none"
"""``assessor_kind`` of an assessment whose automatic run failed (no judgement to compare)."""


@dataclass(frozen=True)
class ReviewedCase:
    """One assessment a person decided, as the figures need it."""

    assessment_id: str
    achievement_id: str
    rubric_id: str
    rubric_version: str
    rubric_name: str
    assessor_kind: str
    assessor_version: str
    assessed_at: datetime
    proposed: Outcome
    """What the assessor's judgement leads to (see the module docstring)."""
    human: Outcome
    """The reviewer's final decision: ``issue`` (approved) or ``reject``."""
    sampled: bool
    overridden: bool
    """A reviewer changed at least one level."""
    levels: tuple[tuple[str, int, int, str, str], ...]
    """Per criterion: ``(criterion id, assessor's rank, reviewer's rank, assessor's level,
    reviewer's level)``; ranks are positions on the criterion's scale (0 = lowest)."""


# --- building cases from rows -------------------------------------------------------------------


def reviewed_case(
    assessment: Assessment, events: Sequence[AssessmentEvent], rubric: Rubric | None
) -> ReviewedCase | None:
    """The case an assessment and its events make, or None when no person decided it (or its
    automatic run failed). ``rubric``: the stored rubric (None if it no longer loads: levels are
    then not compared and the stored pass verdict stands)."""
    if assessment.assessor_kind == FAILED_RUN:
        return None
    ordered = sorted(events, key=lambda e: e.seq)
    decisions = [e for e in ordered if e.kind in HUMAN_DECISIONS and e.actor_id is not None]
    if not decisions:
        return None
    final = decisions[-1]
    assessor_levels = {str(c["criterion_id"]): str(c["level"]) for c in assessment.criteria}
    passes = assessment.passed
    compared: list[tuple[str, int, int, str, str]] = []
    if rubric is not None:
        passes = rubric.passes(assessor_levels)
        for criterion_id, level in assessor_levels.items():
            human_level = final.levels.get(criterion_id, level)
            try:
                criterion = rubric.criterion(criterion_id)
                compared.append(
                    (criterion_id, criterion.rank(level), criterion.rank(human_level), level, str(human_level))
                )
            except (KeyError, ValueError):  # a hand-edited row: nothing to compare on
                continue
    if assessment.decision in ("auto_issue", "reject"):
        proposed: Outcome = "issue" if assessment.decision == "auto_issue" else "reject"
    else:
        proposed = "issue" if passes else "reject"
    return ReviewedCase(
        assessment_id=assessment.id,
        achievement_id=assessment.achievement_id,
        rubric_id=assessment.rubric_id,
        rubric_version=assessment.rubric_version,
        rubric_name=assessment.rubric_name,
        assessor_kind=assessment.assessor_kind,
        assessor_version=assessment.assessor_version,
        assessed_at=_utc(assessment.assessed_at),
        proposed=proposed,
        human="issue" if final.kind == EventKind.approved else "reject",
        sampled=assessment.sampled,
        overridden=any(e.overrides for e in ordered if e.seq <= final.seq),
        levels=tuple(compared),
    )


# --- figures ------------------------------------------------------------------------------------


def cohens_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters over ``pairs`` (``(first, second)`` ratings): agreement beyond
    what their own rating frequencies would give by chance. None when undefined: no pairs, or
    both raters always gave one and the same rating (chance agreement is 1)."""
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(1 for a, b in pairs if a == b) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def _ratio(part: float, whole: float) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class DecisionFigures:
    """The assessor's proposed outcomes against the reviewers' decisions."""

    compared: int
    agreed: int
    agreement: float | None
    kappa: float | None
    issued_but_rejected: int
    """The assessor would have issued; the reviewer rejected (the costly miss)."""
    rejected_but_approved: int
    """The assessor would have rejected; the reviewer approved."""


@dataclass(frozen=True)
class LevelFigures:
    """The assessor's levels against the reviewers' final levels, criterion by criterion."""

    compared: int
    """Criterion judgements compared (criteria x assessments)."""
    exact: int
    exact_agreement: float | None
    mean_abs_difference: float | None
    """Mean distance in levels between the assessor's and the reviewer's."""
    kappa: float | None = None
    """Cohen's kappa over the levels (given per criterion only: scales differ between criteria)."""


@dataclass(frozen=True)
class Figures:
    reviewed: int
    approved: int
    rejected: int
    overridden: int
    sampled: int
    decisions: DecisionFigures
    sampled_decisions: DecisionFigures
    """``decisions`` over the sampled assessments only."""
    levels: LevelFigures


def decision_figures(cases: Sequence[ReviewedCase]) -> DecisionFigures:
    pairs = [(c.proposed, c.human) for c in cases]
    agreed = sum(1 for a, b in pairs if a == b)
    return DecisionFigures(
        compared=len(pairs),
        agreed=agreed,
        agreement=_ratio(agreed, len(pairs)),
        kappa=_round(cohens_kappa(pairs)),
        issued_but_rejected=sum(1 for a, b in pairs if (a, b) == ("issue", "reject")),
        rejected_but_approved=sum(1 for a, b in pairs if (a, b) == ("reject", "issue")),
    )


def level_figures(judgements: Sequence[tuple[int, int, str, str]], *, with_kappa: bool = False) -> LevelFigures:
    """``judgements``: ``(assessor's rank, reviewer's rank, assessor's level, reviewer's level)``."""
    exact = sum(1 for a, b, _, _ in judgements if a == b)
    return LevelFigures(
        compared=len(judgements),
        exact=exact,
        exact_agreement=_ratio(exact, len(judgements)),
        mean_abs_difference=_ratio(sum(abs(a - b) for a, b, _, _ in judgements), len(judgements)),
        kappa=_round(cohens_kappa([(x, y) for _, _, x, y in judgements])) if with_kappa else None,
    )


def figures(cases: Sequence[ReviewedCase]) -> Figures:
    sampled = [c for c in cases if c.sampled]
    return Figures(
        reviewed=len(cases),
        approved=sum(1 for c in cases if c.human == "issue"),
        rejected=sum(1 for c in cases if c.human == "reject"),
        overridden=sum(1 for c in cases if c.overridden),
        sampled=len(sampled),
        decisions=decision_figures(cases),
        sampled_decisions=decision_figures(sampled),
        levels=level_figures([(a, b, x, y) for c in cases for _, a, b, x, y in c.levels]),
    )


def bucket_start(moment: datetime, bucket: Bucket) -> date:
    """The first day of ``moment``'s week (Monday, ISO) or month, in UTC."""
    day = _utc(moment).date()
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_end(start: date, bucket: Bucket) -> date:
    """The first day after the bucket that starts on ``start``."""
    if bucket == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    """Exclusive."""
    figures: Figures


@dataclass(frozen=True)
class CriterionFigures:
    criterion_id: str
    levels: LevelFigures


@dataclass(frozen=True)
class Verdict:
    status: Literal["insufficient_data", "agrees", "disagrees"]
    text: str


@dataclass(frozen=True)
class Group:
    """One rubric judged by one assessor."""

    rubric_id: str
    rubric_version: str
    rubric_name: str
    assessor_kind: str
    assessor_version: str
    achievement_ids: list[str]
    figures: Figures
    criteria: list[CriterionFigures]
    periods: list[Period]
    verdict: Verdict


def _percent(rate: float | None) -> str:
    return f"{round((rate or 0.0) * 100):d}%"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def verdict(result: Figures) -> Verdict:
    """What the figures say, in plain words, about turning automatic issue on."""
    n = result.reviewed
    if n < MIN_REVIEWED:
        return Verdict(
            "insufficient_data",
            f"Not enough reviewed assessments to judge: {n} of the {MIN_REVIEWED} needed (n < {MIN_REVIEWED}). "
            "Keep reviewing before you rely on automatic issue.",
        )
    decisions, levels = result.decisions, result.levels
    parts = [f"The assessor's decisions matched reviewers in {_percent(decisions.agreement)} of {n} cases"]
    if decisions.kappa is not None:
        parts[0] += f" (kappa {decisions.kappa:.2f})"
    parts[0] += "."
    if levels.compared:
        parts.append(
            f"Its levels matched exactly in {_percent(levels.exact_agreement)} of {levels.compared} criterion "
            f"judgements, {levels.mean_abs_difference:.2f} levels apart on average."
        )
    wrong = decisions.issued_but_rejected
    parts.append(
        "It would have issued no credential a reviewer rejected."
        if wrong == 0
        else f"It would have issued {_plural(wrong, 'credential', 'credentials')} reviewers rejected."
    )
    if result.sampled:
        parts.append(
            f"Of these, {result.sampled} were drawn at random from automatic decisions (the fairest test): "
            f"{_percent(result.sampled_decisions.agreement)} matched."
        )
    safe = (decisions.agreement or 0.0) >= SAFE_AGREEMENT and wrong / n <= MAX_WRONG_ISSUE_RATE
    if safe:
        parts.append("Automatic issue looks safe for this rubric and assessor.")
        return Verdict("agrees", " ".join(parts))
    parts.append("Keep a reviewer on these assessments: automatic issue does not look safe yet.")
    return Verdict("disagrees", " ".join(parts))


def groups(cases: Iterable[ReviewedCase], bucket: Bucket) -> list[Group]:
    """The figures per rubric and assessor, overall, per criterion and per period; ordered by
    rubric, then assessor."""
    by_group: dict[tuple[str, str, str, str], list[ReviewedCase]] = defaultdict(list)
    for case in cases:
        by_group[(case.rubric_id, case.rubric_version, case.assessor_kind, case.assessor_version)].append(case)
    result = []
    for key in sorted(by_group):
        members = sorted(by_group[key], key=lambda c: (c.assessed_at, c.assessment_id))
        per_criterion: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
        for case in members:
            for criterion_id, a, b, x, y in case.levels:
                per_criterion[criterion_id].append((a, b, x, y))
        per_period: dict[date, list[ReviewedCase]] = defaultdict(list)
        for case in members:
            per_period[bucket_start(case.assessed_at, bucket)].append(case)
        overall = figures(members)
        result.append(
            Group(
                rubric_id=key[0],
                rubric_version=key[1],
                rubric_name=members[-1].rubric_name,
                assessor_kind=key[2],
                assessor_version=key[3],
                achievement_ids=sorted({c.achievement_id for c in members}),
                figures=overall,
                criteria=[
                    CriterionFigures(cid, level_figures(judgements, with_kappa=True))
                    for cid, judgements in per_criterion.items()
                ],
                periods=[
                    Period(start, bucket_end(start, bucket), figures(per_period[start])) for start in sorted(per_period)
                ],
                verdict=verdict(overall),
            )
        )
    return result


def _utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- the one query ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    issuer_id: str | None
    achievement_id: str | None
    rubric_id: str | None
    since: datetime | None
    until: datetime | None
    bucket: Bucket
    groups: list[Group] = field(default_factory=list)


def quality_report(
    session: Session,
    *,
    issuer_id: str | None,
    achievement_id: str | None = None,
    rubric_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket: Bucket = "month",
) -> Report:
    """The figures over the assessments a person decided, of ``issuer_id`` (None: every issuer),
    optionally one achievement's or one rubric's, judged by the assessor in ``[since, until)``.
    The caller has checked who may read which issuer's. A naive ``since``/``until`` is UTC."""
    since = None if since is None else _utc(since)
    until = None if until is None else _utc(until)
    decided = select(AssessmentEvent.assessment_id).where(
        col(AssessmentEvent.kind).in_([str(k) for k in HUMAN_DECISIONS]),
        col(AssessmentEvent.actor_id).is_not(None),
    )
    statement = (
        select(Assessment, AssessmentEvent)
        .join(AssessmentEvent, col(AssessmentEvent.assessment_id) == col(Assessment.id))
        .where(col(Assessment.id).in_(decided), Assessment.assessor_kind != FAILED_RUN)
        .order_by(col(Assessment.id), col(AssessmentEvent.seq))
    )
    if issuer_id is not None:
        statement = statement.where(Assessment.issuer_id == issuer_id)
    if achievement_id is not None:
        statement = statement.where(Assessment.achievement_id == achievement_id)
    if rubric_id is not None:
        statement = statement.where(Assessment.rubric_id == rubric_id)
    if since is not None:
        statement = statement.where(col(Assessment.assessed_at) >= since)
    if until is not None:
        statement = statement.where(col(Assessment.assessed_at) < until)
    rows: dict[str, tuple[Assessment, list[AssessmentEvent]]] = {}
    for assessment, event in session.exec(statement):
        rows.setdefault(assessment.id, (assessment, []))[1].append(event)
    rubrics: dict[str, Rubric | None] = {}
    cases = []
    for assessment, events in rows.values():
        if assessment.rubric_hash not in rubrics:
            rubrics[assessment.rubric_hash] = _rubric(assessment.rubric)
        case = reviewed_case(assessment, events, rubrics[assessment.rubric_hash])
        if case is not None:
            cases.append(case)
    return Report(
        issuer_id=issuer_id,
        achievement_id=achievement_id,
        rubric_id=rubric_id,
        since=since,
        until=until,
        bucket=bucket,
        groups=groups(cases, bucket),
    )


def _rubric(data: Mapping[str, Any]) -> Rubric | None:
    try:
        return load_rubric(dict(data))
    except RubricError:  # stored after validation; only a hand-edited row gets here
        return None
