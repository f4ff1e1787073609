"""Under concurrency no index is handed out twice and only one worker opens the next list
(on SQLite and, with SKILLCRED_TEST_POSTGRES_URL, PostgreSQL)."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service.core.config import Settings
from service.core.db import unit_of_work
from service.status import allocation
from service.status.allocation import allocate, record_allocation
from tests.status.helpers import all_entries, all_lists, entries

CLIENTS, PER_CLIENT = 8, 25


def test_many_concurrent_issuances_get_distinct_indexes_and_no_errors(app, api, achievement):
    def issue_many(_: int) -> list[dict[str, Any]]:
        issued = []
        for _ in range(PER_CLIENT):
            response = api.client.post(
                "/v1/credentials",
                headers=api.admin,
                json={"achievement_id": achievement["id"], "recipient": {"email": "ada@example.org"}},
            )
            assert response.status_code == 201, response.text
            issued.append(response.json())
        return issued

    with ThreadPoolExecutor(CLIENTS) as pool:
        issued = [credential for batch in pool.map(issue_many, range(CLIENTS)) for credential in batch]

    total = CLIENTS * PER_CLIENT
    assert len({credential["id"] for credential in issued}) == total
    claimed = [(e.list_id, e.index) for c in issued for e in entries(c["credential"]).values()]
    assert len(set(claimed)) == 2 * total
    rows = all_entries(app)
    assert sorted((r.list_id, r.status_index) for r in rows) == sorted(claimed)
    assert {r.credential_id for r in rows} == {c["id"] for c in issued}
    lists = all_lists(app)
    assert [(s.purpose, s.sequence, s.allocated) for s in lists] == [("revocation", 1, total), ("suspension", 1, total)]


class DrawsPerThread:
    """Stands in for ``secrets``: each named thread draws its own scripted indexes."""

    def __init__(self, scripts: dict[str, list[int]]) -> None:
        self.scripts = scripts

    def randbelow(self, bound: int) -> int:
        script = self.scripts.get(threading.current_thread().name)
        return script.pop(0) if script else secrets.randbelow(bound)


def _run(*workers: threading.Thread) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
        assert not worker.is_alive()


def test_two_transactions_drawing_the_same_index_cannot_both_have_it(app, api, achievement, issuer, monkeypatch):
    owner = api.issue(achievement["id"])["id"]  # entries need an existing credential
    monkeypatch.setattr(allocation, "secrets", DrawsPerThread({"a": [500, 501], "b": [500, 600, 501, 601]}))
    settings: Settings = app.state.settings
    a_has_claimed = threading.Event()
    results: dict[str, Any] = {}

    def worker_a() -> None:
        with unit_of_work(app.state.engine) as session:
            claimed = allocate(session, settings, issuer["id"], owner)
            record_allocation(session, claimed)
            a_has_claimed.set()
            time.sleep(0.5)  # B draws 500 and 501 while this transaction still holds them
            results["a"] = claimed

    def worker_b() -> None:
        assert a_has_claimed.wait(10)
        with unit_of_work(app.state.engine) as session:
            claimed = allocate(session, settings, issuer["id"], owner)
            record_allocation(session, claimed)
            results["b"] = claimed

    _run(threading.Thread(target=worker_a, name="a"), threading.Thread(target=worker_b, name="b"))

    def indexes(name: str) -> list[int]:
        return [int(entry["statusListIndex"]) for entry in results[name].entries]

    assert indexes("a") == [500, 501]
    assert indexes("b") == [600, 601]
    assert len(all_entries(app)) == 2 + 4


def test_workers_opening_an_issuers_first_list_at_once_share_one_list(app, api, achievement, monkeypatch):
    owner = api.issue(achievement["id"])["id"]
    newcomer = api.create_issuer("Newcomer Academy")
    settings: Settings = app.state.settings
    start = threading.Barrier(4)
    results: list[Any] = []

    def worker() -> None:
        start.wait(10)
        with unit_of_work(app.state.engine) as session:
            claimed = allocate(session, settings, newcomer["id"], owner)
            record_allocation(session, claimed)
        results.append(claimed)

    _run(*(threading.Thread(target=worker) for _ in range(4)))

    theirs = [s for s in all_lists(app) if s.issuer_id == newcomer["id"]]
    assert sorted((s.purpose, s.sequence, s.allocated) for s in theirs) == [("revocation", 1, 4), ("suspension", 1, 4)]
    assert len({(lid, e["statusListIndex"]) for r in results for lid, e in zip(r.list_ids, r.entries)}) == 8
