"""Idempotency-Key on the writes (issue 11): a retried POST with the same key and body gets the
first answer again and creates nothing; the key belongs to its caller; a request that failed
without committing gives its key back."""

from __future__ import annotations

from service.api.app import create_app
from service.api.idempotency import install_idempotency_docs
from tests.idempotency.conftest import credential_count, issue_body, keyed, records
from tests.platforms.clients import client_token

CLIENT_SCOPES = "credentials:issue https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_byte_for_byte_and_creates_nothing(api, achievement):
    headers = keyed(api.admin, "issue-ada-1")
    first = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)
    retry = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["Content-Type"] == first.headers["Content-Type"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert credential_count(api) == 1


def test_the_same_body_without_a_key_or_with_another_key_issues_again(api, achievement):
    api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, "a"))
    another_key = api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, "b"))
    no_key = api.client.post("/v1/credentials", json=issue_body(achievement), headers=api.admin)

    assert another_key.status_code == no_key.status_code == 201
    assert credential_count(api) == 3


def test_the_same_key_with_another_body_is_409_idempotency_key_reused_and_creates_nothing(api, achievement):
    headers = keyed(api.admin, "issue-1")
    api.client.post("/v1/credentials", json=issue_body(achievement, "ada@example.org"), headers=headers)

    other_body = api.client.post("/v1/credentials", json=issue_body(achievement, "bob@example.org"), headers=headers)
    other_path = api.client.post("/v1/issuers", json={"name": "X", "url": "https://x.example"}, headers=headers)

    for response in (other_body, other_path):
        assert response.status_code == 409
        assert response.json() == {"error": "idempotency_key_reused", "detail": response.json()["detail"]}
    assert credential_count(api) == 1


def test_two_callers_may_use_the_same_key_independently(api, issuer, achievement):
    issuer_admin = api.create_account("issuer_admin", issuer["id"])

    by_admin = api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, "k"))
    by_issuer_admin = api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(issuer_admin, "k"))

    assert by_admin.status_code == by_issuer_admin.status_code == 201
    assert "Idempotent-Replayed" not in by_issuer_admin.headers
    assert by_admin.json()["id"] != by_issuer_admin.json()["id"]
    assert credential_count(api) == 2


def test_a_platform_clients_key_is_the_clients_own(app, api, issuer, achievement):
    platform = client_token(app, issuer["id"], CLIENT_SCOPES)
    headers = keyed(platform.headers, "order-77")

    first = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)
    retry = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)
    by_admin = api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, "order-77"))

    assert first.status_code == retry.status_code == by_admin.status_code == 201
    assert retry.content == first.content and retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in by_admin.headers
    assert {record.owner for record in records(app)} == {f"client:{platform.client_id}", _admin_owner(app, api)}
    assert credential_count(api) == 2


def test_a_request_that_fails_validation_does_not_burn_the_key(api, achievement):
    headers = keyed(api.admin, "issue-2")
    invalid = api.client.post("/v1/credentials", json={"achievement_id": achievement["id"]}, headers=headers)
    corrected = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)
    retry = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)

    assert invalid.status_code == 422
    # nothing was kept for the invalid request, so the corrected one (another body) runs
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"
    assert credential_count(api) == 1


def test_a_refused_request_is_not_replayed_but_runs_again(app, api):
    headers = keyed(api.admin, "issue-3")
    body = {"achievement_id": "no-such-achievement", "recipient": {"email": "ada@example.org"}}

    first = api.client.post("/v1/credentials", json=body, headers=headers)
    again = api.client.post("/v1/credentials", json=body, headers=headers)

    assert first.status_code == again.status_code == 404
    assert "Idempotent-Replayed" not in again.headers
    assert records(app) == []


def test_a_request_without_a_valid_token_passes_through_untouched(app, api, achievement):
    no_token = api.client.post("/v1/credentials", json=issue_body(achievement), headers={"Idempotency-Key": "k"})
    bad_token = api.client.post(
        "/v1/credentials", json=issue_body(achievement), headers={"Idempotency-Key": "k", "Authorization": "Bearer x"}
    )

    assert no_token.status_code == bad_token.status_code == 401
    assert records(app) == []


def test_a_key_must_be_1_to_255_printable_ascii_characters(app, api, achievement):
    for key in (b"", b"k" * 256, b"caf\xc3\xa9", b"tab\x7f"):
        response = api.client.post(
            "/v1/credentials", json=issue_body(achievement), headers={**api.admin, "Idempotency-Key": key}
        )
        assert response.status_code == 400, key
        assert response.json()["error"] == "invalid_idempotency_key"
    longest = api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, "~" * 255))
    assert longest.status_code == 201
    assert credential_count(api) == 1


def test_a_replay_repeats_the_answer_not_the_moments_headers(app, api, issuer, achievement):
    platform = client_token(app, issuer["id"], CLIENT_SCOPES)  # a client's answers carry RateLimit fields
    headers = keyed(platform.headers, "issue-4")
    first = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)
    retry = api.client.post("/v1/credentials", json=issue_body(achievement), headers=headers)

    assert _rate_limit_fields(first) and not _rate_limit_fields(retry)
    assert retry.headers["Location"] == first.headers["Location"]
    # the security headers are added outside, to the replay as to any answer
    assert retry.headers["X-Content-Type-Options"] == "nosniff"


def _rate_limit_fields(response) -> set[str]:
    return {name for name in response.headers if name.lower().startswith(("ratelimit", "x-ratelimit"))}


def test_the_record_keeps_the_answer_for_the_configured_hours(app, api, achievement, clock):
    api.client.post("/v1/credentials", json=issue_body(achievement), headers=keyed(api.admin, "issue-5"))

    [record] = records(app)
    assert record.state == "done" and record.status_code == 201
    assert record.method == "POST" and record.path == "/v1/credentials"
    assert (record.expires_at - record.created_at).total_seconds() == 24 * 3600


def test_openapi_documents_the_header_on_every_write_that_takes_a_token(settings):
    app = create_app(settings)
    install_idempotency_docs(app)
    schema = app.openapi()

    def keyed_operations(path: str) -> set[str]:
        return {
            method
            for method, operation in schema["paths"][path].items()
            if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
        }

    assert keyed_operations("/v1/credentials") == {"post"}
    assert keyed_operations("/v1/auth/register") == set()  # public: no token, no key
    header = next(p for p in schema["paths"]["/v1/credentials"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is False and header["schema"]["maxLength"] == 255


def _admin_owner(app, api) -> str:
    token = api.admin["Authorization"].removeprefix("Bearer ")
    return f"account:{app.state.tokens.subject(token)}"
