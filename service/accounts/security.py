"""Password hashing (argon2id) and short-lived access tokens (PyJWT, HS256 under a derived key)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_AUDIENCE = "skillcred-api"
TOKEN_ALGORITHM = "HS256"

_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check; a missing account still costs one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenIssuer:
    """Signs and checks access tokens: ``iss`` is the public URL, ``aud`` the API."""

    secret: bytes
    issuer: str
    ttl: timedelta

    def __repr__(self) -> str:
        return f"TokenIssuer(issuer={self.issuer!r}, ttl={self.ttl})"

    def issue(self, account_id: str, role: str, *, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": TOKEN_AUDIENCE,
            "sub": account_id,
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        return jwt.encode(claims, self.secret, algorithm=TOKEN_ALGORITHM, headers={"typ": "at+jwt"})

    def subject(self, token: str) -> str | None:
        """The account id of a valid token, or None (bad signature, expired, wrong aud/iss, ...)."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[TOKEN_ALGORITHM],
                audience=TOKEN_AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) else None
