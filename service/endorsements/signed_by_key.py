"""What one issuer key signed: the credentials and issuer-signed endorsements this service stores
whose signature is the key's, for the issuer to reissue once it reported the key compromised.

A credential is signed twice: its JSON-LD by the issuer's Ed25519 key (an eddsa-rdfc-2022 proof
naming the key's verification method) and its VC-JWT by the issuer's RSA key (the ``kid`` header);
an issuer-signed endorsement by the Ed25519 key. The database narrows the candidates by text (the
method id in the JSON-LD; in the VC-JWT, the base64url form that id takes in the header), then
each candidate is read to confirm that its own signature names the key (not, say, the proof of an
endorsement a reissued credential embeds). The method is matched under every DID the issuer held.

Lives here because it reads both credentials and endorsements; no FastAPI, and nothing commits.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import or_
from sqlmodel import Session, col, select

from service.core.paging import PageParams
from service.credentials.models import Credential
from service.endorsements.models import Endorsement, EndorsementKind
from service.issuers.did_moves import dids_of
from service.issuers.models import Issuer, SigningKey
from service.vc import jose
from service.vc.errors import VCError

Format = Literal["json-ld", "vc-jwt"]


@dataclass(frozen=True)
class SignedRecord:
    """A credential or endorsement the key signed, and which of its signed forms carry the key's
    signature."""

    kind: Literal["credential", "endorsement"]
    id: str
    credential_id: str
    formats: tuple[Format, ...]
    issued_at: datetime
    state: str


def signed_by_key(session: Session, issuer: Issuer, key: SigningKey) -> list[SignedRecord]:
    """Every credential and issuer-signed endorsement of ``issuer`` that ``key`` signed, oldest first."""
    methods = {f"{did}#{key.fragment}" for did in dids_of(session, issuer)}
    quoted = [f'"{method}"' for method in sorted(methods)]
    in_jsonld = [col(Credential.jsonld).contains(q, autoescape=True) for q in quoted]
    in_jwt = [col(Credential.vc_jwt).contains(n, autoescape=True) for q in quoted for n in base64url_needles(q)]
    credentials = session.exec(select(Credential).where(Credential.issuer_id == issuer.id, or_(*in_jsonld, *in_jwt)))
    records = []
    for credential in credentials:
        formats: list[Format] = []
        if proof_methods(credential.jsonld) & methods:
            formats.append("json-ld")
        if jwt_key_id(credential.vc_jwt) in methods:
            formats.append("vc-jwt")
        if formats:
            records.append(
                SignedRecord(
                    "credential", credential.id, credential.id, tuple(formats), credential.issued_at, credential.state
                )
            )
    endorsements = session.exec(
        select(Endorsement).where(
            Endorsement.issuer_id == issuer.id,
            Endorsement.kind == EndorsementKind.issuer_signed,
            or_(*(col(Endorsement.jsonld).contains(q, autoescape=True) for q in quoted)),
        )
    )
    for endorsement in endorsements:
        if proof_methods(endorsement.jsonld) & methods:
            records.append(
                SignedRecord(
                    "endorsement",
                    endorsement.id,
                    endorsement.credential_id,
                    ("json-ld",),
                    endorsement.issued_at,
                    endorsement.state,
                )
            )
    return sorted(records, key=lambda r: (r.issued_at, r.kind, r.id))


def page_of(records: list[SignedRecord], params: PageParams) -> tuple[list[SignedRecord], int]:
    """One page of ``records`` and their total, as :func:`service.core.paging.paginate` answers."""
    return records[params.offset : params.offset + params.limit], len(records)


def proof_methods(jsonld: str) -> set[str]:
    """The verification methods of a stored JSON-LD document's own proofs (not of documents it embeds)."""
    try:
        document: Any = json.loads(jsonld)
    except ValueError:
        return set()
    proofs = document.get("proof") if isinstance(document, dict) else None
    proofs = proofs if isinstance(proofs, list) else [proofs]
    methods = (proof.get("verificationMethod") for proof in proofs if isinstance(proof, dict))
    return {method for method in methods if isinstance(method, str)}


def jwt_key_id(token: str) -> str | None:
    """The ``kid`` header of a stored VC-JWT."""
    try:
        header, _ = jose.decode_vc_jwt_unverified(token)
    except VCError:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def base64url_needles(text: str) -> list[str]:
    """What ``text`` (UTF-8) looks like inside base64url data, wherever it sits: one string per
    byte alignment (three), without the edge characters that also encode neighbouring bytes."""
    data = text.encode("utf-8")
    needles = []
    for offset in range(3):
        encoded = base64.urlsafe_b64encode(b"\0" * offset + data).decode("ascii").rstrip("=")
        first = -(-offset * 8 // 6)  # the first character made only of ``text``'s bits
        needles.append(encoded[first : (offset + len(data)) * 8 // 6])
    return needles
