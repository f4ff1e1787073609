"""Verifying credentials for the API and the public badge page. No FastAPI here.

Keys: ``did:key`` offline, this deployment's own ``did:web`` issuers from the database
(:class:`~service.issuers.resolver.LocalKeyResolver`, the same DID documents the public routes
serve), then another service's ``did:web`` fetched over HTTPS by
:class:`~service.net.did_web.RemoteDidWebResolver` (size caps, private addresses refused, cached
for five minutes). A ``did:web`` on this deployment's own host (that of ``settings.public_url``)
is never fetched: the service does not make HTTP requests to itself.

Status lists: this deployment's own (``{public_url}/status/{id}``) are read from the database
with their bits as they are now (:class:`~service.status.resolver.LocalStatusListResolver`), so a
revocation fails verification at once. Other issuers' lists go to
:class:`~service.net.status.RemoteStatusListResolver` (HTTPS, size caps, private addresses
refused, cached per ``ttl``); without a remote resolver they are reported unavailable, a warning
in the report.

Reports of credentials that read only this deployment's keys and lists are kept, and served again
while every input they read is unchanged: the credential's bytes, its issuer's key set, the ETag
of each status list's signed copy, each status entry's value and the time between the nearest
dates (:mod:`service.verification.cache`). So signatures are checked once per version, while a
revocation or suspension still counts at the next verification.

The remote resolvers and the report cache are shared, so the app makes one :class:`Verifier` when
it starts (``app.state.verifier``, read by routes through ``VerifierDep``) and every request
shares it.
Tests replace it on the app, e.g. ``app.state.verifier = Verifier(remote_keys=...)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.coalesce import Lanes
from service.core.config import Settings
from service.core.db import autocommitting
from service.core.keystore import Keystore, load_kek
from service.issuers.resolver import LocalKeyResolver
from service.net.did_web import RemoteDidWebResolver
from service.net.status import RemoteStatusListResolver
from service.status.resolver import LocalStatusListResolver
from service.vc.did import ChainedKeyResolver, DidKeyResolver, KeyResolver, VerificationMethod
from service.vc.errors import KeyResolutionError
from service.vc.report import VerificationReport
from service.vc.status_list import StatusListResolver
from service.vc.verify import verify
from service.verification.cache import (
    Inputs,
    KeptReport,
    RecordingKeyResolver,
    ReportCache,
    cache_key,
    inputs_of,
    reads_the_same,
)


def _did_web_host(did: str) -> str | None:
    """The lower-case host name a did:web lives on (no port), or None when it has none."""
    try:
        return urlsplit("//" + unquote(did.removeprefix("did:web:").split(":", 1)[0])).hostname
    except ValueError:
        return None


class ForeignDidWebResolver:
    """Hands ``did:web`` ids to ``remote``, except those on this deployment's own host.

    The host of ``settings.public_url`` (any port) is refused before anything is fetched, so a
    DID of this service that the database does not know never turns into a request to ourselves.
    """

    def __init__(self, remote: KeyResolver, settings: Settings) -> None:
        self._remote = remote
        self._own_host = urlsplit(settings.public_url).hostname

    def _refuse_own_host(self, verification_method_id: str) -> None:
        did = verification_method_id.partition("#")[0]
        if not did.startswith("did:web:"):
            raise KeyResolutionError(f"{verification_method_id!r} is not a did:web")
        host = _did_web_host(did)
        if host is None or host.rstrip(".") == (self._own_host or "").rstrip("."):
            raise KeyResolutionError(f"{did} is on this service's own host; its document is not fetched")

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        """The verification method, fetched by the remote resolver unless it is on our own host."""
        self._refuse_own_host(verification_method_id)
        return self._remote.resolve(verification_method_id)

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        """The controller's verification methods, fetched unless it is on our own host."""
        self._refuse_own_host(controller)
        return self._remote.methods_of(controller)


@dataclass(frozen=True)
class Verifier:
    """Verifies credentials, resolving other services' keys and status lists through
    ``remote_keys`` and ``remote_status`` (None: not resolved; a foreign did:web then fails the
    ``issuer_key`` check, a foreign status list is a warning). One per app, so their caches are
    shared by every request; :meth:`online` builds the HTTPS ones. ``reports`` keeps reports
    while their inputs are unchanged (:mod:`service.verification.cache`)."""

    remote_keys: KeyResolver | None = None
    remote_status: StatusListResolver | None = None
    reports: ReportCache = field(default_factory=ReportCache, compare=False, repr=False)
    _rereads: Lanes[Inputs, bool] = field(default_factory=Lanes, init=False, compare=False, repr=False)
    """Reads of kept reports' inputs, one coalescer per engine and settings (a read replica's
    requests are never answered by a read of the primary, or the reverse)."""

    @classmethod
    def online(cls) -> Verifier:
        """A verifier that fetches other services' did:web documents and status lists over HTTPS
        (SSRF-safe, size-capped, cached)."""
        return cls(remote_keys=RemoteDidWebResolver(), remote_status=RemoteStatusListResolver())

    def key_resolver(
        self, session: Session, settings: Settings, *, local: LocalKeyResolver | None = None
    ) -> KeyResolver:
        """did:key offline, this deployment's did:web issuers from ``session`` (through ``local``
        when given), then other services' did:web documents through :attr:`remote_keys` (never
        this deployment's host)."""
        resolvers: list[KeyResolver] = [DidKeyResolver(), local or LocalKeyResolver(session, settings)]
        if self.remote_keys is not None:
            resolvers.append(ForeignDidWebResolver(self.remote_keys, settings))
        return ChainedKeyResolver(*resolvers)

    def status_resolver(
        self, session: Session, settings: Settings, keystore: Keystore | None = None
    ) -> LocalStatusListResolver:
        """This deployment's lists from ``session``, other services' through :attr:`remote_status`.

        ``keystore`` signs a list that changed since its last signature; without one it is opened
        from the settings' KEK, and only if such a list is met.
        """
        factory: Callable[[], Keystore] = (
            (lambda: keystore) if keystore is not None else (lambda: Keystore(load_kek(settings)))
        )
        return LocalStatusListResolver(session, settings, factory, fallback=self.remote_status)

    def _fresh(
        self, session: Session, settings: Settings, source: Mapping[str, Any] | str | bytes, now: datetime
    ) -> KeptReport | None:
        """The kept report of ``source`` when every input reads the same now, read through
        ``session`` (:meth:`fresh_kept` shares its read with concurrent requests instead)."""
        kept = self.kept_at(settings, source, now)
        if kept is None or not self.read_again(session, settings, [kept.inputs])[0]:
            return None
        self.reports.count(hit=True)
        return kept

    def verify(
        self,
        session: Session,
        settings: Settings,
        source: Mapping[str, Any] | str | bytes,
        *,
        keystore: Keystore | None = None,
        now: datetime | None = None,
        kept: bool = True,
    ) -> VerificationReport:
        """Verify ``source`` (JSON-LD, a compact VC-JWT or baked image bytes) as of ``now`` (the
        present when None); never raises for bad input. A kept report whose inputs all read the
        same again is answered without verifying anew (``kept=False``: the caller has just asked
        :meth:`fresh_kept`)."""
        return self.verify_kept(session, settings, source, keystore=keystore, now=now, kept=kept)[0]

    def verify_kept(
        self,
        session: Session,
        settings: Settings,
        source: Mapping[str, Any] | str | bytes,
        *,
        keystore: Keystore | None = None,
        now: datetime | None = None,
        kept: bool = True,
    ) -> tuple[VerificationReport, Inputs | None]:
        """:meth:`verify`, and the inputs of the kept report it answered with or has just kept
        (a token that stays the same object for as long as the same report is served: a page
        rendered from it is still current while :meth:`kept_at` returns it), or None when it is
        not kept."""
        now = now or datetime.now(UTC)
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
        key = cache_key(settings.public_url, source)
        if key is not None:
            found = self._fresh(session, settings, source, now) if kept else None
            if found is not None:
                return copy.deepcopy(found[0]), found[1]
            self.reports.count(hit=False)
        local_keys = LocalKeyResolver(session, settings)
        statuses = self.status_resolver(session, settings, keystore)
        keys = RecordingKeyResolver(self.key_resolver(session, settings, local=local_keys))
        report = verify(source, key_resolver=keys, status_resolver=statuses, now=now)
        inputs = None
        if key is not None:
            assert isinstance(source, str | bytes | bytearray)  # cache_key keeps no other source
            data = bytes(source) if isinstance(source, bytearray) else source
            inputs = inputs_of(data, keys, local_keys, statuses, now)
            if inputs is not None:
                self.reports.put(key, report, inputs)
        return report, inputs

    def verify_with_engine(
        self,
        engine: Engine,
        settings: Settings,
        source: Mapping[str, Any] | str | bytes,
        *,
        keystore: Keystore | None = None,
        now: datetime | None = None,
        kept: bool = True,
    ) -> VerificationReport:
        """Like :meth:`verify` with a read-only session of its own, opened and closed here (so it
        can run in a worker thread: the session never crosses threads). Its reads autocommit:
        no transaction stays open while the pipeline computes or fetches other issuers' keys
        and lists over the network."""
        with Session(autocommitting(engine)) as session:
            return self.verify(session, settings, source, keystore=keystore, now=now, kept=kept)

    def kept_at(self, settings: Settings, source: Mapping[str, Any] | str | bytes, now: datetime) -> KeptReport | None:
        """The kept report of ``source`` when ``now`` is within the window of dates it holds for,
        without reading its other inputs (:meth:`read_again` does); None otherwise. Nothing is
        read from the database."""
        key = cache_key(settings.public_url, source)
        kept = self.reports.get(key) if key is not None else None
        return kept if kept is not None and kept.inputs.holds_at(now) else None

    def read_again(self, session: Session, settings: Settings, batch: Sequence[Inputs]) -> list[bool]:
        """Whether each of ``batch`` (kept reports' inputs) reads the same now through ``session``:
        one statement per kept report."""
        local_keys = LocalKeyResolver(session, settings)
        statuses = self.status_resolver(session, settings)
        return [reads_the_same(inputs, session, settings, local_keys, statuses) for inputs in batch]

    async def fresh_kept(
        self, engine: Engine, settings: Settings, source: Mapping[str, Any] | str | bytes, *, now: datetime
    ) -> KeptReport | None:
        """The kept report of ``source`` when every input it was computed from reads the same now,
        or None. Its inputs are read again on ``engine`` by a read that starts after this call and
        is shared with the other requests of this event loop asking meanwhile
        (:class:`~service.core.coalesce.Coalescer`): one worker-thread hop and one connection per
        batch instead of per request, and still no verdict older than the request. Nothing is
        read when nothing is kept. Read-only: copy the report before changing it."""
        kept = self.kept_at(settings, source, now)
        if kept is None:
            return None
        rereads = self._rereads.of(self._read_again_on, engine, settings)
        if not await rereads.ask(id(kept.inputs), kept.inputs):
            return None
        self.reports.count(hit=True)
        return kept

    def _read_again_on(self, engine: Engine, settings: Settings, batch: Sequence[Inputs]) -> list[bool]:
        """:meth:`read_again` in an autocommitting session of its own (a worker thread's)."""
        with Session(autocommitting(engine)) as session:
            return self.read_again(session, settings, batch)


def verify_in_session(
    session: Session,
    settings: Settings,
    source: Mapping[str, Any] | str | bytes,
    *,
    keystore: Keystore | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """A one-off verification outside a request (scripts, tests): :meth:`Verifier.verify` with
    remote resolvers of its own. Requests use the app's shared :class:`Verifier` instead."""
    return Verifier.online().verify(session, settings, source, keystore=keystore, now=now)
