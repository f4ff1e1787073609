"""`skillcred backup` and `skillcred restore` (issue 9, "Backups"): a backup restored into a fresh
database, on either backend from either backend, verifies every credential exactly as the original
did, keeps each signed credential byte for byte and brings the evidence blobs back; a restore into a
non-empty database, or from a tampered archive, is refused and changes nothing."""

from __future__ import annotations

import io
import json
import os
import tarfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from service.cli.main import main
from service.core.config import Settings, get_settings
from service.core.db import make_engine
from service.evidence.blobstore import LocalBlobStore, sha256_hex
from service.verification.service import Verifier
from tests.conftest import POSTGRES_URL, PUBLIC_URL, TEST_KEK

TARGETS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
EVIDENCE = b"A tested project: 42 tests, all green.\n"


@pytest.fixture
def populated(app, api, client) -> dict:
    """Three credentials (one revoked) and an evidence item whose bytes are in the blob store."""
    issuer = api.create_issuer("Backup Academy")
    achievement = api.create_achievement(issuer["id"], name="Restoring backups")
    credentials = [api.issue(achievement["id"]) for _ in range(3)]
    revoked = client.post(
        f"/v1/credentials/{credentials[1]['id']}/revoke", json={"reason": "issued in error"}, headers=api.admin
    )
    assert revoked.status_code == 200, revoked.text
    earner = api.create_account("earner")
    bundle = client.post("/v1/evidence/bundles", json={"achievement_id": achievement["id"]}, headers=earner)
    assert bundle.status_code == 201, bundle.text
    uploaded = client.post(
        f"/v1/evidence/bundles/{bundle.json()['id']}/files",
        headers=earner,
        files={"file": ("work.txt", EVIDENCE, "text/plain")},
    )
    assert uploaded.status_code == 201, uploaded.text
    return {"revoked": credentials[1]["id"], "ids": [c["id"] for c in credentials]}


@pytest.fixture(params=TARGETS)
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, never migrated database: a new SQLite file or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'skillcred.db'}"
        return
    assert POSTGRES_URL
    schema = f"skillcred_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def use(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point the command line (``get_settings()``) at ``settings``' database and blob store."""
    for name, value in {
        "ENV": "test",
        "DATABASE_URL": settings.database_url,
        "KEK": TEST_KEK,
        "PUBLIC_URL": PUBLIC_URL,
        "BLOB_DIR": str(settings.blob_dir),
        "DEV_KEK_FILE": str(settings.dev_kek_file),
    }.items():
        monkeypatch.setenv(f"SKILLCRED_{name}", value)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    yield
    get_settings.cache_clear()  # no other test sees the settings a test pointed the CLI at


def credentials(url: str) -> dict[str, tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT id, jsonld, state FROM credential"))
            return {row.id: (row.jsonld, row.state) for row in rows}
    finally:
        engine.dispose()


def verify_all(settings: Settings, stored: dict[str, tuple[str, str]], now: datetime) -> dict[str, dict]:
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            return {
                cid: Verifier().verify(session, settings, jsonld, now=now).to_dict()
                for cid, (jsonld, _) in stored.items()
            }
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            # the job queue is not data: a restore queues unfinished work again instead
            names = [
                n
                for n in sa.inspect(connection).get_table_names()
                if n != "alembic_version" and not n.startswith("procrastinate_")
            ]
            return {n: connection.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}
    finally:
        engine.dispose()


def test_a_restored_backup_verifies_every_credential_exactly_as_the_original(
    populated, settings, target_url, tmp_path, monkeypatch, capsys
):
    archive = tmp_path / "skillcred-backup.tar.gz"
    use(monkeypatch, settings)
    assert main(["backup", str(archive)]) == 0
    assert archive.stat().st_mode & 0o077 == 0  # password hashes and sealed keys: owner only
    with tarfile.open(archive) as opened:
        manifest = json.loads(opened.extractfile("manifest.json").read())  # type: ignore[union-attr]
        assert not any("kek" in name.lower() or "keystore" in name.lower() for name in opened.getnames())
    assert manifest["kek_included"] is False and manifest["blobs"] == [sha256_hex(EVIDENCE)]

    restored = settings.model_copy(update={"database_url": target_url, "blob_dir": tmp_path / "restored-blobs"})
    use(monkeypatch, restored)
    capsys.readouterr()
    assert main(["restore", str(archive)]) == 0
    out = capsys.readouterr().out
    assert "credential: 3" in out and "1 blob(s)" in out

    original, copy = credentials(settings.database_url), credentials(target_url)
    assert set(copy) == set(populated["ids"])
    for cid, (jsonld, state) in original.items():
        assert copy[cid][0] == jsonld  # the signed text, byte for byte
        assert copy[cid][1] == state
    now = datetime.now(UTC)
    before, after = verify_all(settings, original, now), verify_all(restored, copy, now)
    assert after == before
    for cid, report in after.items():
        if cid == populated["revoked"]:
            assert report["verified"] is False
            failed = [c for c in report["checks"] if c["outcome"] == "failed"]
            assert [c["id"].split(".")[0] for c in failed] == ["status"] and "revoked" in json.dumps(failed).lower()
        else:
            assert report["verified"] is True, report
    assert row_counts(target_url) == row_counts(settings.database_url)
    assert LocalBlobStore(tmp_path / "restored-blobs").get(sha256_hex(EVIDENCE)) == EVIDENCE


def test_a_restore_into_a_non_empty_database_is_refused_and_changes_nothing(
    populated, settings, tmp_path, monkeypatch, capsys
):
    archive = tmp_path / "backup.tar.gz"
    use(monkeypatch, settings)
    assert main(["backup", str(archive)]) == 0
    counts = row_counts(settings.database_url)
    blobs = sorted(p.name for p in Path(settings.blob_dir).rglob("*") if p.is_file())
    capsys.readouterr()

    assert main(["restore", str(archive)]) == 2

    assert "not empty" in capsys.readouterr().err
    assert row_counts(settings.database_url) == counts
    assert sorted(p.name for p in Path(settings.blob_dir).rglob("*") if p.is_file()) == blobs


def test_a_restore_from_an_archive_with_a_tampered_blob_is_refused_and_changes_nothing(
    populated, settings, tmp_path, monkeypatch, capsys
):
    archive, tampered = tmp_path / "backup.tar.gz", tmp_path / "tampered.tar.gz"
    use(monkeypatch, settings)
    assert main(["backup", str(archive)]) == 0
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("blobs/"):
                data = data.replace(b"green", b"red!!")
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    target = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'fresh.db'}", "blob_dir": tmp_path / "fresh-blobs"}
    )
    use(monkeypatch, target)
    capsys.readouterr()

    assert main(["restore", str(tampered)]) == 2

    assert "does not match its name" in capsys.readouterr().err
    assert row_counts(target.database_url) == {}
    assert not (tmp_path / "fresh-blobs").exists()
