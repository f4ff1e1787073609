"""Verifying credentials for the API and the public badge page. No FastAPI here.

Keys resolve without any network: ``did:key`` offline, this deployment's own ``did:web`` issuers
from the database (:class:`~service.issuers.resolver.LocalKeyResolver`, the same DID documents the
public routes serve). A foreign ``did:web`` is not fetched: the report's ``issuer_key`` check says
that its key could not be resolved.

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

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.config import Settings
from service.issuers.resolver import LocalKeyResolver
from service.keystore import Keystore, load_kek
from service.status.resolver import LocalStatusListResolver
from service.vc.did import ChainedKeyResolver, DidKeyResolver, KeyResolver
from service.vc.report import VerificationReport
from service.vc.status_list import StatusListResolver
from service.vc.verify import verify

_remote_lock = threading.Lock()
_remote: list[StatusListResolver | None] = []


def key_resolver(session: Session, settings: Settings) -> KeyResolver:
    """did:key offline, then this deployment's did:web issuers from ``session``."""
    return ChainedKeyResolver(DidKeyResolver(), LocalKeyResolver(session, settings))


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


def status_resolver(session: Session, settings: Settings,
                    keystore: Keystore | None = None) -> LocalStatusListResolver:
    """This deployment's lists from ``session``, other services' through :func:`remote_status_resolver`.

    ``keystore`` signs a list that changed since its last signature; without one it is opened
    from the settings' KEK, and only if such a list is met.
    """
    factory: Callable[[], Keystore] = (lambda: keystore) if keystore is not None \
        else (lambda: Keystore(load_kek(settings)))
    return LocalStatusListResolver(session, settings, factory, fallback=remote_status_resolver())


def verify_in_session(session: Session, settings: Settings, source: Mapping[str, Any] | str | bytes,
                      *, keystore: Keystore | None = None, now: datetime | None = None) -> VerificationReport:
    """Verify ``source`` (JSON-LD, a compact VC-JWT or baked image bytes); never raises for bad input."""
    return verify(source, key_resolver=key_resolver(session, settings),
                  status_resolver=status_resolver(session, settings, keystore), now=now)


def verify_with_engine(engine: Engine, settings: Settings, source: Mapping[str, Any] | str | bytes,
                       *, keystore: Keystore | None = None, now: datetime | None = None) -> VerificationReport:
    """Like :func:`verify_in_session` with a read-only session of its own, opened and closed here
    (so it can run in a worker thread: the session never crosses threads)."""
    with Session(engine) as session:
        return verify_in_session(session, settings, source, keystore=keystore, now=now)
