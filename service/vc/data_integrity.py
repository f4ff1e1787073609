"""Data Integrity proofs: ``eddsa-rdfc-2022`` create and verify; legacy suites verify-only.

Follows W3C vc-di-eddsa 1.0 (eddsa-rdfc-2022) exactly:

1. transform: canonicalize the document without ``proof`` (RDFC-1.0, safe mode);
2. proof configuration: the proof options without ``proofValue``, with the document's
   ``@context``, canonicalized the same way;
3. hash: ``SHA-256(canonical proof config) || SHA-256(canonical document)``;
4. sign that with Ed25519; ``proofValue`` = ``z`` + base58btc(signature).

Verify-only, reported as deprecated: ``eddsa-2022`` (the draft name of the same algorithm) and
``Ed25519Signature2020`` (same hashing, its own proof type and context). A proof set verifies when
any proof from a method the issuer controls is valid (Open Badges 3.0); proof chains
(``previousProof``) are verified over the proofs they name.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from .budget import Budget, unlimited
from .did import KeyResolver, VerificationMethod
from .errors import KeyError_, KeyResolutionError, ProofError, VCError
from .jsonld import DEFAULT_LOADER, DocumentLoader, canonize, loaders_for
from .keys import Signer, verify_ed25519
from .multikey import multibase_decode, multibase_encode

EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
EDDSA_2022 = "eddsa-2022"
DATA_INTEGRITY_PROOF = "DataIntegrityProof"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"

#: (proof type, cryptosuite) -> deprecated?
SUPPORTED_SUITES: dict[tuple[str, str | None], bool] = {
    (DATA_INTEGRITY_PROOF, EDDSA_RDFC_2022): False,
    (DATA_INTEGRITY_PROOF, EDDSA_2022): True,
    (ED25519_SIGNATURE_2020, None): True,
}

_XSD_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class ProofInputs:
    """What a proof signs: both canonical forms and the 64-byte hash data (for known-answer tests)."""

    canonical_document: str
    canonical_proof_config: str
    hash_data: bytes


@dataclass(frozen=True)
class ProofVerification:
    """The outcome for one proof of a document."""

    index: int
    type: str
    cryptosuite: str | None
    verification_method: str | None
    verified: bool
    reason: str
    code: str | None = None
    deprecated: bool = False

    @property
    def suite(self) -> str:
        """``cryptosuite`` for DataIntegrityProof, else the proof type."""
        return self.cryptosuite or self.type


def utc_now_xsd() -> str:
    """The current time as an XML Schema dateTime in UTC, seconds precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def proof_inputs(
    unsecured_document: Mapping[str, Any],
    proof_options: Mapping[str, Any],
    loader: DocumentLoader | None = None,
    *,
    utf16_order: bool = False,
) -> ProofInputs:
    """Canonicalize and hash a document (without its proof) and proof options (without value).

    ``utf16_order`` is for verifying proofs made with digitalbazaar's sort quirk only.
    """
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    config["@context"] = unsecured_document.get("@context")
    canonical_config = canonize(config, loader, utf16_order=utf16_order)
    canonical_document = canonize(unsecured_document, loader, utf16_order=utf16_order)
    hash_data = (
        hashlib.sha256(canonical_config.encode("utf-8")).digest()
        + hashlib.sha256(canonical_document.encode("utf-8")).digest()
    )
    return ProofInputs(canonical_document, canonical_config, hash_data)


def create_proof(
    document: Mapping[str, Any],
    signer: Signer,
    *,
    created: str | None = None,
    proof_purpose: str = "assertionMethod",
    proof_id: str | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """An ``eddsa-rdfc-2022`` DataIntegrityProof over ``document`` (any existing proof is ignored).

    Raises :class:`ProofError` when the signer is not Ed25519 and the JSON-LD errors of
    :mod:`service.vc.jsonld` when the document would not be fully signed (safe mode).
    """
    if signer.algorithm != "EdDSA":
        raise ProofError(f"eddsa-rdfc-2022 needs an Ed25519 key, not {signer.algorithm}", code="unsupported_key_type")
    created = created or utc_now_xsd()
    if not _XSD_DATETIME.match(created):
        raise ProofError(f"created {created!r} is not an XML Schema dateTime", code="malformed_proof")
    proof: dict[str, Any] = {"type": DATA_INTEGRITY_PROOF, "cryptosuite": EDDSA_RDFC_2022}
    if proof_id:
        proof["id"] = proof_id
    proof |= {"created": created, "verificationMethod": signer.verification_method, "proofPurpose": proof_purpose}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    inputs = proof_inputs(unsecured, proof, loader)
    proof["proofValue"] = multibase_encode(signer.sign(inputs.hash_data))
    return proof


def sign(document: Mapping[str, Any], signer: Signer, *, proof_as_list: bool = False, **options: Any) -> dict[str, Any]:
    """A copy of ``document`` secured with an added eddsa-rdfc-2022 proof (see :func:`create_proof`).

    A document that already has a proof gets a proof set (the new proof is appended).
    ``proof_as_list`` writes a lone proof as a one-element list: JSON-LD reads both the same, but
    the 1EdTech Open Badges JSON Schema accepts only the list form.
    """
    proof = create_proof(document, signer, **options)
    secured = copy.deepcopy(dict(document))
    existing = secured.get("proof")
    if existing is None:
        secured["proof"] = [proof] if proof_as_list else proof
    else:
        secured["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
    return secured


def verify_proofs(
    document: Mapping[str, Any],
    key_resolver: KeyResolver,
    *,
    expected_controller: str | None = None,
    proof_purpose: str = "assertionMethod",
    budget: Budget | None = None,
    verified_before: VerifiedProofs | None = None,
) -> list[ProofVerification]:
    """Verify every proof of ``document``; never raises for a bad proof, reports it instead.

    ``expected_controller`` (the credential's issuer id) must control each verification method (a
    valid signature by a key nobody ties to the issuer proves nothing about the issuer), and the
    controller document must list the method under ``proof_purpose``.

    The work is bounded before it is done: more proofs than ``budget.limits.max_proofs`` fail
    at once (``too_many_proofs``), each canonical form (the document per context variant, each
    proof configuration) is computed at most once per call, and every canonicalization is charged
    to ``budget`` (a :class:`~service.vc.budget.BudgetExceeded` fails the remaining proofs).
    """
    proofs = document.get("proof")
    if proofs is None:
        return []
    proofs = proofs if isinstance(proofs, list) else [proofs]
    budget = budget or unlimited()
    if len(proofs) > budget.limits.max_proofs:
        reason = f"{len(proofs)} proofs; at most {budget.limits.max_proofs} are verified"
        return [ProofVerification(0, "?", None, None, False, reason, "too_many_proofs")]
    # one proof canonicalises each form once anyway: no memo, so no JSON key to compute per form
    canonical: dict[tuple[str, int, bool], str] | None = {} if len(proofs) > 1 else None
    digest = None if verified_before is None else VerifiedProofs.digest(document)
    results = []
    for i in range(len(proofs)):
        result = _verify_one(
            document,
            proofs,
            i,
            key_resolver,
            expected_controller,
            proof_purpose,
            budget,
            canonical,
            None if verified_before is None or digest is None else (verified_before, digest),
        )
        results.append(result)
    return results


class VerifiedProofs:
    """Proofs already found valid, so a document seen again (a status list every credential of
    an issuer points to) is not canonicalised and checked again: a bounded, thread-safe LRU.

    The key is the document's exact JSON (a SHA-256 of it), the proof's position, and the
    verification method as resolved for this very call (its id, controller, public key and
    relationships): a changed bit, or a key its controller has since revoked or dropped, misses.
    Only valid proofs are kept; the verification itself is deterministic, so a hit gives the
    same answer the work would.
    """

    def __init__(self, maxsize: int = 256) -> None:
        self._maxsize = maxsize
        self._entries: OrderedDict[tuple[Any, ...], ProofVerification] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def digest(document: Mapping[str, Any]) -> bytes | None:
        """SHA-256 of the document's JSON, or None when it is not plain JSON."""
        try:
            text = json.dumps(document, sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return None
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()

    @staticmethod
    def key(digest: bytes, index: int, method: VerificationMethod, proof_purpose: str) -> tuple[Any, ...]:
        public = (
            method.public_key.public_bytes_raw() if isinstance(method.public_key, ed25519.Ed25519PublicKey) else None
        )
        purposes = tuple(sorted(method.purposes))
        return (digest, index, method.id, method.controller, public, purposes, method.revoked, proof_purpose)

    def get(self, key: tuple[Any, ...]) -> ProofVerification | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return found

    def put(self, key: tuple[Any, ...], result: ProofVerification) -> None:
        if not result.verified:
            return
        with self._lock:
            self._entries[key] = result
            self._entries.move_to_end(key)
            while len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)


def _canonical_once(
    value: Mapping[str, Any],
    loader: DocumentLoader,
    utf16_order: bool,
    budget: Budget,
    memo: dict[tuple[str, int, bool], str] | None,
) -> str:
    """``canonize(value)``, computed once per (value, loader, order) within one verification.

    ``memo`` is None when the document has a single proof: each (value, loader, order) is then
    asked for once at most, so the memo could never hit and its JSON key is not computed."""
    if memo is None:
        budget.charge(canonicalizations=1)
        return canonize(value, loader, utf16_order=utf16_order)
    key = (json.dumps(value, sort_keys=True, ensure_ascii=False), id(loader), utf16_order)
    if key not in memo:
        budget.charge(canonicalizations=1)
        memo[key] = canonize(value, loader, utf16_order=utf16_order)
    return memo[key]


def _verify_one(
    document: Mapping[str, Any],
    proofs: list[Any],
    index: int,
    key_resolver: KeyResolver,
    expected_controller: str | None,
    proof_purpose: str,
    budget: Budget,
    canonical: dict[tuple[str, int, bool], str] | None,
    memo: tuple[VerifiedProofs, bytes] | None = None,
) -> ProofVerification:
    proof = proofs[index]
    if not isinstance(proof, Mapping):
        return ProofVerification(index, "?", None, None, False, "proof is not an object", "malformed_proof")
    ptype, suite = str(proof.get("type")), proof.get("cryptosuite")
    method_id = proof.get("verificationMethod")
    key = (ptype, suite if ptype == DATA_INTEGRITY_PROOF else None)

    def result(verified: bool, reason: str, code: str | None = None) -> ProofVerification:
        return ProofVerification(
            index,
            ptype,
            suite if isinstance(suite, str) else None,
            method_id if isinstance(method_id, str) else None,
            verified,
            reason,
            code,
            SUPPORTED_SUITES.get(key, False),
        )

    if key not in SUPPORTED_SUITES:
        return result(False, f"unsupported proof suite {suite or ptype!r}", "unsupported_cryptosuite")
    try:
        _check_proof_fields(proof, proof_purpose)
        method = key_resolver.resolve(proof["verificationMethod"])  # a string: _check_proof_fields checked it
        if expected_controller is not None and method.controller != expected_controller:
            return result(
                False,
                f"verification method {method_id} is controlled by {method.controller}, "
                f"not the issuer {expected_controller}",
                "controller_mismatch",
            )
        if proof_purpose not in method.purposes:
            return result(
                False, f"{method_id} is not listed under {proof_purpose} by its controller", "purpose_mismatch"
            )
        if not isinstance(method.public_key, ed25519.Ed25519PublicKey):
            return result(False, f"{method_id} is not an Ed25519 key", "unsupported_key_type")
        signature = multibase_decode(proof["proofValue"])
        unsecured = _unsecured_document(document, proofs, proof)
    except (VCError, KeyError_, KeyResolutionError) as err:
        return result(False, str(err), err.code)
    if memo is not None:
        verified_before, digest = memo
        memo_key = VerifiedProofs.key(digest, index, method, proof_purpose)
        seen = verified_before.get(memo_key)
        if seen is not None:
            return seen
        found = _verify_signature(unsecured, proof, method, signature, budget, canonical, result)
        verified_before.put(memo_key, found)
        return found
    return _verify_signature(unsecured, proof, method, signature, budget, canonical, result)


def _verify_signature(
    unsecured: Mapping[str, Any],
    proof: Mapping[str, Any],
    method: VerificationMethod,
    signature: bytes,
    budget: Budget,
    canonical: dict[tuple[str, int, bool], str] | None,
    result: Callable[..., ProofVerification],
) -> ProofVerification:
    """Canonicalise (per context variant and sort order, as needed) and check the signature."""
    ptype, suite, method_id = str(proof.get("type")), proof.get("cryptosuite"), proof.get("verificationMethod")
    public_key = method.public_key
    if not isinstance(public_key, ed25519.Ed25519PublicKey):  # checked by the caller
        return result(False, f"{method_id} is not an Ed25519 key", "unsupported_key_type")
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = unsecured.get("@context")
    last_error: VCError | None = None
    # Code point order is RDFC-1.0; UTF-16 order is digitalbazaar's rdf-canonize
    # (https://github.com/digitalbazaar/rdf-canonize/issues/52), which differs only for text
    # beyond the BMP, so it is tried only then.
    for loader in loaders_for(unsecured):
        for utf16_order in _orders(unsecured):
            try:
                canonical_config = _canonical_once(config, loader, utf16_order, budget, canonical)
                canonical_document = _canonical_once(unsecured, loader, utf16_order, budget, canonical)
            except VCError as err:
                last_error = err
                if err.code == "verification_budget_exceeded":
                    return result(False, str(err), err.code)
                break
            hash_data = (
                hashlib.sha256(canonical_config.encode("utf-8")).digest()
                + hashlib.sha256(canonical_document.encode("utf-8")).digest()
            )
            # libsodium, not OpenSSL: ~2x faster here, and it refuses the identity point as a
            # public key (OpenSSL accepts R = identity, S = 0 for it, over any message)
            if not verify_ed25519(public_key, signature, hash_data):
                last_error = ProofError("signature does not match the document", code="invalid_signature")
                continue
            notes = [" with an alternate edition of a context"] if loader is not DEFAULT_LOADER else []
            if utf16_order:
                notes.append(" canonicalized in UTF-16 order as digitalbazaar's rdf-canonize does")
            return result(True, f"{suite or ptype} signature by {method_id} is valid" + ";".join(notes))
    assert last_error is not None
    return result(False, str(last_error), last_error.code)


def _orders(unsecured: Mapping[str, Any]) -> Iterator[bool]:
    """False (code point order), then True (UTF-16 order) only when the first did not verify and
    the document has text beyond the BMP: the only case where the two orders can differ."""
    yield False
    if _has_astral_characters(unsecured):
        yield True


def _has_astral_characters(document: Mapping[str, Any]) -> bool:
    """Whether any string beyond the BMP is in ``document``: such a character takes two UTF-16
    code units, so the UTF-16 form is longer than the text (in C, not a loop per character)."""
    text = json.dumps(document, ensure_ascii=False)
    return len(text.encode("utf-16-le", errors="surrogatepass")) != 2 * len(text)


def _check_proof_fields(proof: Mapping[str, Any], proof_purpose: str) -> None:
    for name in ("verificationMethod", "proofPurpose", "proofValue"):
        if not isinstance(proof.get(name), str):
            raise ProofError(f"proof.{name} is missing or not a string", code="malformed_proof")
    if proof["proofPurpose"] != proof_purpose:
        raise ProofError(
            f"proofPurpose is {proof['proofPurpose']!r}, expected {proof_purpose!r}", code="purpose_mismatch"
        )
    created = proof.get("created")
    if created is not None and not (isinstance(created, str) and _XSD_DATETIME.match(created)):
        raise ProofError(f"proof.created {created!r} is not an XML Schema dateTime", code="malformed_proof")


def _unsecured_document(document: Mapping[str, Any], proofs: list[Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The document a proof signed: without ``proof``, or with the proofs it chains from."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof_context = proof.get("@context")
    if proof_context is not None:
        doc_context = document.get("@context")
        doc_list = doc_context if isinstance(doc_context, list) else [doc_context]
        ctx_list = proof_context if isinstance(proof_context, list) else [proof_context]
        if doc_list[: len(ctx_list)] != ctx_list:
            raise ProofError("proof @context is not a prefix of the document @context", code="malformed_proof")
        unsecured["@context"] = proof_context
    previous = proof.get("previousProof")
    if previous is not None:
        wanted = previous if isinstance(previous, list) else [previous]
        by_id = {p.get("id"): p for p in proofs if isinstance(p, Mapping) and p.get("id")}
        missing = [w for w in wanted if w not in by_id]
        if missing:
            raise ProofError(f"previousProof {missing} not found in the proof set", code="malformed_proof")
        chained = [by_id[w] for w in wanted]
        unsecured["proof"] = chained[0] if len(chained) == 1 else chained
    return unsecured
