"""A :class:`~service.vc.did.KeyResolver` over this deployment's own issuers, from the database.

The service never fetches its own DID documents over HTTP: it builds them from the database exactly
as the public routes serve them, and resolves a verification method in that document (so the
answer, including the method's purposes, is the one an outside verifier would get). Only did:web
DIDs of this deployment (the host DID and ``...:issuers:<id>``) are resolved; anything else raises
:class:`~service.vc.errors.KeyResolutionError`, so the verification route can chain this resolver
with :class:`~service.vc.did.DidKeyResolver`. No network, ever.

A DID document is built once per version of the issuer's key set (issue 15): building one parses
every public key (an RSA 3072 key among them), which is most of a resolution's cost. Each
resolution still reads the issuer's keys and former DIDs (two indexed queries), and the
document, its methods and the compromise reasons are kept in a bounded process-wide cache keyed
by everything they are built from (:func:`key_set_version`): a new, retired or compromised key, or
a DID move, is a new version, seen by the next resolution in every worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from sqlmodel import Session, col, select

from service.core.config import Settings
from service.issuers.did_moves import alias_document
from service.issuers.models import Issuer, IssuerDidAlias, SigningKey
from service.issuers.service import did_document
from service.vc.did import VerificationMethod, did_web_from_url, methods_in_document
from service.vc.errors import KeyResolutionError

DOCUMENT_CACHE_SIZE = 1024
"""DID documents kept per process (a few KiB each): one per issuer and key-set version in use."""


class _Documents:
    """A bounded, thread-safe LRU map from a key-set version to (document, methods)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, tuple[dict[str, Any], list[VerificationMethod]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: Hashable) -> tuple[dict[str, Any], list[VerificationMethod]] | None:
        with self._lock:
            found = self._items.get(version)
            if found is not None:
                self._items.move_to_end(version)
            return found

    def put(self, version: Hashable, value: tuple[dict[str, Any], list[VerificationMethod]]) -> None:
        with self._lock:
            self._items[version] = value
            self._items.move_to_end(version)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


DOCUMENTS = _Documents(DOCUMENT_CACHE_SIZE)
"""The process-wide cache of built DID documents (:class:`LocalKeyResolver`)."""


def _keys_of(session: Session, issuer_id: str) -> list[SigningKey]:
    return list(
        session.exec(
            select(SigningKey)
            .where(SigningKey.issuer_id == issuer_id)
            .order_by(col(SigningKey.created_at), col(SigningKey.fragment))
        )
    )


def key_set_version(did: str, also_known_as: list[str], keys: list[SigningKey]) -> Hashable:
    """Everything a DID document and its compromise reasons are built from: the DID, its former
    (or current) DIDs, and each key's id, fragment, algorithm, dates and compromise reason. A key's
    public JWK never changes under its id (a new key is a new row)."""
    return (
        did,
        tuple(also_known_as),
        tuple(
            (k.id, k.fragment, k.algorithm, k.created_at, k.retired_at, k.compromised_at, k.compromise_reason)
            for k in keys
        ),
    )


class LocalKeyResolver:
    """Resolves ``did:web:<this service>[:issuers:<id>]#<fragment>`` from the database.

    Retired keys resolve too (they stay in the DID document so old credentials verify). A key
    reported compromised resolves with the document's ``revoked`` date and no purposes, plus the
    reason the issuer gave (which the public document does not carry), so the verification report
    can say why. A DID's key set is read once per resolver (make one per request or command);
    the document built from it comes from :data:`DOCUMENTS` when that key set was seen before.
    :attr:`versions` says which key-set version each DID resolved at.
    """

    def __init__(self, session: Session, settings: Settings) -> None:
        self._session = session
        self._base_did = did_web_from_url(settings.public_url)
        self._methods_by_did: dict[str, list[VerificationMethod]] = {}
        self.versions: dict[str, Hashable] = {}
        """The key-set version (:func:`key_set_version`) each DID resolved so far was read at."""

    def _is_ours(self, did: str) -> bool:
        if did == self._base_did:
            return True
        rest = did.removeprefix(self._base_did + ":issuers:")
        if rest != did and bool(rest) and ":" not in rest:
            return True
        # a DID an issuer held before the public URL changed (skillcred issuers move-dids)
        return did in self._methods_by_did or self._session.get(IssuerDidAlias, did) is not None

    def _read(self, did: str) -> tuple[Issuer | None, list[str], list[SigningKey]] | None:
        """The issuer holding ``did`` now (None for a former DID), the DIDs its document lists under
        ``alsoKnownAs`` and its keys; None when ``did`` is no DID of this service's issuers."""
        issuer = self._session.exec(select(Issuer).where(Issuer.did == did)).first()
        if issuer is not None:
            previous = self._session.exec(
                select(IssuerDidAlias.did)
                .where(IssuerDidAlias.issuer_id == issuer.id)
                .order_by(col(IssuerDidAlias.moved_at), col(IssuerDidAlias.did))
            ).all()
            return issuer, list(previous), _keys_of(self._session, issuer.id)
        alias = self._session.get(IssuerDidAlias, did)
        if alias is None:
            return None
        current = self._session.get_one(Issuer, alias.issuer_id)
        return None, [current.did], _keys_of(self._session, alias.issuer_id)

    def version(self, did: str) -> Hashable | None:
        """The current key-set version of ``did`` (:func:`key_set_version`), read now; None when it
        is no DID of this service's issuers. Not remembered: each call reads the database."""
        read = self._read(did)
        return None if read is None else key_set_version(did, read[1], read[2])

    def _methods(self, did: str) -> list[VerificationMethod]:
        if did in self._methods_by_did:
            return self._methods_by_did[did]
        read = self._read(did)
        if read is None:
            raise KeyResolutionError(f"{did} is not an issuer of this service")
        issuer, also_known_as, keys = read
        version = key_set_version(did, also_known_as, keys)
        cached = DOCUMENTS.get(version)
        if cached is None:
            # built by the functions the public routes serve documents with, so both always agree
            document = did_document(self._session, issuer) if issuer is not None else alias_document(self._session, did)
            if document is None:  # the alias went away between the two reads
                raise KeyResolutionError(f"{did} is not an issuer of this service")
            reasons = {f"{did}#{k.fragment}": k.compromise_reason for k in keys if k.compromised_at is not None}
            methods = [
                replace(method, revocation_reason=reasons.get(method.id) or None)
                if method.revoked is not None
                else method
                for method in methods_in_document(document)
            ]
            cached = (document, methods)
            DOCUMENTS.put(version, cached)
        self.versions[did] = version
        self._methods_by_did[did] = cached[1]
        return cached[1]

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        """The method and its purposes, or :class:`KeyResolutionError`."""
        did, _, fragment = verification_method_id.partition("#")
        if not did.startswith("did:web:") or not self._is_ours(did):
            raise KeyResolutionError(f"{verification_method_id!r} is not a DID of this service")
        if not fragment:
            raise KeyResolutionError(f"{verification_method_id!r} names no key (no #fragment)")
        for method in self._methods(did):
            if method.id == verification_method_id:
                return method
        raise KeyResolutionError(f"{verification_method_id!r} is not a key of {did}")

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        """Every method of one of this deployment's issuer DIDs, or :class:`KeyResolutionError`."""
        if not controller.startswith("did:web:") or not self._is_ours(controller):
            raise KeyResolutionError(f"{controller!r} is not a DID of this service")
        return self._methods(controller)
