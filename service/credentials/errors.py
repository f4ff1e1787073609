"""The credentials domain's own errors (the shared ones are in :mod:`service.core.errors`)."""

from __future__ import annotations

from service.core.errors import ServiceError


class InvalidCredentialRequest(ServiceError):
    """The request cannot make a valid credential (a date in the past, an unknown result...)."""

    status_code, code = 422, "invalid_credential_request"


class CredentialExists(ServiceError):
    """The recipient already holds an active credential for an achievement that allows one
    (issue 9): 409 ``credential_exists``; renew or reissue that one, or revoke it first."""

    status_code, code = 409, "credential_exists"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail
            or "The recipient already holds an active credential for this achievement; renew or reissue it, "
            "or revoke it first (the achievement does not allow more than one)"
        )
