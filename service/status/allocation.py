"""Handing out status list indexes: at random, never twice, never reused. No FastAPI, no commit.

Every credential gets one index in its issuer's current revocation list and one in its current
suspension list, in the transaction that issues it. Uniqueness is the database's job: an entry's
primary key is (list, index), and an index is claimed with ``INSERT ... ON CONFLICT DO NOTHING``
(PostgreSQL and SQLite alike), so two workers drawing the same index cannot both get it; the
loser sees "nothing inserted" and draws again. That needs no SAVEPOINT: the statement never
fails, so the PostgreSQL transaction is never aborted.

An issuing transaction never writes (so never locks) a status list row. The list's
``allocated`` counter, which decides when the next list opens, is not bumped per credential: a
process reserves a block of :data:`RESERVATION_BLOCK` indexes of a list in a short transaction of
its own (:class:`Reservations`) and hands them out from memory, like a database sequence with a
cache. So concurrent issuers never queue on one row, and no transaction holds a list row while
it signs, waits for another connection or for its client. A block's unused rest is lost when
the process stops or a transaction rolls back: the list then opens its successor a little
before ``capacity`` indexes are in use, which costs nothing (indexes are never reused either way).

When a list's reservations reach ``capacity`` the next one opens, numbered by ``sequence``; the
unique (issuer, purpose, sequence) constraint lets exactly one of several racing workers open it
and the others use theirs. Opening is also a short side transaction, committed at once.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, text, update
from sqlmodel import Session, col, select

from service.core.config import Settings
from service.core.errors import ServiceError
from service.core.models import new_id, utcnow
from service.status.models import StatusEntry, StatusList, StatusPurpose
from service.vc.status_list import BitstringStatusList, build_status_entry

MAX_DRAWS = 64
"""Random draws per list before it is treated as full (at 3/4 full, 64 misses: about 1e-8)."""
MAX_LISTS_TRIED = 3
RESERVATION_BLOCK = 32
"""Indexes of a list a process reserves at once (one short side transaction per block)."""
_READ_BATCH = 5000
"""Indexes per read of which are taken (SQLite allows 32,766 parameters per statement)."""
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


class Reservations:
    """This process's reserved, not yet handed out, index counts per list (thread-safe)."""

    def __init__(self) -> None:
        self._left: dict[str, int] = {}
        self._current: dict[tuple[str, StatusPurpose], tuple[str, int]] = {}
        self._lock = threading.Lock()

    def take_current(self, issuer_id: str, purpose: StatusPurpose) -> tuple[str, int] | None:
        """Use one reserved index of the list this process last drew from for the issuer's
        ``purpose``: its (id, size), without reading the list row (None: reserve or look up)."""
        with self._lock:
            current = self._current.get((issuer_id, purpose))
            if current is None or self._left.get(current[0], 0) <= 0:
                return None
            self._left[current[0]] -= 1
            return current

    def remember(self, issuer_id: str, purpose: StatusPurpose, list_id: str, size: int) -> None:
        """The list this process draws from for the issuer's ``purpose`` (see :meth:`take_current`)."""
        with self._lock:
            self._current[(issuer_id, purpose)] = (list_id, size)

    def take(self, list_id: str) -> bool:
        """Use one reserved index of ``list_id``; False when none is left (reserve a block)."""
        with self._lock:
            left = self._left.get(list_id, 0)
            if left <= 0:
                return False
            self._left[list_id] = left - 1
            return True

    def has_left(self, list_id: str) -> bool:
        """Whether this process still holds reserved indexes of ``list_id``."""
        with self._lock:
            return self._left.get(list_id, 0) > 0

    def add(self, list_id: str, count: int) -> None:
        """Record ``count`` more reserved indexes of ``list_id``."""
        with self._lock:
            self._left[list_id] = self._left.get(list_id, 0) + count

    def forget(self, list_id: str) -> None:
        """Drop what is left of ``list_id``'s reservation (the list is closed)."""
        with self._lock:
            self._left.pop(list_id, None)
            for key in [key for key, (current, _) in self._current.items() if current == list_id]:
                del self._current[key]


RESERVATIONS = Reservations()
"""The process's reservations; a list's blocks are counted in its row's ``allocated``."""


def status_list_url(settings: Settings, list_id: str) -> str:
    """The public URL of a list credential (``statusListCredential``), which is also its ``id``."""
    return f"{settings.public_url}/status/{list_id}"


def plan(session: Session, settings: Settings, issuer_id: str) -> Allocation:
    """Pick, by reading only, a free random index in each of the issuer's current lists.

    Nothing is claimed: :func:`claim` does that once the credential is signed, so on SQLite the
    write lock is not held while it signs. The writes here are side transactions, committed at
    once: reserving a block of a list's indexes (once per :data:`RESERVATION_BLOCK` credentials
    per process) and opening a list when the issuer has none with room. Whether the drawn indexes
    are free is read in one query; an index found taken is drawn again in its list, one draw and
    one read at a time, as :func:`replan` draws.
    """
    drawn = [
        _free_index_in_current_list(session, settings, issuer_id, purpose, _checked_later) for purpose in StatusPurpose
    ]
    taken = _taken(session, set(drawn))
    for position, purpose in enumerate(StatusPurpose):
        if drawn[position] in taken:
            drawn[position] = _drawn_again(session, settings, issuer_id, purpose, drawn[position][0])
    return Allocation(
        entries=[_entry(settings, *pair, purpose) for pair, purpose in zip(drawn, StatusPurpose, strict=True)],
        list_ids=tuple(list_id for list_id, _ in drawn),
        indexes=tuple(index for _, index in drawn),
    )


def _checked_later(list_id: str, index: int) -> bool:
    """Takes a drawn index as free: :func:`plan` reads whether its draws are, all in one query."""
    return True


def _drawn_again(
    session: Session, settings: Settings, issuer_id: str, purpose: StatusPurpose, list_id: str
) -> tuple[str, int]:
    """A free random index of list ``list_id``, whose index drawn first was taken: drawn again in
    that list (its reservation was taken for this credential already); when :data:`MAX_DRAWS`
    draws find none, the list is closed and the issuer's current list for ``purpose`` gives one."""
    size = _list_size(session, list_id)
    for _ in range(MAX_DRAWS):
        index = secrets.randbelow(size)
        if session.get(StatusEntry, (list_id, index)) is None:
            return list_id, index
    _close(session, list_id)  # fuller than its counter says
    return _free_index_in_current_list(session, settings, issuer_id, purpose)


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
            list_id, index = _free_index_in_current_list(session, settings, issuer_id, purpose)
            entry = _entry(settings, list_id, index, purpose)
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


def plan_many(session: Session, settings: Settings, issuer_id: str, count: int) -> list[Allocation]:
    """``count`` allocations of distinct indexes, as :func:`plan` would pick them one by one, with
    the reads of whether the drawn indexes are free made in one query (a bulk batch)."""
    picked: set[tuple[str, int]] = set()

    def not_picked(list_id: str, index: int) -> bool:
        return (list_id, index) not in picked

    drawn: list[list[tuple[str, int]]] = []
    for _ in range(count):
        pairs = []
        for purpose in StatusPurpose:
            pair = _free_index_in_current_list(session, settings, issuer_id, purpose, not_picked)
            picked.add(pair)
            pairs.append(pair)
        drawn.append(pairs)
    # an index already held by an earlier credential (as likely as the list is full) is drawn
    # again in the same list, in memory, and the batch's new draws are checked in one query a
    # round; the list's reservation is not taken again (it counts credentials, not draws). A
    # round draws several candidates per index still wanted, as many as make all of them taken
    # unlikely at the fullness the last read showed, and keeps the first one free: the same
    # uniform pick among the free indexes as drawing one at a time, in a few reads however full.
    taken = _taken(session, picked)
    wanted = [(pairs, position) for pairs in drawn for position, pair in enumerate(pairs) if pair in taken]
    fullness = len(taken) / len(picked) if picked else 0.0
    sizes: dict[str, int] = {}
    for _ in range(MAX_DRAWS):
        if not wanted:
            break
        per_index = _candidates_per_index(fullness)
        candidates: list[list[tuple[str, int]]] = []
        drawn_now: set[tuple[str, int]] = set()
        for pairs, position in wanted:
            list_id = pairs[position][0]
            if list_id not in sizes:
                sizes[list_id] = _list_size(session, list_id)
            size = sizes[list_id]
            mine = []
            for _ in range(per_index):
                candidate = _draw_in(list_id, size, picked, drawn_now)
                if candidate is not None:
                    drawn_now.add(candidate)
                    mine.append(candidate)
            candidates.append(mine)
        taken = _taken(session, drawn_now)
        fullness = len(taken) / len(drawn_now) if drawn_now else 1.0
        still_wanted = []
        for (pairs, position), mine in zip(wanted, candidates, strict=True):
            choice = next((candidate for candidate in mine if candidate not in taken), None)
            if choice is None:
                still_wanted.append((pairs, position))
                continue
            pairs[position] = choice
            picked.add(choice)
        wanted = still_wanted
    unresolved = {(id(pairs), position) for pairs, position in wanted}

    def free(list_id: str, index: int) -> bool:
        return (list_id, index) not in picked and session.get(StatusEntry, (list_id, index)) is None

    allocations = []
    for pairs in drawn:
        for position, purpose in enumerate(StatusPurpose):
            if (id(pairs), position) in unresolved:  # still taken after every round: as plan() does it
                pairs[position] = _free_index_in_current_list(session, settings, issuer_id, purpose, free)
                picked.add(pairs[position])
        allocations.append(
            Allocation(
                entries=[
                    _entry(settings, list_id, index, purpose)
                    for (list_id, index), purpose in zip(pairs, StatusPurpose, strict=True)
                ],
                list_ids=tuple(list_id for list_id, _ in pairs),
                indexes=tuple(index for _, index in pairs),
            )
        )
    return allocations


def claim_many(session: Session, claims: Sequence[tuple[Allocation, str]]) -> list[tuple[StatusPurpose, ...]]:
    """:func:`claim` for several (allocation, credential id) pairs of distinct indexes, in one
    ``INSERT ... ON CONFLICT DO NOTHING RETURNING``; per pair, the purposes whose index another
    issuance claimed meanwhile (nothing is written for those: replan, sign and claim them)."""
    rows = [
        {"list_id": list_id, "status_index": index, "credential_id": credential_id, "value": 0, "endorsement_id": None}
        for allocation, credential_id in claims
        for list_id, index in zip(allocation.list_ids, allocation.indexes, strict=True)
    ]
    if not rows:
        return []
    inserted = {(list_id, index) for list_id, index in _insert_many_on(session.connection(), _ENTRY_TABLE, rows)}
    return [
        tuple(
            purpose
            for purpose, list_id, index in zip(StatusPurpose, allocation.list_ids, allocation.indexes, strict=True)
            if (list_id, index) not in inserted
        )
        for allocation, _ in claims
    ]


def _candidates_per_index(fullness: float) -> int:
    """Candidates to draw per wanted index when a drawn index was taken with chance
    ``fullness``: enough that all of them are taken with chance at most about 1 in 100."""
    if fullness <= 0.0:
        return 1
    if fullness >= 1.0:
        return MAX_DRAWS
    return max(1, min(MAX_DRAWS, math.ceil(math.log(0.01) / math.log(fullness))))


def _list_size(session: Session, list_id: str) -> int:
    """List ``list_id``'s length in bits (fixed when it is opened)."""
    size = session.exec(select(StatusList.size).where(StatusList.id == list_id)).one()
    return int(size)


def _draw_in(
    list_id: str, size: int, picked: set[tuple[str, int]], drawn: set[tuple[str, int]]
) -> tuple[str, int] | None:
    """A random index of list ``list_id`` in neither ``picked`` nor ``drawn`` (None when
    :data:`MAX_DRAWS` draws found none: the batch then draws again in its next round)."""
    for _ in range(MAX_DRAWS):
        pair = (list_id, secrets.randbelow(size))
        if pair not in picked and pair not in drawn:
            return pair
    return None


def _taken(session: Session, pairs: set[tuple[str, int]]) -> set[tuple[str, int]]:
    """Which of the (list id, index) ``pairs`` have an entry already: on PostgreSQL one query per
    :data:`_READ_BATCH` pairs, whatever their lists; on SQLite one per list and that many indexes."""
    taken: set[tuple[str, int]] = set()
    if session.get_bind().dialect.name == "postgresql":
        ordered = sorted(pairs)
        for start in range(0, len(ordered), _READ_BATCH):
            some = ordered[start : start + _READ_BATCH]
            found = session.execute(
                _TAKEN_ON_POSTGRES, {"list_ids": [pair[0] for pair in some], "indexes": [pair[1] for pair in some]}
            )
            taken.update((list_id, index) for list_id, index in found)
        return taken
    by_list: dict[str, list[int]] = {}
    for list_id, index in pairs:
        by_list.setdefault(list_id, []).append(index)
    for list_id, indexes in by_list.items():
        for start in range(0, len(indexes), _READ_BATCH):
            indexes_read = indexes[start : start + _READ_BATCH]
            found_indexes = session.exec(
                select(StatusEntry.status_index).where(
                    StatusEntry.list_id == list_id, col(StatusEntry.status_index).in_(indexes_read)
                )
            )
            taken.update((list_id, index) for index in found_indexes)
    return taken


# One primary key lookup per index, whatever the planner knows of the table: with an IN list and
# no statistics (a new table or list, autovacuum not run yet) PostgreSQL reads the list's every
# entry through ix_statusentry_list_id_value, a read that grows with the list. A LATERAL
# subquery with LIMIT is not flattened into a join (PostgreSQL, SELECT: LATERAL subqueries), so
# each index is looked up on its own, by the (list_id, status_index) key. unnest of two arrays
# pairs them up element by element (PostgreSQL, Array Functions: unnest(anyarray, anyarray, ...)).
_TAKEN_ON_POSTGRES = text(
    "SELECT w.l, w.i FROM unnest(CAST(:list_ids AS varchar[]), CAST(:indexes AS integer[])) AS w(l, i), LATERAL"
    " (SELECT 1 FROM statusentry e WHERE e.list_id = w.l AND e.status_index = w.i LIMIT 1) AS hit"
)


def _entry(settings: Settings, list_id: str, index: int, purpose: StatusPurpose) -> dict[str, Any]:
    return build_status_entry(
        list_credential_url=status_list_url(settings, list_id), index=index, purpose=purpose.value
    )


def _free_index_in_current_list(
    session: Session,
    settings: Settings,
    issuer_id: str,
    purpose: StatusPurpose,
    is_free: Callable[[str, int], bool] | None = None,
) -> tuple[str, int]:
    """A free random index of the issuer's current list for ``purpose``: (list id, index). On
    PostgreSQL, while this process holds reserved indexes of the list it last drew from, the list
    row is not read again. ``is_free`` replaces the read of the index's entry (see
    :func:`plan_many`, which reads a batch's in one query)."""
    if is_free is None:

        def is_free(list_id: str, index: int) -> bool:
            return session.get(StatusEntry, (list_id, index)) is None

    current = RESERVATIONS.take_current(issuer_id, purpose)
    if current is not None:
        list_id, size = current
        for _ in range(MAX_DRAWS):
            index = secrets.randbelow(size)
            if is_free(list_id, index):
                return list_id, index
        _close(session, list_id)  # fuller than its counter says: as below
    for _ in range(MAX_LISTS_TRIED):
        status_list = _current_list(session, settings, issuer_id, purpose)
        if not RESERVATIONS.take(status_list.id):
            granted = _reserve_block(session, status_list.id)
            if granted == 0:
                continue  # its last block went to another process: the next round opens the next list
            RESERVATIONS.add(status_list.id, granted - 1)
        if session.get_bind().dialect.name == "postgresql":
            # only there is the list row surely committed: on SQLite a list opened inside an
            # issuing transaction that has written (see _side_transaction) goes if it rolls back
            RESERVATIONS.remember(issuer_id, purpose, status_list.id, status_list.size)
        for _ in range(MAX_DRAWS):
            index = secrets.randbelow(status_list.size)
            if is_free(status_list.id, index):
                return status_list.id, index
        # fuller than its counter says (indexes drawn past a crash's lost blocks): close it, move on
        _close(session, status_list.id)
    raise StatusListsExhausted("No status list index could be allocated; try again", headers={"Retry-After": "1"})


def _reserve_block(session: Session, list_id: str) -> int:
    """Reserve up to :data:`RESERVATION_BLOCK` indexes of list ``list_id`` for this process, in a
    side transaction; the number granted (0: the list is full)."""
    with _side_transaction(session) as connection:
        row = connection.execute(
            update(StatusList)
            .where(col(StatusList.id) == list_id, col(StatusList.allocated) < col(StatusList.capacity))
            .values(allocated=StatusList.allocated + RESERVATION_BLOCK)
            .returning(col(StatusList.allocated), col(StatusList.capacity))
        ).first()
    if row is None:
        return 0
    allocated, capacity = row
    return RESERVATION_BLOCK - max(0, allocated - capacity)


@contextmanager
def _side_transaction(session: Session) -> Iterator[Connection]:
    """A connection for a short write to a status list row, committed on leaving the block.

    Its own transaction, from the engine's pool (which holds room for one per issuing slot,
    :class:`service.core.db.DatabaseLimits`): the issuing transaction then never holds a list
    row, so issuers never queue on one another's signatures. The exception is SQLite once the
    issuing transaction has written (it holds the database's one write lock): a second
    transaction could only wait for it, so the write joins the caller's transaction (there is
    no row lock order to get wrong with one writer at a time).
    """
    connection = session.connection()
    driver_connection = connection.connection.driver_connection
    if connection.dialect.name == "sqlite" and getattr(driver_connection, "in_transaction", False):
        yield connection
        return
    with connection.engine.begin() as own:
        yield own


def _close(session: Session, list_id: str) -> None:
    """Mark a list full, so the next allocation opens the next one (a side transaction)."""
    with _side_transaction(session) as connection:
        full = update(StatusList).where(col(StatusList.id) == list_id).values(allocated=StatusList.capacity)
        connection.execute(full)
    RESERVATIONS.forget(list_id)


def _current_list(session: Session, settings: Settings, issuer_id: str, purpose: StatusPurpose) -> StatusList:
    """The issuer's newest list for ``purpose`` if it has room (unreserved indexes, or some this
    process reserved), else a newly opened one."""
    for _ in range(MAX_LISTS_TRIED):
        latest = session.exec(
            select(StatusList)
            .where(StatusList.issuer_id == issuer_id, StatusList.purpose == purpose.value)
            .order_by(col(StatusList.sequence).desc())
            .limit(1)
            .execution_options(populate_existing=True)
        ).first()
        if latest is not None and (latest.allocated < latest.capacity or RESERVATIONS.has_left(latest.id)):
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

    A side transaction (:func:`_side_transaction`), committed at once: on PostgreSQL a row another
    transaction inserted and has not committed makes a conflicting insert wait for that whole
    transaction, which would queue every issuer behind the one signing the list's first
    credential. A list left behind by an issuance that fails later is simply empty, the next one
    to fill.
    """
    table = StatusList.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass, not in its hints
    with _side_transaction(session) as connection:
        return _insert_on(connection, table, ("issuer_id", "purpose", "sequence"), values)


def _insert_unless_taken(session: Session, table: Any, unique: Sequence[str], values: Mapping[str, Any]) -> bool:
    """``INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING <key>``; True when the row was inserted.

    On PostgreSQL a conflicting row that another transaction has not yet committed makes this
    wait for that transaction, then insert (it rolled back) or do nothing (it committed).
    """
    return _insert_on(session.connection(), table, unique, values)


def _insert_on(connection: Connection, table: Any, unique: Sequence[str], values: Mapping[str, Any]) -> bool:
    assert isinstance(table, Table)
    statement = (
        _insert_for(connection)(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(*table.primary_key.columns)
    )
    return connection.execute(statement).first() is not None


def _insert_many_on(connection: Connection, table: Any, rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """One multi-row ``INSERT ... ON CONFLICT (primary key) DO NOTHING RETURNING <key>``: the keys
    of the rows inserted."""
    assert isinstance(table, Table)
    key = (connection.dialect.name, table.name)
    statement = _INSERT_MANY.get(key)
    if statement is None:
        keys = list(table.primary_key.columns)
        statement = _INSERT_MANY.setdefault(
            key,
            _insert_for(connection)(table)
            .on_conflict_do_nothing(index_elements=[column.name for column in keys])
            .returning(*keys),
        )
    # executemany: SQLAlchemy sends the rows as multi-row INSERTs ("insertmanyvalues") from one
    # cached compiled statement, however many rows a batch has
    return [tuple(row) for row in connection.execute(statement, list(rows))]


_INSERT_MANY: dict[tuple[str, str], Any] = {}
""":func:`_insert_many_on`'s statements, by dialect and table (built once: they never change)."""


def _insert_for(connection: Connection) -> Any:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise RuntimeError(f"SkillCred supports SQLite and PostgreSQL databases, not {dialect}")  # pragma: no cover
