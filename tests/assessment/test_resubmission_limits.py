"""No oracle for gamers (issue 14): an earner submits evidence for one achievement a limited number
of times (``SKILLCRED_ASSESSMENT_MAX_ATTEMPTS`` in ``SKILLCRED_ASSESSMENT_ATTEMPT_WINDOW_DAYS``),
at least ``SKILLCRED_ASSESSMENT_COOLDOWN_HOURS`` apart, with the defaults (3 in 30 days, 24 hours).
A refused attempt is 429 ``resubmission_limited`` with ``Retry-After`` and writes nothing; every
attempt made is recorded (its assessment, its ``submitted`` event, an audit event numbering it).
Time moves with the app's clock."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from service.audit.models import AuditEvent
from service.core.clock import FixedClock
from service.core.config import Settings
from tests.assessment.helpers import (
    bundle_row,
    create_achievement_with_rubric,
    platform_acting_for_new_earner,
    row_counts,
    rubric,
)
from tests.credentials.helpers import assert_error

LIMITS = ("assessment_max_attempts", "assessment_attempt_window_days", "assessment_cooldown_hours")
DAY = timedelta(days=1)
COOLDOWN = timedelta(hours=24)
WINDOW = timedelta(days=30)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The service's default limits (the package's conftest lifts them for the other tests)."""
    return settings.model_copy(update={name: Settings.model_fields[name].default for name in LIMITS})


@pytest.fixture
def app(app):
    app.state.clock = FixedClock(datetime.now(UTC))  # before the app starts: its worker reads it too
    return app


@pytest.fixture
def clock(app) -> FixedClock:
    return app.state.clock


@pytest.fixture
def rubric_json() -> dict[str, Any]:
    return rubric("review")  # every assessment waits for a reviewer: no credential blocks the next try


def submit(cast, *, as_: dict[str, str] | None = None, achievement_id: str | None = None) -> Any:
    bundle = cast.bundle(as_=as_, achievement_id=achievement_id)
    return cast.client.post("/v1/assessments", json={"bundle_id": bundle["id"]}, headers=as_ or cast.earner), bundle


def attempted(cast, **kwargs: Any) -> dict[str, Any]:
    response, _ = submit(cast, **kwargs)
    assert response.status_code == 202, response.text
    return cast.decided(response.json()["id"], as_=kwargs.get("as_"))


def assert_refused(cast, app, retry_after: timedelta, **kwargs: Any) -> None:
    """The next submission is refused, says when to retry, and writes nothing: no assessment,
    event, credential or audit row, and the bundle stays open."""
    bundle = cast.bundle(as_=kwargs.get("as_"), achievement_id=kwargs.get("achievement_id"))
    before = row_counts(app)
    response = cast.client.post(
        "/v1/assessments", json={"bundle_id": bundle["id"]}, headers=kwargs.get("as_") or cast.earner
    )
    assert_error(response, 429, "resubmission_limited")
    assert response.headers["Retry-After"] == str(int(retry_after.total_seconds()))
    assert row_counts(app) == before and bundle_row(app, bundle["id"]).state == "open"


def submit_audits(app) -> list[dict[str, Any]]:
    with Session(app.state.engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "assessment.submit").order_by(AuditEvent.at)
        )
        return [dict(event.after or {}) for event in events]


def test_the_defaults_are_three_attempts_in_thirty_days_a_day_apart(settings):
    assert [getattr(settings, name) for name in LIMITS] == [3, 30, 24.0]


def test_the_attempt_past_the_limit_in_the_window_is_refused_until_the_oldest_leaves_it(cast, app, clock):
    start = clock.now()
    for _ in range(3):
        attempted(cast)
        clock.advance(COOLDOWN + timedelta(hours=1))

    assert_refused(cast, app, start + WINDOW - clock.now())
    assert [audit["attempt"] for audit in submit_audits(app)] == [1, 2, 3]  # each attempt recorded

    clock.set(start + WINDOW - timedelta(seconds=1))
    assert_refused(cast, app, timedelta(seconds=1))
    clock.set(start + WINDOW)  # the oldest attempt leaves the window
    attempted(cast)
    assert submit_audits(app)[-1]["attempt"] == 3  # the first no longer counts


def test_a_second_attempt_waits_out_the_cooldown(cast, app, clock):
    attempted(cast)
    clock.advance(timedelta(hours=1))
    assert_refused(cast, app, COOLDOWN - timedelta(hours=1))

    clock.advance(COOLDOWN - timedelta(hours=1))
    second = attempted(cast)
    assert second["state"] == "pending_review" and [a["attempt"] for a in submit_audits(app)] == [1, 2]


def test_another_achievement_and_another_earner_are_not_affected(api, cast, app, clock):
    attempted(cast)
    other = create_achievement_with_rubric(api, app, cast.issuer["id"], rubric("review", id="other-rubric"))
    assert attempted(cast, achievement_id=other["id"])["achievement_id"] == other["id"]
    attempted(cast, as_=cast.other_earner)
    assert_refused(cast, app, COOLDOWN)


def test_an_appeal_is_not_a_resubmission(cast, app, clock):
    first = attempted(cast)
    cast.act(first["id"], "reject", {"reason": "No tests in the repository."})
    clock.advance(timedelta(minutes=5))
    assert_refused(cast, app, COOLDOWN - timedelta(minutes=5))

    appealed = cast.act(first["id"], "appeal", {"reason": "They are in tests/, please look again."}, as_=cast.earner)
    assert appealed["state"] == "appealed"


def test_a_platform_acting_for_an_earner_is_held_to_the_same_limit(cast, app, clock):
    acting = platform_acting_for_new_earner(cast)
    attempted(cast, as_=acting)
    clock.advance(timedelta(hours=2))
    assert_refused(cast, app, COOLDOWN - timedelta(hours=2), as_=acting)
    clock.advance(COOLDOWN)
    attempted(cast, as_=acting)


@pytest.mark.attack
def test_parallel_submissions_cannot_share_the_last_attempt(cast, app):
    """Eight bundles submitted at once with one attempt left: one is accepted; the others are
    refused (or, on SQLite, told the database is busy), and only one assessment is written."""
    bundles = [cast.bundle()["id"] for _ in range(8)]
    before = row_counts(app)

    def post(bundle_id: str) -> Any:
        return cast.client.post("/v1/assessments", json={"bundle_id": bundle_id}, headers=cast.earner)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(response.status_code for response in pool.map(post, bundles))

    assert statuses.count(202) == 1 and set(statuses) <= {202, 429, 503}, statuses
    assert row_counts(app)["Assessment"] == before["Assessment"] + 1
