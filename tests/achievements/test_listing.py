"""Listing an issuer's achievements: paged, newest first, filterable by tag."""

from __future__ import annotations

from tests.achievements.conftest import MINIMAL


def _list(client, issuer_id, headers, **params):
    return client.get(f"/v1/issuers/{issuer_id}/achievements", params=params, headers=headers)


def _links(response) -> dict[str, str]:
    links = {}
    for part in response.headers["Link"].split(", "):
        url, rel = part.split("; ")
        links[rel.removeprefix('rel="').removesuffix('"')] = url.strip("<>")
    return links


def test_pages_carry_the_total_and_first_prev_next_last_links(api, client, new_issuer):
    issuer_id = new_issuer()
    names = [f"Achievement {n}" for n in range(5)]
    for name in names:
        api.create_achievement(issuer_id, name=name)

    first = _list(client, issuer_id, api.admin, limit=2)
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "5"
    assert first.json()["total"] == 5 and first.json()["limit"] == 2 and first.json()["offset"] == 0
    assert [a["name"] for a in first.json()["items"]] == names[::-1][:2]  # newest first
    links = _links(first)
    assert set(links) == {"first", "last", "next"}
    assert links["next"].endswith("limit=2&offset=2") and links["last"].endswith("limit=2&offset=4")

    middle = client.get(links["next"], headers=api.admin)
    assert [a["name"] for a in middle.json()["items"]] == names[::-1][2:4]
    assert set(_links(middle)) == {"first", "last", "prev", "next"}
    assert _links(middle)["prev"].endswith("limit=2&offset=0")

    last = client.get(_links(middle)["next"], headers=api.admin)
    assert [a["name"] for a in last.json()["items"]] == names[:1]
    assert "next" not in _links(last)


def test_the_list_shows_current_versions(api, client, new_issuer):
    issuer_id = new_issuer()
    created = api.create_achievement(issuer_id)
    client.put(f"/v1/achievements/{created['id']}", json=MINIMAL | {"name": "Renamed"}, headers=api.admin)
    [item] = _list(client, issuer_id, api.admin).json()["items"]
    assert item["version"] == 2 and item["name"] == "Renamed"


def test_only_the_issuers_own_achievements_are_listed(api, client, new_issuer):
    mine, theirs = new_issuer(), new_issuer()
    api.create_achievement(mine, name="Mine")
    api.create_achievement(theirs, name="Theirs")
    assert [a["name"] for a in _list(client, mine, api.admin).json()["items"]] == ["Mine"]


def test_a_tag_filter_matches_whole_tags_ignoring_case(api, client, new_issuer):
    issuer_id = new_issuer()
    api.create_achievement(issuer_id, name="Py", tags=["Python", "testing"])
    api.create_achievement(issuer_id, name="Rust", tags=["rust"])
    api.create_achievement(issuer_id, name="Pythonic", tags=["pythonic"])
    api.create_achievement(issuer_id, name="Percent", tags=["100%_sure"])

    def names(**params):
        return [a["name"] for a in _list(client, issuer_id, api.admin, **params).json()["items"]]

    assert names(tag="python") == ["Py"]
    assert names(tag="TESTING") == ["Py"]
    assert names(tag="%") == []  # LIKE wildcards are matched literally
    assert names(tag="100%_sure") == ["Percent"]
    assert _list(client, issuer_id, api.admin, tag="python").headers["X-Total-Count"] == "1"


def test_a_tag_filter_sees_only_current_versions(api, client, new_issuer):
    issuer_id = new_issuer()
    created = api.create_achievement(issuer_id, tags=["old"])
    client.put(f"/v1/achievements/{created['id']}", json=MINIMAL | {"tags": ["new"]}, headers=api.admin)
    assert _list(client, issuer_id, api.admin, tag="old").json()["items"] == []
    assert len(_list(client, issuer_id, api.admin, tag="new").json()["items"]) == 1


def test_paging_bounds_are_enforced(api, client, new_issuer):
    issuer_id = new_issuer()
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "many"}, {"offset": -1}):
        response = _list(client, issuer_id, api.admin, **params)
        assert response.status_code == 422 and response.json()["error"] == "validation_error", params


def test_an_unknown_issuer_has_no_list(api, client):
    response = _list(client, "00000000-0000-4000-8000-000000000000", api.admin)
    assert response.status_code == 404 and response.json()["detail"] == "No such issuer"
