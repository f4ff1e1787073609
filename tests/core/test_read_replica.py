"""A read replica for the public reads (``SKILLCRED_DATABASE_READ_URL``), docs/scaling.md.

Two PostgreSQL schemas stand in for the primary and its replica; "replication" is a copy of every
table from the primary to the replica, made only when a test says so, so the replica lags by as
much as the test wants. The rules shown here:

- public reads (the badge page and images, /status, DID documents, JWKS, POST /v1/verify) go to the
  replica when it holds every status and signing-key change the primary holds;
- a writer reads its own writes: requests with credentials, and requests carrying the cookie a
  write set, read the primary;
- a revocation shows at once on the badge page and in /v1/verify however far the replica lags;
- a replica that does not answer is skipped: the reads are served by the primary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from service.api.deps import READ_PRIMARY_COOKIE
from service.core.db import DatabaseLimits, ReadReplica, freshness, make_engine
from service.core.migrations import upgrade
from tests.conftest import POSTGRES_URL, PUBLIC_URL, application_name
from tests.serve import free_port
from tests.web.badge_helpers import banner_of, stamp_of

if not POSTGRES_URL:
    pytest.skip("a replica is PostgreSQL's: set SKILLCRED_TEST_POSTGRES_URL", allow_module_level=True)

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture(scope="module")
def replica_url() -> Iterator[str]:
    """A second migrated schema: the replica."""
    assert POSTGRES_URL
    schema = f"skillcred_replica_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}&application_name={application_name()}"
    upgrade(url)
    yield url
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


class Replication:
    """Copies the primary's rows to the replica when :meth:`catch_up` is called, never otherwise."""

    def __init__(self, primary: sa.Engine, replica: sa.Engine) -> None:
        self.primary, self.replica = primary, replica
        with primary.connect() as connection:
            self.source = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
            self.tables = list(
                connection.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                        " AND tablename <> 'alembic_version' AND tablename NOT LIKE 'procrastinate%'"
                    )
                ).scalars()
            )

    def catch_up(self) -> None:
        with self.replica.begin() as connection:
            # as a physical standby replays: row for row, without firing foreign-key triggers
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            connection.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables)))
            for table in self.tables:
                columns = connection.execute(
                    sa.text(
                        "SELECT column_name, data_type, udt_name FROM information_schema.columns"
                        " WHERE table_schema = current_schema() AND table_name = :table ORDER BY ordinal_position"
                    ),
                    {"table": table},
                ).all()
                names = ", ".join(f'"{name}"' for name, _, _ in columns)
                # an enum is a type of its schema: cast through text to the replica's own
                values = ", ".join(
                    f'"{name}"::text::"{udt}"' if kind == "USER-DEFINED" else f'"{name}"' for name, kind, udt in columns
                )
                connection.execute(
                    sa.text(f'INSERT INTO "{table}" ({names}) SELECT {values} FROM "{self.source}"."{table}"')
                )


@pytest.fixture
def replica(app, replica_url: str) -> Iterator[ReadReplica]:
    engine = make_engine(replica_url, DatabaseLimits(pool_size=8))
    read_replica = ReadReplica(app.state.engine, engine, max_lag_seconds=10)
    app.state.read_replica = read_replica
    yield read_replica
    engine.dispose()


@pytest.fixture
def replication(app, replica: ReadReplica) -> Replication:
    replication = Replication(app.state.engine, replica.replica)
    replication.catch_up()  # the replica starts as a copy of the (bootstrapped) primary
    return replication


@pytest.fixture
def anonymous(app) -> Iterator[TestClient]:
    """A client that never sent credentials and keeps no cookies."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _issued(api, replication: Replication) -> tuple[dict, dict, dict]:
    issuer = api.create_issuer()
    achievement = api.create_achievement(issuer["id"])
    credential = api.issue(achievement["id"])
    replication.catch_up()
    return issuer, achievement, credential


def _jsonld(client: TestClient, credential: dict) -> str:
    response = client.get(f"/credentials/{credential['id']}", headers={"Accept": "application/vc+ld+json"})
    assert response.status_code == 200, response.text
    return response.text


def _verify(client: TestClient, jsonld: str, **headers: str) -> dict:
    response = client.post("/v1/verify", content=jsonld, headers={"Content-Type": "application/vc+ld+json", **headers})
    assert response.status_code == 200, response.text
    return response.json()


def test_public_reads_go_to_the_replica_when_it_is_caught_up(api, anonymous, replica, replication):
    issuer, _, credential = _issued(api, replication)
    with replica.replica.begin() as connection:  # a difference only the replica holds
        connection.execute(sa.text("UPDATE credential SET state = 'suspended'"))
    replica.counts.clear()

    page = anonymous.get(f"/credentials/{credential['id']}")
    assert page.status_code == 200
    assert stamp_of(page.text) == "Suspended"  # the replica's row
    jsonld = _jsonld(anonymous, credential)
    assert _verify(anonymous, jsonld)["verified"] is True
    assert anonymous.get(_did_document(issuer)).status_code == 200
    assert anonymous.get("/.well-known/jwks.json").status_code == 200
    assert anonymous.get(f"/credentials/{credential['id']}/badge.svg").status_code == 200
    lists = {entry["statusListCredential"] for entry in json.loads(jsonld)["credentialStatus"]}
    for url in lists:
        assert anonymous.get(url.removeprefix(PUBLIC_URL)).status_code == 200
    assert replica.counts == {"replica": 6 + len(lists)}

    # a request with credentials reads the primary (the writer's own reads): the primary's name
    page = anonymous.get(f"/credentials/{credential['id']}", headers=api.admin)
    assert page.status_code == 200
    assert stamp_of(page.text) is None
    assert replica.counts["pinned"] == 1


def test_a_writer_reads_its_own_writes_while_the_replica_lags(api, anonymous, replica, replication):
    _, achievement, first = _issued(api, replication)
    response = api.client.post(
        "/v1/credentials",
        json={"achievement_id": achievement["id"], "recipient": {"email": "fresh@example.org"}},
        headers=api.admin,
    )
    assert response.status_code == 201, response.text
    fresh = response.json()
    cookie = response.cookies.get(READ_PRIMARY_COOKIE)
    assert cookie is not None  # a request that wrote tells its client to read the primary
    page = f"/credentials/{fresh['id']}"

    # the replica has not caught up: an anonymous reader without the cookie does not see it yet
    assert anonymous.get(page).status_code == 404
    # the writer does: with its credentials, or with the cookie its write was answered with
    assert api.client.get(page, headers=api.admin).status_code == 200
    assert anonymous.get(page, headers={"Cookie": f"{READ_PRIMARY_COOKIE}={cookie}"}).status_code == 200
    # a cookie that names a time further ahead than the sticky interval was not set here
    forged = f"{float(cookie) + 3600:.3f}"
    assert anonymous.get(page, headers={"Cookie": f"{READ_PRIMARY_COOKIE}={forged}"}).status_code == 404
    # nor does a read set the cookie
    assert READ_PRIMARY_COOKIE not in anonymous.get(f"/credentials/{first['id']}").cookies

    replication.catch_up()
    assert anonymous.get(page).status_code == 200


def test_a_revocation_shows_at_once_in_verify_and_on_the_page_while_the_replica_lags(
    api, anonymous, replica, replication
):
    _, _, credential = _issued(api, replication)
    jsonld = _jsonld(anonymous, credential)
    assert _verify(anonymous, jsonld)["verified"] is True

    revoked = api.client.post(f"/v1/credentials/{credential['id']}/revoke", json={"reason": "x"}, headers=api.admin)
    assert revoked.status_code == 200, revoked.text
    with replica.replica.connect() as connection:  # the replica still holds it active
        state = connection.execute(sa.text("SELECT state FROM credential WHERE id = :id"), {"id": credential["id"]})
        assert state.scalar_one() == "active"
    with replica.primary.connect() as p, replica.replica.connect() as r:
        assert freshness(p) != freshness(r)
    replica.counts.clear()

    report = _verify(anonymous, jsonld)
    assert report["verified"] is False
    assert _outcome(report, "status.revocation") == "failed"
    assert banner_of(anonymous.get(f"/credentials/{credential['id']}").text) == "Revoked"
    assert replica.counts == {"lagging": 2}

    replication.catch_up()  # once the replica holds the revocation, it serves it
    assert _verify(anonymous, jsonld)["verified"] is False
    assert banner_of(anonymous.get(f"/credentials/{credential['id']}").text) == "Revoked"
    assert replica.counts["replica"] == 2


def test_a_replica_that_does_not_answer_is_skipped(app, api, anonymous, database_url):
    down = make_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none", DatabaseLimits(pool_size=2), connect_timeout=2
    )
    app.state.read_replica = read_replica = ReadReplica(app.state.engine, down, max_lag_seconds=10)
    issuer = api.create_issuer()
    credential = api.issue(api.create_achievement(issuer["id"])["id"])

    assert anonymous.get(f"/credentials/{credential['id']}").status_code == 200
    jsonld = _jsonld(anonymous, credential)
    assert _verify(anonymous, jsonld)["verified"] is True
    assert anonymous.get(_did_document(issuer)).status_code == 200
    # tried once, then left alone for the retry interval: every read went to the primary
    assert read_replica.counts == {"down": 4}
    assert read_replica.is_down
    down.dispose()


def test_without_a_read_url_public_reads_use_the_primary_and_no_cookie_is_set(api, anonymous, app):
    issuer = api.create_issuer()
    response = api.client.post(
        "/v1/credentials",
        json={"achievement_id": api.create_achievement(issuer["id"])["id"], "recipient": {"email": "a@example.org"}},
        headers=api.admin,
    )
    assert response.status_code == 201
    assert READ_PRIMARY_COOKIE not in response.cookies
    assert anonymous.get(f"/credentials/{response.json()['id']}").status_code == 200
    assert app.state.read_replica is None


def _outcome(report: dict, check: str) -> str:
    (outcome,) = [c["outcome"] for c in report["checks"] if c["id"] == check]
    return str(outcome)


def _did_document(issuer: dict) -> str:
    """Where the issuer's did:web document is served: the host DID's or a path DID's."""
    return f"/issuers/{issuer['id']}/did.json" if ":issuers:" in issuer["did"] else "/.well-known/did.json"
