"""VC-JWT claims: how a credential maps to ``iss``/``jti``/``nbf``/``sub``/``exp`` (Open Badges 3.0
section 8.2) and how a verified payload is checked against the credential it carries."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .constants import CREDENTIALS_V1
from .errors import JwtError

#: Registered JWT claim names: taken out of a VCDM 2.0 payload to recover the credential.
JWT_CLAIM_NAMES = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


# --- credential <-> claims -------------------------------------------------------------------


def _issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) and issuer else None


def _subjects(credential: dict[str, Any]) -> list[Any]:
    subjects = credential.get("credentialSubject")
    return subjects if isinstance(subjects, list) else [subjects]


def is_vcdm_1_1(credential: dict[str, Any]) -> bool:
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    return first == CREDENTIALS_V1


def _date(credential: dict[str, Any], vcdm2: str, vcdm1: str) -> tuple[str, datetime | None]:
    """(name, value) of validFrom/validUntil, or of issuanceDate/expirationDate in VCDM 1.1."""
    name = vcdm2 if vcdm2 in credential else vcdm1
    value = credential.get(name)
    if value is None:
        return name, None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        message = f"The credential's {name} is not a dateTime: {value!r:.60}"
        raise JwtError(message, code="malformed_credential")
    return name, moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _numeric_date(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def claims_for(credential: dict[str, Any]) -> dict[str, Any]:
    issuer, credential_id = _issuer_id(credential), credential.get("id")
    _, valid_from = _date(credential, "validFrom", "issuanceDate")
    _, valid_until = _date(credential, "validUntil", "expirationDate")
    if issuer is None or not isinstance(credential_id, str) or valid_from is None:
        message = "A VC-JWT needs the credential's issuer id, id and validFrom"
        raise JwtError(message, code="claim_missing")
    claims = {"iss": issuer, "jti": credential_id, "nbf": _numeric_date(valid_from)}
    subjects = _subjects(credential)
    if len(subjects) == 1 and isinstance(subjects[0], dict):
        if isinstance(subjects[0].get("id"), str):
            claims["sub"] = subjects[0]["id"]
    if valid_until is not None:
        claims["exp"] = _numeric_date(valid_until)
    return claims


def credential_in(payload: dict[str, Any]) -> dict[str, Any]:
    if "@context" in payload:
        return {name: value for name, value in payload.items() if name not in JWT_CLAIM_NAMES}
    if isinstance(payload.get("vc"), dict):
        credential: dict[str, Any] = payload["vc"]
        return credential
    message = "The JWT payload holds no credential (no @context, no vc claim)"
    raise JwtError(message, code="malformed_credential")


# --- verification: claims ----------------------------------------------------------------------


def _mismatch(message: str) -> JwtError:
    return JwtError(message, code="claim_mismatch")


def _missing(claim: str, because: str) -> JwtError:
    return JwtError(f"The JWT has no {claim} claim, but {because}", code="claim_missing")


def _claim_date(payload: dict[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise JwtError(f"The {name} claim is not a NumericDate", code="malformed_jwt")
    return math.floor(value)


def check_identity_claims(payload: dict[str, Any], credential: dict[str, Any], warnings: list[str]) -> None:
    """iss = issuer.id, jti = id, sub = credentialSubject.id (section 8.2 "Verify a Credential")."""
    if "iss" not in payload:
        raise _missing("iss", "OB 3.0 requires it")
    if payload["iss"] != _issuer_id(credential):
        raise _mismatch(f"iss {payload['iss']!r:.80} is not the credential's issuer id")
    credential_id = credential.get("id")
    if "jti" not in payload and credential_id is not None:
        raise _missing("jti", "the credential has an id")
    if "jti" in payload and payload["jti"] != credential_id:
        raise _mismatch(f"jti {payload['jti']!r:.80} is not the credential's id")
    if "jti" not in payload:
        warnings.append("jti_missing: OB 3.0 wants a jti claim, and the credential has no id")
    subjects = _subjects(credential)
    ids = [s["id"] for s in subjects if isinstance(s, dict) and isinstance(s.get("id"), str)]
    if "sub" not in payload and len(subjects) == 1 and ids:
        # OB 3.0 section 8.2 maps credentialSubject.id to sub, but 1EdTech's own sample VC-JWTs
        # omit it; nothing is lost (the subject id is signed in the payload), so only warn.
        warnings.append("sub_missing: OB 3.0 wants a sub claim equal to credentialSubject.id")
    if "sub" in payload and payload["sub"] not in ids:
        raise _mismatch(f"sub {payload['sub']!r:.80} is not the credentialSubject id")


def check_date_claims(
    payload: dict[str, Any], credential: dict[str, Any], warnings: list[str]
) -> tuple[int, int | None]:
    """nbf = validFrom, exp = validUntil, in whole seconds; returns (not before, expiry)."""
    nbf, exp = _claim_date(payload, "nbf"), _claim_date(payload, "exp")
    from_name, valid_from = _date(credential, "validFrom", "issuanceDate")
    until_name, valid_until = _date(credential, "validUntil", "expirationDate")
    if nbf is None:
        raise _missing("nbf", "OB 3.0 requires it")
    if valid_from is None or nbf != _numeric_date(valid_from):
        raise _mismatch(f"nbf {nbf} does not equal the credential's {from_name}")
    if valid_until is not None and exp is None:
        raise _missing("exp", f"the credential has {until_name}")
    if valid_until is not None and exp != _numeric_date(valid_until):
        raise _mismatch(f"exp {exp} does not equal the credential's {until_name}")
    if valid_until is None and exp is not None:
        warnings.append(f"exp_without_{until_name}: the JWT expires, the credential does not say")
    return nbf, exp
