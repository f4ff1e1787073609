"""Status list publication: encode + sign + serve a 131,072-entry list with 1% of its entries set.

    .venv/bin/python bench/status_list.py [--rounds 50] [--database-url URL]

Sets up a throw-away database (SQLite in a temporary folder unless ``--database-url`` names one)
with one issuer, one credential and one revocation list holding three quarters of its 131,072
indexes allocated (the default capacity), 1% of the list's entries revoked. Then measures, each as
the median of ``--rounds`` runs:

- ``encode``: read the set indexes from the database, build the bitstring, GZIP + base64url it;
- ``encode + sign``: the above plus the eddsa-rdfc-2022 signature of the list credential;
- ``re-signer round``: one round of the background re-signer with the filled list due (read,
  encode, sign, store);
- ``GET (overdue)``: ``GET /status/{id}`` through the app (TestClient) when the re-signer let the
  list run out, so the request encodes, signs, stores and serves it (a read never re-signs a
  list otherwise);
- ``GET (stored)``: the same request within the interval (the stored text, byte for byte);
- ``GET (304)``: with ``If-None-Match``.
Target: well under 50 ms for the signing GET.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from service.api.app import create_app
from service.cli.bootstrap import ensure_admin
from service.core.clock import FixedClock
from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.keystore import new_kek_text
from service.core.migrations import upgrade
from service.status import publish
from service.status.models import StatusEntry, StatusList
from service.vc.status_list import MIN_LIST_LENGTH, BitstringStatusList

with warnings.catch_warnings():
    # Starlette warns on import that its TestClient over httpx is deprecated (it wants httpx2);
    # the benchmark measures the app, not the test client.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ADMIN = ("bench@skillcred.example", "a-long-bench-password")
REVOKED_SHARE = 0.01


def median_ms(operation: Callable[[], object], rounds: int) -> float:
    operation()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        operation()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def set_up(settings: Settings) -> tuple[TestClient, str]:
    """The app with one issued credential whose revocation list is filled as described above."""
    upgrade(settings.database_url)
    app = create_app(settings)
    ensure_admin(app.state.engine, settings)
    client = TestClient(app)
    token = client.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    issuer = client.post(
        "/v1/issuers", json={"name": "Bench Academy", "url": "https://bench.example"}, headers=auth
    ).json()
    achievement = client.post(
        f"/v1/issuers/{issuer['id']}/achievements",
        headers=auth,
        json={"name": "Benchmarking", "description": "Measures things.", "criteria": {"narrative": "A benchmark."}},
    ).json()
    credential = client.post(
        "/v1/credentials",
        headers=auth,
        json={"achievement_id": achievement["id"], "recipient": {"email": "bench@example.org"}},
    ).json()
    list_url = credential["credential"]["credentialStatus"][0]["statusListCredential"]
    list_id = list_url.rsplit("/", 1)[1]
    with unit_of_work(app.state.engine) as session:
        status_list = session.get(StatusList, list_id)
        assert status_list is not None and status_list.size == MIN_LIST_LENGTH
        taken = {
            row.status_index
            for row in session.exec(StatusEntry.__table__.select().where(StatusEntry.list_id == list_id))
        }  # type: ignore[call-overload]
        free = [i for i in range(status_list.size) if i not in taken]
        chosen = random.Random(42).sample(free, status_list.capacity - len(taken))
        revoked = set(chosen[: int(status_list.size * REVOKED_SHARE)])
        session.connection().execute(
            insert(StatusEntry.__table__),
            [
                {"list_id": list_id, "status_index": i, "credential_id": credential["id"], "value": int(i in revoked)}
                for i in chosen
            ],
        )
        status_list.allocated = status_list.capacity
        status_list.version += 1
        session.add(status_list)
    return client, list_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--database-url", help="a migratable database (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        settings = Settings(
            env="test",
            database_url=url,
            kek=new_kek_text(),
            public_url="https://bench.example",
            bootstrap_admin_email=ADMIN[0],
            bootstrap_admin_password=ADMIN[1],
            status_list_background_resign=False,
        )
        client, list_id = set_up(settings)
        app = client.app
        engine, keystore = app.state.engine, app.state.keystore  # type: ignore[attr-defined]
        every = timedelta(seconds=settings.status_list_resign_interval_seconds)
        fixed = FixedClock(datetime.now(UTC))
        app.state.clock = fixed  # type: ignore[attr-defined]

        class _Now:  # clock[0] reads and moves the app's clock
            def __getitem__(self, _: int) -> datetime:
                return fixed.now()

            def __setitem__(self, _: int, moment: datetime) -> None:
                fixed.advance(moment - fixed.now())

        clock = _Now()

        def encode() -> str:
            with Session(engine) as session:
                bits = BitstringStatusList(MIN_LIST_LENGTH)
                for index in publish.set_indexes(session, list_id):
                    bits.set(index, 1)
                return bits.encode()

        def encode_and_sign() -> object:
            with Session(engine) as session:
                status_list = session.get(StatusList, list_id)
                assert status_list is not None
                return publish.sign_list_credential(session, keystore, settings, status_list, clock[0])

        def resigner_round() -> None:
            clock[0] += every  # the stored signature is due
            done = publish.resign_due_lists(engine, keystore, settings, now=clock[0])
            assert done[0] >= 1 and done[1] == 0, done

        def get_overdue() -> None:
            clock[0] += 3 * every  # the re-signer never ran: this request signs
            response = client.get(f"/status/{list_id}")
            assert response.status_code == 200

        def get_stored() -> None:
            assert client.get(f"/status/{list_id}").status_code == 200

        response = client.get(f"/status/{list_id}")
        document = response.json()
        set_bits = sum(
            b.bit_count() for b in BitstringStatusList.decode(document["credentialSubject"]["encodedList"]).to_bytes()
        )
        etag = response.headers["etag"]

        def get_304() -> None:
            assert client.get(f"/status/{list_id}", headers={"If-None-Match": etag}).status_code == 304

        figures = [
            ("encode", median_ms(encode, args.rounds)),
            ("encode + sign", median_ms(encode_and_sign, args.rounds)),
            ("re-signer round", median_ms(resigner_round, args.rounds)),
            ("GET (overdue)", median_ms(get_overdue, args.rounds)),
        ]
        etag = client.get(f"/status/{list_id}").headers["etag"]
        figures += [
            ("GET (stored)", median_ms(get_stored, args.rounds)),
            ("GET (304)", median_ms(get_304, args.rounds)),
        ]
        client.close()
        engine.dispose()

    backend = url.split(":", 1)[0]
    print(
        f"# bench/status_list.py --rounds {args.rounds}  ({backend}; {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()})"
    )
    print(f"# list: {MIN_LIST_LENGTH:,} entries, {set_bits:,} set (1%), served {len(response.content):,} bytes")
    print("| operation | median ms |")
    print("|---|---:|")
    for name, value in figures:
        print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
