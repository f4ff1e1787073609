"""Updating an achievement writes a new version; earlier versions stay readable and unchanged."""

from __future__ import annotations

from tests.achievements.conftest import MINIMAL, full_body


def _put(client, achievement_id, body, headers):
    return client.put(f"/v1/achievements/{achievement_id}", json=body, headers=headers)


def test_an_update_makes_version_2_and_version_1_stays_as_it_was(api, client, new_issuer):
    created = api.create_achievement(new_issuer())
    changed = MINIMAL | {"name": "Python testing (advanced)", "tags": ["python"]}
    response = _put(client, created["id"], changed, api.admin)
    assert response.status_code == 200
    updated = response.json()
    assert updated["id"] == created["id"]
    assert updated["version"] == updated["current_version"] == 2
    assert updated["name"] == "Python testing (advanced)" and updated["tags"] == ["python"]

    current = client.get(f"/v1/achievements/{created['id']}", headers=api.admin).json()
    assert current["version"] == 2 and current["name"] == "Python testing (advanced)"
    first = client.get(f"/v1/achievements/{created['id']}", params={"version": 1}, headers=api.admin).json()
    assert first["version"] == 1 and first["current_version"] == 2
    assert {k: first[k] for k in MINIMAL} == {k: created[k] for k in MINIMAL}
    assert first["tags"] == [] and first["version_created_at"] == created["version_created_at"]


def test_put_is_a_full_replacement(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    updated = _put(client, created["id"], MINIMAL, api.admin).json()
    assert updated["alignments"] == updated["result_descriptions"] == updated["tags"] == []
    assert updated["image"] is None and updated["achievement_type"] is None


def test_the_versions_list_is_newest_first_and_paged(api, client, new_issuer):
    created = api.create_achievement(new_issuer())
    for n in (2, 3):
        assert _put(client, created["id"], MINIMAL | {"name": f"Name {n}"}, api.admin).status_code == 200
    response = client.get(f"/v1/achievements/{created['id']}/versions", headers=api.admin)
    assert response.status_code == 200 and response.headers["X-Total-Count"] == "3"
    assert [v["version"] for v in response.json()["items"]] == [3, 2, 1]
    assert [v["name"] for v in response.json()["items"]] == ["Name 3", "Name 2", MINIMAL["name"]]
    second_page = client.get(
        f"/v1/achievements/{created['id']}/versions", params={"limit": 2, "offset": 2}, headers=api.admin
    )
    assert [v["version"] for v in second_page.json()["items"]] == [1]
    assert 'rel="prev"' in second_page.headers["Link"]


def test_result_and_level_ids_survive_an_update_that_keeps_their_names(api, client, new_issuer):
    created = api.create_achievement(new_issuer(), **full_body())
    reworded = full_body(description="Reworded.")
    reworded["result_descriptions"][0]["rubric_criterion_levels"][0]["description"] = "Reworded too."
    updated = _put(client, created["id"], reworded, api.admin).json()
    assert updated["version"] == 2
    before, after = created["result_descriptions"][0], updated["result_descriptions"][0]
    assert after["id"] == before["id"] and after["required_level"] == before["required_level"]
    assert [lv["id"] for lv in after["rubric_criterion_levels"]] == [
        lv["id"] for lv in before["rubric_criterion_levels"]
    ]


def test_other_achievements_get_other_generated_ids(api, new_issuer):
    issuer_id = new_issuer()
    one = api.create_achievement(issuer_id, **full_body())
    two = api.create_achievement(issuer_id, **full_body())
    assert one["result_descriptions"][0]["id"] != two["result_descriptions"][0]["id"]


def test_an_update_is_audited_with_the_versions_before_and_after(app, api, client, new_issuer):
    from sqlmodel import select

    from service.audit.models import AuditEvent
    from service.core.db import unit_of_work

    created = api.create_achievement(new_issuer())
    _put(client, created["id"], MINIMAL | {"name": "Renamed"}, api.admin)
    with unit_of_work(app.state.engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "achievement.update")).one()
    assert event.object_id == created["id"]
    assert event.before == {"version": 1, "name": MINIMAL["name"]}
    assert event.after == {"version": 2, "name": "Renamed"}


def test_a_credential_reads_the_version_it_was_issued_with(app, api, client, new_issuer):
    """What the credentials service calls: ``get_version`` keeps answering with old content."""
    from service.achievements.service import get_version
    from service.core.db import unit_of_work

    created = api.create_achievement(new_issuer())
    _put(client, created["id"], MINIMAL | {"name": "Renamed"}, api.admin)
    with unit_of_work(app.state.engine) as session:
        assert get_version(session, created["id"], 1).name == MINIMAL["name"]
        assert get_version(session, created["id"], 2).name == "Renamed"


def test_updating_an_unknown_achievement_is_404(api, client):
    response = _put(client, "00000000-0000-4000-8000-000000000000", MINIMAL, api.admin)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_simultaneous_updates_never_share_a_version_number(app, api, new_issuer):
    """Three writers update while a fourth one's update is not yet committed: each gets its own
    number or a 409 (``version_conflict``), never a half-write. PostgreSQL: they queue on the
    first one's row lock and each writes the next number. SQLite: they read version 1 before the
    first one commits and queue for the write lock; their version 2 is then refused."""
    from sqlmodel import select

    from service.achievements import service
    from service.achievements.models import Achievement, AchievementVersion
    from service.achievements.schemas import AchievementCreate
    from service.core.db import unit_of_work
    from service.core.errors import Conflict
    from tests.concurrency import Contender, Gate, Worker, started, wait_until_queued

    achievement_id = api.create_achievement(new_issuer())["id"]
    first_updated = Gate("the first update, not committed")
    others_ready = Gate("the other writers' transactions", hold=False)

    def update(n: int) -> int | str:
        try:
            with unit_of_work(app.state.engine) as session:
                if n > 0:
                    others_ready.arrive(Contender(session))
                view = service.update_achievement(
                    session, achievement_id, AchievementCreate(**MINIMAL | {"name": f"Writer {n}"})
                )
                if n == 0:
                    first_updated.arrive(Contender(session))  # held here until the others are queued
            return view.version
        except Conflict:
            return "conflict"

    (first,) = started(Worker(update, 0, name="writer 0"))
    [holder] = first_updated.wait_for_arrivals(1)
    others = started(*(Worker(update, n, name=f"writer {n}") for n in (1, 2, 3)))
    waiters = others_ready.wait_for_arrivals(3)
    wait_until_queued(holder, *waiters)
    first_updated.open()
    outcomes = [first.outcome(), *(writer.outcome() for writer in others)]
    for contender in (holder, *waiters):
        contender.close()

    if holder.dialect == "postgresql":
        assert outcomes[0] == 2 and sorted(outcomes[1:]) == [3, 4, 5]
    else:
        assert outcomes == [2, "conflict", "conflict", "conflict"]
    written = sorted(v for v in outcomes if v != "conflict")
    with unit_of_work(app.state.engine) as session:
        stored = sorted(
            session.exec(select(AchievementVersion.version).where(AchievementVersion.achievement_id == achievement_id))
        )
        assert stored == [1, *written]
        assert session.get(Achievement, achievement_id).current_version == stored[-1]


def test_generated_ids_follow_the_name_whatever_its_script_case_or_spacing(api, client, new_issuer):
    body = MINIMAL | {
        "result_descriptions": [
            {"name": "コード品質", "result_type": "RubricCriterion"},
            {"name": "Test  Coverage", "result_type": "RubricCriterion"},
        ]
    }
    created = api.create_achievement(new_issuer(), **body)
    reordered = MINIMAL | {
        "result_descriptions": [
            {"name": "test coverage", "result_type": "RubricCriterion"},
            {"name": "コード品質", "result_type": "RubricCriterion"},
        ]
    }
    updated = client.put(f"/v1/achievements/{created['id']}", json=reordered, headers=api.admin).json()
    before = {r["name"].casefold().replace("  ", " "): r["id"] for r in created["result_descriptions"]}
    after = {r["name"]: r["id"] for r in updated["result_descriptions"]}
    assert after == before and len(set(after.values())) == 2
