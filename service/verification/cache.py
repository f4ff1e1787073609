"""Verification reports kept for as long as everything they were computed from is unchanged.

Verifying one of this service's credentials checks its proof, its issuer's keys and the proofs
of its status lists: three Data Integrity verifications, none of which can change its outcome
while the credential's bytes, the issuer's key set and the lists' signed copies stay the same
(issue 15). So :class:`~service.verification.service.Verifier` keeps each report, in a bounded
process-local LRU, with the inputs it read:

- the SHA-256 of the credential as submitted (the key);
- each of this service's DIDs it resolved, at its key-set version
  (:func:`service.issuers.resolver.key_set_version`: a key rotated, retired or reported
  compromised is a new version);
- each of this service's status lists, by the ETag of the signed copy it verified;
- each status entry's value as read from the database, and the date of each change it reported;
- the open interval of time between the nearest dates the report could depend on: every date in
  the credential and in its status lists, each also five minutes either side (the VC-JWT leeway,
  :func:`service.vc.jose.verify_vc_jwt`).

A kept report is served only after reading those inputs again and finding each one equal, so a
revocation, a suspension, a lifted suspension, a re-signed list or a key change is seen by the
next verification in every worker; only signature work is saved. The inputs are read again in one
database round trip (:func:`reads_the_same`: one ``UNION ALL`` of small indexed selects, no ORM),
not one query per input; concurrent requests of one event loop share that read, one that starts
after each of them (:meth:`~service.verification.service.Verifier.fresh_kept`). A report that read anything
else (another service's DID or list, a list signed on the spot, a key that could not be resolved,
a baked image) is not kept.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlmodel import Session

from service.audit.models import AuditEvent
from service.core.config import Settings
from service.core.models import UTCDateTime, utcnow
from service.issuers.models import Issuer, IssuerDidAlias, SigningKey
from service.issuers.resolver import LocalKeyResolver
from service.status.models import StatusEntry, StatusList
from service.status.publish import is_overdue
from service.status.resolver import STATUS_ACTIONS, LocalStatusListResolver
from service.vc.did import KeyResolver, VerificationMethod
from service.vc.report import VerificationReport

REPORT_CACHE_SIZE = 4096
"""Reports kept per process (a few KiB each)."""

DATE_SLACK = timedelta(minutes=5)
"""Dates are also taken this much either side: the leeway a VC-JWT's ``nbf``/``exp`` get."""

_JWT = re.compile(r"[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*")
_JWT_TIMES = frozenset({"nbf", "exp", "iat"})


@dataclass(frozen=True)
class Inputs:
    """What a report was computed from (see the module docstring)."""

    dids: tuple[tuple[str, Hashable], ...]
    lists: tuple[tuple[str, str], ...]
    readings: tuple[tuple[tuple[str, int], int | None], ...]
    change_dates: tuple[tuple[tuple[str, int, str], datetime | None], ...]
    after: datetime | None
    before: datetime | None

    _rechecks: dict[str, Recheck | None] = field(default_factory=dict, init=False, compare=False, repr=False)

    def holds_at(self, now: datetime) -> bool:
        return (self.after is None or now > self.after) and (self.before is None or now < self.before)

    def recheck(self, statuses: LocalStatusListResolver) -> Recheck | None:
        """How these inputs are read again (built on first use, then kept with them; by the
        status lists' address prefix, the one thing the plan takes from the resolver)."""
        prefix = statuses.prefix
        if prefix not in self._rechecks:
            self._rechecks[prefix] = _plan(self, statuses)
        return self._rechecks[prefix]


class RecordingKeyResolver:
    """Passes resolutions to ``inner`` and records the verification methods and controllers asked
    for, and whether any could not be resolved."""

    def __init__(self, inner: KeyResolver) -> None:
        self._inner = inner
        self.asked: set[str] = set()
        self.failed = False

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        self.asked.add(verification_method_id)
        try:
            return self._inner.resolve(verification_method_id)
        except Exception:
            self.failed = True
            raise

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        self.asked.add(controller)
        try:
            return self._inner.methods_of(controller)
        except Exception:
            self.failed = True
            raise


def cache_key(public_url: str, source: Any) -> tuple[str, str] | None:
    """The key a report of ``source`` is kept under, or None when it is not kept (an already
    parsed mapping, a baked image, text that is neither JSON nor a compact JWT)."""
    if isinstance(source, str):
        data = source.encode("utf-8")
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        return None
    if not _looks_like_a_document(data):
        return None
    return public_url, hashlib.sha256(data).hexdigest()


def _looks_like_a_document(data: bytes) -> bool:
    """Whether ``data`` may be JSON or a compact JWT, without parsing it (a kept report is looked up
    on every request; bytes that only look like one are verified, fail the format check, and that
    report is kept like any other: it depends on nothing but the bytes)."""
    text = data.strip()
    if text.startswith(b"{"):
        return True
    try:
        return _JWT.fullmatch(text.decode("ascii")) is not None
    except UnicodeDecodeError:
        return False


def _document_of(data: bytes) -> Any:
    """The JSON the submitted bytes carry (a JWT's header and claims), or None."""
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return None
    match = _JWT.fullmatch(text)
    if match is None:
        return None
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in text.split(".")[:2]
        )
    except (ValueError, binascii.Error):
        return None
    return [header, claims]


def _walk(value: Any, key: str | None = None) -> Iterator[datetime]:
    """Every moment in a JSON value: date strings anywhere, and JWT ``nbf``/``exp``/``iat``."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _walk(v, key)
    elif isinstance(value, datetime):
        yield value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, str) and 10 <= len(value) <= 40 and value[:4].isdigit():
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return
        yield moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool) and key in _JWT_TIMES:
        try:
            yield datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return


def _window(documents: Iterable[Any], now: datetime) -> tuple[datetime | None, datetime | None] | None:
    """The open interval around ``now`` in which no date of ``documents`` (give or take
    :data:`DATE_SLACK`) falls, or None when ``now`` is on one."""
    after: datetime | None = None
    before: datetime | None = None
    for moment in (m + d for doc in documents for m in _walk(doc) for d in (-DATE_SLACK, timedelta(0), DATE_SLACK)):
        if moment == now:
            return None
        if moment < now and (after is None or moment > after):
            after = moment
        elif moment > now and (before is None or moment < before):
            before = moment
    return after, before


def inputs_of(
    source: str | bytes,
    keys: RecordingKeyResolver,
    local_keys: LocalKeyResolver,
    statuses: LocalStatusListResolver,
    now: datetime,
) -> Inputs | None:
    """What a verification that just ran read, or None when its report must not be kept."""
    if keys.failed or statuses.used_fallback or any(etag is None for etag in statuses.served.values()):
        return None
    for asked in keys.asked:
        did = asked.partition("#")[0]
        if not did.startswith("did:key:") and did not in local_keys.versions:
            return None  # another service's DID: its document may change without our knowing
    data = source.encode("utf-8") if isinstance(source, str) else source
    documents = [_document_of(data), *statuses.documents.values(), *local_keys.versions.values()]
    window = _window(documents, now)
    if window is None:
        return None
    return Inputs(
        dids=tuple(sorted(local_keys.versions.items(), key=lambda kv: kv[0])),
        lists=tuple(sorted((list_id, etag) for list_id, etag in statuses.served.items() if etag is not None)),
        readings=tuple(statuses.readings.items()),
        change_dates=tuple(statuses.change_dates.items()),
        after=window[0],
        before=window[1],
    )


MAX_BRANCHES = 200
"""A report that read more inputs than this is re-checked input by input (SQLite allows 500
selects in one compound statement)."""


_TEXT, _NUMBER, _MOMENT = sa.String(), sa.Integer(), UTCDateTime()
_COLUMNS = ("slot", "s1", "s2", "s3", "s4", "n1", "n2", "t1", "t2", "t3")
_ISSUER_TAG, _KEY_TAG, _ALIAS_TAG = 0, 1, 2
"""``n2`` of a DID's rows: the issuer holds it now, one of its keys, one of its former DIDs."""
_ISSUER, _KEY, _ALIAS = (sa.literal_column(str(tag), _NUMBER) for tag in (_ISSUER_TAG, _KEY_TAG, _ALIAS_TAG))


def _table(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


_ISSUERS, _KEYS, _ALIASES = _table(Issuer), _table(SigningKey), _table(IssuerDidAlias)
_LISTS, _ENTRIES, _AUDIT = _table(StatusList), _table(StatusEntry), _table(AuditEvent)


def _branch(slot: int, *values: Any) -> sa.Select[Any]:
    """``SELECT <slot>, s1..s4, n1, n2, t1..t3``: the row shape every branch of the check shares
    (None where a branch has nothing; typed, so every dialect reads the columns alike)."""
    types: tuple[Any, ...] = (_TEXT,) * 4 + (_NUMBER,) * 2 + (_MOMENT,) * 3
    padded: list[Any] = [v if v is not None else sa.null().cast(t) for v, t in zip(values, types, strict=True)]
    columns: list[Any] = [sa.literal_column(str(slot), _NUMBER), *padded]
    return sa.select(*(column.label(name) for column, name in zip(columns, _COLUMNS, strict=True)))


def _key_row(row: Any) -> tuple[Any, ...]:
    """A key's part of :func:`service.issuers.resolver.key_set_version`, from a ``keys`` row."""
    return (row.s1, row.s2, row.s3, row.t1, row.t2, row.t3, row.s4)


@dataclass(frozen=True)
class Recheck:
    """How a kept report's inputs are read again: one ``UNION ALL`` statement (None when nothing
    needs reading) and, by slot, what each of its branches must find. Built once per kept report
    (:meth:`Inputs.recheck`): building and compiling the statement cost more than running it."""

    statement: sa.CompoundSelect | None
    checks: tuple[tuple[str, Any, Any], ...]
    one_by_one: bool = False


def _plan(inputs: Inputs, statuses: LocalStatusListResolver) -> Recheck | None:
    """The :class:`Recheck` of ``inputs``, or None when they can never hold again (a status entry
    of a list that is not this service's)."""
    branches: list[sa.Select[Any]] = []
    checks: list[tuple[str, Any, Any]] = []  # (kind, what, expected), by slot

    def add(kind: str, what: Any, expected: Any, *selects: sa.Select[Any]) -> None:
        checks.append((kind, what, expected))
        branches.extend(selects)

    for did, version in inputs.dids:
        slot = len(checks)
        issuer_id = sa.select(_ISSUERS.c.id).where(_ISSUERS.c.did == did).scalar_subquery()
        add(
            "did",
            did,
            version,
            _branch(slot, None, None, None, None, None, _ISSUER, None, None, None).where(
                sa.exists().where(_ISSUERS.c.did == did)
            ),
            _branch(
                slot,
                _KEYS.c.id,
                _KEYS.c.fragment,
                _KEYS.c.algorithm,
                _KEYS.c.compromise_reason,
                None,
                _KEY,
                _KEYS.c.created_at,
                _KEYS.c.retired_at,
                _KEYS.c.compromised_at,
            ).where(_KEYS.c.issuer_id == issuer_id),
            _branch(slot, _ALIASES.c.did, None, None, None, None, _ALIAS, None, None, None).where(
                _ALIASES.c.issuer_id == issuer_id
            ),
        )
    for list_id, etag in inputs.lists:
        has_text = sa.case((_LISTS.c.credential_text.is_not(None), 1), else_=0)
        add(
            "list",
            list_id,
            etag,
            _branch(
                len(checks),
                _LISTS.c.etag,
                None,
                None,
                None,
                has_text,
                None,
                _LISTS.c.signed_at,
                None,
                None,
            ).where(_LISTS.c.id == list_id),
        )
    for (url, index), value in inputs.readings:
        in_list = statuses.list_id(url)
        if in_list is None:
            return None  # never kept (only this service's entries are read); re-verify
        add(
            "entry",
            None,
            value,
            _branch(len(checks), None, None, None, None, _ENTRIES.c.value, None, None, None, None).where(
                _ENTRIES.c.list_id == in_list, _ENTRIES.c.status_index == index
            ),
        )
    for (url, index, purpose), moment in inputs.change_dates:
        in_list, action = statuses.list_id(url), STATUS_ACTIONS.get(purpose)
        if in_list is None or action is None:
            if moment is not None:
                return None
            continue  # read as None without the database, then and now
        credential_id = (
            sa.select(_ENTRIES.c.credential_id)
            .where(_ENTRIES.c.list_id == in_list, _ENTRIES.c.status_index == index)
            .scalar_subquery()
        )
        add(
            "changed",
            None,
            moment,
            _branch(len(checks), None, None, None, None, None, None, sa.func.max(_AUDIT.c.at), None, None).where(
                _AUDIT.c.action == action, _AUDIT.c.object_id == credential_id
            ),
        )
    if len(branches) > MAX_BRANCHES:
        return Recheck(None, (), one_by_one=True)
    return Recheck(sa.union_all(*branches) if branches else None, tuple(checks))


def reads_the_same(
    inputs: Inputs,
    session: Session,
    settings: Settings,
    local_keys: LocalKeyResolver,
    statuses: LocalStatusListResolver,
) -> bool:
    """True when every input of a kept report reads the same now (its window of dates is the
    caller's: :meth:`Inputs.holds_at`). The database is read again in one statement through
    ``session`` (on the database it reads from: a read replica's session routes it by the
    statement); a DID that is no issuer's current DID (a former one, after a move) is read
    through ``local_keys``.

    A key set is compared as a set of keys (each key's id, fragment, algorithm, dates and
    compromise reason) and of former DIDs: their order in the document follows from those
    values and changes nothing a verification decides."""
    recheck = inputs.recheck(statuses)
    if recheck is None:
        return False
    if recheck.one_by_one:
        return _reads_the_same_one_by_one(inputs, local_keys, statuses)
    if recheck.statement is None:
        return True
    rows: dict[int, list[Any]] = {}
    statement = recheck.statement
    for row in session.connection(bind_arguments={"clause": statement}).execute(statement):
        rows.setdefault(row.slot, []).append(row)
    for slot, (kind, what, expected) in enumerate(recheck.checks):
        found = rows.get(slot, [])
        if kind == "did":
            if not any(r.n2 == _ISSUER_TAG for r in found):
                if local_keys.version(what) != expected:  # a former DID of a moved issuer
                    return False
                continue
            keys = [_key_row(r) for r in found if r.n2 == _KEY_TAG]
            aliases = [r.s1 for r in found if r.n2 == _ALIAS_TAG]
            _, known_aliases, known_keys = expected
            if sorted(aliases) != sorted(known_aliases) or sorted(keys, key=_by_id) != sorted(known_keys, key=_by_id):
                return False
        elif kind == "list":
            if len(found) != 1 or not found[0].n1:
                return False
            row = found[0]
            stored = cast(StatusList, SimpleNamespace(credential_text="", signed_at=row.t1))
            # as LocalStatusListResolver.published_etag: would the stored copy be served now?
            if is_overdue(stored, settings, utcnow()) or row.s1 != expected:
                return False
        elif kind == "entry":
            if (found[0].n1 if found else None) != expected:
                return False
        elif (found[0].t1 if found else None) != expected:
            return False
    return True


def _by_id(key: tuple[Any, ...]) -> str:
    return str(key[0])


def _reads_the_same_one_by_one(inputs: Inputs, local_keys: LocalKeyResolver, statuses: LocalStatusListResolver) -> bool:
    """:func:`reads_the_same` through the resolvers, one query per input."""
    return (
        all(local_keys.version(did) == version for did, version in inputs.dids)
        and all(statuses.published_etag(list_id) == etag for list_id, etag in inputs.lists)
        and all(statuses.current_status(url, index) == value for (url, index), value in inputs.readings)
        and all(
            statuses.status_changed_at(url, index, purpose) == moment
            for (url, index, purpose), moment in inputs.change_dates
        )
    )


def report_json(report: VerificationReport) -> bytes:
    """The report's JSON form (:meth:`VerificationReport.to_dict`) as UTF-8 bytes, compact, as an
    API answers it (no ASCII escapes, no NaN)."""
    return json.dumps(report.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


class KeptReport(NamedTuple):
    """A kept report, what it was computed from, and its JSON form (made once, when kept).
    Shared by every request that is served it: read it, never change it (copy the report first)."""

    report: VerificationReport
    inputs: Inputs
    json: bytes


class ReportCache:
    """A bounded, thread-safe LRU of :class:`KeptReport` by :func:`cache_key`; reports go in as
    copies, so no caller shares the one it verified."""

    def __init__(self, size: int = REPORT_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, KeptReport] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> KeptReport | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, report: VerificationReport, inputs: Inputs) -> None:
        kept = KeptReport(copy.deepcopy(report), inputs, report_json(report))
        with self._lock:
            self._items[key] = kept
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def count(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def __len__(self) -> int:
        return len(self._items)
