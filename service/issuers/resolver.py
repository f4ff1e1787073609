"""A :class:`~service.vc.did.KeyResolver` over this deployment's own issuers, from the database.

The service never fetches its own DID documents over HTTP: it builds them from the database exactly
as the public routes serve them, and resolves a verification method in that document (so the
answer, including the method's purposes, is the one an outside verifier would get). Only did:web
DIDs of this deployment (the host DID and ``...:issuers:<id>``) are resolved; anything else raises
:class:`~service.vc.errors.KeyResolutionError`, so the verification route can chain this resolver
with :class:`~service.vc.did.DidKeyResolver`. No network, ever.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import Session, col, select

from service.core.config import Settings
from service.issuers.did_moves import alias_document
from service.issuers.models import Issuer, IssuerDidAlias, SigningKey
from service.issuers.service import did_document
from service.vc.did import VerificationMethod, did_web_from_url, methods_in_document
from service.vc.errors import KeyResolutionError


class LocalKeyResolver:
    """Resolves ``did:web:<this service>[:issuers:<id>]#<fragment>`` from the database.

    Retired keys resolve too (they stay in the DID document so old credentials verify). A key
    reported compromised resolves with the document's ``revoked`` date and no purposes, plus the
    reason the issuer gave (which the public document does not carry), so the verification report
    can say why. Documents are cached for the resolver's lifetime: make one per request or command.
    """

    def __init__(self, session: Session, settings: Settings) -> None:
        self._session = session
        self._base_did = did_web_from_url(settings.public_url)
        self._documents: dict[str, dict[str, Any]] = {}
        self._reasons: dict[str, str] = {}

    def _is_ours(self, did: str) -> bool:
        if did == self._base_did:
            return True
        rest = did.removeprefix(self._base_did + ":issuers:")
        if rest != did and bool(rest) and ":" not in rest:
            return True
        # a DID an issuer held before the public URL changed (skillcred issuers move-dids)
        return did in self._documents or self._session.get(IssuerDidAlias, did) is not None

    def _document(self, did: str) -> dict[str, Any]:
        if did not in self._documents:
            issuer = self._session.exec(select(Issuer).where(Issuer.did == did)).first()
            document = did_document(self._session, issuer) if issuer is not None else alias_document(self._session, did)
            if document is None:
                raise KeyResolutionError(f"{did} is not an issuer of this service")
            self._documents[did] = document
            issuer_id = issuer.id if issuer is not None else self._session.get_one(IssuerDidAlias, did).issuer_id
            compromised = self._session.exec(
                select(SigningKey.fragment, SigningKey.compromise_reason).where(
                    SigningKey.issuer_id == issuer_id, col(SigningKey.compromised_at).is_not(None)
                )
            )
            self._reasons |= {f"{did}#{fragment}": reason for fragment, reason in compromised if reason}
        return self._documents[did]

    def _methods(self, did: str) -> list[VerificationMethod]:
        document = self._document(did)
        return [
            replace(method, revocation_reason=self._reasons.get(method.id)) if method.revoked is not None else method
            for method in methods_in_document(document)
        ]

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
