"""One error shape everywhere, size-limited bodies, no stack traces to clients."""

from tests.api_client import bearer


def test_validation_errors_use_the_error_shape(client):
    response = client.post("/v1/auth/register", json={"email": "not-an-email", "password": "x"})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == "validation_error"
    assert "email" in body["detail"]


def test_malformed_json_is_a_clear_422(client):
    response = client.post("/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"] == "validation_error"


def test_unknown_fields_are_refused(client):
    response = client.post(
        "/v1/auth/register", json={"email": "a@example.com", "password": "long-password-1", "role": "admin"}
    )
    assert response.status_code == 422 and "role" in response.json()["detail"]


def test_unknown_routes_answer_404_in_the_error_shape(client):
    assert client.get("/v1/nothing-here").json() == {"error": "not_found", "detail": "Not Found"}


def test_oversized_bodies_are_refused_before_parsing(client):
    response = client.post(
        "/v1/auth/register", content=b"{" + b" " * 2_000_000 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"


def test_oversized_chunked_bodies_are_refused_too(client):
    def chunks():
        for _ in range(300):
            yield b" " * 10_000

    response = client.post("/v1/auth/register", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_an_unexpected_error_is_a_500_without_a_stack_trace(app, client):
    @app.get("/boom", dependencies=[])
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "detail": "An unexpected error occurred"}


def test_bad_tokens_get_401_with_a_bearer_challenge(client):
    response = client.get("/v1/me", headers=bearer("not.a.token"))
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
