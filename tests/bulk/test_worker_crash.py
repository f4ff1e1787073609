"""A real `skillcred worker` killed in the middle of a bulk job: a new worker finishes it with no
credential issued twice and no row left out (PostgreSQL: the queue that outlives its workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.bulk.commands import bulk_issue_command
from service.core.config import Settings
from tests.conftest import POSTGRES_URL, PUBLIC_URL, TEST_KEK

if not POSTGRES_URL:
    pytest.skip("workers share the queue on PostgreSQL: set SKILLCRED_TEST_POSTGRES_URL", allow_module_level=True)

ROWS = 2000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No worker inside the test app: the `skillcred worker` processes do the work."""
    return settings.model_copy(update={"jobs_in_process": False})


@contextmanager
def worker(database_url: str, folder: Path, name: str) -> Iterator[subprocess.Popen[bytes]]:
    env = os.environ | {
        "SKILLCRED_ENV": "production",
        "SKILLCRED_DATABASE_URL": database_url,
        "SKILLCRED_PUBLIC_URL": PUBLIC_URL,
        "SKILLCRED_KEK": TEST_KEK,
        "SKILLCRED_BLOB_DIR": str(folder / "blobs"),
    }
    with (folder / f"{name}.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", "worker", "--name", name, "--concurrency", "4"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _scalar(engine: sa.Engine, query: str, **params: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(query), params).scalar_one())


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # separate workers share PostgreSQL's queue
def test_a_worker_killed_mid_job_is_taken_over_without_a_duplicate_or_a_gap(database_url, settings, api, tmp_path):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    path = tmp_path / "rows.csv"
    path.write_text(
        "recipient_email,external_id\n" + "".join(f"crash{i}@example.com,c-{i}\n" for i in range(ROWS)),
        encoding="utf-8",
    )
    outcome = bulk_issue_command(settings, path, achievement_id=achievement["id"], wait=False)
    assert outcome.total == ROWS
    engine = sa.create_engine(database_url)
    issued = "SELECT count(*) FROM bulkrow WHERE job_id = :job AND state = 'issued'"
    try:
        with worker(database_url, tmp_path, "first") as first:
            deadline = time.monotonic() + 60
            while _scalar(engine, issued, job=outcome.job_id) < 100:
                assert first.poll() is None, (tmp_path / "first.log").read_text()
                assert time.monotonic() < deadline, "the first worker issued nothing"
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        at_kill = _scalar(engine, issued, job=outcome.job_id)
        assert 100 <= at_kill < ROWS, "kill the worker in the middle of the job"

        with worker(database_url, tmp_path, "second"):
            deadline = time.monotonic() + 150  # ~20 s to see the dead worker, then ~1,800 rows to sign
            state = "SELECT count(*) FROM bulkjob WHERE id = :job AND state = 'succeeded'"
            while not _scalar(engine, state, job=outcome.job_id):
                assert time.monotonic() < deadline, (tmp_path / "second.log").read_text()[-3000:]
                time.sleep(0.2)

        assert _scalar(engine, issued, job=outcome.job_id) == ROWS
        assert _scalar(engine, "SELECT count(*) FROM credential") == ROWS
        assert (
            _scalar(engine, "SELECT count(DISTINCT credential_id) FROM bulkrow WHERE job_id = :job", job=outcome.job_id)
            == ROWS
        )
        revocation_indexes = (
            "SELECT count(DISTINCT (e.list_id, e.status_index)) FROM statusentry e"
            " JOIN statuslist l ON l.id = e.list_id WHERE l.purpose = 'revocation'"
        )
        assert _scalar(engine, revocation_indexes) == ROWS
        # every recipient got exactly one credential
        assert _scalar(engine, "SELECT count(DISTINCT recipient_id) FROM credential") == ROWS
    finally:
        engine.dispose()
