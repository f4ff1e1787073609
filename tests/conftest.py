"""Service test fixtures: every API test runs on SQLite and, when configured, on PostgreSQL.

PostgreSQL tests run when ``SKILLCRED_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it and also
``SKILLCRED_REQUIRE_POSTGRES=1``, which turns an unreachable server into a failure, never a skip).
Each test gets a clean database: a copy of a migrated SQLite template file, or a per-worker
PostgreSQL schema whose tables are truncated before the test.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from service.core.config import Settings, get_settings
from service.core.migrations import upgrade

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402

from tests import figures  # noqa: E402

POSTGRES_URL = os.environ.get("SKILLCRED_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("SKILLCRED_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
TEST_KEK = "dGVzdC1rZWstMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY"  # 32 bytes, tests only
PUBLIC_URL = "https://skillcred.example"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@skillcred.example", "admin-password-for-tests"


REDIS_URL = os.environ.get("SKILLCRED_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("SKILLCRED_REQUIRE_REDIS") == "1"


def redis_url_or_skip() -> str:
    """The test Redis, or skip (a failure when ``SKILLCRED_REQUIRE_REDIS=1``, as in ``.ci/run``)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=0.5):
            return REDIS_URL
    except OSError:
        if REQUIRE_REDIS:
            pytest.fail(f"SKILLCRED_REQUIRE_REDIS=1 but Redis at {REDIS_URL} is not reachable")
        pytest.skip(f"Redis at {REDIS_URL} is not reachable (.ci/run starts it)")


def pytest_configure(config: pytest.Config) -> None:
    # every document the suite canonicalises on the JSON-LD fast path is checked against the full
    # path: each credential the suite issues or verifies is a differential test of it
    from service.vc import jsonld_fast_path

    jsonld_fast_path.check_against_full_path = True
    if REQUIRE_POSTGRES and not POSTGRES_URL:
        raise pytest.UsageError("SKILLCRED_REQUIRE_POSTGRES=1 but SKILLCRED_TEST_POSTGRES_URL is not set")
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # the controller (or a run without xdist)
        figures.reset()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A passed test marked ``attack`` is an attack tried (and refused). Counted where every report
    arrives: the xdist controller (workers send theirs there), or the only process."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if report.when == "call" and report.passed and "attack" in report.keywords:
        figures.record("attacks tried", 1)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What the suite measured: attacks, fuzzed inputs, load, faults, and credentials lost."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    totals = figures.totals()
    terminalreporter.section("SkillCred figures")
    for figure in figures.FIGURES:
        terminalreporter.write_line(f"{figure:>22}: {totals[figure]:,}")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def application_name() -> str:
    """The PostgreSQL ``application_name`` of this test process's sessions (its leak check's key)."""
    return f"skillcred-test-{_worker()}-{os.getpid()}"


def idle_in_transaction(url: str, name: str, older_than_seconds: float = 1.0) -> list[tuple[str, float, str]]:
    """Sessions of ``name`` idle in a transaction for longer than ``older_than_seconds``:
    (state, seconds, last query). A session that outlives its request or job shows up here."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT state, EXTRACT(EPOCH FROM now() - state_change)::float, left(query, 200)"
                    " FROM pg_stat_activity WHERE application_name = :name AND state LIKE 'idle in transaction%'"
                    " AND now() - state_change > make_interval(secs => :older)"
                ),
                {"name": name, "older": older_than_seconds},
            ).all()
    finally:
        engine.dispose()
    return [(row[0], row[1], row[2]) for row in rows]


@pytest.fixture(scope="session", autouse=True)
def _no_session_outlives_its_request() -> Iterator[None]:
    """After this process's tests: none of its PostgreSQL sessions is left idle in a transaction."""
    yield
    if POSTGRES_URL:
        leaked = idle_in_transaction(POSTGRES_URL, application_name())
        assert not leaked, f"sessions left idle in a transaction: {leaked}"


KEYS = Path(__file__).resolve().parent / "fixtures" / "keys"


@pytest.fixture(scope="session")
def _rsa_pool():
    from cryptography.hazmat.primitives import serialization

    return [
        serialization.load_pem_private_key(p.read_bytes(), password=None)
        for p in sorted(KEYS.glob("pool-rsa3072-*.pem"))
    ]


@pytest.fixture(autouse=True)
def _pooled_rsa_keys(monkeypatch: pytest.MonkeyPatch, _rsa_pool) -> None:
    """Hand out pre-generated RSA 3072 keys in turn: generating one per issuer dominates the
    suite's run time. Ed25519 keys are still generated fresh."""
    import itertools

    from service.issuers import keys

    real = keys.generate_private_key
    pool = itertools.cycle(_rsa_pool)
    monkeypatch.setattr(
        keys, "generate_private_key", lambda algorithm: next(pool) if algorithm == "RS256" else real(algorithm)
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with its lowest cost for tests (production keeps argon2-cffi's defaults)."""
    from argon2 import PasswordHasher

    from service.accounts import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "skillcred.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    assert POSTGRES_URL
    # The pid keeps two test runs against one server (two CI jobs, two shells) apart.
    schema = f"skillcred_test_{_worker()}_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as err:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {err}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}&application_name={application_name()}"
    upgrade(url)
    yield url
    cleaner = _CLEANERS.pop(url, None)
    if cleaner is not None:
        cleaner[0].dispose()
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


_CLEANERS: dict[str, tuple[sa.Engine, sa.TextClause]] = {}


def _truncate_all(url: str) -> None:
    """Empty every table of the test schema at ``url`` (but ``alembic_version``).

    Only the tables that hold rows are emptied, with ``DELETE`` and foreign keys off for the
    transaction (``session_replication_role = replica``, which needs a superuser, as the test
    server's ``postgres`` is; otherwise ``TRUNCATE ... CASCADE`` of those tables). A ``TRUNCATE`` of
    all 39 tables took about a second per test, most of the PostgreSQL half of the suite."""
    if url not in _CLEANERS:
        engine = sa.create_engine(url, poolclass=sa.pool.StaticPool)
        with engine.connect() as connection:
            tables = [
                r[0]
                for r in connection.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables"
                        " WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
                    )
                )
            ]
        holding_rows = sa.text(
            " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
            or "SELECT 1 WHERE false"
        )
        _CLEANERS[url] = (engine, holding_rows)
    engine, holding_rows = _CLEANERS[url]
    with engine.begin() as connection:
        full = [r[0] for r in connection.execute(holding_rows)]
        if not full:
            return
        superuser = connection.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
        if superuser:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for table in full:
                connection.exec_driver_sql(f'DELETE FROM "{table}"')
        else:
            connection.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in full) + " CASCADE")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database for this test (parametrised over the backends)."""
    if request.param == "sqlite":
        path = tmp_path / "skillcred.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_schema_url")
    _truncate_all(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        kek=TEST_KEK,
        public_url=PUBLIC_URL,
        dev_kek_file=tmp_path / "dev-kek",
        bootstrap_admin_email=ADMIN_EMAIL,
        bootstrap_admin_password=ADMIN_PASSWORD,
        blob_dir=tmp_path / "blobs",
        # no worker inside test apps unless a test asks for one (the `jobs` fixtures of the tests
        # that run jobs): jobs would otherwise run behind the back of tests that drive them
        jobs_in_process=False,
    )


@pytest.fixture
def cli_environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[None]:
    """Point the command line (``get_settings()``, read from ``SKILLCRED_*``) at the test app's
    database and keys."""
    for name, value in {
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "KEK": TEST_KEK,
        "PUBLIC_URL": PUBLIC_URL,
        "DEV_KEK_FILE": str(settings.dev_kek_file),
    }.items():
        monkeypatch.setenv(f"SKILLCRED_{name}", value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def app(settings: Settings):
    from service.api.app import create_app
    from service.cli.bootstrap import ensure_admin

    app = create_app(settings)
    ensure_admin(app.state.engine, settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient):
    """A thin client for the API tests: sign-ins and the common set-up calls."""
    from tests.api_client import Api

    return Api(client)
