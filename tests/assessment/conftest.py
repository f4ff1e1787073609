"""Fixtures for the assessment tests: evidence in a per-test blob folder, a scripted assessor in
place of the configured one (``assessor``, for the request and the job alike), assessments run by
the app's in-process worker (``jobs_in_process``), and a cast of accounts around an achievement whose
rubric is ``rubric_json`` (parametrise it to change the policy). These tests submit many bundles
for one achievement within seconds, so the resubmission limits are lifted here;
``test_resubmission_limits`` puts them back and tests them."""

from __future__ import annotations

from typing import Any

import pytest
from procrastinate import RetryStrategy

from service.api.deps import get_assessor
from service.assessment import jobs
from service.core.config import Settings
from tests.assessment.helpers import RETRY_ATTEMPTS, Cast, ScriptedAssessor, make_cast, rubric


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    return settings.model_copy(
        update={
            "blob_dir": tmp_path / "blobs",
            "status_list_background_resign": False,
            "jobs_in_process": True,
            "assessment_max_attempts": 1000,
            "assessment_cooldown_hours": 0,
        }
    )


@pytest.fixture
def assessor() -> ScriptedAssessor:
    return ScriptedAssessor()


@pytest.fixture
def app(app, assessor, monkeypatch):
    if assessor is not None:  # None: the app's configured assessor
        app.dependency_overrides[get_assessor] = lambda: assessor
        monkeypatch.setattr(jobs, "assessor_for", lambda services: assessor)
    monkeypatch.setattr(jobs, "RETRY", RetryStrategy(max_attempts=RETRY_ATTEMPTS - 1))  # retry at once
    yield app
    app.dependency_overrides.pop(get_assessor, None)


@pytest.fixture
def rubric_json() -> dict[str, Any] | None:
    return rubric("auto")


@pytest.fixture
def cast(api, app, rubric_json) -> Cast:
    return make_cast(api, app, rubric_json)
