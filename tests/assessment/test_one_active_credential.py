"""Issue 9, item 6: 20 parallel auto-assessments issued 20 credentials for one achievement. An earner
holds one active credential per achievement (unless it allows more): once they hold it, a further
submission is 409 ``credential_exists`` and changes nothing; a renewal goes through ``renews``.
Submissions that raced past that check are assessed, but only one issues: the others go to a
reviewer saying why."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.assessment.helpers import row_counts
from tests.credentials.helpers import assert_error

pytestmark = pytest.mark.attack


def _submit(cast, bundle_id: str):
    return cast.client.post("/v1/assessments", json={"bundle_id": bundle_id}, headers=cast.earner)


def test_parallel_auto_assessments_issue_one_credential(cast, app):
    bundles = [cast.bundle()["id"] for _ in range(8)]
    before = row_counts(app)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda bundle_id: _submit(cast, bundle_id), bundles))

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {202, 409, 503}, statuses
    assert all(r.json()["error"] == "credential_exists" for r in responses if r.status_code == 409)
    decided = [cast.decided(r.json()["id"]) for r in responses if r.status_code == 202]
    states = sorted(a["state"] for a in decided)
    assert states.count("issued") == 1, states
    assert set(states) <= {"issued", "pending_review"}  # the rest: a person looks, and is told why
    for assessment in decided:
        if assessment["state"] == "pending_review":
            assert "already holds an active credential" in assessment["events"][-1]["reason"]
    assert row_counts(app)["Credential"] == before["Credential"] + 1


def test_a_second_auto_issuing_submission_is_409_and_renewal_still_works(cast, app):
    first = cast.submitted()
    assert first["state"] == "issued"
    bundle = cast.bundle()["id"]
    before = row_counts(app)

    assert_error(_submit(cast, bundle), 409, "credential_exists")
    assert row_counts(app) == before

    renewal = cast.submit(cast.bundle()["id"], renews=first["credential_id"])
    assert renewal["state"] == "issued" and renewal["credential_id"] != first["credential_id"]
