"""The audit log: written by every change, readable (only) by issuer staff, never rewritten."""

import pytest
import sqlalchemy as sa

from service.audit.models import AuditEvent


def events(client, headers, **query):
    response = client.get("/v1/audit", headers=headers, params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_changes_leave_events_newest_first(api, client):
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    api.issue(achievement["id"])
    page = events(client, api.admin, issuer_id=issuer["id"])
    actions = [e["action"] for e in page["items"]]
    assert actions[:3] == ["credential.issue", "achievement.create", "issuer.create"]
    assert page["total"] >= 3
    issued = page["items"][0]
    assert issued["actor_role"] == "admin" and issued["issuer_id"] == issuer["id"]


def test_an_issuer_admin_reads_only_their_own_issuers_events(api, client):
    mine, theirs = api.create_issuer("Mine"), api.create_issuer("Theirs")
    api.create_achievement(theirs["id"])
    manager = api.create_account("issuer_admin", mine["id"])
    page = events(client, manager, issuer_id=theirs["id"])
    assert page["items"] and {e["issuer_id"] for e in page["items"]} == {mine["id"]}


def test_filters_and_paging(api, client):
    issuer = api.create_issuer()
    for _ in range(3):
        api.create_achievement(issuer["id"])
    response = client.get(
        "/v1/audit", headers=api.admin, params={"issuer_id": issuer["id"], "action": "achievement.create", "limit": 2}
    )
    assert response.headers["X-Total-Count"] == "3" and len(response.json()["items"]) == 2
    assert 'rel="next"' in response.headers["Link"]


@pytest.mark.parametrize("role", ["earner", "reviewer"])
def test_earners_and_reviewers_cannot_read_the_log(api, client, role):
    issuer = api.create_issuer()
    headers = api.create_account(role, issuer["id"] if role == "reviewer" else None)
    assert client.get("/v1/audit", headers=headers).status_code == 403


def test_no_route_changes_an_event(app, client, api):
    api.create_issuer()
    for method in ("put", "patch", "delete", "post"):
        assert client.request(method.upper(), "/v1/audit", headers=api.admin).status_code == 405


def test_the_database_refuses_to_rewrite_events(app, api):
    api.create_issuer()
    with app.state.engine.connect() as connection:
        for statement in (sa.update(AuditEvent).values(action="forged"), sa.delete(AuditEvent)):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with connection.begin():
                    connection.execute(statement)
