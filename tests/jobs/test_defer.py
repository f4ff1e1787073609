"""Deferring a job is part of the transaction that causes it: a rolled-back change leaves no job,
a committed one always has it; a queueing lock coalesces a burst into one waiting job."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from service.core.db import make_engine
from service.jobs.defer import JobRequest, attach_local_queue, defer, detach_local_queue
from tests.conftest import POSTGRES_URL


class RecordingQueue:
    """Stands in for the in-process worker: records what committed sessions hand over."""

    def __init__(self) -> None:
        self.received: list[JobRequest] = []

    def submit(self, requests: list[JobRequest]) -> None:
        self.received.extend(requests)


def _jobs(engine) -> list[tuple[str, str | None, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT task_name, queueing_lock, status FROM procrastinate_jobs ORDER BY id")
        ).all()
    return [tuple(row) for row in rows]


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def queue(engine):
    """A recording queue standing in for the in-process worker of ``engine``."""
    recording = RecordingQueue()
    attach_local_queue(engine, recording)
    yield recording
    detach_local_queue(engine, recording)


def _resign(list_id: str) -> JobRequest:
    return JobRequest("status:resign_list", {"list_id": list_id}, queueing_lock=f"status-list:{list_id}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_committed_session_hands_its_jobs_to_the_in_process_worker(engine, queue):
    with Session(engine) as session:
        defer(session, _resign("a"))
        assert queue.received == []  # not before the commit
        session.commit()
    assert [r.kwargs for r in queue.received] == [{"list_id": "a"}]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_rolled_back_session_hands_over_nothing(engine, queue):
    with Session(engine) as session:
        defer(session, _resign("a"))
        session.rollback()
        session.commit()  # a later commit of the same session carries nothing over
    assert queue.received == []


postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="procrastinate's tables are PostgreSQL's")


@postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_on_postgres_the_job_row_is_written_in_the_callers_transaction(engine):
    with Session(engine) as session:
        defer(session, _resign("a"))
        assert _jobs(engine) == []  # another connection does not see it before the commit
        session.rollback()
    assert _jobs(engine) == []

    with Session(engine) as session:
        defer(session, _resign("b"))
        session.commit()
    assert _jobs(engine) == [("status:resign_list", "status-list:b", "todo")]


@postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_on_postgres_a_burst_with_one_queueing_lock_leaves_one_waiting_job_and_the_transaction_intact(engine):
    with Session(engine) as session:
        for _ in range(3):
            defer(session, _resign("a"))
        session.execute(text("SELECT 1"))  # the duplicates did not abort the transaction
        session.commit()
    with Session(engine) as session:
        defer(session, _resign("a"))
        defer(session, _resign("c"))
        session.commit()
    assert sorted(_jobs(engine)) == [
        ("status:resign_list", "status-list:a", "todo"),
        ("status:resign_list", "status-list:c", "todo"),
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_transaction_asking_twice_under_one_queueing_lock_asks_once(engine, queue):
    with Session(engine) as session:
        defer(session, _resign("a"))
        defer(session, _resign("a"))
        defer(session, _resign("b"))
        session.commit()
        defer(session, _resign("a"))  # a new transaction asks again
        session.commit()
    assert [r.kwargs["list_id"] for r in queue.received] == ["a", "b", "a"]
