"""The issuer admin's webhook pages, clicked as a person would: create a webhook (its secret shown
once, and it is the secret deliveries are signed with), find it in the API's list, disable and
enable it, rotate its secret, delete it; read a real delivery in its log and send it again. And
the doors: another issuer's admin meets 404s, a reviewer 403s, a forged form changes nothing, and
a URL the API refuses (not https, a private address) is refused with the API's reason."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import Session

from service.webhooks.models import WebhookSubscription
from service.webhooks.secrets import open_secret
from tests.portal.conftest import PASSWORD, Browser, signed_in
from tests.portal.test_issuer_pages import ADA, acme, staff  # noqa: F401 (acme: a fixture)
from tests.portal.test_login_and_csrf import fingerprint
from tests.webhooks.conftest import Receiver, receiver, wait_until  # noqa: F401 (receiver: a fixture)

HOOK_URL = "https://hooks.acme.example/skillcred"
SECRET = re.compile(r'<code class="secret">(whsec_[^<]+)</code>')


@pytest.fixture
def private_targets() -> bool:
    """Whether this test's deployment delivers to loopback over http (a test parametrises it)."""
    return False


@pytest.fixture
def settings(settings, private_targets: bool):
    """The tests' settings; with ``private_targets`` a worker runs in the app and delivers to a
    local receiver, as in tests/webhooks."""
    if not private_targets:
        return settings
    return settings.model_copy(
        update={"jobs_in_process": True, "webhooks_allow_private": True, "webhooks_retry_schedule_seconds": (0.2,)}
    )


def hooks_in_api(api, issuer_id: str) -> list[dict[str, Any]]:
    response = api.client.get("/v1/webhooks", params={"issuer_id": issuer_id}, headers=api.admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def create(browser: Browser, issuer_id: str, url: str = HOOK_URL, events: tuple[str, ...] = ("credential.issued",)):
    page = f"/portal/issuer/{issuer_id}/webhooks"
    return browser.post(page, data={"url": url, "events": list(events), "csrf_token": browser.form_token(page)})


def confirm_and_post(browser: Browser, path: str) -> Any:
    """Open a confirmation step and press its button."""
    step = browser.get(path)
    assert step.status_code == 200, step.text
    return browser.submit(path, path, {})


def test_create_a_webhook_its_secret_shown_once_and_the_api_lists_it(app, api, acme, browser):  # noqa: F811
    signed_in(browser, ADA)
    overview = browser.get(f"/portal/issuer/{acme['id']}").text
    assert f'href="/portal/issuer/{acme["id"]}/webhooks"' in overview
    assert 'href="/portal/issuer"' in browser.get("/portal").text and "webhooks" in browser.get("/portal").text

    created = create(browser, acme["id"], events=("credential.issued", "credential.revoked"))
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    secret = SECRET.search(created.text).group(1)
    (listed,) = hooks_in_api(api, acme["id"])
    assert listed["url"] == HOOK_URL and listed["events"] == ["credential.issued", "credential.revoked"]
    assert listed["state"] == "active" and "secret" not in listed
    with Session(app.state.engine) as session:  # the secret shown is the one deliveries are signed with
        row = session.get(WebhookSubscription, listed["id"])
        assert open_secret(app.state.keystore, row.secret_sealed, subscription_id=row.id) == secret

    later = browser.get(f"/portal/issuer/{acme['id']}/webhooks")
    assert HOOK_URL in later.text and "Enabled" in later.text and "none yet" in later.text
    assert secret not in later.text and SECRET.search(later.text) is None  # shown once
    assert secret not in browser.get(f"/portal/issuer/{acme['id']}/webhooks/{listed['id']}").text


def test_a_form_the_api_schema_refuses_shows_why_and_creates_nothing(api, acme, browser):  # noqa: F811
    signed_in(browser, ADA)
    eventless = create(browser, acme["id"], events=())
    assert eventless.status_code == 422 and "choose at least one event" in eventless.text
    unknown = create(browser, acme["id"], events=("credential.stolen",))
    assert unknown.status_code == 422 and "Nothing was changed" in unknown.text
    assert HOOK_URL in eventless.text  # the form keeps what was typed
    assert hooks_in_api(api, acme["id"]) == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/a", "must be https"),
        ("https://10.0.0.1/hook", "points at a private address"),
        ("https://127.0.0.1/hook", "points at a private address"),
        ("https://[::1]/hook", "points at a private address"),
        ("https://user:pw@hooks.example.com/a", "no user:password@"),
    ],
)
def test_a_url_the_api_refuses_is_refused_with_its_reason(app, api, acme, browser, url, reason):  # noqa: F811
    assert app.state.settings.webhooks_allow_private is False
    signed_in(browser, ADA)
    refused = create(browser, acme["id"], url=url)
    assert refused.status_code == 422
    assert "Not created" in refused.text and "Nothing was changed" in refused.text and reason in refused.text
    assert SECRET.search(refused.text) is None
    assert hooks_in_api(api, acme["id"]) == []


def test_disable_enable_rotate_and_delete_after_a_confirmation_step(app, api, acme, browser):  # noqa: F811
    signed_in(browser, ADA)
    first_secret = SECRET.search(create(browser, acme["id"]).text).group(1)
    (hook,) = hooks_in_api(api, acme["id"])
    base = f"/portal/issuer/{acme['id']}/webhooks"
    one = f"{base}/{hook['id']}"

    assert "until you enable it again" in browser.get(f"{one}/disable").text
    disabled = confirm_and_post(browser, f"{one}/disable")
    assert disabled.status_code == 303 and disabled.headers["location"] == f"{one}?done=disabled"
    (shown,) = hooks_in_api(api, acme["id"])
    assert shown["state"] == "disabled" and shown["disabled_reason"] == "disabled by hand by an issuer admin"
    listed = browser.get(base).text
    assert "Disabled" in listed and "disabled by hand by an issuer admin" in listed and f"{one}/enable" in listed
    assert "already disabled" in browser.get(f"{one}/disable").text

    enabled = confirm_and_post(browser, f"{one}/enable")
    assert enabled.status_code == 303 and "webhook was enabled" in browser.get(enabled.headers["location"]).text
    (shown,) = hooks_in_api(api, acme["id"])
    assert shown["state"] == "active" and shown["disabled_reason"] is None
    actions = [e["action"] for e in api.client.get("/v1/audit", headers=api.admin).json()["items"]]
    assert "webhook.disable" in actions and "webhook.enable" in actions

    assert "24 hours" in browser.get(f"{one}/rotate").text
    rotated = confirm_and_post(browser, f"{one}/rotate")
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    new_secret = SECRET.search(rotated.text).group(1)
    assert new_secret != first_secret
    (shown,) = hooks_in_api(api, acme["id"])
    assert shown["secret_rotated_until"] is not None  # the previous secret keeps signing meanwhile
    with Session(app.state.engine) as session:
        row = session.get(WebhookSubscription, hook["id"])
        assert open_secret(app.state.keystore, row.secret_sealed, subscription_id=row.id) == new_secret
        assert open_secret(app.state.keystore, row.previous_secret_sealed, subscription_id=row.id) == first_secret
    assert new_secret not in browser.get(one).text

    assert "cannot be undone" in browser.get(f"{one}/delete").text
    deleted = confirm_and_post(browser, f"{one}/delete")
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{base}?done=deleted"
    assert hooks_in_api(api, acme["id"]) == []
    assert browser.get(one).status_code == 404


@pytest.mark.parametrize("private_targets", [True])
def test_the_delivery_log_shows_a_real_delivery_and_send_again_makes_another_attempt(
    api,
    acme,  # noqa: F811
    browser,
    receiver: Receiver,  # noqa: F811
):
    signed_in(browser, ADA)
    assert create(browser, acme["id"], url=receiver.url).status_code == 201
    (hook,) = hooks_in_api(api, acme["id"])
    achievement = api.create_achievement(acme["id"])
    api.issue(achievement["id"])
    receiver.wait_for(1)

    def deliveries() -> list[dict[str, Any]]:
        response = api.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=api.admin)
        return [d for d in response.json()["items"] if d["state"] == "delivered"]

    (delivery,) = wait_until(deliveries)
    one = f"/portal/issuer/{acme['id']}/webhooks/{hook['id']}"
    log = browser.get(one).text
    assert "1 delivery, newest first" in log and "credential.issued" in log
    assert "Attempt 1: answered <strong>204</strong>" in log and "(sent again)" not in log
    listed = browser.get(f"/portal/issuer/{acme['id']}/webhooks").text
    assert "Last delivery:" in listed and "answered 204" in listed

    redeliver = f"{one}/deliveries/{delivery['id']}/redeliver"
    assert f'action="{redeliver}"' in log
    sent = browser.submit(one, redeliver, {})
    assert sent.status_code == 303 and sent.headers["location"] == f"{one}?done=redelivered"
    again = receiver.wait_for(2)
    assert again[0].headers["webhook-id"] == again[1].headers["webhook-id"]  # the same message
    wait_until(lambda: "Attempt 2 (sent again): answered <strong>204</strong>" in browser.get(one).text)


def test_another_issuers_admin_meets_404s_and_a_reviewer_403s(app, api, acme, browser, other_browser):  # noqa: F811
    created = api.client.post(
        "/v1/webhooks",
        json={"url": HOOK_URL, "events": ["credential.issued"], "issuer_id": acme["id"]},
        headers=api.admin,
    )
    hook = created.json()
    other = api.create_issuer("Beta Guild")
    staff(api, "issuer_admin", other["id"], "bo@beta.example")
    signed_in(browser, "bo@beta.example")
    theirs, own = f"/portal/issuer/{acme['id']}/webhooks", f"/portal/issuer/{other['id']}/webhooks"
    token = browser.form_token(own)
    before = fingerprint(app)

    for path in (theirs, f"{theirs}/{hook['id']}", f"{own}/{hook['id']}", f"{own}/{hook['id']}/delete"):
        assert browser.get(path).status_code == 404, path
    for path, data in (
        (theirs, {"url": HOOK_URL, "events": "credential.issued"}),
        *(
            (f"{base}/{hook['id']}/{action}", {})
            for base in (theirs, own)
            for action in ("disable", "rotate", "delete")
        ),
        (f"{own}/{hook['id']}/deliveries/x/redeliver", {}),
    ):
        assert browser.post(path, data={**data, "csrf_token": token}).status_code == 404, path
    assert fingerprint(app) == before
    assert HOOK_URL not in browser.get(own).text

    # an admin reaches every issuer, but not one issuer's webhook through another's pages
    signed_in(other_browser, "admin@skillcred.example", "admin-password-for-tests")
    assert other_browser.get(f"{theirs}/{hook['id']}").status_code == 200
    assert other_browser.get(f"{own}/{hook['id']}").status_code == 404
    refused = other_browser.submit(own, f"{own}/{hook['id']}/delete", {})
    assert refused.status_code == 404 and hooks_in_api(api, acme["id"]) != []

    staff(api, "reviewer", acme["id"], "rita@acme.example")
    reviewer = Browser(browser.client)
    reviewer.client.cookies.clear()
    signed_in(reviewer, "rita@acme.example", PASSWORD)
    token = reviewer.form_token("/portal")
    for path in (theirs, f"{theirs}/{hook['id']}", f"{theirs}/{hook['id']}/disable"):
        assert reviewer.get(path).status_code == 403, path
    assert reviewer.post(f"{theirs}/{hook['id']}/delete", data={"csrf_token": token}).status_code == 403
    assert hooks_in_api(api, acme["id"]) != []


def test_a_forged_form_changes_nothing(app, api, acme, browser):  # noqa: F811
    signed_in(browser, ADA)
    create(browser, acme["id"])
    (hook,) = hooks_in_api(api, acme["id"])
    base = f"/portal/issuer/{acme['id']}/webhooks"
    token = browser.form_token(base)
    before = fingerprint(app)

    for path, data in (
        (base, {"url": "https://evil.example/hook", "events": "credential.issued"}),
        *((f"{base}/{hook['id']}/{action}", {}) for action in ("disable", "rotate", "delete")),
        (f"{base}/{hook['id']}/deliveries/x/redeliver", {}),
    ):
        for forged, headers in (
            ({}, {}),
            ({"csrf_token": "0" * 64}, {}),
            ({"csrf_token": token}, {"sec-fetch-site": "cross-site"}),
        ):
            refused = browser.post(path, data={**data, **forged}, headers=headers)
            assert refused.status_code == 403 and "nothing was changed" in refused.text, path
    assert fingerprint(app) == before
    (still,) = hooks_in_api(api, acme["id"])
    assert still["state"] == "active" and still["url"] == HOOK_URL
