"""Deliveries to a real receiver: signed per Standard Webhooks, retried, logged, rotated."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.webhooks.conftest import Receiver, wait_until

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def docs_verify() -> Any:
    """The `verify` function of docs/webhooks.md's Python snippet, executed as written."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    namespace: dict[str, Any] = {}
    exec(blocks[0], namespace)
    return namespace["verify"]


def subscribe(api, issuer_id: str, url: str, events: list[str]) -> dict[str, Any]:
    response = api.client.post(
        "/v1/webhooks", json={"url": url, "events": events, "issuer_id": issuer_id}, headers=api.admin
    )
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(api, webhook_id: str) -> list[dict[str, Any]]:
    response = api.client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=api.admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_issued_and_revoked_credentials_reach_the_receiver_signed(api, receiver: Receiver) -> None:
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    hook = subscribe(api, issuer["id"], receiver.url, ["credential.issued", "credential.revoked"])
    assert hook["secret"].startswith("whsec_")

    credential = api.issue(achievement["id"])
    revoked = api.client.post(
        f"/v1/credentials/{credential['id']}/revoke", json={"reason": "issued in error"}, headers=api.admin
    )
    assert revoked.status_code == 200, revoked.text

    received = receiver.wait_for(2)
    verify = docs_verify()
    events = [verify(hook["secret"], r.body, r.headers) for r in received]
    assert sorted(e["type"] for e in events) == ["credential.issued", "credential.revoked"]
    for request, event in zip(received, events, strict=True):
        assert request.headers["webhook-id"] == event["id"]
        assert request.headers["content-type"] == "application/json"
        assert set(event) == {"id", "type", "timestamp", "data"}
        assert event["data"]["credential_id"] == credential["id"]
    with pytest.raises(WebhookVerificationError):
        verify(hook["secret"], received[0].body + b" ", received[0].headers)
    wait_until(lambda: all(d["state"] == "delivered" for d in deliveries(api, hook["id"])))


def test_a_failing_receiver_is_retried_until_it_recovers_and_the_log_shows_each_attempt(
    api, receiver: Receiver
) -> None:
    receiver.failures = 2
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    hook = subscribe(api, issuer["id"], receiver.url, ["credential.issued"])
    api.issue(achievement["id"])

    received = receiver.wait_for(3)
    assert len({r.headers["webhook-id"] for r in received}) == 1  # one message, sent three times
    [delivery] = wait_until(lambda: [d for d in deliveries(api, hook["id"]) if d["state"] == "delivered"])
    assert delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 204]
    assert [a["error"] for a in delivery["attempt_log"]] == ["HTTP 500", "HTTP 500", None]
    listed = api.client.get("/v1/webhooks", headers=api.admin).json()["items"]
    assert [h["state"] for h in listed] == ["active"]


def test_a_delivery_that_fails_every_attempt_disables_the_webhook_and_tells_the_admins(
    app, api, receiver: Receiver
) -> None:
    receiver.failures = 100
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    admin = api.create_account("issuer_admin", issuer["id"])
    hook = subscribe(api, issuer["id"], receiver.url, ["credential.issued"])
    api.issue(achievement["id"])

    [delivery] = wait_until(lambda: [d for d in deliveries(api, hook["id"]) if d["state"] == "failed"])
    assert delivery["attempts"] == 4  # the first attempt and three retries
    listed = api.client.get("/v1/webhooks", headers=admin).json()["items"]
    assert listed[0]["state"] == "disabled" and "failed on every attempt" in listed[0]["disabled_reason"]
    mails = [m for m in app.state.mailer.messages if "webhook was disabled" in m.subject]
    assert len(mails) == 1 and hook["id"] in mails[0].body

    # a manual redelivery is one more attempt, at once, even for a disabled webhook
    receiver.failures = 0
    count = len(receiver.requests)
    response = api.client.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=admin)
    assert response.status_code == 202, response.text
    receiver.wait_for(count + 1)
    [again] = wait_until(lambda: [d for d in deliveries(api, hook["id"]) if d["state"] == "delivered"])
    assert again["attempt_log"][-1]["manual"] is True


def test_after_a_rotation_deliveries_carry_both_signatures(api, receiver: Receiver) -> None:
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    hook = subscribe(api, issuer["id"], receiver.url, ["credential.issued"])
    rotated = api.client.post(f"/v1/webhooks/{hook['id']}/secret/rotate", headers=api.admin)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != hook["secret"]

    api.issue(achievement["id"])
    [request] = receiver.wait_for(1)
    entries = request.headers["webhook-signature"].split(" ")
    assert len(entries) == 2 and all(e.startswith("v1,") for e in entries)
    for secret in (new_secret, hook["secret"]):
        assert json.loads(request.body) == Webhook(secret).verify(request.body, request.headers)
        assert (
            Webhook(secret).sign(
                request.headers["webhook-id"],
                datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC),
                request.body,
            )
            in entries
        )
