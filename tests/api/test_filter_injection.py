"""SQL injection through list filters, search and paging parameters.

Every GET operation with query parameters is taken from the OpenAPI document (not a hand-made
list), and each parameter gets the classic payloads: quote breakouts and tautologies, stacked
statements (``"; DROP TABLE credential;--``), LIKE wildcards, look-alike Unicode quotes, NUL
bytes, placeholders and very long values. They are sent by the platform admin and by the staff
and earner of another issuer (tenant B) while tenant A holds issuers, achievements, credentials,
bundles, assessments and audit events. Each answer must be a 4xx or a normal answer; a filter
given a payload matches nothing (no row holds that literal value); a tenant B caller never sees
a tenant A row; and afterwards every table is there with every row unchanged.

SkillCred pages with ``limit``/``offset`` (no sort or cursor parameters exist); the payloads go
into those too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from service.api.deps import get_assessor
from tests.api.test_csrf import database_fingerprint
from tests.assessment.helpers import Cast, ScriptedAssessor, make_cast, rubric

pytestmark = pytest.mark.attack

LONG = "' OR 1=1--" + "A" * 10_000
PAYLOADS = [
    "' OR 1=1--",
    "' OR '1'='1",
    '" OR ""="',
    '"; DROP TABLE credential;--',
    "') UNION SELECT id, email, password_hash FROM account--",
    "1; SELECT pg_sleep(5)--",
    "%' --",
    "%",
    "_",
    "\\",
    "\u2019 OR \u20181\u2019=\u20181",  # right and left single quotation marks
    "\uff07 OR \uff11=\uff11--",  # fullwidth apostrophe and digits
    "\u02bc OR 1=1--",  # modifier letter apostrophe
    "\x00",
    "a\x00' OR 1=1--",
    "%00' OR 1=1--",
    "$1",
    ":id",
    "?",
    "-1",
    "99999999999999999999999999",
    "1e309",
    "",
    LONG,
    "x" * 60_000,  # httpx sends at most 65,536 characters of query
]
PATH_PAYLOADS = [
    "' OR 1=1--",
    '"; DROP TABLE credential;--',
    "%' --",
    "%",
    "\u2019 OR \u20181\u2019=\u20181",
    "a\x00' OR 1=1--",
]
PUBLIC_LISTINGS = ("/v1/catalogue/",)
"""Listings that show anyone every achievement open for applications and its issuer: tenant A's
open achievement and issuer appear there by design; nothing else of A's may."""
PUBLICLY_LISTED = ("issuer", "achievement")
FILTERS = ("issuer_id", "achievement_id", "object_id", "action", "tag", "recipient", "state")
"""Parameters that select rows by equality: given a payload, they match nothing."""


ERROR_SHAPES = (
    {"error", "detail"},
    # the Open Badges 3.0 API's Imsx_StatusInfo
    {"imsx_codeMajor", "imsx_severity", "imsx_description", "imsx_codeMinor"},
)


@pytest.fixture
def settings(settings):
    # the same account sends thousands of requests here; the limiter has its own tests
    return settings.model_copy(update={"status_list_background_resign": False, "rate_limits": False})


@dataclass
class Tenants:
    victim: Cast
    attacker: Cast
    secrets: dict[str, str]


@pytest.fixture
def tenants(app, api) -> Tenants:
    """Tenant A (the victim) with rows in every listed table; tenant B (the attacker) with a few."""
    assessor = ScriptedAssessor()
    app.dependency_overrides[get_assessor] = lambda: assessor
    try:
        victim = make_cast(api, app, rubric("review"))
        attacker = make_cast(api, app, rubric("review"))
        pending = victim.submitted()
        credential = api.issue(victim.achievement["id"], {"email": victim.earner_email})
        tagged = api.create_achievement(victim.issuer["id"], name="Victim secret", tags=["secret", "%", "_"])
        attacker.submitted()
        api.issue(attacker.achievement["id"], {"email": attacker.earner_email})
    finally:
        app.dependency_overrides.pop(get_assessor, None)
    secrets = {
        "issuer": victim.issuer["id"],
        "achievement": victim.achievement["id"],
        "tagged achievement": tagged["id"],
        "assessment": pending["id"],
        "bundle": pending["bundle_id"],
        "credential": credential["id"],
        "earner email": victim.earner_email,
    }
    return Tenants(victim, attacker, secrets)


@dataclass(frozen=True)
class Operation:
    path: str
    text: tuple[str, ...]
    numbers: tuple[str, ...]
    path_params: tuple[str, ...]


def _is_number(parameter: dict[str, Any]) -> bool:
    schema = parameter.get("schema", {})
    types = [schema.get("type")] + [option.get("type") for option in schema.get("anyOf", [])]
    return "integer" in types or "number" in types


def operations_with_query_parameters(app) -> list[Operation]:
    found = []
    for path, methods in app.openapi()["paths"].items():
        get = methods.get("get")
        if not get:
            continue
        parameters = get.get("parameters", [])
        query = [p for p in parameters if p["in"] == "query"]
        if query:
            found.append(
                Operation(
                    path,
                    tuple(p["name"] for p in query if not _is_number(p)),
                    tuple(p["name"] for p in query if _is_number(p)),
                    tuple(p["name"] for p in parameters if p["in"] == "path"),
                )
            )
    assert len(found) >= 10, "the OpenAPI document lists the list endpoints"
    assert sum(len(o.text) for o in found) >= 10, "and their text filters"
    return found


def _concrete(operation: Operation, cast: Cast) -> str:
    ids = {"issuer_id": cast.issuer["id"], "achievement_id": cast.achievement["id"]}
    path = operation.path
    for name in operation.path_params:
        path = path.replace(f"{{{name}}}", ids.get(name, "00000000-0000-4000-8000-000000000000"))
    return path


def _check(
    response: Any, where: str, *, filtered: bool, secrets: dict[str, str] | None, unfiltered: Any = None
) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    assert response.status_code in (200, 400, 401, 403, 404, 405, 413, 414, 422, 431), (
        f"{where}: {response.status_code}"
    )
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("text/html"):
        # the OAuth authorization endpoint's error page (RFC 6749 section 4.1.2.1): it names the
        # error and shows the payload, if at all, escaped
        assert 'data-oauth-error="' in response.text and "Traceback" not in response.text, where
        assert "<script" not in response.text.lower(), f"{where}: the payload reached the page unescaped"
        return
    if response.status_code >= 400:
        body = response.json()
        assert set(body) in ERROR_SHAPES and "Traceback" not in response.text, where
        return
    if secrets is not None:
        leaked = [name for name, value in secrets.items() if value in response.text]
        assert not leaked, f"{where}: tenant A's {leaked} shown to tenant B"
    if filtered:
        # nothing matches the payload, or the filter does not apply to this caller (an issuer
        # admin's audit log is their issuer's whatever issuer_id says): the unfiltered answer
        body = response.json()
        rows = body["items"] if "items" in body else body["groups"]  # a page, or assessment-quality's groups
        assert rows == [] or body == unfiltered, f"{where}: a payload filter matched rows"


def _not_public(secrets: dict[str, str] | None, path: str) -> dict[str, str] | None:
    """``secrets`` without what ``path`` shows anyone (see :data:`PUBLIC_LISTINGS`)."""
    if secrets is None or not path.startswith(PUBLIC_LISTINGS):
        return secrets
    return {name: value for name, value in secrets.items() if name not in PUBLICLY_LISTED}


def test_no_payload_in_any_query_parameter_breaks_a_query_or_crosses_tenants(app, api, tenants):
    operations = operations_with_query_parameters(app)
    before = database_fingerprint(app)
    attacker = tenants.attacker
    callers = {
        "admin": (api.admin, None),
        "tenant B issuer admin": (attacker.issuer_admin, tenants.secrets),
        "tenant B earner": (attacker.earner, tenants.secrets),
    }
    sent = 0
    baselines: dict[tuple[str, str], Any] = {}

    def baseline(who: str, path: str, headers: dict[str, str]) -> Any:
        if (who, path) not in baselines:
            baselines[who, path] = api.client.get(path, headers=headers).json()
        return baselines[who, path]

    for operation in operations:
        path = _concrete(operation, attacker)
        for payload in PAYLOADS:
            # Text filters get every payload from every caller, one at a time and all together;
            # numbers (paging, versions) get them from the admin, who sees the most rows.
            fits = len(payload) * len(operation.text) < 60_000  # httpx sends at most 65,536 characters of query
            combined = ("all at once",) if len(operation.text) > 1 and fits else ()
            attempts = [(name, (name,), callers) for name in operation.text]
            attempts += [(name, operation.text, callers) for name in combined]
            attempts += [(name, (name,), {"admin": callers["admin"]}) for name in operation.numbers]
            for parameter, names, who_all in attempts:
                params = {name: payload for name in names}
                filtered = bool(payload) and any(name in FILTERS for name in names)
                for who, (headers, secrets) in who_all.items():
                    secrets = _not_public(secrets, operation.path)
                    where = f"{who}: GET {operation.path} {parameter}={payload[:40]!r}"
                    response = api.client.get(path, params=params, headers=headers)
                    unfiltered = baseline(who, path, headers) if filtered and response.status_code == 200 else None
                    _check(response, where, filtered=filtered, secrets=secrets, unfiltered=unfiltered)
                    sent += 1

    assert sent > 1000
    assert database_fingerprint(app) == before


def test_payloads_in_path_ids_are_not_found_never_an_error(app, api, tenants):
    paths = [p for p in app.openapi()["paths"] if "{" in p and "get" in app.openapi()["paths"][p]]
    before = database_fingerprint(app)

    for template in paths:
        for payload in PATH_PAYLOADS:
            path = template
            for _ in range(template.count("{")):
                name = path[path.index("{") : path.index("}") + 1]
                path = path.replace(name, quote(payload[:36], safe=""), 1)
            for headers, secrets in ((api.admin, None), (tenants.attacker.issuer_admin, tenants.secrets)):
                response = api.client.get(path, headers={**headers, "Accept": "application/json"})
                where = f"GET {template} with {payload!r}"
                assert response.status_code in (400, 401, 403, 404, 406, 422), f"{where}: {response.status_code}"
                _check(response, where, filtered=False, secrets=secrets)

    assert database_fingerprint(app) == before


def test_the_wildcards_match_only_their_literal_tag(api, tenants):
    """LIKE's ``%`` and ``_`` are escaped in the tag filter: they find the one achievement tagged
    with that very character, not every achievement."""
    issuer_id = tenants.victim.issuer["id"]
    for tag in ("%", "_"):
        response = api.client.get(f"/v1/issuers/{issuer_id}/achievements", params={"tag": tag}, headers=api.admin)
        assert response.status_code == 200
        assert [a["id"] for a in response.json()["items"]] == [tenants.secrets["tagged achievement"]], tag
    everything = api.client.get(f"/v1/issuers/{issuer_id}/achievements", headers=api.admin).json()
    assert everything["total"] == 2


def test_the_tables_survive_a_stacked_drop(app, api, tenants):
    names = set(sa.inspect(app.state.engine).get_table_names())
    for payload in ('"; DROP TABLE credential;--', "'; DROP TABLE credential;--", "1); DROP TABLE account;--"):
        for parameter in ("issuer_id", "achievement_id", "recipient"):
            response = api.client.get("/v1/credentials", params={parameter: payload}, headers=api.admin)
            assert response.status_code in (200, 422), response.text
    assert set(sa.inspect(app.state.engine).get_table_names()) == names
    assert api.client.get("/v1/credentials", headers=api.admin).json()["total"] == 2


def test_a_nul_byte_in_a_body_id_or_a_sign_in_name_is_a_client_error(api, tenants):
    """PostgreSQL cannot hold NUL in text, and its driver refuses such a parameter: that is a 4xx
    (422 on PostgreSQL, a plain not-found on SQLite), never a 500."""
    attacker = tenants.attacker
    attempts = {
        "issue": ("/v1/credentials", {"achievement_id": "\x00", "recipient": {"email": "a@example.org"}}, api.admin),
        "bundle": ("/v1/evidence/bundles", {"achievement_id": "a\x00' OR 1=1--"}, attacker.earner),
        "assessment": ("/v1/assessments", {"bundle_id": "a\x00b"}, attacker.earner),
        "account": (
            "/v1/accounts",
            {
                "email": "n@example.org",
                "password": "a-long-enough-password",
                "role": "issuer_admin",
                "issuer_id": "\x00",
            },
            api.admin,
        ),
    }
    for where, (path, body, headers) in attempts.items():
        response = api.client.post(path, json=body, headers=headers)
        assert 400 <= response.status_code < 500, f"{where}: {response.status_code} {response.text}"
        assert set(response.json()) in ERROR_SHAPES, where
    sign_in = api.client.post("/v1/auth/token", data={"username": "admin\x00' OR 1=1--", "password": "x"})
    assert sign_in.status_code in (401, 422), sign_in.text
