"""Every credential gets a revocation and a suspension entry: random indexes, never handed out
twice, never reused; a list that reaches its capacity gives way to a new one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from service.status import allocation
from service.status.allocation import MAX_DRAWS, RESERVATION_BLOCK
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
    draws = ScriptedDraws(first["revocation"].index, 4242, first["suspension"].index, 4343)
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
    monkeypatch.setattr(allocation, "secrets", ScriptedDraws(taken, 7))

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
    # every draw in the first list collides; the second list takes the same number happily
    monkeypatch.setattr(allocation, "secrets", ScriptedDraws(*[taken] * (MAX_DRAWS + 1)))

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
