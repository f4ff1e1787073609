"""Bulk issuance fixtures: an app whose in-process worker runs the chunk jobs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from service.core.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The bulk tests run their jobs (the in-process worker on SQLite, in-process on PostgreSQL too)."""
    return settings.model_copy(update={"jobs_in_process": True})


def wait_for_job(client: Any, job_id: str, headers: dict[str, str], timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{id}`` until the job is finished; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["state"] in ("succeeded", "failed"):
            return body
        assert time.monotonic() < deadline, f"job not finished in {timeout} s: {body}"
        time.sleep(0.2)
