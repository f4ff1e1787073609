"""Verifying credentials for the API and the public badge page. No FastAPI here.

Keys: ``did:key`` offline, this deployment's own ``did:web`` issuers from the database
(:class:`~service.issuers.resolver.LocalKeyResolver`, the same DID documents the public routes
serve), then another service's ``did:web`` fetched over HTTPS by
``service.net.did_web.RemoteDidWebResolver`` (size caps, private addresses refused, cached for
five minutes) when that module is installed. A ``did:web`` on this deployment's own host (that of
``settings.public_url``) is never fetched: the service does not make HTTP requests to itself.

Status lists: this deployment's own (``{public_url}/status/{id}``) are read from the database
with their bits as they are now (:class:`~service.status.resolver.LocalStatusListResolver`), so a
revocation fails verification at once. Other issuers' lists go to
``service.net.status.RemoteStatusListResolver`` (HTTPS, size caps, private addresses refused,
cached per ``ttl``) when that module is installed; without it they are reported unavailable, a
warning in the report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.core.config import Settings
from service.core.keystore import Keystore, load_kek
from service.issuers.resolver import LocalKeyResolver
from service.status.resolver import LocalStatusListResolver
from service.vc.did import ChainedKeyResolver, DidKeyResolver, KeyResolver, VerificationMethod
from service.vc.errors import KeyResolutionError
from service.vc.report import VerificationReport
from service.vc.status_list import StatusListResolver
from service.vc.verify import verify

_remote_lock = threading.Lock()
_remote: list[StatusListResolver | None] = []
_remote_keys: list[KeyResolver | None] = []


def remote_key_resolver() -> KeyResolver | None:
    """The process-wide resolver for other services' did:web keys (one, so its cache is shared),
    or None when ``service.net.did_web`` is not part of this build."""
    with _remote_lock:
        if not _remote_keys:
            try:
                from service.net.did_web import RemoteDidWebResolver
            except ImportError:
                _remote_keys.append(None)
            else:
                _remote_keys.append(RemoteDidWebResolver())
        return _remote_keys[0]


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
        self._refuse_own_host(verification_method_id)
        return self._remote.resolve(verification_method_id)

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        self._refuse_own_host(controller)
        return self._remote.methods_of(controller)


def key_resolver(session: Session, settings: Settings) -> KeyResolver:
    """did:key offline, this deployment's did:web issuers from ``session``, then other services'
    did:web documents over HTTPS (never this deployment's host)."""
    resolvers: list[KeyResolver] = [DidKeyResolver(), LocalKeyResolver(session, settings)]
    remote = remote_key_resolver()
    if remote is not None:
        resolvers.append(ForeignDidWebResolver(remote, settings))
    return ChainedKeyResolver(*resolvers)


def remote_status_resolver() -> StatusListResolver | None:
    """The process-wide resolver for other services' status lists (one, so its ``ttl`` cache is
    shared), or None when ``service.net.status`` is not part of this build."""
    with _remote_lock:
        if not _remote:
            try:
                from service.net.status import RemoteStatusListResolver
            except ImportError:
                _remote.append(None)
            else:
                _remote.append(RemoteStatusListResolver())
        return _remote[0]


def status_resolver(session: Session, settings: Settings, keystore: Keystore | None = None) -> LocalStatusListResolver:
    """This deployment's lists from ``session``, other services' through :func:`remote_status_resolver`.

    ``keystore`` signs a list that changed since its last signature; without one it is opened
    from the settings' KEK, and only if such a list is met.
    """
    factory: Callable[[], Keystore] = (
        (lambda: keystore) if keystore is not None else (lambda: Keystore(load_kek(settings)))
    )
    return LocalStatusListResolver(session, settings, factory, fallback=remote_status_resolver())


def verify_in_session(
    session: Session,
    settings: Settings,
    source: Mapping[str, Any] | str | bytes,
    *,
    keystore: Keystore | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """Verify ``source`` (JSON-LD, a compact VC-JWT or baked image bytes); never raises for bad input."""
    return verify(
        source,
        key_resolver=key_resolver(session, settings),
        status_resolver=status_resolver(session, settings, keystore),
        now=now,
    )


def verify_with_engine(
    engine: Engine,
    settings: Settings,
    source: Mapping[str, Any] | str | bytes,
    *,
    keystore: Keystore | None = None,
    now: datetime | None = None,
) -> VerificationReport:
    """Like :func:`verify_in_session` with a read-only session of its own, opened and closed here
    (so it can run in a worker thread: the session never crosses threads)."""
    with Session(engine) as session:
        return verify_in_session(session, settings, source, keystore=keystore, now=now)
