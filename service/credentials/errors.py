"""The credentials domain's own errors (the shared ones are in :mod:`service.core.errors`)."""

from __future__ import annotations

from service.core.errors import ServiceError


class InvalidCredentialRequest(ServiceError):
    """The request cannot make a valid credential (a date in the past, an unknown result...)."""

    status_code, code = 422, "invalid_credential_request"
