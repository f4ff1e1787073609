"""Handing out status list indexes: at random, never twice, never reused. No FastAPI, no commit.

Every credential gets one index in its issuer's current revocation list and one in its current
suspension list, in the transaction that issues it. Uniqueness is the database's job: an entry's
primary key is (list, index), and an index is claimed with ``INSERT ... ON CONFLICT DO NOTHING``
(PostgreSQL and SQLite alike), so two workers drawing the same index cannot both get it; the
loser sees "nothing inserted" and draws again. That needs no SAVEPOINT: the statement never
fails, so the PostgreSQL transaction is never aborted, and pysqlite's SAVEPOINT handling (which
commits on the outermost RELEASE unless the engine emits BEGIN itself) never comes into play.

When a list has handed out ``capacity`` indexes the next one opens, numbered by ``sequence``;
the unique (issuer, purpose, sequence) constraint lets exactly one of several racing workers
open it and the others use theirs. The ``allocated`` counter is bumped by
:func:`record_allocation` at the very end of the issuing transaction, so the list row is locked
only for the moment before the commit, not while the credential is being signed.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, update
from sqlmodel import Session, col, select

from service.core.config import Settings
from service.core.errors import ServiceError
from service.core.models import new_id, utcnow
from service.status.models import StatusEntry, StatusList, StatusPurpose
from service.vc.status_list import BitstringStatusList, build_status_entry

MAX_DRAWS = 64
"""Random draws per list before it is treated as full (at 3/4 full, 64 misses: about 1e-8)."""
MAX_LISTS_TRIED = 3
_ENTRY_TABLE = StatusEntry.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass, not in its hints


class StatusListsExhausted(ServiceError):
    """No list would hand out an index (should not happen; the next request opens a new list)."""

    status_code, code = 503, "status_lists_exhausted"


@dataclass(frozen=True)
class Allocation:
    """A credential's status entries (``credentialStatus``), the lists they are in and their
    indexes, one per :class:`StatusPurpose` in that order."""

    entries: list[dict[str, Any]]
    list_ids: tuple[str, ...]
    indexes: tuple[int, ...] = ()


def status_list_url(settings: Settings, list_id: str) -> str:
    """The public URL of a list credential (``statusListCredential``), which is also its ``id``."""
    return f"{settings.public_url}/status/{list_id}"


def allocate(session: Session, settings: Settings, issuer_id: str, credential_id: str) -> Allocation:
    """Claim a random revocation index and a random suspension index for ``credential_id`` now.

    Call :func:`record_allocation` at the end of the same transaction. Issuing uses the split form
    instead (:func:`plan`, sign, then :func:`claim`), so it signs before it writes.
    """
    entries, list_ids, indexes = [], [], []
    for purpose in StatusPurpose:
        status_list, index = _claim_in_current_list(session, settings, issuer_id, purpose, credential_id)
        entries.append(_entry(settings, status_list.id, index, purpose))
        list_ids.append(status_list.id)
        indexes.append(index)
    return Allocation(entries=entries, list_ids=tuple(list_ids), indexes=tuple(indexes))


def plan(session: Session, settings: Settings, issuer_id: str) -> Allocation:
    """Pick, by reading only, a free random index in each of the issuer's current lists.

    Nothing is claimed: :func:`claim` does that once the credential is signed, so on SQLite the
    write lock is not held while it signs. The one write here is opening a list when the issuer
    has none with room (its first credential, then once per ``capacity`` credentials).
    """
    return replan(session, settings, issuer_id, None, tuple(StatusPurpose))


def replan(
    session: Session,
    settings: Settings,
    issuer_id: str,
    allocation: Allocation | None,
    purposes: Sequence[StatusPurpose],
) -> Allocation:
    """``allocation`` with a new free index picked for each of ``purposes`` (all when None)."""
    entries, list_ids, indexes = [], [], []
    for position, purpose in enumerate(StatusPurpose):
        if allocation is not None and purpose not in purposes:
            entry, list_id, index = (
                allocation.entries[position],
                allocation.list_ids[position],
                allocation.indexes[position],
            )
        else:
            status_list, index = _free_index_in_current_list(session, settings, issuer_id, purpose)
            entry, list_id = _entry(settings, status_list.id, index, purpose), status_list.id
        entries.append(entry)
        list_ids.append(list_id)
        indexes.append(index)
    return Allocation(entries=entries, list_ids=tuple(list_ids), indexes=tuple(indexes))


def claim(
    session: Session,
    allocation: Allocation,
    credential_id: str,
    purposes: Sequence[StatusPurpose] = tuple(StatusPurpose),
    *,
    endorsement_id: str | None = None,
) -> tuple[StatusPurpose, ...]:
    """Claim the indexes :func:`plan` picked for ``purposes``; returns those whose index another
    issuance claimed in the meantime (nothing is written for them: :func:`replan` them, sign
    again, and claim only them). With ``endorsement_id`` the entries are that endorsement's (of
    credential ``credential_id``), not the credential's."""
    taken = []
    for purpose, list_id, index in zip(StatusPurpose, allocation.list_ids, allocation.indexes, strict=True):
        if purpose not in purposes:
            continue
        values = {
            "list_id": list_id,
            "status_index": index,
            "credential_id": credential_id,
            "value": 0,
            "endorsement_id": endorsement_id,
        }
        if not _insert_unless_taken(session, _ENTRY_TABLE, ("list_id", "status_index"), values):
            taken.append(purpose)
    return tuple(taken)


def _entry(settings: Settings, list_id: str, index: int, purpose: StatusPurpose) -> dict[str, Any]:
    return build_status_entry(
        list_credential_url=status_list_url(settings, list_id), index=index, purpose=purpose.value
    )


def _free_index_in_current_list(
    session: Session, settings: Settings, issuer_id: str, purpose: StatusPurpose
) -> tuple[StatusList, int]:
    for _ in range(MAX_LISTS_TRIED):
        status_list = _current_list(session, settings, issuer_id, purpose)
        for _ in range(MAX_DRAWS):
            index = secrets.randbelow(status_list.size)
            if session.get(StatusEntry, (status_list.id, index)) is None:
                return status_list, index
        # fuller than its counter says (many concurrent issuers): close it and move on
        _close(session, status_list)
    raise StatusListsExhausted("No status list index could be allocated; try again", headers={"Retry-After": "1"})


def record_allocation(session: Session, allocation: Allocation) -> None:
    """Count the allocation in its lists (last thing before the commit: it locks the list rows)."""
    session.connection().execute(
        update(StatusList).where(col(StatusList.id).in_(allocation.list_ids)).values(allocated=StatusList.allocated + 1)
    )


def _claim_in_current_list(
    session: Session, settings: Settings, issuer_id: str, purpose: StatusPurpose, credential_id: str
) -> tuple[StatusList, int]:
    for _ in range(MAX_LISTS_TRIED):
        status_list = _current_list(session, settings, issuer_id, purpose)
        for _ in range(MAX_DRAWS):
            index = secrets.randbelow(status_list.size)
            if _insert_unless_taken(
                session,
                _ENTRY_TABLE,
                ("list_id", "status_index"),
                {"list_id": status_list.id, "status_index": index, "credential_id": credential_id, "value": 0},
            ):
                return status_list, index
        # fuller than its counter says (many concurrent issuers): close it and move on
        _close(session, status_list)
    raise StatusListsExhausted("No status list index could be allocated; try again", headers={"Retry-After": "1"})


def _close(session: Session, status_list: StatusList) -> None:
    """Mark a list full, so the next allocation opens the next one."""
    session.connection().execute(
        update(StatusList).where(col(StatusList.id) == status_list.id).values(allocated=StatusList.capacity)
    )


def _current_list(session: Session, settings: Settings, issuer_id: str, purpose: StatusPurpose) -> StatusList:
    """The issuer's newest list for ``purpose`` if it has room, else a newly opened one."""
    for _ in range(MAX_LISTS_TRIED):
        latest = session.exec(
            select(StatusList)
            .where(StatusList.issuer_id == issuer_id, StatusList.purpose == purpose.value)
            .order_by(col(StatusList.sequence).desc())
            .limit(1)
            .execution_options(populate_existing=True)
        ).first()
        if latest is not None and latest.allocated < latest.capacity:
            return latest
        list_id = new_id()
        size = BitstringStatusList(settings.status_list_size).length  # whole bytes
        if _open_list(
            session,
            {
                "id": list_id,
                "issuer_id": issuer_id,
                "purpose": purpose.value,
                "sequence": 1 if latest is None else latest.sequence + 1,
                "size": size,
                "capacity": min(settings.effective_status_list_capacity, size * 9 // 10),
                "allocated": 0,
                "version": 0,
                "created_at": utcnow(),
            },
        ):
            opened = session.get(StatusList, list_id)
            assert opened is not None
            return opened
        # another worker opened that list first (and has committed): use it
    raise StatusListsExhausted("No status list could be opened; try again", headers={"Retry-After": "1"})


def _open_list(session: Session, values: Mapping[str, Any]) -> bool:
    """Insert a new list row unless another worker opened that list first; True when inserted.

    On SQLite, while this transaction has not written yet, the row is written in a short
    transaction of its own and committed at once: otherwise opening a list would be issuing's
    first write and take SQLite's single write lock for the whole signing. A list left behind by
    an issuance that fails later is simply empty, the next one to fill. Once the transaction
    holds the lock (it wrote before), or on PostgreSQL, the row goes into the caller's transaction.
    """
    table = StatusList.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass, not in its hints
    unique = ("issuer_id", "purpose", "sequence")
    connection = session.connection()
    driver_connection = connection.connection.driver_connection
    if connection.dialect.name == "sqlite" and not getattr(driver_connection, "in_transaction", True):
        with connection.engine.begin() as own:
            return _insert_on(own, table, unique, values)
    return _insert_unless_taken(session, table, unique, values)


def _insert_unless_taken(session: Session, table: Any, unique: Sequence[str], values: Mapping[str, Any]) -> bool:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING <key>``; True when the row was inserted.

    On PostgreSQL a conflicting row that another transaction has not yet committed makes this
    wait for that transaction, then insert (it rolled back) or do nothing (it committed).
    """
    return _insert_on(session.connection(), table, unique, values)


def _insert_on(connection: Connection, table: Any, unique: Sequence[str], values: Mapping[str, Any]) -> bool:
    assert isinstance(table, Table)
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - the service supports these two
        raise RuntimeError(f"SkillCred supports SQLite and PostgreSQL databases, not {dialect}")
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(*table.primary_key.columns)
    )
    return connection.execute(statement).first() is not None
