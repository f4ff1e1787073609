"""Rendering errors over HTTP: one shape, ``{"error": code, "detail": ...}``, never a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.db import is_database_busy
from service.core.errors import ServiceError
from service.core.validation import RULE_ERROR_PREFIX
from service.platforms.ob_api import errors as ob_errors

#: What a client is told to wait when the database is busy or unreachable.
DATABASE_RETRY_AFTER_SECONDS = 2

log = logging.getLogger("skillcred")


class ErrorBody(BaseModel):
    """Every error response: a stable machine-readable code and a human-readable detail."""

    error: str
    detail: str


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
    507: "insufficient_storage",
}


def error_body(code: str, detail: str) -> dict[str, str]:
    return {"error": code, "detail": detail}


def error_payload(path: str, status_code: int, code: str, detail: str) -> dict[str, Any]:
    """The body of an error answer to a request for ``path``: ``{"error", "detail"}``, or an
    ``Imsx_StatusInfo`` under the Open Badges 3.0 REST API (:mod:`service.platforms.ob_api.errors`).
    Middleware that answers before any route (body limit, ``Idempotency-Key``) uses it too."""
    if ob_errors.is_ob_path(path):
        return ob_errors.status_info(status_code, detail)
    return error_body(code, detail)


ERROR_BODY_REF = {"$ref": "#/components/schemas/ErrorBody"}
OB_STATUS_INFO_REF = {"$ref": "#/components/schemas/ImsxStatusInfo"}


def error_content(path: str | None = None) -> dict[str, Any]:
    """An error response's ``content``: ``ErrorBody`` as JSON (whatever the route's own media
    type), or ``ImsxStatusInfo`` for a ``path`` under the Open Badges 3.0 REST API."""
    ref = OB_STATUS_INFO_REF if path is not None and ob_errors.is_ob_path(path) else ERROR_BODY_REF
    return {"application/json": {"schema": dict(ref)}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for a route, so its error statuses reach openapi.yaml. The content
    is spelled out (not ``model=``): FastAPI would document a model under the route's own media
    type, ``text/html`` for a page, where the error is JSON."""
    return {s: {"description": _STATUS_CODES.get(s, "error"), "content": error_content()} for s in statuses}


#: What a 400 for an unreadable body says in openapi.yaml.
_UNPARSEABLE_BODY = "bad_request: the body cannot be parsed (malformed JSON, form or multipart data)"
#: What a 413 says in openapi.yaml: the body limit (``service.api.limits``) is in bytes, which no
#: JSON Schema keyword can bound (a string's maxLength counts characters, not their escapes).
_BODY_TOO_LARGE = "payload_too_large: the body is over the service's size limit for this route"


def document_error_bodies(app: FastAPI) -> None:
    """Make openapi.yaml describe the errors actually sent.

    Every 422 is rendered as ``ErrorBody`` (FastAPI's default schema has an array ``detail``), and
    every operation with a body documents the 400 Starlette sends when the body cannot be parsed
    and the 413 the body limit sends.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = generate()
        _rewrite_error_responses(spec)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _rewrite_error_responses(spec: dict[str, Any]) -> None:
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if ob_errors.is_ob_path(path):  # the OB 3.0 API answers a request it cannot read with 400
                responses.pop("422", None)
            invalid = responses.get("422")
            if invalid is not None and "HTTPValidationError" in str(invalid.get("content", "")):
                responses["422"] = {"description": _STATUS_CODES[422], "content": error_content()}
            if "requestBody" in operation and "400" not in responses:
                responses["400"] = {"description": _UNPARSEABLE_BODY, "content": error_content(path)}
            if "requestBody" in operation and "413" not in responses:
                responses["413"] = {"description": _BODY_TOO_LARGE, "content": error_content(path)}
            operation["responses"] = dict(sorted(responses.items()))
    schemas = spec.get("components", {}).get("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
    if "HTTPValidationError" not in str(spec.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)


def _allowed_methods(request: Request) -> str | None:
    """Every method the OpenAPI document gives this path (a FastAPI route knows only its own)."""
    app = request.app
    table: list[tuple[re.Pattern[str], str]] | None = getattr(app.state, "allowed_methods", None)
    if table is None:
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            table.append((re.compile(f"^{pattern}$"), ", ".join(sorted(m.upper() for m in operations))))
        app.state.allowed_methods = table
    path = request.url.path
    return next((methods for pattern, methods in table if pattern.match(path)), None)


def _validation_code(exc: RequestValidationError) -> str:
    """``validation_error``, or the code of the rule that refused the request when only rules the
    JSON Schema cannot express did (:func:`service.core.validation.rule_error`)."""
    kinds = [str(err.get("type", "")) for err in exc.errors()]
    if kinds and all(kind.startswith(RULE_ERROR_PREFIX) for kind in kinds):
        return kinds[0].removeprefix(RULE_ERROR_PREFIX)
    return "validation_error"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _error_response(
    request: Request, status_code: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The error in the service's shape, or as an ``Imsx_StatusInfo`` under the Open Badges 3.0
    REST API (``/ims/ob/v3p0``, :mod:`service.platforms.ob_api.errors`)."""
    body = error_payload(request.url.path, status_code, code, detail)
    return JSONResponse(body, status_code=status_code, headers=headers or None)


def _ob_validation_error(exc: RequestValidationError) -> JSONResponse:
    """A request the OB 3.0 API cannot read is 400 (its OpenAPI document has no 422), code minor
    ``invalid_query_parameter`` when a query parameter is at fault, else ``invalid_data``."""
    in_query = any(tuple(err.get("loc", ()))[:1] == ("query",) for err in exc.errors())
    value = "invalid_query_parameter" if in_query else "invalid_data"
    return JSONResponse(ob_errors.status_info(400, _validation_message(exc), code_minor_value=value), status_code=400)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error in the one shape; never send a stack trace to a client."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        headers = dict(exc.headers)
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return _error_response(request, exc.status_code, exc.code, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if ob_errors.is_ob_path(request.url.path):
            return _ob_validation_error(exc)
        return JSONResponse(error_body(_validation_code(exc), _validation_message(exc)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else code
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # RFC 9110 section 15.5.6: Allow lists the methods the resource supports, not one route's.
            allowed = _allowed_methods(request)
            if allowed:
                headers["Allow"] = allowed
        return _error_response(request, exc.status_code, code, detail, headers)

    def _database_busy(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database busy on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return _error_response(
            request,
            503,
            "service_unavailable",
            "The database is busy; try again in a moment",
            {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    # PostgreSQL text cannot hold NUL (U+0000), and its drivers refuse such a parameter before
    # sending it: a NUL in an id, a filter or a sign-in name is the client's mistake, not ours.
    def _nul_in_text(exc: SQLAlchemyError) -> bool:
        return isinstance(exc, DataError) and "NUL (0x00)" in str(getattr(exc, "orig", exc))

    # Database errors get their own handler: Starlette re-raises whatever reaches the catch-all
    # `Exception` handler after sending its response, and uvicorn then logs a traceback and closes
    # the keep-alive connection, so a client's next request on it failed while the database was away.
    @app.exception_handler(SQLAlchemyError)
    async def _database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        if is_database_busy(exc):
            return _database_busy(request, exc)
        if _nul_in_text(exc):
            detail = "Text may not contain NUL (U+0000) characters"
            return _error_response(request, 422, "validation_error", detail)
        raise exc

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error_response(request, 500, "internal_error", "An unexpected error occurred")
