"""Bad input gets a clear 4xx in the one error shape, and changes nothing."""

from __future__ import annotations

import json

from tests.achievements.conftest import MINIMAL, full_body

ALIGNMENT = full_body()["alignments"][0]
RUBRIC = {"name": "Tests", "result_type": "RubricCriterion", "rubric_criterion_levels": [{"name": "Solid"}]}


def _without(key):
    return {k: v for k, v in MINIMAL.items() if k != key}


BAD_BODIES = {
    "missing criteria": _without("criteria"),
    "missing name": _without("name"),
    "missing description": _without("description"),
    "criteria with neither narrative nor id": MINIMAL | {"criteria": {}},
    "criteria with both null": MINIMAL | {"criteria": {"narrative": None, "id": None}},
    "criteria as a string": MINIMAL | {"criteria": "Do the thing"},
    "criteria id not a URL": MINIMAL | {"criteria": {"id": "criteria page"}},
    "unknown top-level field": MINIMAL | {"issuer_id": "someone-else"},
    "unknown criteria field": MINIMAL | {"criteria": {"narrative": "n", "extra": 1}},
    "unknown alignment field": MINIMAL | {"alignments": [ALIGNMENT | {"weight": 1}]},
    "name as a number": MINIMAL | {"name": 123},
    "name empty": MINIMAL | {"name": ""},
    "name only spaces": MINIMAL | {"name": "   "},
    "name too long": MINIMAL | {"name": "x" * 201},
    "description too long": MINIMAL | {"description": "x" * 4001},
    "narrative too long": MINIMAL | {"criteria": {"narrative": "x" * 10_001}},
    "NUL in the name": MINIMAL | {"name": "Py\x00thon"},
    "control character in the narrative": MINIMAL | {"criteria": {"narrative": "bell\x07"}},
    "lone surrogate in the description": MINIMAL | {"description": "\ud800"},
    "tags as a string": MINIMAL | {"tags": "python"},
    "a tag as a number": MINIMAL | {"tags": [1]},
    "too many tags": MINIMAL | {"tags": [f"t{n}" for n in range(51)]},
    "image not a URL": MINIMAL | {"image": "not a url"},
    "image ftp URL": MINIMAL | {"image": "ftp://issuer.example/badge.png"},
    "image javascript URL": MINIMAL | {"image": "javascript:alert(1)"},
    "image URL without host": MINIMAL | {"image": "https://"},
    "achievement type outside the vocabulary": MINIMAL | {"achievement_type": "SuperBadge"},
    "achievement type malformed extension": MINIMAL | {"achievement_type": "ext:has space"},
    "alignments as an object": MINIMAL | {"alignments": ALIGNMENT},
    "alignment without target_url": MINIMAL | {"alignments": [{"target_name": "x"}]},
    "alignment target_url not a URL": MINIMAL | {"alignments": [ALIGNMENT | {"target_url": "esco skill"}]},
    "alignment target type outside the vocabulary": MINIMAL | {"alignments": [ALIGNMENT | {"target_type": "Skill"}]},
    "too many alignments": MINIMAL | {"alignments": [ALIGNMENT] * 51},
    "result type outside the vocabulary": MINIMAL | {"result_descriptions": [RUBRIC | {"result_type": "Vibes"}]},
    "result id relative": MINIMAL | {"result_descriptions": [RUBRIC | {"id": "results/1"}]},
    "required level not one of the levels": MINIMAL | {"result_descriptions": [RUBRIC | {"required_level": "Expert"}]},
    "required value not allowed": MINIMAL
    | {
        "result_descriptions": [
            {"name": "Grade", "result_type": "LetterGrade", "allowed_values": ["A", "B"], "required_value": "C"}
        ]
    },
    "levels with the same name": MINIMAL
    | {"result_descriptions": [RUBRIC | {"rubric_criterion_levels": [{"name": "Solid"}, {"name": "Solid"}]}]},
    "points as a boolean": MINIMAL
    | {"result_descriptions": [RUBRIC | {"rubric_criterion_levels": [{"name": "Solid", "points": True}]}]},
    "the same id twice": MINIMAL
    | {"result_descriptions": [RUBRIC | {"id": "urn:x:1"}, RUBRIC | {"name": "Other", "id": "urn:x:1"}]},
    "too many rubric levels": MINIMAL
    | {"result_descriptions": [RUBRIC | {"rubric_criterion_levels": [{"name": f"L{n}"} for n in range(21)]}]},
    "a list instead of an object": [MINIMAL],
}


# Rules between fields, which the OpenAPI document cannot state, answer with their own code.
CROSS_FIELD = {
    "required level not one of the levels",
    "required value not allowed",
    "levels with the same name",
    "the same id twice",
}


def test_every_bad_create_is_422_in_the_error_shape_and_writes_nothing(api, client, new_issuer, row_counts):
    # One issuer for all the cases (making one costs an RSA key); each case is reported by name.
    issuer_id = new_issuer()
    before = row_counts()
    wrong = {}
    for case, body in BAD_BODIES.items():
        # json.dumps escapes non-ASCII, so a lone surrogate travels as the JSON text "\ud800"
        response = client.post(
            f"/v1/issuers/{issuer_id}/achievements",
            content=json.dumps(body),
            headers=api.admin | {"Content-Type": "application/json"},
        )
        code = "invalid_achievement" if case in CROSS_FIELD else "validation_error"
        shape_ok = set(response.json()) == {"error", "detail"} and response.json()["error"] == code
        if response.status_code != 422 or not shape_ok:
            wrong[case] = (response.status_code, response.text[:200])
    assert wrong == {}
    assert row_counts() == before


def test_a_bad_update_is_422_and_the_current_version_stays(api, client, new_issuer, row_counts):
    created = api.create_achievement(new_issuer())
    before = row_counts()
    for case in ("missing criteria", "image not a URL", "unknown top-level field"):
        response = client.put(f"/v1/achievements/{created['id']}", json=BAD_BODIES[case], headers=api.admin)
        assert response.status_code == 422 and response.json()["error"] == "validation_error", case
    assert row_counts() == before
    assert client.get(f"/v1/achievements/{created['id']}", headers=api.admin).json()["current_version"] == 1


def test_the_error_says_which_field_is_wrong(api, client, new_issuer):
    response = client.post(
        f"/v1/issuers/{new_issuer()}/achievements", headers=api.admin, json=MINIMAL | {"image": "not a url"}
    )
    assert "image" in response.json()["detail"] and "http(s) URL" in response.json()["detail"]


def test_a_body_that_is_not_an_achievement_object_is_422(api, client, new_issuer, row_counts):
    issuer_id = new_issuer()
    before = row_counts()
    for raw in (b"{not json", b"", b"null", b"[]", b'"text"'):
        response = client.post(
            f"/v1/issuers/{issuer_id}/achievements",
            content=raw,
            headers=api.admin | {"Content-Type": "application/json"},
        )
        assert response.status_code == 422 and response.json()["error"] == "validation_error", raw
    assert row_counts() == before


def test_huge_names_are_refused_and_nothing_is_written(api, client, new_issuer, row_counts):
    """Over its limit but within the body limit (1 MiB by default): 422. A 10 MB name: the
    service-wide body limit answers first, 413, before the body is read."""
    issuer_id = new_issuer()
    before = row_counts()
    url, headers = f"/v1/issuers/{issuer_id}/achievements", api.admin | {"Content-Type": "application/json"}
    over_its_limit = client.post(url, content=json.dumps(MINIMAL | {"name": "x" * 500_000}), headers=headers)
    assert over_its_limit.status_code == 422 and over_its_limit.json()["error"] == "validation_error"
    ten_megabytes = client.post(url, content=json.dumps(MINIMAL | {"name": "x" * 10_000_000}), headers=headers)
    assert ten_megabytes.status_code == 413 and ten_megabytes.json()["error"] == "payload_too_large"
    assert row_counts() == before


def test_a_bad_version_number_is_422(api, client, new_issuer):
    created = api.create_achievement(new_issuer())
    for version in ("0", "-1", "two", "1.5"):
        for url in (f"/v1/achievements/{created['id']}", f"/achievements/{created['id']}"):
            response = client.get(url, params={"version": version}, headers=api.admin)
            assert response.status_code == 422 and response.json()["error"] == "validation_error", (url, version)
