"""A platform acts for the earners it provisioned (``On-Behalf-Of``, issue 11): within its token's
scopes and its own issuer. There it vouches for the earner's address, so an earner who has not
claimed the account yet can already submit evidence and be assessed; credentials of other issuers
issued to the address stay invisible until the earner proves it themselves."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from service.api.deps import get_assessor
from service.platforms import scopes
from tests.assessment.helpers import ScriptedAssessor, create_achievement_with_rubric, rubric, wait_decided
from tests.credentials.helpers import assert_error
from tests.platforms.clients import client_token

if TYPE_CHECKING:
    from tests.platforms.clients import TestClientApp

EARNERS = "/v1/platform/earners"
PASSWORD = "correct horse battery staple"
PLATFORM_SCOPES = " ".join(
    [
        scopes.EARNERS_PROVISION,
        scopes.EVIDENCE_WRITE,
        scopes.ASSESSMENTS_READ,
        scopes.CREDENTIAL_READONLY,
        scopes.CREDENTIALS_ISSUE,
    ]
)


@pytest.fixture
def app(app):
    assessor = ScriptedAssessor()  # passes the rubric; assessments run inline (wait_decided)
    app.dependency_overrides[get_assessor] = lambda: assessor
    yield app
    app.dependency_overrides.pop(get_assessor, None)


@pytest.fixture
def issuer(api) -> dict[str, Any]:
    return api.create_issuer("Gigs Academy")


@pytest.fixture
def achievement(api, app, issuer) -> dict[str, Any]:
    return create_achievement_with_rubric(api, app, issuer["id"], rubric("auto"))


@pytest.fixture
def platform(app, issuer) -> TestClientApp:
    return client_token(app, issuer["id"], PLATFORM_SCOPES)


@pytest.fixture
def earner(client, platform) -> dict[str, Any]:
    response = client.post(EARNERS, headers=platform.headers, json={"external_id": "u-1", "email": "ada@example.org"})
    assert response.status_code == 201, response.text
    return response.json()


def acting(platform: TestClientApp, earner: dict[str, Any]) -> dict[str, str]:
    return {**platform.headers, "On-Behalf-Of": earner["id"]}


def new_bundle(client, headers: dict[str, str], achievement_id: str) -> dict[str, Any]:
    response = client.post("/v1/evidence/bundles", headers=headers, json={"achievement_id": achievement_id})
    assert response.status_code == 201, response.text
    item = client.post(
        f"/v1/evidence/bundles/{response.json()['id']}/items",
        headers=headers,
        json={"kind": "text", "text": "I wrote tests with pytest.", "name": "Write-up"},
    )
    assert item.status_code == 201, item.text
    return response.json()


# --- who may act for whom -----------------------------------------------------------------------


def test_another_issuers_client_cannot_act_for_the_earner(app, api, client, earner, achievement):
    other = client_token(app, api.create_issuer("Other")["id"], PLATFORM_SCOPES)
    response = client.post(
        "/v1/evidence/bundles", headers=acting(other, earner), json={"achievement_id": achievement["id"]}
    )
    assert_error(response, 404, "earner_not_found")


def test_a_persons_token_may_not_use_on_behalf_of(api, client, issuer, earner, achievement):
    admin = api.create_account("issuer_admin", issuer["id"])
    response = client.get("/v1/assessments", headers={**admin, "On-Behalf-Of": earner["id"]})
    assert_error(response, 403, "on_behalf_of_refused")


def test_a_client_without_evidence_write_may_not_write_evidence_for_the_earner(
    app, client, issuer, earner, achievement
):
    reader = client_token(app, issuer["id"], f"{scopes.EARNERS_PROVISION} {scopes.ASSESSMENTS_READ}")
    response = client.post(
        "/v1/evidence/bundles", headers=acting(reader, earner), json={"achievement_id": achievement["id"]}
    )
    assert_error(response, 403, "insufficient_scope")


def test_an_unclaimed_earner_cannot_write_evidence_without_the_platform(app, api, client, earner, achievement):
    """The platform vouches for the address; an earner's own unverified token still may not."""
    unverified = api.register_earner("solo@example.org", PASSWORD, verify=False)
    response = client.post("/v1/evidence/bundles", headers=unverified, json={"achievement_id": achievement["id"]})
    assert_error(response, 403, "email_unverified")


# --- evidence and assessments for an unclaimed earner ------------------------------------------


def test_the_platform_submits_evidence_and_reads_the_assessment_for_its_unclaimed_earner(
    app, client, platform, earner, achievement
):
    headers = acting(platform, earner)
    bundle = new_bundle(client, headers, achievement["id"])
    assert bundle["achievement_id"] == achievement["id"]
    submitted = client.post("/v1/assessments", headers=headers, json={"bundle_id": bundle["id"]})
    assert submitted.status_code == 202, submitted.text
    decided = wait_decided(app, client, submitted.json()["id"], headers)
    assert decided["state"] == "issued" and decided["credential_id"]
    listed = client.get("/v1/assessments", headers=headers).json()
    assert [a["id"] for a in listed["items"]] == [decided["id"]]
    credential = client.get(f"/v1/credentials/{decided['credential_id']}", headers=headers)
    assert credential.status_code == 200 and credential.json()["recipient"]["email"] == "ada@example.org"
    listed_bundles = client.get("/v1/evidence/bundles", headers=headers).json()
    assert [b["id"] for b in listed_bundles["items"]] == [bundle["id"]]


def test_the_platform_reaches_its_own_issuers_achievements_only(api, app, client, platform, earner):
    elsewhere = create_achievement_with_rubric(api, app, api.create_issuer("Other")["id"], rubric("auto"))
    response = client.post(
        "/v1/evidence/bundles", headers=acting(platform, earner), json={"achievement_id": elsewhere["id"]}
    )
    assert_error(response, 404)


def test_reading_assessments_needs_assessments_read(app, client, issuer, earner):
    writer = client_token(app, issuer["id"], f"{scopes.EARNERS_PROVISION} {scopes.EVIDENCE_WRITE}")
    assert_error(client.get("/v1/assessments", headers=acting(writer, earner)), 403, "insufficient_scope")


# --- credentials: the issuer's only, until the earner proves the address ------------------------


def test_issuing_to_the_provisioned_address_works_and_other_issuers_credentials_stay_hidden(
    app, api, client, platform, earner, achievement
):
    ours = client.post(
        "/v1/credentials",
        headers=platform.headers,
        json={"achievement_id": achievement["id"], "recipient": {"email": "ada@example.org"}},
    )
    assert ours.status_code == 201, ours.text  # the platform as its own assessor issues directly
    other_issuer = api.create_issuer("Other")
    theirs = api.issue(api.create_achievement(other_issuer["id"])["id"], {"email": "ada@example.org"})

    headers = acting(platform, earner)
    seen = client.get("/v1/credentials", headers=headers).json()
    assert [c["id"] for c in seen["items"]] == [ours.json()["id"]]
    assert_error(client.get(f"/v1/credentials/{theirs['id']}", headers=headers), 404)

    token = re.search(r"claim token: (\S+)", app.state.mailer.to("ada@example.org")[-1].body)
    assert token is not None
    claimed = client.post("/v1/auth/verify-email", json={"token": token.group(1), "password": PASSWORD})
    assert claimed.status_code == 200, claimed.text
    own = api.login("ada@example.org", PASSWORD)
    mine = client.get("/v1/credentials", headers=own).json()
    assert {c["id"] for c in mine["items"]} == {ours.json()["id"], theirs["id"]}
    still = client.get("/v1/credentials", headers=headers).json()  # the platform still sees its issuer's only
    assert [c["id"] for c in still["items"]] == [ours.json()["id"]]
