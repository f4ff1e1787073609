"""`skillcred worker` runs jobs on PostgreSQL only: on SQLite the queue lives inside the serving
process, so a separate worker is refused with a clear message (exit 2) rather than idling."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import TEST_KEK


def test_a_separate_worker_on_sqlite_is_refused_with_a_reason(tmp_path):
    env = os.environ | {"SKILLCRED_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite", "SKILLCRED_KEK": TEST_KEK}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "needs PostgreSQL" in done.stderr


def test_the_jobs_listing_on_sqlite_says_where_the_queue_lives(tmp_path):
    env = os.environ | {"SKILLCRED_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite", "SKILLCRED_KEK": TEST_KEK}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "jobs"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "inside the `skillcred serve` process" in done.stderr
