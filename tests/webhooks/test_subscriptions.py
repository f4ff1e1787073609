"""Who may manage webhooks, which URLs are accepted, and that a secret is shown once only."""

from __future__ import annotations

import pytest

from tests.webhooks.conftest import Receiver, wait_until


def test_earners_may_not_subscribe_and_issuer_admins_see_only_their_own(api) -> None:
    issuer, other = api.create_issuer("One"), api.create_issuer("Two")
    earner = api.create_account("earner")
    mine, theirs = api.create_account("issuer_admin", issuer["id"]), api.create_account("issuer_admin", other["id"])
    body = {"url": "https://hooks.example.com/a", "events": ["credential.issued"]}

    assert api.client.post("/v1/webhooks", json=body, headers=earner).status_code == 403
    assert api.client.get("/v1/webhooks", headers=earner).status_code == 403
    assert api.client.post("/v1/webhooks", json=body).status_code == 401
    created = api.client.post("/v1/webhooks", json=body, headers=mine)
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["issuer_id"] == issuer["id"]

    # another issuer's admin neither sees it nor reaches it
    assert api.client.get("/v1/webhooks", headers=theirs).json()["items"] == []
    for method, path in [
        ("DELETE", f"/v1/webhooks/{hook['id']}"),
        ("GET", f"/v1/webhooks/{hook['id']}/deliveries"),
        ("POST", f"/v1/webhooks/{hook['id']}/secret/rotate"),
        ("POST", f"/v1/webhooks/{hook['id']}/deliveries/x/redeliver"),
    ]:
        assert api.client.request(method, path, headers=theirs).status_code == 404, path
    # nor may they subscribe to the first issuer's events
    stolen = api.client.post("/v1/webhooks", json={**body, "issuer_id": issuer["id"]}, headers=theirs)
    assert stolen.status_code == 404
    # admins name the issuer
    assert api.client.post("/v1/webhooks", json=body, headers=api.admin).json()["error"] == "issuer_required"

    assert api.client.delete(f"/v1/webhooks/{hook['id']}", headers=mine).status_code == 204
    assert api.client.get("/v1/webhooks", headers=mine).json()["items"] == []


def test_the_secret_is_shown_once_and_stored_encrypted(app, api) -> None:
    from sqlmodel import Session

    from service.webhooks.models import WebhookSubscription

    issuer = api.create_issuer()
    body = {"url": "https://hooks.example.com/a", "events": ["credential.issued"], "issuer_id": issuer["id"]}
    hook = api.client.post("/v1/webhooks", json=body, headers=api.admin).json()
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) == len("whsec_") + 44
    listed = api.client.get("/v1/webhooks", headers=api.admin)
    assert hook["secret"] not in listed.text and "secret" not in listed.json()["items"][0]
    with Session(app.state.engine) as session:
        row = session.get(WebhookSubscription, hook["id"])
        assert row is not None and hook["secret"].encode() not in row.secret_sealed


@pytest.mark.parametrize("webhook_settings", [{"webhooks_allow_private": False}])
@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/a",
        "ftp://hooks.example.com/a",
        "https://user:pw@hooks.example.com/a",
        "https://10.0.0.1/a",
        "https://127.0.0.1/a",
        "https://[::1]/a",
        "https:///a",
    ],
)
def test_only_public_https_urls_are_accepted(api, url: str) -> None:
    issuer = api.create_issuer()
    body = {"url": url, "events": ["credential.issued"], "issuer_id": issuer["id"]}
    response = api.client.post("/v1/webhooks", json=body, headers=api.admin)
    assert response.status_code == 422, response.text
    assert (
        api.client.post(
            "/v1/webhooks", json={**body, "url": "https://hooks.example.com/a"}, headers=api.admin
        ).status_code
        == 201
    )


def test_plain_http_to_loopback_is_accepted_when_private_targets_are_allowed(api, receiver: Receiver) -> None:
    issuer = api.create_issuer()
    body = {"url": receiver.url, "events": ["credential.issued"], "issuer_id": issuer["id"]}
    assert api.client.post("/v1/webhooks", json=body, headers=api.admin).status_code == 201


@pytest.mark.parametrize("webhook_settings", [{"webhooks_allow_private": False, "webhooks_retry_schedule_seconds": ()}])
def test_a_name_resolving_to_loopback_is_refused_at_delivery(api, receiver: Receiver) -> None:
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    url = f"https://localhost:{receiver.port}/hook"  # accepted: a name, checked when delivering
    body = {"url": url, "events": ["credential.issued"], "issuer_id": issuer["id"]}
    hook = api.client.post("/v1/webhooks", json=body, headers=api.admin).json()
    api.issue(achievement["id"])

    def failed() -> list:
        items = api.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=api.admin).json()["items"]
        return [d for d in items if d["state"] == "failed"]

    [delivery] = wait_until(failed)
    assert delivery["attempt_log"][0]["error"].startswith("blocked_address")
    assert delivery["attempt_log"][0]["status_code"] is None
    assert receiver.requests == []


def test_production_refuses_private_webhook_targets() -> None:
    from pydantic import ValidationError

    from service.core.config import Settings

    with pytest.raises(ValidationError, match="WEBHOOKS_ALLOW_PRIVATE"):
        Settings(env="production", webhooks_allow_private=True)


def test_an_issuer_admin_disables_and_enables_a_webhook_by_hand_and_each_is_audited(app, api) -> None:
    from sqlmodel import Session, select

    from service.audit.models import AuditEvent

    issuer, other = api.create_issuer("One"), api.create_issuer("Two")
    mine, theirs = api.create_account("issuer_admin", issuer["id"]), api.create_account("issuer_admin", other["id"])
    hook = api.client.post(
        "/v1/webhooks", json={"url": "https://hooks.example.com/a", "events": ["credential.issued"]}, headers=mine
    ).json()

    disabled = api.client.post(f"/v1/webhooks/{hook['id']}/disable", headers=mine)
    again = api.client.post(f"/v1/webhooks/{hook['id']}/disable", headers=mine)

    assert disabled.status_code == 200 and disabled.json()["state"] == "disabled"
    assert again.status_code == 200 and again.json()["state"] == "disabled"  # nothing more to do
    assert api.client.post(f"/v1/webhooks/{hook['id']}/enable", headers=theirs).status_code == 404
    enabled = api.client.post(f"/v1/webhooks/{hook['id']}/enable", headers=mine)
    assert enabled.status_code == 200 and enabled.json()["state"] == "active"
    with Session(app.state.engine) as session:
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.object_id == hook["id"])).all()
    # one of each: disabling a disabled webhook recorded nothing
    assert sorted(a for a in actions if a in ("webhook.disable", "webhook.enable")) == [
        "webhook.disable",
        "webhook.enable",
    ]
