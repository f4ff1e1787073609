"""Signing in through the form: the password grant's throttling and backoff, no open redirect
after it, and CSRF: a form post without the page's token (or with another session's) is a 403
page and changes nothing, before and after sign-in."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

import service.tables  # noqa: F401 (every table, for the fingerprint)
from service.portal.redirects import safe_next
from tests.portal.conftest import PASSWORD, signed_in

pytestmark = pytest.mark.attack
EMAIL = "grace@example.org"


def fingerprint(app) -> dict[str, str]:
    """Every table's rows, hashed."""
    with app.state.engine.connect() as connection:
        return {
            table.name: hashlib.sha256(
                "\n".join(sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))).encode()
            ).hexdigest()
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture
def credential(api):
    api.register_earner(EMAIL, PASSWORD)
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    return api.issue(achievement["id"], {"email": EMAIL})


# --- CSRF ------------------------------------------------------------------------------------


def test_a_form_post_without_the_token_is_refused_and_changes_nothing(app, credential, browser):
    signed_in(browser, EMAIL)
    before = fingerprint(app)
    action = f"/portal/credentials/{credential['id']}/visibility"

    for data in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}):
        refused = browser.post(action, data=data)  # public off: no "public" field
        assert refused.status_code == 403, refused.text
        assert "nothing was changed" in refused.text and refused.headers["content-type"].startswith("text/html")
    as_json = browser.post(action, json={"public": False})
    assert as_json.status_code == 403

    assert fingerprint(app) == before


def test_the_token_of_another_session_does_not_work(app, api, credential, browser, other_browser):
    signed_in(browser, EMAIL)
    api.register_earner("mallory@example.org", PASSWORD)
    signed_in(other_browser, "mallory@example.org")
    mallorys_token = other_browser.form_token("/portal")
    before = fingerprint(app)

    refused = browser.post(f"/portal/credentials/{credential['id']}/visibility", data={"csrf_token": mallorys_token})

    assert refused.status_code == 403
    assert fingerprint(app) == before


def test_a_cross_site_post_is_refused_even_with_the_right_token(app, credential, browser):
    signed_in(browser, EMAIL)
    token = browser.form_token("/portal")
    before = fingerprint(app)

    refused = browser.post(
        f"/portal/credentials/{credential['id']}/visibility",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )

    assert refused.status_code == 403
    assert fingerprint(app) == before


def test_login_csrf_a_forged_sign_in_without_the_pre_session_token_signs_nobody_in(app, api, browser):
    api.register_earner("attacker@example.org", PASSWORD)
    before = fingerprint(app)

    forged = browser.post("/login", data={"email": "attacker@example.org", "password": PASSWORD})
    with_a_made_up_token = browser.post(
        "/login", data={"email": "attacker@example.org", "password": PASSWORD, "csrf_token": "a" * 64}
    )

    assert forged.status_code == with_a_made_up_token.status_code == 403
    assert not any(h.startswith("__Host-skillcred_session=") for h in forged.headers.get_list("set-cookie"))
    assert fingerprint(app) == before
    assert browser.get("/portal").status_code == 303


def test_a_forged_sign_up_creates_no_account(app, browser):
    before = fingerprint(app)
    forged = browser.post("/signup", data={"email": "forged@example.org", "password": PASSWORD})
    assert forged.status_code == 403
    assert fingerprint(app) == before


# --- signing in ------------------------------------------------------------------------------


def test_a_wrong_password_shows_the_form_again_and_the_right_one_signs_in(api, browser):
    api.register_earner(EMAIL, PASSWORD)

    wrong = browser.sign_in(EMAIL, "not-the-password-at-all")
    assert wrong.status_code == 401 and "Wrong email or password" in wrong.text
    assert 'value="grace@example.org"' in wrong.text

    right = browser.sign_in(EMAIL)
    assert right.status_code == 303 and right.headers["location"] == "/portal"


def test_after_five_wrong_passwords_even_the_right_one_must_wait(api, browser):
    api.register_earner(EMAIL, PASSWORD)
    for _ in range(5):
        assert browser.sign_in(EMAIL, "not-the-password-at-all").status_code == 401

    locked = browser.sign_in(EMAIL, "not-the-password-at-all")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    right_but_locked = browser.sign_in(EMAIL)
    assert right_but_locked.status_code == 429 and "try again" in right_but_locked.text
    # the API's password grant shares the backoff: one lock for one email
    api_attempt = api.client.post("/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
    assert api_attempt.status_code == 429


def test_sign_ins_per_address_are_limited_like_the_password_grant(api, browser):
    from service.api.ratelimit import LOGIN_PER_ADDRESS

    # (the api fixture's admin sign-in counted too: same address, same limit)
    answers = [
        browser.sign_in(f"nobody{n}@example.org", "whatever-it-is").status_code
        for n in range(LOGIN_PER_ADDRESS.limit + 1)
    ]
    first_refusal = answers.index(429)
    assert LOGIN_PER_ADDRESS.limit - 2 <= first_refusal <= LOGIN_PER_ADDRESS.limit
    assert set(answers[:first_refusal]) == {401} and set(answers[first_refusal:]) == {429}


# --- no open redirect ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/portal",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/portal\r\nLocation: https://evil.example",
        " /portal",
        "evil.example",
        "http:/evil.example",
    ],
)
def test_next_never_leads_off_the_site(api, browser, next_path):
    api.register_earner(EMAIL, PASSWORD)
    response = browser.sign_in(EMAIL, next_path=next_path)
    assert response.status_code == 303
    assert response.headers["location"] == "/portal"
    assert safe_next(next_path) == "/portal"


def test_next_to_a_page_of_this_site_is_kept(api, browser):
    api.register_earner(EMAIL, PASSWORD)
    response = browser.sign_in(EMAIL, next_path="/portal/apply/abc?x=1")
    assert response.headers["location"] == "/portal/apply/abc?x=1"
