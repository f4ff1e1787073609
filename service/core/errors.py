"""Service errors: a stable code and an HTTP status; :mod:`service.api.errors` renders them as
``{"error": code, "detail": ...}``. No FastAPI here, so services can raise them."""

from __future__ import annotations


class ServiceError(Exception):
    """Raised by services and routes; rendered by :func:`install_error_handlers`."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class BadRequest(ServiceError):
    status_code, code = 400, "bad_request"


class Unauthorized(ServiceError):
    status_code, code = 401, "unauthorized"


class Forbidden(ServiceError):
    status_code, code = 403, "forbidden"


class NotFound(ServiceError):
    status_code, code = 404, "not_found"


class NotAcceptable(ServiceError):
    status_code, code = 406, "not_acceptable"


class Conflict(ServiceError):
    status_code, code = 409, "conflict"


class PayloadTooLarge(ServiceError):
    status_code, code = 413, "payload_too_large"


class UnsupportedMediaType(ServiceError):
    status_code, code = 415, "unsupported_media_type"


class TooManyRequests(ServiceError):
    """A rate limit or a login backoff refused the request; ``Retry-After`` says when to retry."""

    status_code, code = 429, "too_many_requests"


class ServiceUnavailable(ServiceError):
    """The service cannot take the request now (database busy, too much work in flight)."""

    status_code, code = 503, "service_unavailable"
