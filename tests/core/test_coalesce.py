"""Coalesced reads: concurrent asks share reads, and no ask is answered by a read that started
before it (service/core/coalesce.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from service.core.coalesce import Coalescer
from tests.event_loops import run_in_new_loop


class Database:
    """A value that "commits" change, and a read of it that can be held open: the read takes the
    value when it starts, then waits until the test lets it finish."""

    def __init__(self) -> None:
        self.value = 0
        self.batches: list[list[str]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.failing: set[int] = set()
        """Which reads (1 the first) fail."""

    def read(self, items: Sequence[str]) -> list[str]:
        value = self.value  # what the database holds when the read starts
        self.batches.append(list(items))
        self.started.set()
        self.release.wait(timeout=10)
        if len(self.batches) in self.failing:
            raise ConnectionError("database went away")
        return [f"{item}@{value}" for item in items]


async def _until(event: threading.Event) -> None:
    for _ in range(1000):
        if event.is_set():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the read never started")


def test_an_ask_made_while_a_read_runs_waits_for_the_next_read_and_sees_what_committed_meanwhile():
    db = Database()
    coalescer = Coalescer(db.read)

    async def run() -> tuple[str, str]:
        db.release.clear()
        first = asyncio.create_task(coalescer.ask("a", "a"))
        await _until(db.started)  # the first read has taken the value 0 and is still running
        db.value = 1  # a revocation commits
        second = asyncio.create_task(coalescer.ask("a", "a"))  # a request that arrives after it
        await asyncio.sleep(0.05)
        db.release.set()
        return await first, await second

    first, second = run_in_new_loop(run)
    assert first == "a@0"
    assert second == "a@1", "an ask was answered by a read that started before it"
    assert db.batches == [["a"], ["a"]]


def test_asks_made_while_a_read_runs_share_one_read_and_each_gets_its_own_answer():
    db = Database()
    coalescer = Coalescer(db.read)

    async def run() -> list[str]:
        db.release.clear()
        first = asyncio.create_task(coalescer.ask("x", "x"))
        await _until(db.started)
        waiting = [asyncio.create_task(coalescer.ask(key, key)) for key in ["b", "c", "b", "d", "c", "b"]]
        await asyncio.sleep(0.05)
        db.release.set()
        return [await first, *[await task for task in waiting]]

    answers = run_in_new_loop(run)
    assert answers == ["x@0", "b@0", "c@0", "b@0", "d@0", "c@0", "b@0"]
    assert db.batches == [["x"], ["b", "c", "d"]]  # equal keys share one item
    assert (coalescer.asks, coalescer.reads) == (7, 2)


def test_a_read_takes_at_most_max_batch_items_and_the_rest_wait_for_the_next():
    db = Database()
    coalescer = Coalescer(db.read, max_batch=2)

    async def run() -> list[str]:
        db.release.clear()
        first = asyncio.create_task(coalescer.ask("x", "x"))
        await _until(db.started)
        waiting = [asyncio.create_task(coalescer.ask(key, key)) for key in "abcde"]
        await asyncio.sleep(0.05)
        db.release.set()
        return [await first, *[await task for task in waiting]]

    assert run_in_new_loop(run) == ["x@0", "a@0", "b@0", "c@0", "d@0", "e@0"]
    assert db.batches == [["x"], ["a", "b"], ["c", "d"], ["e"]]


def test_a_failed_read_fails_every_ask_it_answers_and_the_next_read_runs():
    db = Database()
    coalescer = Coalescer(db.read)

    async def run() -> tuple[list[BaseException | str], str]:
        db.release.clear()
        db.failing = {2}
        first = asyncio.create_task(coalescer.ask("x", "x"))
        await _until(db.started)
        asks = [asyncio.create_task(coalescer.ask(key, key)) for key in "ab"]  # the second read's
        await asyncio.sleep(0.05)
        db.release.set()
        await first
        failed = await asyncio.gather(*asks, return_exceptions=True)
        return failed, await coalescer.ask("c", "c")

    failed, later = run_in_new_loop(run)
    assert [type(error) for error in failed] == [ConnectionError, ConnectionError]
    assert later == "c@0"


def test_a_request_that_goes_away_does_not_cancel_the_read_others_share():
    db = Database()
    coalescer = Coalescer(db.read)

    async def run() -> str:
        db.release.clear()
        first = asyncio.create_task(coalescer.ask("x", "x"))
        await _until(db.started)
        leaving = asyncio.create_task(coalescer.ask("a", "a"))
        staying = asyncio.create_task(coalescer.ask("a", "a"))
        await asyncio.sleep(0.05)
        leaving.cancel()
        db.release.set()
        await first
        return await staying

    assert run_in_new_loop(run) == "a@0"


def test_each_event_loop_has_reads_of_its_own():
    db = Database()
    coalescer = Coalescer(db.read)
    assert run_in_new_loop(lambda: coalescer.ask("a", "a")) == "a@0"
    db.value = 1
    assert run_in_new_loop(lambda: coalescer.ask("a", "a")) == "a@1"


def test_a_read_must_answer_every_item():
    coalescer: Coalescer[str, str] = Coalescer(lambda items: [])
    with pytest.raises(RuntimeError, match="0 answers for 1 items"):
        run_in_new_loop(lambda: coalescer.ask("a", "a"))
    with pytest.raises(ValueError):
        Coalescer(lambda items: [], max_reads=0)
