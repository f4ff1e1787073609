"""Rendered badge pages, kept while everything they show is unchanged (issue 15).

A badge page shows the signed credential (immutable under its id), the credential's state and
the date of its last change, the report of verifying it now, and its endorsements with the
issuer's name. So each rendered page is kept, per process, with a fingerprint of what it was
rendered from:

- the credential's ``state`` and ``status_changed_at`` (a revocation or suspension), and the
  earner's choices: ``public`` (a private credential is 404, never a kept page) and ``show_name``;
- the earner's display name (of the account whose verified email address is the recipient's):
  renamed, or the address verified or changed, the page shows it at once;
- the kept verification report it showed (:meth:`Verifier.verify_kept`): served only while every
  input of that report reads the same (status entries, list signatures, key sets, the dates
  window), else the page is rendered again from a new verification;
- the issuer's name, and the id, state and state change date of every endorsement row the page
  reads (those of the credential, and those the signed credential embeds, by URI);
- the public URL (links on the page).

A request reads the first and the last in one statement and the report's inputs in a second, in
a read shared with the requests asking meanwhile and started after each of them
(:meth:`PageCache.fresh`); the page is rendered again whenever any of them differs. The page's ETag
is a hash of its HTML, so a client's ``If-None-Match`` gets a 304 only while the same bytes would
be sent. No FastAPI here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.accounts.models import Account
from service.core.coalesce import Lanes
from service.core.config import Settings
from service.core.db import autocommitting
from service.credentials.models import Credential, RecipientIdentity
from service.endorsements.models import Endorsement
from service.issuers.models import Issuer
from service.verification.cache import Inputs
from service.verification.service import Verifier

PAGE_CACHE_SIZE = 1024
"""Pages kept per process (10-20 KiB each)."""

RENDER_STRIPES = 64
"""Locks that let one request per page render it while the others wait for it (striped by key)."""

_CREDENTIALS = cast(sa.Table, Credential.__table__)  # type: ignore[attr-defined]
_ISSUERS = cast(sa.Table, Issuer.__table__)  # type: ignore[attr-defined]
_ENDORSEMENTS = cast(sa.Table, Endorsement.__table__)  # type: ignore[attr-defined]
_RECIPIENTS = cast(sa.Table, RecipientIdentity.__table__)  # type: ignore[attr-defined]
_ACCOUNTS = cast(sa.Table, Account.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Page:
    """A rendered page and what it was rendered from."""

    credential_id: str
    html: str
    etag: str
    jsonld: str
    embedded_uris: tuple[str, ...]
    rows: Hashable
    report: Inputs
    """The inputs of the kept report the page shows (:meth:`Verifier.verify_kept`)."""


def etag_of(html: str) -> str:
    """A strong ETag (RFC 9110 section 8.8.3) for the page's bytes."""
    return '"' + hashlib.sha256(html.encode("utf-8")).hexdigest()[:32] + '"'


def embedded_uris(jsonld: str) -> tuple[str, ...]:
    """The ``id`` of every endorsement the signed credential embeds (the page reads their rows)."""
    embedded = json.loads(jsonld).get("endorsement")
    if not isinstance(embedded, list):
        return ()
    return tuple(sorted({str(e.get("id")) for e in embedded if isinstance(e, dict)}))


def read_rows(session: Session, credential_id: str, uris: tuple[str, ...]) -> Hashable | None:
    """The credential's state and change date, whether it is public and shows its earner's name,
    the earner's display name, its issuer's name, and each endorsement row the page reads (id,
    state, state change date), in one statement; None when there is no such credential."""
    statement = _rows_statement(uris)
    connection = session.connection(bind_arguments={"clause": statement})  # a replica's session routes by it
    rows = [tuple(row) for row in connection.execute(statement, {"credential_id": credential_id})]
    if not rows:
        return None
    return tuple(sorted(rows, key=lambda row: str(row[6])))


@functools.lru_cache(maxsize=256)
def _rows_statement(uris: tuple[str, ...]) -> sa.Select[Any]:
    """:func:`read_rows`' statement for pages embedding the endorsements ``uris`` (most embed
    none), the credential's id a parameter: built once, not per request (building and compiling
    it cost more than running it)."""
    endorsement, account = _ENDORSEMENTS.c, _ACCOUNTS.c
    touching = endorsement.credential_id == _CREDENTIALS.c.id
    if uris:
        touching = sa.or_(touching, endorsement.endorsement_uri.in_(uris))
    earner = sa.and_(
        _RECIPIENTS.c.kind == "email", account.email == _RECIPIENTS.c.email, account.email_verified_at.is_not(None)
    )
    return (
        sa.select(
            _CREDENTIALS.c.state,
            _CREDENTIALS.c.status_changed_at,
            _CREDENTIALS.c.public,
            _CREDENTIALS.c.show_name,
            account.display_name,
            _ISSUERS.c.name,
            endorsement.id,
            endorsement.state,
            endorsement.state_changed_at,
        )
        .select_from(_CREDENTIALS)
        .outerjoin(_ISSUERS, _ISSUERS.c.id == _CREDENTIALS.c.issuer_id)
        .outerjoin(_RECIPIENTS, _RECIPIENTS.c.id == _CREDENTIALS.c.recipient_id)
        .outerjoin(_ACCOUNTS, earner)
        .outerjoin(_ENDORSEMENTS, touching)
        .where(_CREDENTIALS.c.id == sa.bindparam("credential_id"))
    )


class PageCache:
    """A bounded, thread-safe LRU of :class:`Page` by (public URL, credential id)."""

    def __init__(self, size: int = PAGE_CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], Page] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering = [threading.Lock() for _ in range(RENDER_STRIPES)]
        self._rereads: Lanes[Page, bool] = Lanes()  # per engine, settings and verifier
        self.hits = 0

    def rendering(self, key: tuple[str, str]) -> threading.Lock:
        """The lock a request holds while it renders the page of ``key``: a burst of requests for a
        page no worker has kept (a link just shared widely, a server just started) renders it
        once, the rest wait and find it kept, instead of each verifying and rendering it at the
        same time. Striped: pages whose keys share a stripe render one after the other."""
        return self._rendering[hash(key) % RENDER_STRIPES]

    def get(self, key: tuple[str, str]) -> Page | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], page: Page) -> None:
        with self._lock:
            self._items[key] = page
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    async def fresh(
        self, engine: Engine, settings: Settings, verifier: Verifier, credential_id: str, now: datetime
    ) -> Page | None:
        """The kept page of the credential when everything it shows reads the same now.

        What only this process knows is checked first (the page is kept, the report it shows is
        still the verifier's kept one, ``now`` is within its window of dates); then the rows and
        the report's inputs are read again on ``engine`` (the engine of public reads: a read
        replica when there is one) by a read that starts after this call, shared with the other
        requests of this event loop asking meanwhile (:class:`~service.core.coalesce.Coalescer`):
        no change committed before the request is missed."""
        page = self._current_here(settings, verifier, credential_id, now)
        if page is None:
            return None
        rereads = self._rereads.of(self._read_again_on, engine, settings, verifier)
        if not await rereads.ask(id(page), page):
            return None
        self._count_hit(verifier)
        return page

    def fresh_blocking(
        self, engine: Engine, settings: Settings, verifier: Verifier, credential_id: str, now: datetime
    ) -> Page | None:
        """:meth:`fresh` with a read of its own, for a worker thread (a request that waited for
        another to render the page)."""
        page = self._current_here(settings, verifier, credential_id, now)
        if page is None or not self._read_again_on(engine, settings, verifier, [page])[0]:
            return None
        self._count_hit(verifier)
        return page

    def _count_hit(self, verifier: Verifier) -> None:
        """A kept page served: a hit of the page and of the kept report it shows."""
        verifier.reports.count(hit=True)
        with self._lock:
            self.hits += 1

    def _current_here(self, settings: Settings, verifier: Verifier, credential_id: str, now: datetime) -> Page | None:
        """The kept page when nothing this process knows says otherwise (no database read)."""
        page = self.get((settings.public_url, credential_id))
        if page is None:
            return None
        kept = verifier.kept_at(settings, page.jsonld, now)
        return page if kept is not None and kept.inputs is page.report else None

    @staticmethod
    def _read_again_on(engine: Engine, settings: Settings, verifier: Verifier, pages: Sequence[Page]) -> list[bool]:
        """Whether each page's rows and report's inputs read the same now, in one autocommitting
        session (no BEGIN and COMMIT round trips): the rows first, then the inputs of the pages
        whose rows are unchanged. A change committed between the two is seen by the second, or it
        came after both and the page was current when read."""
        with Session(autocommitting(engine)) as reads:
            same_rows = [read_rows(reads, page.credential_id, page.embedded_uris) == page.rows for page in pages]
            unchanged = [page.report for page, same in zip(pages, same_rows, strict=True) if same]
            same_inputs = iter(verifier.read_again(reads, settings, unchanged))
            return [same and next(same_inputs) for same in same_rows]

    def __len__(self) -> int:
        return len(self._items)
