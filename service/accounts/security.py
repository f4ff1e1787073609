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

    def issue(
        self,
        account_id: str,
        role: str,
        *,
        now: datetime | None = None,
        client_id: str | None = None,
        grant_id: str | None = None,
        scope: str | None = None,
        ttl: timedelta | None = None,
    ) -> str:
        """An access token for ``account_id``. A person's own token names no client and carries no
        scope; a client's token names the client (``client_id``), its grant (``fam``) and the
        scopes granted (``scope``, RFC 9068 section 2.2.3)."""
        now = now or datetime.now(UTC)
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": TOKEN_AUDIENCE,
            "sub": account_id,
            "role": role,
            "iat": int(now.timestamp()),
            "exp": int((now + (ttl or self.ttl)).timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        if client_id is not None:
            claims.update(client_id=client_id, fam=grant_id, scope=scope or "")
        return jwt.encode(claims, self.secret, algorithm=TOKEN_ALGORITHM, headers={"typ": "at+jwt"})

    def claims(self, token: str) -> AccessClaims | None:
        """What a valid token says, or None (bad signature, expired, wrong aud/iss, ...)."""
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
        sub, client_id, grant_id = claims.get("sub"), claims.get("client_id"), claims.get("fam")
        if not isinstance(sub, str):
            return None
        if client_id is None:
            return AccessClaims(subject=sub, expires_at=int(claims["exp"]))
        if not isinstance(client_id, str) or not isinstance(grant_id, str) or not isinstance(claims.get("scope"), str):
            return None
        return AccessClaims(
            subject=sub,
            expires_at=int(claims["exp"]),
            client_id=client_id,
            grant_id=grant_id,
            scopes=frozenset(claims["scope"].split()),
        )

    def subject(self, token: str) -> str | None:
        """The account id of a valid token, or None (bad signature, expired, wrong aud/iss, ...)."""
        claims = self.claims(token)
        return claims.subject if claims else None


@dataclass(frozen=True)
class AccessClaims:
    """The checked claims of an access token. ``client_id`` is None for a person's own token
    (password grant), which carries no scope and is bounded by the account's role alone."""

    subject: str
    expires_at: int
    client_id: str | None = None
    grant_id: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_client(self) -> bool:
        return self.client_id is not None
