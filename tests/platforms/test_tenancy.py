"""One issuer's platform client never reaches another issuer's objects: the "other tenant's client"
column of the access table in tests/api/test_access.py.

Issuer A gets one real object of every kind a platform route names: an achievement with a rubric,
a credential, a bulk job, a webhook subscription with a delivery, and a provisioned earner with an
open evidence bundle (one item) and a submitted one (an assessment). Issuer B gets a client, an
earner, a bundle and a webhook of its own. Both clients hold every scope (``scopes.ALL``). Then:

- B's client calls every route of ``SCOPES`` whose path names an object, with A's real ids: each
  answer is 404 (never 403, never 2xx), byte for byte the answer for an id that does not exist (a
  404 that tells nothing), and not one row of the database changes. Routes only earners reach (the
  evidence writes) are called with B's client acting for B's own earner (``On-Behalf-Of``); routes
  earners and issuers both reach are called both ways. Routes naming two objects are also called
  with B's own first one and A's second (B's webhook with A's delivery, B's bundle with A's item).
  The one route that shows any signed-in account another issuer's object by design (a rubric) is
  in :data:`SHOWN_TO_EVERY_ACCOUNT`, with what it must still hide;
- the creating routes whose body names an object of A's (issue for A's achievement, assess A's
  bundle, subscribe to A's issuer...) are refused the same way;
- A's client makes the same calls and every one succeeds (the ids are real: the first check can
  fail), and its revocation takes effect where B's left the credential active;
- every parameterised route of ``SCOPES`` is called here or excused in :data:`NOT_COVERED` with
  the reason, so a new route without a tenancy check fails this file;
- every listing a client reaches (the parameterless GET routes of ``SCOPES``), also filtered by
  A's ids, shows B's client none of A's objects, while A's client finds its own there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from service.accounts.models import Role
from service.core.models import utcnow
from service.events.models import Event
from service.platforms import scopes
from service.webhooks import service as webhooks
from tests.api.test_access import ACCESS, SCOPES, operations
from tests.assessment.helpers import create_achievement_with_rubric, rubric
from tests.platforms.clients import client_token

if TYPE_CHECKING:
    from tests.platforms.clients import TestClientApp

ALL_SCOPES = scopes.render(scopes.ALL)
PARAMETER = re.compile(r"\{(\w+)\}")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
"""An id no object has: what B's answers about A's objects are compared with."""
AS_ITSELF, FOR_ITS_EARNER = "as itself", "for its earner"
REASON = {"reason": "Checked by the tenancy test"}
TEXT_ITEM = {"kind": "text", "text": "I wrote tests with pytest.", "name": "Write-up"}
Route = tuple[str, str]


@dataclass(frozen=True)
class Call:
    """What a call sends besides its path: a JSON body, multipart files, or raw content. Always
    valid input, so that the answer is about the object named and not about the input."""

    json: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    content: bytes | None = None
    content_type: str | None = None


CALLS: dict[Route, Call] = {
    ("GET", "/v1/issuers/{issuer_id}/achievements"): Call(),
    ("GET", "/v1/achievements/{achievement_id}"): Call(),
    ("GET", "/v1/achievements/{achievement_id}/versions"): Call(),
    ("GET", "/v1/achievements/{achievement_id}/rubric"): Call(),
    ("GET", "/v1/credentials/{credential_id}"): Call(),
    ("GET", "/v1/credentials/{credential_id}/jsonld"): Call(),
    ("GET", "/v1/credentials/{credential_id}/jwt"): Call(),
    ("GET", "/v1/credentials/{credential_id}/png"): Call(),
    ("GET", "/v1/credentials/{credential_id}/svg"): Call(),
    ("GET", "/v1/jobs/{job_id}"): Call(),
    ("GET", "/v1/jobs/{job_id}/results"): Call(),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): Call(),
    ("GET", "/v1/evidence/bundles/{bundle_id}"): Call(),
    ("GET", "/v1/evidence/bundles/{bundle_id}/items/{item_id}/content"): Call(),
    ("GET", "/v1/assessments/{assessment_id}"): Call(),
    ("GET", "/v1/platform/earners/{earner_id}"): Call(),
    # the writes, in an order in which each is possible for A: suspend before unsuspend, the
    # renewal before the revocation, the deletions last
    ("POST", "/v1/credentials/{credential_id}/suspend"): Call(json=REASON),
    ("POST", "/v1/credentials/{credential_id}/unsuspend"): Call(json=REASON),
    ("POST", "/v1/credentials/{credential_id}/renew"): Call(json={}),
    ("POST", "/v1/credentials/{credential_id}/revoke"): Call(json=REASON),
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): Call(),
    ("POST", "/v1/webhooks/{webhook_id}/secret/rotate"): Call(),
    ("POST", "/v1/webhooks/{webhook_id}/disable"): Call(),
    ("POST", "/v1/webhooks/{webhook_id}/enable"): Call(),
    ("PATCH", "/v1/evidence/bundles/{bundle_id}"): Call(json={"achievement_id": "{achievement_id}"}),
    ("POST", "/v1/evidence/bundles/{bundle_id}/items"): Call(json=TEXT_ITEM),
    ("POST", "/v1/evidence/bundles/{bundle_id}/files"): Call(files={"file": ("notes.txt", b"pytest\n", "text/plain")}),
    ("POST", "/v1/evidence/bundles/{bundle_id}/suggestions"): Call(json={"limit": 3}),
    ("DELETE", "/v1/evidence/bundles/{bundle_id}/items/{item_id}"): Call(),
    ("DELETE", "/v1/webhooks/{webhook_id}"): Call(),
}
"""Every parameterised route of ``SCOPES`` this file calls with another issuer's ids."""

NOT_COVERED: dict[Route, str] = {}
"""Parameterised routes of ``SCOPES`` this file does not call, each with the reason (none today)."""

SHOWN_TO_EVERY_ACCOUNT: dict[Route, str] = {
    ("GET", "/v1/achievements/{achievement_id}/rubric"): (
        "any signed-in account reads any achievement's rubric, so that earners know what they will be"
        " judged on; all but the issuer's own staff get it without the assessor's hints (key_ideas)"
        " (service/achievements/routes.py get_rubric, RubricView)"
    ),
}
"""Routes of :data:`CALLS` that show another issuer's client the object by design, with the reason;
what they must still hide is :func:`test_another_issuers_client_reads_a_rubric_without_the_assessors_hints`'s."""

MIXED: dict[Route, str] = {
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): "webhook_id",
    ("GET", "/v1/evidence/bundles/{bundle_id}/items/{item_id}/content"): "bundle_id",
    ("DELETE", "/v1/evidence/bundles/{bundle_id}/items/{item_id}"): "bundle_id",
}
"""Routes naming two objects, also called with B's own object for this parameter and A's for the other."""

BODY_REFERENCES: dict[Route, Callable[[dict[str, str]], Call]] = {
    ("POST", "/v1/credentials"): lambda ids: Call(
        json={"achievement_id": ids["achievement_id"], "recipient": {"email": "mallory@beta.example"}}
    ),
    ("POST", "/v1/bulk/credentials"): lambda ids: Call(
        content=f"recipient_email,achievement_id\nmallory@beta.example,{ids['achievement_id']}\n".encode(),
        content_type="text/csv",
    ),
    ("POST", "/v1/evidence/bundles"): lambda ids: Call(json={"achievement_id": ids["achievement_id"]}),
    ("POST", "/v1/assessments"): lambda ids: Call(json={"bundle_id": ids["bundle_id"]}),
    ("POST", "/v1/webhooks"): lambda ids: Call(
        json={"url": "https://hooks.beta.example/a", "events": ["credential.issued"], "issuer_id": ids["issuer_id"]}
    ),
    ("POST", "/v1/platform/earners"): lambda ids: Call(
        json={"external_id": "user-2", "email": "eve@beta.example", "issuer_id": ids["issuer_id"]}
    ),
}
"""Creating routes whose body names an object: each called by B with A's object, then an unknown one."""


def parameterised(route: Route) -> bool:
    return bool(PARAMETER.search(route[1]))


def earner_only(route: Route) -> bool:
    """Only earners reach it: a client calls it acting for its earner."""
    return Role.issuer_admin not in ACCESS[route]


def guises(route: Route) -> list[str]:
    """How a client calls the route: as itself (an issuer's account), acting for its earner, or both."""
    if earner_only(route):
        return [FOR_ITS_EARNER]
    return [AS_ITSELF, FOR_ITS_EARNER] if Role.earner in ACCESS[route] else [AS_ITSELF]


@dataclass
class Tenant:
    """An issuer, its platform client holding every scope, and the earner that client provisioned."""

    issuer: dict[str, Any]
    platform: TestClientApp
    earner_id: str

    def headers(self, guise: str) -> dict[str, str]:
        if guise == AS_ITSELF:
            return self.platform.headers
        return {**self.platform.headers, "On-Behalf-Of": self.earner_id}


@dataclass
class World:
    a: Tenant
    b: Tenant
    ids: dict[str, str]
    """A's objects, by the path parameter that names them."""
    b_ids: dict[str, str]
    """B's own objects, for the routes of :data:`MIXED`."""


def send(client, route: Route, ids: dict[str, str], headers: dict[str, str], how: Call | None = None):
    method, template = route
    how = how or CALLS[route]
    if how.content_type:
        headers = {**headers, "Content-Type": how.content_type}
    # a body may name an object too: its "{name}" strings are the same ids as the path's
    body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in how.json.items()} if how.json else how.json
    return client.request(
        method, template.format(**ids), headers=headers, json=body, files=how.files, content=how.content
    )


def expect(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if "json" in response.headers.get("content-type", "") else {}


def new_tenant(app, client, api, name: str, email: str) -> Tenant:
    issuer = api.create_issuer(name)
    platform = client_token(app, issuer["id"], ALL_SCOPES, name=f"{name} platform")
    body = {"external_id": "user-1", "email": email}
    earner = expect(client.post("/v1/platform/earners", headers=platform.headers, json=body), 201)
    return Tenant(issuer, platform, earner["id"])


def open_bundle(client, tenant: Tenant, achievement_id: str) -> tuple[str, str]:
    """A new bundle of the tenant's earner with one text item: (bundle id, item id)."""
    headers = tenant.headers(FOR_ITS_EARNER)
    bundle = expect(client.post("/v1/evidence/bundles", headers=headers, json={"achievement_id": achievement_id}), 201)
    item = expect(client.post(f"/v1/evidence/bundles/{bundle['id']}/items", headers=headers, json=TEXT_ITEM), 201)
    return bundle["id"], item["id"]


def new_webhook(client, tenant: Tenant, host: str) -> str:
    body = {"url": f"https://{host}/hook", "events": ["credential.issued"]}
    return expect(client.post("/v1/webhooks", headers=tenant.platform.headers, json=body), 201)["id"]


def fan_out(app, issuer_id: str) -> list[str]:
    """Make the deliveries of the issuer's events now, as the worker's fan-out job would (the test
    app runs no worker): the new deliveries' ids."""
    with Session(app.state.engine) as session:
        events = session.exec(select(Event).where(Event.issuer_id == issuer_id)).all()
        made = [delivery for event in events for delivery in webhooks.fan_out(session, event.id, utcnow())]
        session.commit()
    return made


@pytest.fixture
def world(app, client, api) -> World:
    a = new_tenant(app, client, api, "Alpha Academy", "ada@alpha.example")
    b = new_tenant(app, client, api, "Beta Bootcamp", "bob@beta.example")
    achievement = create_achievement_with_rubric(api, app, a.issuer["id"], rubric("auto"))
    b_achievement = create_achievement_with_rubric(api, app, b.issuer["id"], rubric("auto"))
    webhook_id = new_webhook(client, a, "hooks.alpha.example")
    b_webhook_id = new_webhook(client, b, "hooks.beta.example")
    issue = {"achievement_id": achievement["id"], "recipient": {"email": "grace@alpha.example"}}
    credential_id = expect(client.post("/v1/credentials", headers=a.platform.headers, json=issue), 201)["id"]
    (delivery_id,) = fan_out(app, a.issuer["id"])  # of credential.issued
    rows = f"recipient_email,achievement_id\nlin@alpha.example,{achievement['id']}\n".encode()
    job = client.post("/v1/bulk/credentials", headers={**a.platform.headers, "Content-Type": "text/csv"}, content=rows)
    submitted, _ = open_bundle(client, a, achievement["id"])
    assess = client.post("/v1/assessments", headers=a.headers(FOR_ITS_EARNER), json={"bundle_id": submitted})
    bundle_id, item_id = open_bundle(client, a, achievement["id"])
    ids = {
        "issuer_id": a.issuer["id"],
        "achievement_id": achievement["id"],
        "credential_id": credential_id,
        "job_id": expect(job, 202)["job_id"],
        "webhook_id": webhook_id,
        "delivery_id": delivery_id,
        "bundle_id": bundle_id,
        "item_id": item_id,
        "assessment_id": expect(assess, 202)["id"],
        "earner_id": a.earner_id,
    }
    b_bundle_id, _ = open_bundle(client, b, b_achievement["id"])
    return World(a, b, ids, {"webhook_id": b_webhook_id, "bundle_id": b_bundle_id})


def snapshot(app) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (the job queue's too, on PostgreSQL), as text."""
    with app.state.engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        return {
            table: sorted(tuple(map(repr, row)) for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')))
            for table in tables
        }


def changed_tables(before: dict[str, list], after: dict[str, list]) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))


def same_as_unknown(response, unknown, ids: dict[str, str], status: int = 404) -> str | None:
    """None if ``response`` (about A's objects) is ``status`` and reads exactly as ``unknown`` (the
    same call about objects that do not exist); else what differs."""
    text = response.text
    for value in ids.values():
        text = text.replace(value, UNKNOWN)
    if response.status_code == status and text == unknown.text:
        return None
    return (
        f"{response.status_code} {response.text[:300]} (for an unknown id: {unknown.status_code} {unknown.text[:300]})"
    )


# --- the table of routes ------------------------------------------------------------------------


def test_every_parameterised_route_a_client_reaches_is_checked_here_or_excused(app):
    scoped = {route for route in SCOPES if parameterised(route)}
    missing = scoped - set(CALLS) - set(NOT_COVERED)
    assert not missing, f"routes a client reaches by id with no tenancy check (add them to CALLS): {sorted(missing)}"
    assert not set(CALLS) & set(NOT_COVERED), "a route is both checked and excused"
    assert set(CALLS) | set(NOT_COVERED) <= scoped, f"not parameterised routes of SCOPES: {set(CALLS) - scoped}"
    assert set(MIXED) | set(SHOWN_TO_EVERY_ACCOUNT) <= set(CALLS)
    assert set(BODY_REFERENCES) <= set(SCOPES) - scoped
    assert set(CALLS) <= {(method, route.path) for method, route in operations(app)}


# --- another issuer's client --------------------------------------------------------------------


@pytest.mark.attack
def test_another_issuers_client_gets_the_404_of_an_unknown_id_for_every_object_and_changes_nothing(app, client, world):
    unknown = dict.fromkeys(world.ids, UNKNOWN)
    before = snapshot(app)
    wrong = []
    for route in CALLS:
        if route in SHOWN_TO_EVERY_ACCOUNT:
            continue
        variants = [("A's ids", world.ids, unknown)]
        if route in MIXED:
            own = {MIXED[route]: world.b_ids[MIXED[route]]}
            variants.append((f"B's own {MIXED[route]}", {**world.ids, **own}, {**unknown, **own}))
        for guise in guises(route):
            headers = world.b.headers(guise)
            for which, ids, nowhere in variants:
                differs = same_as_unknown(
                    send(client, route, ids, headers), send(client, route, nowhere, headers), world.ids
                )
                if differs:
                    wrong.append(f"{route[0]} {route[1]} {guise} with {which}: {differs}")
    assert not wrong, "another issuer's client was not answered as for an unknown id:\n" + "\n".join(wrong)
    assert changed_tables(before, snapshot(app)) == [], "another issuer's client changed data"


@pytest.mark.attack
def test_another_issuers_client_cannot_create_anything_from_the_issuers_objects(app, client, world):
    """Bulk issuance checks every row first: A's achievement is the 422 of an unknown one."""
    unknown = dict.fromkeys(world.ids, UNKNOWN)
    before = snapshot(app)
    wrong = []
    for route, body in BODY_REFERENCES.items():
        headers = world.b.headers(guises(route)[0])
        theirs = send(client, route, world.ids, headers, body(world.ids))
        nowhere = send(client, route, unknown, headers, body(unknown))
        differs = same_as_unknown(theirs, nowhere, world.ids, 422 if route[1] == "/v1/bulk/credentials" else 404)
        if differs:
            wrong.append(f"{route[0]} {route[1]}: {differs}")
    assert not wrong, "another issuer's client used the issuer's objects:\n" + "\n".join(wrong)
    assert changed_tables(before, snapshot(app)) == [], "another issuer's client changed data"


@pytest.mark.attack
def test_another_issuers_client_cannot_revoke_the_credential(client, world):
    """The write that matters most, said plainly: after B's attempt A's credential is active."""
    path = f"/v1/credentials/{world.ids['credential_id']}"
    expect(client.post(f"{path}/revoke", headers=world.b.platform.headers, json=REASON), 404)
    assert expect(client.get(path, headers=world.a.platform.headers), 200)["state"] == "active"


@pytest.mark.attack
def test_another_issuers_client_reads_a_rubric_without_the_assessors_hints(client, world):
    (route,) = SHOWN_TO_EVERY_ACCOUNT
    for guise in guises(route):
        theirs = expect(send(client, route, world.ids, world.b.headers(guise)), 200)
        assert theirs["complete"] is False and "key_ideas" not in str(theirs["rubric"]), guise
    ours = expect(send(client, route, world.ids, world.a.headers(AS_ITSELF)), 200)
    assert ours["complete"] is True and "key_ideas" in str(ours["rubric"])


# --- the same ids are real ------------------------------------------------------------------------


def test_the_issuers_own_client_succeeds_with_every_one_of_those_calls(client, world):
    failed = []
    for route in CALLS:
        guise = guises(route)[0]
        response = send(client, route, world.ids, world.a.headers(guise))
        if not 200 <= response.status_code < 300:
            failed.append(f"{route[0]} {route[1]} {guise}: {response.status_code} {response.text[:300]}")
    assert not failed, "the issuer's own client failed with its own objects:\n" + "\n".join(failed)


def test_the_issuers_own_client_revokes_the_credential(client, world):
    path = f"/v1/credentials/{world.ids['credential_id']}"
    expect(client.post(f"{path}/revoke", headers=world.a.platform.headers, json=REASON), 200)
    assert expect(client.get(path, headers=world.a.platform.headers), 200)["state"] == "revoked"


# --- listings -------------------------------------------------------------------------------------

LISTINGS: dict[Route, str] = {
    ("GET", "/v1/credentials"): "credential_id",
    ("GET", "/ims/ob/v3p0/credentials"): "credential_id",
    ("GET", "/v1/platform/earners"): "earner_id",
    ("GET", "/v1/webhooks"): "webhook_id",
    ("GET", "/v1/evidence/bundles"): "bundle_id",
    ("GET", "/v1/assessments"): "assessment_id",
    ("GET", "/ims/ob/v3p0/profile"): "did",
    ("GET", "/v1/assessment-quality"): "issuer_id",
}
"""Every parameterless GET of ``SCOPES``, with the object of A's that A's own client finds in it."""

FILTERS: list[tuple[Route, str, str]] = [
    (("GET", "/v1/credentials"), "?issuer_id={issuer_id}", "credential_id"),
    (("GET", "/v1/credentials"), "?achievement_id={achievement_id}", "credential_id"),
    (("GET", "/v1/credentials"), "?recipient=grace@alpha.example", "credential_id"),
    (("GET", "/v1/assessments"), "?achievement_id={achievement_id}", "assessment_id"),
    (("GET", "/v1/platform/earners"), "?external_id=user-1", "earner_id"),
]
"""Listings filtered by A's objects (B's earner has the same external id as A's)."""


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def shown(response, objects: dict[str, str]) -> list[str]:
    """The names of the ``objects`` the answer shows: an id anywhere in its text (in a URL, say), the
    DID as a whole value (the first issuer's ``did:web:host`` begins every other issuer's DID)."""
    values = set(strings(response.json()))
    return sorted(
        name for name, value in objects.items() if (value in values if name == "did" else value in response.text)
    )


def test_every_listing_a_client_reaches_is_checked_here():
    assert {route for route in SCOPES if route[0] == "GET" and not parameterised(route)} == set(LISTINGS)
    assert {route for route, _, _ in FILTERS} <= set(LISTINGS)


@pytest.mark.attack
def test_another_issuers_client_sees_none_of_the_issuers_objects_in_any_listing(client, world):
    objects = {**world.ids, "did": world.a.issuer["did"]}
    queries = [(route, "", proof) for route, proof in LISTINGS.items()] + FILTERS
    leaks = []
    for route, query, proof in queries:
        url = route[1] + query.format(**world.ids)
        for guise in guises(route):
            theirs = client.get(url, headers=world.b.headers(guise))
            assert theirs.status_code == 200, f"{url} {guise} as B: {theirs.text}"
            leaks += [f"{url} {guise} shows A's {name}" for name in shown(theirs, objects)]
        ours = client.get(url, headers=world.a.headers(guises(route)[0]))
        assert ours.status_code == 200 and proof in shown(ours, objects), f"{url}: A does not find its {proof}"
    assert not leaks, "another issuer's objects in B's listings:\n" + "\n".join(leaks)
