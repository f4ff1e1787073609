"""SkillCred's credential core: Open Badges 3.0 on W3C Verifiable Credentials, signed and verified
exactly as the standards say, offline.

Pure: no web framework, no database, no network (a test asserts it). I/O comes in through three
Protocols the caller implements: :class:`Signer` (holds the private key), :class:`KeyResolver`
(dereferences verification methods) and :class:`StatusListResolver` (fetches status lists).
The submodules hold the full API; this namespace re-exports the parts most callers need.
"""

from .baking import bake_png, bake_svg, extract_baked
from .data_integrity import sign as sign_data_integrity
from .data_integrity import verify_proofs
from .did import (
    ChainedKeyResolver,
    DidKeyResolver,
    DocumentKeyResolver,
    KeyResolver,
    PublishedKey,
    VerificationMethod,
    build_did_document,
    did_key,
    did_web_document_url,
    did_web_from_url,
)
from .errors import VCError
from .jose import sign_vc_jwt, verify_vc_jwt
from .jsonld import canonize
from .keys import LocalSigner, Signer, did_key_signer, generate_ed25519
from .openbadges import build_achievement, build_achievement_credential, hashed_email_identity, validate_credential
from .report import Check, VerificationReport
from .status_list import BitstringStatusList, MappedStatusListResolver, StatusListResolver
from .verify import verify

__all__ = [
    "BitstringStatusList",
    "ChainedKeyResolver",
    "Check",
    "DidKeyResolver",
    "DocumentKeyResolver",
    "KeyResolver",
    "LocalSigner",
    "MappedStatusListResolver",
    "PublishedKey",
    "Signer",
    "StatusListResolver",
    "VCError",
    "VerificationMethod",
    "VerificationReport",
    "bake_png",
    "bake_svg",
    "build_achievement",
    "build_achievement_credential",
    "build_did_document",
    "canonize",
    "did_key",
    "did_key_signer",
    "did_web_document_url",
    "did_web_from_url",
    "extract_baked",
    "generate_ed25519",
    "hashed_email_identity",
    "sign_data_integrity",
    "sign_vc_jwt",
    "validate_credential",
    "verify",
    "verify_proofs",
    "verify_vc_jwt",
]
