"""Signed status lists kept per process, served while their row names them (issue 15). No FastAPI
here.

``GET /status/{list_id}`` serves the stored signed copy of a list byte for byte
(:func:`service.status.publish.published_list`). A signed copy's text never changes under its
ETag; what changes is which copy is current: the list is re-signed (a new ETag), or it goes stale
(:func:`~service.status.publish.is_stale`: overdue, or changed a while ago and not yet
published), and then the reader signs it. So each process keeps the copy it last served per list,
and a request reads only the list's row: its ETag and what staleness is decided from. The kept
copy is served when the row names its ETag and is not stale at the request's time; otherwise the
route takes the full path, which reads the stored text and signs a stale list.

The row is read by a read that starts after the request arrived, shared with the other requests
of the event loop asking meanwhile (:class:`~service.core.coalesce.Coalescer`): a list re-signed
before a request arrived is never answered with the previous copy.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.coalesce import Lanes
from service.core.config import Settings
from service.core.db import autocommitting
from service.status.models import StatusList
from service.status.publish import PublishedList, is_stale

SERVED_LISTS_SIZE = 1024
"""Signed copies kept per process (a few KiB each)."""

_LISTS = cast(sa.Table, StatusList.__table__)  # type: ignore[attr-defined]
_ROWS = sa.select(
    _LISTS.c.id,
    _LISTS.c.etag,
    _LISTS.c.signed_at,
    _LISTS.c.changed_at,
    _LISTS.c.version,
    _LISTS.c.signed_version,
    _LISTS.c.credential_text.is_not(None).label("has_text"),
).where(_LISTS.c.id.in_(sa.bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class ListRow:
    """What a list's row says of its stored copy: enough to tell whether a kept copy is current.
    Its attributes are those :func:`~service.status.publish.is_stale` reads of a list (the
    stored text only as present or not)."""

    etag: str | None
    signed_at: datetime | None
    changed_at: datetime | None
    version: int
    signed_version: int | None
    credential_text: str | None

    def serves(self, kept: PublishedList, settings: Settings, now: datetime) -> bool:
        """Whether ``kept`` is the copy a reader would be served at ``now``."""
        return self.etag == kept.etag and not is_stale(cast(StatusList, self), settings, now)


class ServedLists:
    """A bounded, thread-safe LRU of the signed copies served, by (public URL, list id)."""

    def __init__(self, size: int = SERVED_LISTS_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], PublishedList] = OrderedDict()
        self._lock = threading.Lock()
        self._rows: Lanes[str, ListRow | None] = Lanes()  # per engine
        self.hits = 0

    def keep(self, settings: Settings, list_id: str, published: PublishedList) -> None:
        """Keep ``published`` as the copy of ``list_id`` last served."""
        key = (settings.public_url, list_id)
        with self._lock:
            self._items[key] = PublishedList(published.text, published.etag, published.signed_at)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    async def current(self, engine: Engine, settings: Settings, list_id: str, now: datetime) -> PublishedList | None:
        """The kept copy of ``list_id`` when its row, read on ``engine`` after this call, names it
        and it is not stale at ``now``; None when none is kept or it is not current (the caller
        takes the full path). Nothing is read when nothing is kept."""
        with self._lock:
            kept = self._items.get((settings.public_url, list_id))
        if kept is None:
            return None
        row = await self._rows.of(read_rows, engine).ask(list_id, list_id)
        if row is None or not row.serves(kept, settings, now):
            return None
        with self._lock:
            self.hits += 1
        return kept

    def __len__(self) -> int:
        return len(self._items)


def read_rows(engine: Engine, list_ids: Sequence[str]) -> list[ListRow | None]:
    """The rows of ``list_ids`` (None for an unknown id), in one statement answered as it is
    committed (no BEGIN and COMMIT round trips)."""
    with Session(autocommitting(engine)) as session:
        found: dict[str, Any] = {
            row.id: row
            for row in session.connection(bind_arguments={"clause": _ROWS}).execute(_ROWS, {"ids": list(list_ids)})
        }
    return [_row(found.get(list_id)) for list_id in list_ids]


def _row(row: Any) -> ListRow | None:
    if row is None:
        return None
    text = "" if row.has_text else None  # only whether there is one: is_stale asks no more
    return ListRow(row.etag, row.signed_at, row.changed_at, row.version, row.signed_version, text)
