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
next verification in every worker; only signature work is saved. A report that read anything
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.issuers.resolver import LocalKeyResolver
from service.status.resolver import LocalStatusListResolver
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

    def holds_at(self, now: datetime) -> bool:
        return (self.after is None or now > self.after) and (self.before is None or now < self.before)


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
    if _document_of(data) is None:
        return None
    return public_url, hashlib.sha256(data).hexdigest()


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


def still_holds(inputs: Inputs, local_keys: LocalKeyResolver, statuses: LocalStatusListResolver, now: datetime) -> bool:
    """True when every input of a kept report reads the same now (the database is read again)."""
    return (
        inputs.holds_at(now)
        and all(local_keys.version(did) == version for did, version in inputs.dids)
        and all(statuses.published_etag(list_id) == etag for list_id, etag in inputs.lists)
        and all(statuses.current_status(url, index) == value for (url, index), value in inputs.readings)
        and all(
            statuses.status_changed_at(url, index, purpose) == moment
            for (url, index, purpose), moment in inputs.change_dates
        )
    )


class ReportCache:
    """A bounded, thread-safe LRU of (report, inputs) by :func:`cache_key`; reports go in and come
    out as copies, so no caller shares one."""

    def __init__(self, size: int = REPORT_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, tuple[VerificationReport, Inputs]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[VerificationReport, Inputs] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, report: VerificationReport, inputs: Inputs) -> None:
        kept = copy.deepcopy(report)
        with self._lock:
            self._items[key] = (kept, inputs)
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
