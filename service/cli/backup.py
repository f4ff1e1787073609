"""``skillcred backup`` and ``skillcred restore``: one consistent archive of the database and the
evidence blobs it refers to, and its restore into an empty database (SQLite or PostgreSQL, either way).

The archive is a gzip-compressed tar file (written with mode 0600: it holds password hashes and
sealed keys) with:

- ``manifest.json``: format, the Alembic revision the dump was taken at, the source dialect, each
  table's columns (with how their values are encoded) and row count, and the blob digests;
- ``tables/<table>.jsonl``: one JSON array per row, in column order. Timestamps are ISO 8601 with
  microseconds and offset, bytes base64, JSON columns their JSON text (``null`` for SQL NULL),
  enumerations their name; text (the signed credentials) is kept exactly, character for character;
- ``blobs/<sha256>``: every evidence blob an evidence item row refers to.

Every table is read inside one read-only transaction (PostgreSQL: REPEATABLE READ READ ONLY;
SQLite: one ``BEGIN`` and every SELECT on that connection), so the dump is one point in time.

The KEK is never in the archive, nor the keystore file: the issuers' private keys are in the dump
only as the database holds them, sealed with the KEK. A restored deployment needs the same
``SKILLCRED_KEK`` to sign again (verifying needs no KEK until a status list must be re-signed).
"""

from __future__ import annotations

import base64
import enum
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from alembic import command
from service.core.config import Settings
from service.core.db import DatabaseLimits, make_engine, metadata
from service.core.migrations import alembic_config
from service.evidence.blobstore import check_digest, get_blob_store, sha256_hex
from service.tables import import_all_models

FORMAT = "skillcred-backup/1"
_BATCH = 500
_BLOB_TABLE, _BLOB_COLUMN = "evidenceitem", "sha256"


class BackupError(Exception):
    """A backup or restore refused (nothing was changed); the message says why."""


@dataclass
class BackupReport:
    """What a backup or restore moved: rows per table, blob count, the Alembic revision."""

    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    missing_blobs: list[str] = field(default_factory=list)
    jobs_requeued: int = 0
    """Restore on PostgreSQL: jobs queued again for the restored rows' unfinished work."""

    def summary(self) -> str:
        """One line per table with rows, then totals."""
        lines = [f"{name}: {count}" for name, count in self.rows.items()]
        lines.append(f"{sum(self.rows.values())} row(s) in {len(self.rows)} table(s), {self.blobs} blob(s)")
        lines.append(f"alembic revision {self.revision}")
        if self.jobs_requeued:
            lines.append(f"{self.jobs_requeued} job(s) queued again for unfinished work")
        return "\n".join(lines)


# --- values ----------------------------------------------------------------------------------------


def _kind(column: sa.Column[Any]) -> str:
    column_type: Any = column.type
    if isinstance(column_type, sa.TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, sa.DateTime):
        return "datetime"
    if isinstance(column_type, sa.LargeBinary):
        return "bytes"
    if isinstance(column_type, sa.JSON):
        return "json"
    if isinstance(column_type, sa.Enum):
        return "enum"
    return "plain"


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return cast(datetime, value).isoformat()
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "enum":
        return value.name if isinstance(value, enum.Enum) else str(value)
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "json":
        # JSON null stays JSON null; SQL NULL (None above) stays SQL NULL
        parsed = json.loads(value)
        return sa.JSON.NULL if parsed is None else parsed
    return value


def _tables() -> list[sa.Table]:
    import_all_models()
    return list(metadata.sorted_tables)


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


# --- backup ----------------------------------------------------------------------------------------


def _begin_snapshot(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    else:
        # pysqlite opens no transaction for a SELECT: BEGIN makes every read below one snapshot
        connection.exec_driver_sql("BEGIN")


def _dump_table(connection: Connection, table: sa.Table, out: io.TextIOBase) -> int:
    columns = list(table.columns)
    kinds = [_kind(c) for c in columns]
    # a JSON column's value read back cannot tell SQL NULL from JSON null: ask the database
    null_flags = [c.is_(None).label(f"_null_{i}") for i, c in enumerate(columns) if kinds[i] == "json"]
    query = sa.select(*columns, *null_flags).order_by(*table.primary_key.columns)
    count = 0
    for row in connection.execute(query):
        flags = iter(row[len(columns) :])
        values = []
        for kind, value in zip(kinds, row[: len(columns)], strict=True):
            if kind == "json":
                is_sql_null = next(flags)
                values.append(None if is_sql_null else json.dumps(value, ensure_ascii=False))
            else:
                values.append(_encode(kind, value))
        out.write(json.dumps(values, ensure_ascii=False) + "\n")
        count += 1
    return count


def backup(settings: Settings, path: Path | str) -> BackupReport:
    """Write the archive of ``settings``' database and blobs to ``path`` (atomically, mode 0600).

    Refused (:class:`BackupError`) when the database is not at this code's Alembic head.
    """
    tables = _tables()
    head = _script().get_current_head()
    target = Path(path)
    engine = make_engine(settings.database_url, DatabaseLimits.for_maintenance())
    blobs = get_blob_store(settings)
    with tempfile.TemporaryDirectory(dir=target.parent if target.parent.exists() else None) as work:
        spool = Path(work)
        (spool / "tables").mkdir()
        manifest: dict[str, Any] = {"format": FORMAT, "dialect": engine.dialect.name, "tables": []}
        report = BackupReport(revision="")
        try:
            with engine.connect() as connection:
                _begin_snapshot(connection)
                revision = _current_revision(connection)
                if revision != head:
                    raise BackupError(
                        f"the database is at revision {revision}, this code's is {head}; run `skillcred migrate` first"
                    )
                for table in tables:
                    with open(spool / "tables" / f"{table.name}.jsonl", "w", encoding="utf-8") as out:
                        count = _dump_table(connection, table, out)
                    manifest["tables"].append(
                        {"name": table.name, "columns": [[c.name, _kind(c)] for c in table.columns], "rows": count}
                    )
                    report.rows[table.name] = count
                blob_table = metadata.tables[_BLOB_TABLE]
                digests = sorted({d for d in connection.scalars(sa.select(blob_table.c[_BLOB_COLUMN]).distinct()) if d})
                connection.rollback()  # read only: nothing to keep
        finally:
            engine.dispose()
        report.revision = manifest["revision"] = str(revision)
        present = []
        for digest in digests:
            try:
                data = blobs.get(digest)
            except (LookupError, RuntimeError):  # BlobNotFound, BlobCorrupted
                report.missing_blobs.append(digest)
                continue
            (spool / digest).write_bytes(data)
            present.append(digest)
        report.blobs = len(present)
        manifest["blobs"] = present
        manifest["missing_blobs"] = report.missing_blobs
        manifest["kek_included"] = False
        partial = target.with_name(target.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
                for entry in manifest["tables"]:
                    archive.add(spool / "tables" / f"{entry['name']}.jsonl", f"tables/{entry['name']}.jsonl")
                for digest in present:
                    archive.add(spool / digest, f"blobs/{digest}")
                raw.flush()
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return report


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


# --- restore ---------------------------------------------------------------------------------------


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile("manifest.json")
        manifest = json.loads(member.read()) if member else None
    except (KeyError, json.JSONDecodeError) as err:
        raise BackupError(f"not a SkillCred backup (manifest.json: {err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"not a {FORMAT} archive")
    if not isinstance(manifest.get("revision"), str) or not isinstance(manifest.get("tables"), list):
        raise BackupError("the archive's manifest has no revision or tables")
    return manifest


def _non_empty_tables(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        existing = set(sa.inspect(connection).get_table_names())
        return [
            t.name
            for t in _tables()
            if t.name in existing and connection.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
        ]


def _check_revision(engine: Engine, revision: str) -> None:
    script = _script()
    try:
        known = script.get_revision(revision)
    except Exception:  # alembic raises its own CommandError/ResolutionError types
        known = None
    if known is None:
        raise BackupError(
            f"the backup was taken at revision {revision}, which this code does not know "
            f"(its head is {script.get_current_head()}); restore with the SkillCred version that made it or newer"
        )
    with engine.connect() as connection:
        current = _current_revision(connection)
    ancestors = {r.revision for r in script.walk_revisions(base="base", head=revision)}
    if current is not None and current not in ancestors:
        raise BackupError(
            f"the target database is at revision {current}, newer than the backup's {revision}; use an empty database"
        )


def _parent_first(rows: list[dict[str, Any]], key: str, parents: list[str]) -> list[dict[str, Any]]:
    """Rows of a self-referencing table, each after the row it refers to."""
    placed: set[Any] = set()
    pending, ordered = rows, []
    while pending:
        ready = [r for r in pending if all(r[p] is None or r[p] in placed for p in parents)]
        if not ready:  # a reference outside the dump: let the database say so
            ready = pending
        ready_ids = {id(r) for r in ready}
        ordered += ready
        placed.update(r[key] for r in ready)
        pending = [r for r in pending if id(r) not in ready_ids]
    return ordered


def _rows(archive: tarfile.TarFile, name: str, columns: list[list[str]]) -> Iterator[dict[str, Any]]:
    member = archive.extractfile(f"tables/{name}.jsonl")
    if member is None:
        raise BackupError(f"the archive has no rows for table {name}")
    for line in io.TextIOWrapper(member, encoding="utf-8"):
        values = json.loads(line)
        yield {col: _decode(kind, value) for (col, kind), value in zip(columns, values, strict=True)}


def _batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_table(connection: Connection, archive: tarfile.TarFile, entry: dict[str, Any]) -> int:
    name, columns = entry["name"], entry["columns"]
    model = metadata.tables.get(name)
    reflected = sa.Table(name, sa.MetaData(), autoload_with=connection)
    typed = []
    for col, kind in columns:
        column_type: Any = model.c[col].type if model is not None and col in model.c else reflected.c[col].type
        if kind == "json":
            column_type = sa.JSON(none_as_null=True)
        typed.append(sa.column(col, column_type))
    statement = sa.table(name, *typed).insert()
    rows: Iterable[dict[str, Any]] = _rows(archive, name, columns)
    self_refs = [fk.parent.name for fk in reflected.foreign_keys if fk.column.table.name == name]
    if self_refs:
        key = next(iter(reflected.primary_key.columns)).name
        rows = _parent_first(list(rows), key, self_refs)
    count = 0
    for batch in _batches(rows):
        connection.execute(statement, batch)
        count += len(batch)
    if count != entry["rows"]:
        raise BackupError(f"table {name}: the archive holds {count} rows, its manifest says {entry['rows']}")
    return count


def restore(settings: Settings, path: Path | str) -> BackupReport:
    """Restore the archive at ``path`` into ``settings``' database (which must be empty) and blob store.

    Checks first, changing nothing: the archive is a backup, every blob matches its name, the
    database is empty, this code knows the backup's revision. Then migrates the database to that
    revision, puts the blobs, and inserts every row in foreign-key order in one transaction.
    """
    import_all_models()
    try:
        archive = tarfile.open(path, mode="r:gz")
    except (OSError, tarfile.TarError) as err:
        raise BackupError(f"cannot read {path}: {err}") from None
    with archive:
        manifest = _read_manifest(archive)
        digests = [check_digest(d) for d in manifest.get("blobs", [])]
        for digest in digests:  # verify every blob before anything changes
            if sha256_hex(_blob_bytes(archive, digest)) != digest:
                raise BackupError(f"blob {digest} in the archive does not match its name; nothing restored")
        engine = make_engine(settings.database_url, DatabaseLimits.for_maintenance())
        try:
            occupied = _non_empty_tables(engine)
            if occupied:
                raise BackupError(
                    "the target database is not empty (rows in "
                    + ", ".join(occupied[:5])
                    + ("…" if len(occupied) > 5 else "")
                    + "); restore only into an empty database"
                )
            revision = manifest["revision"]
            _check_revision(engine, revision)
            command.upgrade(alembic_config(settings.database_url), revision)
            blobs = get_blob_store(settings)
            for digest in digests:
                blobs.put(_blob_bytes(archive, digest))
            report = BackupReport(revision=revision, blobs=len(digests))
            with engine.begin() as connection:
                if connection.dialect.name == "sqlite":
                    connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                for entry in manifest["tables"]:
                    report.rows[entry["name"]] = _insert_table(connection, archive, entry)
            if engine.dialect.name == "postgresql" and revision == _script().get_current_head():
                report.jobs_requeued = _requeue_unfinished_work(engine, settings)
        finally:
            engine.dispose()
    return report


def _requeue_unfinished_work(engine: Engine, settings: Settings) -> int:
    """The job queue is not in the archive (its jobs are triggers, not data): on PostgreSQL the
    work the restored rows still need (a pending webhook delivery, an unfinished bulk chunk or
    assessment) is queued again, as an in-process worker does on SQLite when it starts."""
    from service.core.clock import SystemClock
    from service.core.db import unit_of_work
    from service.core.keystore import Keystore, load_kek
    from service.jobs.context import JobServices
    from service.jobs.defer import defer
    from service.worker import RECOVERIES

    services = JobServices(engine, Keystore(load_kek(settings)), settings, None, SystemClock())
    requests = [request for recovery in RECOVERIES for request in recovery(services)]
    with unit_of_work(engine) as session:
        for request in requests:
            defer(session, request)
    return len(requests)


def _blob_bytes(archive: tarfile.TarFile, digest: str) -> bytes:
    try:
        member = archive.extractfile(f"blobs/{digest}")
    except KeyError:
        member = None
    if member is None:
        raise BackupError(f"the archive lists blob {digest} but does not hold it")
    return member.read()
