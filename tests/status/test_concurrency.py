"""Under concurrency no index is handed out twice and only one worker opens the next list
(on SQLite and, with SKILLCRED_TEST_POSTGRES_URL, PostgreSQL).

Each race is forced and shown to have happened (see :mod:`tests.concurrency`): workers meet at
their first write, or one waits for another's uncommitted claim."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service.api.gates import Gates
from service.core.config import Settings
from service.core.db import unit_of_work
from service.status import allocation
from service.status.allocation import RESERVATION_BLOCK
from service.status.models import StatusList
from tests.concurrency import WRITE, Contender, Gate, Statements, Worker, started, wait_until_queued
from tests.status.helpers import all_entries, all_lists, allocate_now, entries, entries_per_list

CLIENTS, PER_CLIENT = 8, 25
OPEN_LIST = f"INSERT INTO {StatusList.__tablename__} "


def test_many_concurrent_issuances_get_distinct_indexes_and_no_errors(app, api, achievement, settings):
    # the issuing gate lets 4 sign at once by default: open it to all clients, so all are in flight
    app.state.gates = Gates.from_settings(settings.model_copy(update={"issuing_concurrency": CLIENTS}))

    def issue_many(client: int) -> list[dict[str, Any]]:
        issued = []
        for n in range(PER_CLIENT):
            recipient = {"email": f"ada.{client}.{n}@example.org"}  # one active credential per recipient
            response = api.client.post(
                "/v1/credentials",
                headers=api.admin,
                json={"achievement_id": achievement["id"], "recipient": recipient},
            )
            assert response.status_code == 201, response.text
            issued.append(response.json())
        return issued

    # every client's first issuance waits before its first write until all of them are in flight
    with Statements(app.state.engine, WRITE.pattern, rendezvous=CLIENTS) as writes:
        with ThreadPoolExecutor(CLIENTS) as pool:
            issued = [credential for batch in pool.map(issue_many, range(CLIENTS)) for credential in batch]
    assert writes.met

    total = CLIENTS * PER_CLIENT
    assert len({credential["id"] for credential in issued}) == total
    claimed = [(e.list_id, e.index) for c in issued for e in entries(c["credential"]).values()]
    assert len(set(claimed)) == 2 * total
    rows = all_entries(app)
    assert sorted((r.list_id, r.status_index) for r in rows) == sorted(claimed)
    assert {r.credential_id for r in rows} == {c["id"] for c in issued}
    lists = all_lists(app)
    assert [(s.purpose, s.sequence) for s in lists] == [("revocation", 1), ("suspension", 1)]
    assert [entries_per_list(app)[s.id] for s in lists] == [total, total]
    # reserved in blocks: at least what was handed out, and no more than one spare block per client
    assert all(total <= s.allocated <= total + CLIENTS * RESERVATION_BLOCK for s in lists)


class DrawsPerThread:
    """Stands in for ``secrets``: each named thread draws its own scripted indexes."""

    def __init__(self, scripts: dict[str, list[int]]) -> None:
        self.scripts = scripts

    def randbelow(self, bound: int) -> int:
        script = self.scripts.get(threading.current_thread().name)
        return script.pop(0) if script else secrets.randbelow(bound)


def test_two_transactions_drawing_the_same_index_cannot_both_have_it(app, api, achievement, issuer, monkeypatch):
    """B picks A's indexes while A's transaction is still open: B's claim of 500 waits for A to
    end, then finds it taken, and so does its claim of 501; B picks again and gets 600 and 601."""
    owner = api.issue(achievement["id"])["id"]  # entries need an existing credential
    draws = DrawsPerThread({"a": [500, 501], "b": [500, 501, 600, 601]})
    monkeypatch.setattr(allocation, "secrets", draws)
    settings: Settings = app.state.settings
    a_claimed, b_ready = Gate("A has claimed, uncommitted"), Gate("B's transaction", hold=False)

    def worker_a() -> allocation.Allocation:
        with unit_of_work(app.state.engine) as session:
            claimed = allocate_now(session, settings, issuer["id"], owner)
            a_claimed.arrive(Contender(session))  # held here, transaction open, until B is queued
        return claimed

    def worker_b() -> allocation.Allocation:
        with unit_of_work(app.state.engine) as session:
            b_ready.arrive(Contender(session))
            claimed = allocate_now(session, settings, issuer["id"], owner)
        return claimed

    (a,) = started(Worker(worker_a, name="a"))
    [holder] = a_claimed.wait_for_arrivals(1)
    (b,) = started(Worker(worker_b, name="b"))
    [waiter] = b_ready.wait_for_arrivals(1)
    wait_until_queued(holder, waiter)  # B's claim of 500 waits for A's transaction
    a_claimed.open()
    results = {"a": a.outcome(), "b": b.outcome()}
    holder.close(), waiter.close()

    def indexes(name: str) -> list[int]:
        return [int(entry["statusListIndex"]) for entry in results[name].entries]

    assert draws.scripts == {"a": [], "b": []}  # B drew 500 and 501 and was refused both
    assert indexes("a") == [500, 501]
    assert indexes("b") == [600, 601]
    assert len(all_entries(app)) == 2 + 4


def test_workers_opening_an_issuers_first_list_at_once_share_one_list(app, api, achievement):
    """All four workers find the issuer has no list and try to open one (they meet at that
    insert); one opens each list and the others wait for it, then use it."""
    owner = api.issue(achievement["id"])["id"]
    newcomer = api.create_issuer("Newcomer Academy")
    settings: Settings = app.state.settings

    def worker() -> allocation.Allocation:
        with unit_of_work(app.state.engine) as session:
            claimed = allocate_now(session, settings, newcomer["id"], owner)
        return claimed

    with Statements(app.state.engine, OPEN_LIST, rendezvous=4) as opening:
        results = [w.outcome() for w in started(*(Worker(worker, name=f"w{n}") for n in range(4)))]
    assert opening.met and len(opening.counts()) == 4  # all four tried to open the first list

    theirs = [s for s in all_lists(app) if s.issuer_id == newcomer["id"]]
    assert sorted((s.purpose, s.sequence) for s in theirs) == [("revocation", 1), ("suspension", 1)]
    assert [entries_per_list(app)[s.id] for s in theirs] == [4, 4]
    claimed = {(lid, e["statusListIndex"]) for r in results for lid, e in zip(r.list_ids, r.entries, strict=True)}
    assert len(claimed) == 8
