"""Every credential gets a revocation and a suspension entry: random indexes, never handed out
twice, never reused; a list that reaches its capacity gives way to a new one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import Session, select

from service.status import allocation
from service.status.allocation import MAX_DRAWS, RESERVATION_BLOCK
from service.status.models import StatusEntry
from service.vc.status_list import MIN_LIST_LENGTH
from tests.conftest import PUBLIC_URL
from tests.status.helpers import all_entries, all_lists, entries, entries_per_list


class ScriptedDraws:
    """Stands in for ``secrets``: ``randbelow`` returns the scripted indexes, then random ones."""

    def __init__(self, *indexes: int) -> None:
        self.script = list(indexes)
        self.calls = 0

    def randbelow(self, bound: int) -> int:
        import secrets

        self.calls += 1
        return self.script.pop(0) if self.script else secrets.randbelow(bound)


def test_a_credential_carries_a_revocation_and_a_suspension_entry(api, achievement, issuer):
    credential = api.issue(achievement["id"])["credential"]

    status = credential["credentialStatus"]
    assert [entry["statusPurpose"] for entry in status] == ["revocation", "suspension"]
    for entry in status:
        assert entry["type"] == "BitstringStatusListEntry"
        assert entry["statusListCredential"].startswith(f"{PUBLIC_URL}/status/")
        assert entry["id"] == f"{entry['statusListCredential']}#{entry['statusListIndex']}"
        assert 0 <= int(entry["statusListIndex"]) < MIN_LIST_LENGTH
    found = entries(credential)
    assert found["revocation"].url != found["suspension"].url  # one list per purpose
    lists = {status_list.id: status_list for status_list in all_lists(api.client.app)}
    assert {lists[e.list_id].purpose for e in found.values()} == {"revocation", "suspension"}
    assert all(lists[e.list_id].issuer_id == issuer["id"] for e in found.values())


def test_entries_are_allocated_in_the_database_with_the_credential(app, api, achievement):
    issued = api.issue(achievement["id"])

    rows = {(row.list_id, row.status_index): row for row in all_entries(app)}
    for entry in entries(issued["credential"]).values():
        row = rows[(entry.list_id, entry.index)]
        assert row.credential_id == issued["id"] and row.value == 0
    assert len(rows) == 2


def test_indexes_are_drawn_at_random_and_never_handed_out_twice(app, api, achievement):
    issued = [api.issue(achievement["id"])["credential"] for _ in range(30)]

    revocation = [entries(credential)["revocation"].index for credential in issued]
    suspension = [entries(credential)["suspension"].index for credential in issued]
    for indexes in (revocation, suspension):
        assert len(set(indexes)) == 30
        assert indexes != sorted(indexes)
        # 30 uniform draws all in one half of the list: a chance of 2**-29
        assert min(indexes) < MIN_LIST_LENGTH // 2 <= max(indexes)
    assert len(all_entries(app)) == 60
    assert all(entries_per_list(app)[status_list.id] == 30 for status_list in all_lists(app))
    # counted by blocks a process reserves ahead, so issuing never writes the list row itself
    assert all(status_list.allocated == RESERVATION_BLOCK for status_list in all_lists(app))


def test_a_drawn_index_that_is_taken_is_drawn_again(app, api, achievement, monkeypatch):
    first = entries(api.issue(achievement["id"])["credential"])
    # both purposes draw, their draws are read in one query, and each taken one is drawn again
    draws = ScriptedDraws(first["revocation"].index, first["suspension"].index, 4242, 4343)
    monkeypatch.setattr(allocation, "secrets", draws)

    second = entries(api.issue(achievement["id"])["credential"])

    assert (second["revocation"].index, second["suspension"].index) == (4242, 4343)
    assert draws.calls == 4
    assert Counter((row.list_id, row.status_index) for row in all_entries(app)).most_common(1)[0][1] == 1


def test_the_index_of_a_revoked_credential_is_not_reused(app, api, achievement, monkeypatch):
    revoked = api.issue(achievement["id"])
    assert (
        api.client.post(
            f"/v1/credentials/{revoked['id']}/revoke", json={"reason": "Issued in error"}, headers=api.admin
        ).status_code
        == 200
    )
    taken = entries(revoked["credential"])["revocation"].index
    free_suspension = 5 if entries(revoked["credential"])["suspension"].index != 5 else 6
    # both purposes draw first (the suspension's draw is free), then the taken one draws again
    monkeypatch.setattr(allocation, "secrets", ScriptedDraws(taken, free_suspension, 7))

    later = entries(api.issue(achievement["id"])["credential"])

    assert later["revocation"].index == 7


@pytest.mark.parametrize("status_settings", [{"status_list_capacity": 2}])
def test_a_list_at_capacity_gives_way_to_a_new_list_transparently(app, api, achievement):
    issued = [api.issue(achievement["id"])["credential"] for _ in range(5)]

    lists = all_lists(app)
    by_purpose: dict[str, list[Any]] = {"revocation": [], "suspension": []}
    for status_list in lists:
        by_purpose[status_list.purpose].append(status_list)
    for purpose, purpose_lists in by_purpose.items():
        assert [(s.sequence, s.capacity) for s in purpose_lists] == [(1, 2), (2, 2), (3, 2)]
        assert [entries_per_list(app)[s.id] for s in purpose_lists] == [2, 2, 1]
        assert all(s.allocated >= s.capacity for s in purpose_lists)  # each reserved to the full
        assert all(s.size == MIN_LIST_LENGTH for s in purpose_lists)
        used = [entries(credential)[purpose].list_id for credential in issued]
        assert used == [purpose_lists[0].id] * 2 + [purpose_lists[1].id] * 2 + [purpose_lists[2].id]
    for credential in issued:  # every list is published at its URL
        for entry in entries(credential).values():
            assert api.client.get(entry.path).status_code == 200


def test_a_list_that_keeps_refusing_draws_is_closed_and_the_next_one_used(app, api, achievement, monkeypatch):
    first = entries(api.issue(achievement["id"])["credential"])
    taken = first["revocation"].index
    free_suspension = 5 if first["suspension"].index != 5 else 6
    # the revocation's first draw and every draw again in the first list collide; the second list
    # takes the same number happily (the suspension's first draw, in between, is free)
    draws = [taken, free_suspension] + [taken] * (MAX_DRAWS + 1)
    monkeypatch.setattr(allocation, "secrets", ScriptedDraws(*draws))

    second = entries(api.issue(achievement["id"])["credential"])

    assert second["revocation"].list_id != first["revocation"].list_id
    assert second["revocation"].index == taken
    closed = next(s for s in all_lists(app) if s.id == first["revocation"].list_id)
    assert closed.allocated >= closed.capacity  # it will not be drawn from again
    third = entries(api.issue(achievement["id"])["credential"])
    assert third["revocation"].list_id == second["revocation"].list_id


def test_each_issuer_has_lists_of_its_own(app, api, achievement):
    other_issuer = api.create_issuer("Other Academy")
    other_achievement = api.create_achievement(other_issuer["id"])

    ours = entries(api.issue(achievement["id"])["credential"])
    theirs = entries(api.issue(other_achievement["id"])["credential"])

    assert {e.list_id for e in ours.values()}.isdisjoint({e.list_id for e in theirs.values()})
    assert len(all_lists(app)) == 4


# --- a bulk batch: plan_many and claim_many ------------------------------------------------------


def _settings(app):
    return app.state.settings


def test_a_batch_plan_draws_distinct_free_indexes_and_writes_no_entry(app, api, achievement, issuer):
    api.issue(achievement["id"])  # the lists exist
    with Session(app.state.engine) as session:
        planned = allocation.plan_many(session, _settings(app), issuer["id"], 40)
    pairs = [(list_id, index) for a in planned for list_id, index in zip(a.list_ids, a.indexes, strict=True)]
    assert len(pairs) == 80 and len(set(pairs)) == 80
    assert [a.entries[0]["statusPurpose"] for a in planned] == ["revocation"] * 40
    assert len(all_entries(app)) == 2  # only the issued credential's: planning claims nothing


def test_a_batch_plan_draws_again_an_index_taken_or_drawn_twice_in_the_batch(
    app, api, achievement, issuer, monkeypatch
):
    taken = entries(api.issue(achievement["id"])["credential"])["revocation"].index
    # first credential: revocation 11 (free), suspension 12; second: revocation 11 again (in the
    # batch already), then 13; third: the index an issued credential holds (found taken by the
    # batch's one read), then, drawn again, 14
    draws = ScriptedDraws(11, 12, 11, 13, 21, taken, 22, 14)
    monkeypatch.setattr(allocation, "secrets", draws)
    with Session(app.state.engine) as session:
        planned = allocation.plan_many(session, _settings(app), issuer["id"], 3)
    assert [a.indexes[0] for a in planned] == [11, 13, 14]
    assert [a.indexes[1] for a in planned] == [12, 21, 22]


def test_a_batch_claim_takes_every_index_in_one_statement_and_reports_the_ones_taken_meanwhile(
    app, api, achievement, issuer
):
    api.issue(achievement["id"])
    with Session(app.state.engine) as session:
        planned = allocation.plan_many(session, _settings(app), issuer["id"], 3)
        # another issuance claims the second credential's suspension index meanwhile
        assert allocation.claim(session, planned[1], "someone-else", (allocation.StatusPurpose.suspension,)) == ()
        statements: list[str] = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        sa_event.listen(session.connection(), "before_cursor_execute", listen)
        unclaimed = allocation.claim_many(session, [(a, f"credential-{i}") for i, a in enumerate(planned)])
        sa_event.remove(session.connection(), "before_cursor_execute", listen)
        # read in the transaction (the entries name credentials that do not exist: no commit)
        owners = {(row.list_id, row.status_index): row.credential_id for row in session.exec(select(StatusEntry))}
    assert unclaimed == [(), (allocation.StatusPurpose.suspension,), ()]
    assert len(statements) == 1
    assert owners[(planned[1].list_ids[1], planned[1].indexes[1])] == "someone-else"
    assert owners[(planned[1].list_ids[0], planned[1].indexes[0])] == "credential-1"
    assert sum(1 for owner in owners.values() if owner.startswith("credential-")) == 5


def test_a_batch_redraws_taken_indexes_in_rounds_without_spending_more_reservations(
    app, api, achievement, issuer, monkeypatch
):
    """As a list fills, a drawn index is more and more often taken: the batch draws again in
    the same list, one read a round, and a credential still spends one reserved index per list
    (the list's counter counts credentials, not draws)."""
    held = [entries(api.issue(achievement["id"])["credential"]) for _ in range(3)]
    revocation_taken = [e["revocation"].index for e in held]
    suspension_taken = [e["suspension"].index for e in held]
    revocation_list = held[0]["revocation"].list_id
    # two credentials: every first draw hits a held index, then one more round hits one again
    draws = ScriptedDraws(
        revocation_taken[0],
        suspension_taken[0],
        revocation_taken[1],
        suspension_taken[1],
        revocation_taken[2],
        31,
        32,
        33,
        34,
    )
    monkeypatch.setattr(allocation, "secrets", draws)
    left_before = allocation.RESERVATIONS._left.get(revocation_list)
    with Session(app.state.engine) as session:
        statements: list[str] = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        sa_event.listen(session.connection(), "before_cursor_execute", listen)
        planned = allocation.plan_many(session, _settings(app), issuer["id"], 2)
        sa_event.remove(session.connection(), "before_cursor_execute", listen)
    pairs = {(a.list_ids[i], a.indexes[i]) for a in planned for i in range(2)}
    held_pairs = {(e[p].list_id, e[p].index) for e in held for p in ("revocation", "suspension")}
    assert len(pairs) == 4 and not pairs & held_pairs
    assert allocation.RESERVATIONS._left.get(revocation_list) == left_before - 2
    reads = [s for s in statements if "FROM statusentry" in s]
    assert len(reads) <= 3 * 2  # a read per list per round: the first draw and two rounds
