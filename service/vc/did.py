"""DIDs and key resolution: ``did:key`` offline, ``did:web`` documents, and the KeyResolver Protocol.

A key is trusted only through resolution: a verification method id is dereferenced to the
controller document that lists it, never decoded from the look of its URL (Controlled Identifiers
1.0, section 3.3 Retrieve Verification Method, https://www.w3.org/TR/cid-1.0/#retrieve-verification-method).
An https URL whose fragment happens to look like a Multikey (``https://issuer.example/keys#z6Mk...``)
is not a key, or anyone could sign as that issuer; ``did:key`` is self-describing. The core does no
I/O: :class:`DocumentKeyResolver` works over documents someone else fetched (the service reads its
own database; the CLI reads ``--resolve URL=PATH`` files), and :class:`DidKeyResolver` needs none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, unquote, urlsplit

from .constants import DID_V1, MULTIKEY_V1
from .errors import KeyError_, KeyResolutionError
from .multikey import (
    PublicKey,
    jwk_to_public_key,
    multikey_to_public_key,
    public_key_to_jwk,
    public_key_to_multikey,
)

VERIFICATION_RELATIONSHIPS = (
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
    "keyAgreement",
)


@dataclass(frozen=True)
class VerificationMethod:
    """A resolved public key and what its controller document says about it.

    ``purposes`` holds the verification relationships (``assertionMethod`` ...) under which the
    controller document lists this method; a credential proof needs ``assertionMethod``.

    ``revoked`` is the method's ``revoked`` value when its controller document has one (Controlled
    Identifiers 1.0, section 2.2 Verification Methods: the dateTimeStamp from which the method
    MUST NOT be used); such a method serves no relationship, whatever the document lists it
    under. ``revocation_reason`` is why, when the resolver knows (this service's own issuers: the
    reason given when the key was reported compromised); controller documents do not say.
    """

    id: str
    type: str
    controller: str
    public_key: PublicKey
    purposes: frozenset[str] = field(default_factory=frozenset)
    revoked: str | None = None
    revocation_reason: str | None = None


@runtime_checkable
class KeyResolver(Protocol):
    """Dereferences a verification method id (DID URL or https URL) to a trusted public key."""

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        """The method, or :class:`KeyResolutionError` when it cannot be resolved."""
        ...

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        """Every method the controller document of ``controller`` (a DID) lists, with purposes.

        Raises :class:`KeyResolutionError` when the document cannot be had. A verifier uses it
        to decide whether a key offered in a JOSE ``jwk`` header is one the issuer publishes.
        """
        ...


def method_public_key(method: Mapping[str, Any]) -> PublicKey:
    """The public key of a verification method object (Multikey, Ed25519VerificationKey2020, JWK)."""
    if "publicKeyMultibase" in method:
        return multikey_to_public_key(method["publicKeyMultibase"])
    if "publicKeyJwk" in method:
        return jwk_to_public_key(method["publicKeyJwk"])
    raise KeyError_(
        f"Verification method {method.get('id')!r} holds no supported public key", code="unsupported_key_type"
    )


def _absolute(ref: str, base: str) -> str:
    return base + ref if ref.startswith("#") else ref


def methods_in_document(document: Mapping[str, Any]) -> list[VerificationMethod]:
    """Every verification method a controller (or DID) document defines, with its purposes."""
    doc_id = document.get("id")
    if not isinstance(doc_id, str):
        raise KeyResolutionError("Controller document has no id")
    objects: dict[str, Mapping[str, Any]] = {}
    purposes: dict[str, set[str]] = {}
    for method in _as_list(document.get("verificationMethod")):
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            objects[_absolute(method["id"], doc_id)] = method
    for relationship in VERIFICATION_RELATIONSHIPS:
        for entry in _as_list(document.get(relationship)):
            if isinstance(entry, str):
                purposes.setdefault(_absolute(entry, doc_id), set()).add(relationship)
            elif isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                absolute = _absolute(entry["id"], doc_id)
                objects.setdefault(absolute, entry)
                purposes.setdefault(absolute, set()).add(relationship)
    result = []
    for method_id, method in objects.items():
        revoked = method.get("revoked")
        result.append(
            VerificationMethod(
                id=method_id,
                type=str(method.get("type", "")),
                controller=str(method.get("controller", doc_id)),
                public_key=method_public_key(method),
                # a revoked method MUST NOT be used (CID 1.0, section 2.2): no relationship holds
                purposes=frozenset() if revoked is not None else frozenset(purposes.get(method_id, ())),
                revoked=None if revoked is None else str(revoked)[:64],
            )
        )
    return result


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- did:key -------------------------------------------------------------------------------

_MAX_CACHED_DID_URL = 512
"""An Ed25519 did:key URL is about 110 characters and a P-256 one about 100: longer strings are
resolved without being cached, so the cache stays small in bytes as well as in count."""


def did_key(public_key: PublicKey) -> str:
    """The ``did:key`` of an Ed25519 or P-256 public key."""
    return f"did:key:{public_key_to_multikey(public_key)}"


def resolve_did_key(did: str) -> dict[str, Any]:
    """The DID document of a ``did:key`` (Multikey form), computed offline."""
    if not did.startswith("did:key:"):
        raise KeyResolutionError(f"Not a did:key: {did!r}")
    multikey = did.removeprefix("did:key:").split("#", 1)[0]
    try:
        multikey_to_public_key(multikey)
    except KeyError_ as err:
        raise KeyResolutionError(f"Malformed did:key {did!r}: {err}") from err
    did = f"did:key:{multikey}"
    method_id = f"{did}#{multikey}"
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [
            {"id": method_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multikey}
        ],
        **{rel: [method_id] for rel in VERIFICATION_RELATIONSHIPS if rel != "keyAgreement"},
    }


@lru_cache(maxsize=1024)
def _did_key_method(verification_method_id: str) -> VerificationMethod:
    """The method a ``did:key`` DID URL names: a pure function of the exact string (the DID
    document of a did:key is derived from the key itself), so the result of a string is cached,
    bounded in count. A failure raises and is not cached."""
    did, _, fragment = verification_method_id.partition("#")
    document = resolve_did_key(did)
    method_id = verification_method_id if fragment else document["verificationMethod"][0]["id"]
    for method in methods_in_document(document):
        if method.id == method_id:
            return method
    raise KeyResolutionError(f"{verification_method_id!r} is not a key of {did}")


class DidKeyResolver:
    """Resolves ``did:key`` verification methods offline; refuses everything else."""

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        if not verification_method_id.startswith("did:key:"):
            raise KeyResolutionError(f"{verification_method_id!r} is not a did:key")
        if type(verification_method_id) is not str or len(verification_method_id) > _MAX_CACHED_DID_URL:
            return _did_key_method.__wrapped__(verification_method_id)  # exact, short strings only are kept
        return _did_key_method(verification_method_id)

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        if not controller.startswith("did:key:"):
            raise KeyResolutionError(f"{controller!r} is not a did:key")
        return methods_in_document(resolve_did_key(controller.partition("#")[0]))


# --- did:web -------------------------------------------------------------------------------


def did_web_from_url(url: str) -> str:
    """The ``did:web`` for a base URL: ``https://h:8000/issuers/abc`` -> ``did:web:h%3A8000:issuers:abc``."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise KeyResolutionError(f"Cannot make a did:web from {url!r}")
    segments = [quote(parts.netloc, safe="")]
    segments += [quote(s, safe="") for s in parts.path.strip("/").split("/") if s]
    return "did:web:" + ":".join(segments)


def did_web_document_url(did: str, *, scheme: str = "https") -> str:
    """Where a ``did:web`` DID document lives.

    The method-specific id is split on ``:`` first, then each part is percent-decoded, so a port
    survives (``did:web:127.0.0.1%3A8000:issuers:abc`` -> ``127.0.0.1:8000/issuers/abc/did.json``;
    did:web method, Read (Resolve), https://w3c-ccg.github.io/did-method-web/#read-resolve).

    ``scheme="http"`` is for local development only (``did:web:127.0.0.1%3A8000``).
    """
    if not did.startswith("did:web:"):
        raise KeyResolutionError(f"Not a did:web: {did!r}")
    parts = [unquote(p) for p in did.removeprefix("did:web:").split("#", 1)[0].split(":")]
    if not parts[0] or any(not p or "/" in p for p in parts):
        raise KeyResolutionError(f"Malformed did:web {did!r}")
    path = "/".join(parts[1:])
    return f"{scheme}://{parts[0]}/{path}/did.json" if path else f"{scheme}://{parts[0]}/.well-known/did.json"


@dataclass(frozen=True)
class PublishedKey:
    """A key to publish in a DID document: its fragment, public key, and relationships.

    ``revoked`` (an XML Schema dateTimeStamp) publishes the method as revoked from that moment
    (Controlled Identifiers 1.0, section 2.2 Verification Methods); a revoked key is listed under
    no relationship."""

    fragment: str
    public_key: PublicKey
    purposes: tuple[str, ...] = ("assertionMethod", "authentication")
    revoked: str | None = None


def build_did_document(did: str, keys: Iterable[PublishedKey], *, also_known_as: Iterable[str] = ()) -> dict[str, Any]:
    """A DID document for an issuer: Ed25519/P-256 keys as Multikey, RSA keys as JsonWebKey.

    The DID v1 context comes first (DID Core 1.0 requires ``https://www.w3.org/ns/did/v1`` as the
    first ``@context`` URI, https://www.w3.org/TR/did-core/#json-ld; digitalbazaar's verifier
    otherwise tries to frame the document with a context it will not fetch) and every id is
    absolute (it compares ``assertionMethod`` entries with the verification method id as strings),
    so the JavaScript verifiers accept it. Retired keys belong here too (listed without new uses elsewhere) so old
    credentials still verify; a revoked key stays listed with its ``revoked`` date, under no relationship.
    """
    methods: list[dict[str, Any]] = []
    relationships: dict[str, list[str]] = {rel: [] for rel in VERIFICATION_RELATIONSHIPS}
    for key in keys:
        method_id = f"{did}#{key.fragment}"
        method: dict[str, Any] = {"id": method_id, "controller": did}
        try:
            method |= {"type": "Multikey", "publicKeyMultibase": public_key_to_multikey(key.public_key)}
        except KeyError_:
            method |= {"type": "JsonWebKey", "publicKeyJwk": public_key_to_jwk(key.public_key)}
        if key.revoked is not None:
            method["revoked"] = key.revoked
        methods.append(method)
        for purpose in () if key.revoked is not None else key.purposes:
            relationships[purpose].append(method_id)
    document: dict[str, Any] = {"@context": [DID_V1, MULTIKEY_V1], "id": did}
    if also_known_as:
        document["alsoKnownAs"] = list(also_known_as)
    document["verificationMethod"] = methods
    document |= {rel: ids for rel, ids in relationships.items() if ids}
    return document


# --- resolvers over documents ----------------------------------------------------------------


class DocumentKeyResolver:
    """Resolves verification methods from controller/DID documents supplied up front.

    ``documents`` maps a URL to its JSON: a DID (``did:web:...``), its DID document URL
    (``https://host/.well-known/did.json``), or an https controller document URL. A method
    ``X#frag`` is found in the document mapped for ``X``; a key document whose own ``id`` is the
    method is accepted when its ``controller`` document is mapped too and lists it.
    """

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self._documents = dict(documents)

    def _document(self, url: str) -> Mapping[str, Any] | None:
        if url in self._documents:
            return self._documents[url]
        if url.startswith("did:web:"):
            for scheme in ("https", "http"):
                doc = self._documents.get(did_web_document_url(url, scheme=scheme))
                if doc is not None:
                    return doc
        return None

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        base, _, _ = verification_method_id.partition("#")
        document = self._document(base)
        if document is None:
            raise KeyResolutionError(f"No document for {verification_method_id!r} was supplied")
        if document.get("id") not in (base, verification_method_id):
            raise KeyResolutionError(f"The document for {base!r} has id {document.get('id')!r}")
        if (
            document.get("id") == verification_method_id
            and "controller" in document
            and document.get("controller") != base
        ):
            # a stand-alone key document: trust it only through its controller's document
            controller = self._document(str(document["controller"]))
            if controller is None:
                raise KeyResolutionError(f"Controller of {verification_method_id!r} was not supplied")
            document = controller
        for method in methods_in_document(document):
            if method.id == verification_method_id:
                return method
        raise KeyResolutionError(f"{verification_method_id!r} is not listed in its controller document")

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        document = self._document(controller)
        if document is None:
            raise KeyResolutionError(f"No document for {controller!r} was supplied")
        if document.get("id") != controller:
            raise KeyResolutionError(f"The document for {controller!r} has id {document.get('id')!r}")
        return methods_in_document(document)


class ChainedKeyResolver:
    """Tries each resolver in turn; the first that resolves wins."""

    def __init__(self, *resolvers: KeyResolver) -> None:
        self._resolvers = resolvers

    def resolve(self, verification_method_id: str) -> VerificationMethod:
        reasons = []
        for resolver in self._resolvers:
            try:
                return resolver.resolve(verification_method_id)
            except KeyResolutionError as err:
                reasons.append(str(err))
        raise KeyResolutionError("; ".join(reasons) or f"Cannot resolve {verification_method_id!r}")

    def methods_of(self, controller: str) -> list[VerificationMethod]:
        reasons = []
        for resolver in self._resolvers:
            try:
                return resolver.methods_of(controller)
            except KeyResolutionError as err:
                reasons.append(str(err))
        raise KeyResolutionError("; ".join(reasons) or f"Cannot resolve {controller!r}")
