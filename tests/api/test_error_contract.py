"""The OpenAPI document describes the errors actually sent (issue 9, item 7)."""

import pytest


def _operations(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_documented_422_is_the_error_body_with_a_string_detail(app):
    spec = app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for name, operation in _operations(spec):
        invalid = operation["responses"].get("422")
        if invalid is not None:
            schema = invalid["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, name
    assert spec["components"]["schemas"]["ErrorBody"]["properties"]["detail"]["type"] == "string"


def test_every_operation_with_a_body_documents_the_400_for_an_unparseable_body(app):
    for name, operation in _operations(app.openapi()):
        if "requestBody" in operation:
            assert "400" in operation["responses"], name


def test_an_unparseable_body_is_a_documented_400_and_stores_nothing(api, client):
    before = client.get("/v1/issuers", headers=api.admin).headers["X-Total-Count"]
    response = client.post("/v1/issuers", content=b"\xff", headers={**api.admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "bad_request", "detail": "There was an error parsing the body"}
    assert client.get("/v1/issuers", headers=api.admin).headers["X-Total-Count"] == before


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/issuers", "GET, POST"),
        ("/v1/issuers/00000000-0000-0000-0000-000000000000", "GET, PATCH"),
        ("/v1/achievements/00000000-0000-0000-0000-000000000000", "GET, PUT"),
        ("/health", "GET"),
    ],
)
def test_a_405_allows_every_method_the_resource_supports(client, path, allowed):
    # RFC 9110 section 15.5.6: the Allow header lists the resource's methods, not one route's.
    response = client.request("OPTIONS", path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.json()["error"] == "method_not_allowed"
