"""Typed errors of the credential core. Each carries a stable machine-readable ``code``."""

from __future__ import annotations


class VCError(Exception):
    """Base class: ``code`` is stable (reports and API errors use it), ``str(err)`` is for humans."""

    code = "vc_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class DocumentLoaderError(VCError):
    """A JSON-LD context or document was requested that is not bundled (no network fetch, ever)."""

    code = "document_not_bundled"


class JsonLdSafeModeError(VCError):
    """The document uses terms or IRIs that would not be signed (dropped terms, relative IRIs)."""

    code = "jsonld_safe_mode"


class CanonicalizationError(VCError):
    """RDFC-1.0 refused the input, e.g. a poison graph that exceeds the work limit."""

    code = "canonicalization_failed"


class KeyError_(VCError):
    """A key is malformed, unsupported or cannot be resolved."""

    code = "key_error"


class KeyResolutionError(VCError):
    """A verification method or DID could not be resolved to a trusted public key."""

    code = "key_resolution_failed"


class ProofError(VCError):
    """A proof could not be created or does not verify."""

    code = "invalid_proof"


class JwtError(VCError):
    """A VC-JWT is malformed, uses a refused algorithm, or does not verify."""

    code = "invalid_jwt"


class StatusListError(VCError):
    """A status list or status entry is malformed (``code`` follows Bitstring Status List names)."""

    code = "STATUS_LIST_ERROR"


class BakingError(VCError):
    """A badge image could not be baked or holds no (or a malformed) credential."""

    code = "baking_error"


class SchemaValidationError(VCError):
    """A credential does not conform to the Open Badges 3.0 JSON Schema."""

    code = "schema_invalid"

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
