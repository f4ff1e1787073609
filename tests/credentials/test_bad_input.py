"""Bad issue requests get a clear 4xx in the error shape and change nothing.

Every case checks the row counts of credentials, recipient identities and audit events before
and after: a refused request leaves no trace, and neither does a failure half-way through.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.credentials.helpers import assert_error, row_counts

GOOD_RECIPIENT = {"email": "ada@example.org"}
PAST = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()


@pytest.fixture
def post(app, api):
    """POST /v1/credentials and assert the answer is an error that changed nothing."""

    def post(body, status: int, code: str | None = None, *, headers=None, **kwargs):
        before = row_counts(app)
        response = api.client.post("/v1/credentials", json=body, headers=headers or api.admin, **kwargs)
        error = assert_error(response, status, code)
        assert row_counts(app) == before
        return error

    return post


def test_an_unknown_achievement_is_404(post):
    post({"achievement_id": "00000000-0000-0000-0000-000000000000", "recipient": GOOD_RECIPIENT}, 404, "not_found")


def test_another_issuers_achievement_is_404_for_an_issuer_admin(api, post, achievement):
    other_issuer = api.create_issuer("Other Issuer")
    other_admin = api.create_account("issuer_admin", other_issuer["id"])

    error = post(
        {"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT}, 404, "not_found", headers=other_admin
    )

    assert error["detail"] == "No such achievement"  # the same words as for one that does not exist


@pytest.mark.parametrize(
    "recipient",
    [
        {"email": "ada@example.org", "did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
        {},
        {"email": None},
        {"email": "not-an-email"},
        {"email": "ada@"},
        {"email": 42},
        {"did": "not-a-did"},
        {"did": "did:web:example.com#key-1"},
        {"did": "did:web:example.com/path"},
        {"did": "https://example.com/ada"},
        {"did": "did:Web:example.com"},
        {"phone": "+44 20 7946 0000"},
        {"email": "ada@example.org", "name": "Ada"},
        "ada@example.org",
    ],
)
def test_a_malformed_recipient_is_422(post, achievement, recipient):
    post({"achievement_id": achievement["id"], "recipient": recipient}, 422, "validation_error")


def test_valid_until_must_be_in_the_future_and_have_a_time_zone(post, achievement):
    body = {"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT}
    assert "future" in post({**body, "valid_until": PAST}, 422, "invalid_credential_request")["detail"]
    post({**body, "valid_until": "2099-01-01T00:00:00"}, 422, "validation_error")
    post({**body, "valid_until": "next year"}, 422, "validation_error")


def test_unknown_fields_are_refused(post, achievement):
    body = {"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT}
    post({**body, "issuer_id": "x"}, 422, "validation_error")
    post({**body, "evidence": [{"name": "Repo", "url": "https://github.com/ada"}]}, 422, "validation_error")
    post({**body, "results": [{"result_description": "Grade", "score": "A"}]}, 422, "validation_error")


def test_wrong_types_and_malformed_json_are_422(app, api, post, achievement):
    post({"achievement_id": 5, "recipient": GOOD_RECIPIENT}, 422)
    post({"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT, "evidence": "a repo"}, 422)
    post({"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT, "evidence": [{}]}, 422)
    for evidence_id in ("not a uri", "javascript:alert(1)", "/relative/path", 'https://example.org/?q="><script>'):
        post(
            {
                "achievement_id": achievement["id"],
                "recipient": GOOD_RECIPIENT,
                "evidence": [{"id": evidence_id, "name": "Repo"}],
            },
            422,
            "validation_error",
        )
    post({"recipient": GOOD_RECIPIENT}, 422)
    before = row_counts(app)
    response = api.client.post(
        "/v1/credentials", content=b'{"achievement_id": ', headers={**api.admin, "Content-Type": "application/json"}
    )
    assert_error(response, 422, "validation_error")
    assert row_counts(app) == before


def test_control_characters_in_evidence_are_refused(post, achievement):
    post(
        {"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT, "evidence": [{"name": "Repo\x00"}]},
        422,
        "validation_error",
    )


def test_results_must_name_the_achievements_result_descriptions_and_levels(post, achievement):
    body = {"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT}
    post({**body, "results": [{"result_description": "Punctuality", "value": "A"}]}, 422, "invalid_credential_request")
    post(
        {**body, "results": [{"result_description": "Test design", "achieved_level": "Wizard"}]},
        422,
        "invalid_credential_request",
    )
    post({**body, "results": [{"result_description": "Grade", "value": "Z"}]}, 422, "invalid_credential_request")
    post({**body, "results": [{"result_description": "Grade", "status": "Excellent"}]}, 422, "validation_error")


def test_too_many_evidence_items_are_refused(post, achievement):
    post(
        {
            "achievement_id": achievement["id"],
            "recipient": GOOD_RECIPIENT,
            "evidence": [{"name": f"item {i}"} for i in range(21)],
        },
        422,
        "validation_error",
    )


def test_a_huge_body_is_413(post, achievement):
    narrative = "x" * (1024 * 1024 + 1)
    post(
        {"achievement_id": achievement["id"], "recipient": GOOD_RECIPIENT, "evidence": [{"narrative": narrative}]},
        413,
        "payload_too_large",
    )


def test_a_failure_after_the_rows_were_written_rolls_everything_back(app, api, achievement, monkeypatch):
    from service.credentials import issuing

    def audit_fails(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(issuing, "record_many", audit_fails)
    before = row_counts(app)

    response = api.client.post(
        "/v1/credentials",
        headers=api.admin,
        json={"achievement_id": achievement["id"], "recipient": {"email": "new.person@example.org"}},
    )

    body = assert_error(response, 500, "internal_error")
    assert "audit" not in body["detail"]
    after = row_counts(app)
    # The issuer's first credential opens its two status lists in a transaction of their own (so
    # issuing does not hold SQLite's write lock while it signs); they stay, empty, the next to fill.
    assert after.pop("StatusList") in (before.pop("StatusList"), 2)
    assert after == before
