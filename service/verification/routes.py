"""``POST /v1/verify``: verify any Open Badges 3.0 credential, from any issuer; no sign-in.

What the body may be, by ``Content-Type``:

- ``application/json``, ``application/vc+ld+json``, ``application/ld+json``: a JSON-LD credential
  with an embedded proof;
- ``text/plain``, ``application/vc+jwt``, ``application/jwt``: a compact VC-JWT;
- ``image/png``, ``image/svg+xml``: a baked badge image;
- ``multipart/form-data`` with a ``file`` field holding any of the above.

The answer is 200 with the verification report whatever the verdict: a tampered, expired or
malformed credential (even a body that is not JSON at all) is a *result* (``verified: false`` and
the failing checks), not an error. Only requests the route cannot read are errors in the usual
shape: 415 for any other (or a missing) Content-Type, 422 for a multipart upload without ``file``,
400 for a broken multipart body, 413 for a body over the upload limit.

The handler is async and reads the raw body (no model parsing); the CPU-bound verification runs in
a worker thread with a read-only database session of its own, used only to resolve this
deployment's ``did:web`` keys (other services' are fetched over HTTPS from that thread).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile

from service.api.auth import Public
from service.api.errors import error_responses
from service.api.ratelimit import VERIFY_PER_ADDRESS
from service.api.throttle import Throttle
from service.api.verifying import SubmittedCredentialsDep
from service.core.errors import ServiceError, UnsupportedMediaType

router = APIRouter(prefix="/v1", tags=["verification"])
public_router = APIRouter(tags=["verification"])
"""No public pages of its own: the verify page (``/verify``, :mod:`service.web.pages.routes`) and the
badge page (``/credentials/{id}``) verify through the same pipeline."""

JSON_TYPES = frozenset({"application/json", "application/vc+ld+json", "application/ld+json"})
JWT_TYPES = frozenset({"text/plain", "application/vc+jwt", "application/jwt"})
IMAGE_TYPES = frozenset({"image/png", "image/svg+xml"})
MULTIPART = "multipart/form-data"
ACCEPTED = sorted(JSON_TYPES | JWT_TYPES | IMAGE_TYPES | {MULTIPART})


class CheckOut(BaseModel):
    """One check: a stable id (``format``, ``jwt``, ``context``, ``schema``, ``proof``,
    ``issuer_key``, ``valid_from``, ``valid_until``, ``status``...), its outcome and why."""

    id: str
    outcome: Literal["passed", "failed", "warning", "skipped", "info"]
    reason: str
    details: dict[str, Any] | None = None


class VerificationReportOut(BaseModel):
    """The verification report. ``verified`` is true only when no check failed; warnings (a
    deprecated suite, a status list that could not be checked) do not sink a credential."""

    verified: bool
    format: str
    checks: list[CheckOut]


def _body_schema(kind: str) -> dict[str, Any]:
    # Any body is read: what it holds is sniffed, not taken from the Content-Type, and a body that
    # is not a credential is a report with a failed check (200), so no schema can refuse one.
    return {"schema": {"type": "string", "format": "binary"} if kind == "binary" else {}}


REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "description": "The credential: JSON-LD, a compact VC-JWT, a baked badge image, or a "
        "multipart upload of any of them in the field `file`. Any body under these types is read "
        "(its form is sniffed, whatever the Content-Type says) and answered with a report: one that "
        "is not a credential fails the `format` check.",
        "content": {
            **{t: _body_schema("json") for t in sorted(JSON_TYPES)},
            **{t: _body_schema("text") for t in sorted(JWT_TYPES)},
            **{t: _body_schema("binary") for t in sorted(IMAGE_TYPES)},
            MULTIPART: {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


async def _credential_bytes(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in JSON_TYPES or media_type in JWT_TYPES or media_type in IMAGE_TYPES:
        return await request.body()
    if media_type != MULTIPART:
        shown = media_type or "none"
        raise UnsupportedMediaType(f"Content-Type {shown} is not accepted; send one of {', '.join(ACCEPTED)}")
    async with request.form(max_files=1, max_fields=10) as form:
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            return await upload.read()
        if isinstance(upload, str):
            return upload.encode("utf-8")
    raise ServiceError(
        "A multipart upload needs the credential in a field named `file`", code="validation_error", status_code=422
    )


@router.post(
    "/verify",
    dependencies=[Public, Throttle(VERIFY_PER_ADDRESS)],
    response_model=VerificationReportOut,
    responses=error_responses(400, 413, 415, 422, 429, 503),
    openapi_extra=REQUEST_BODY,
)
async def verify_credential(request: Request, submitted: SubmittedCredentialsDep) -> Response:
    """Verify a credential from any issuer: its format, JSON-LD context, Open Badges 3.0 schema,
    proof or JWT signature, the issuer's key, and its dates. This service's own `did:web` issuers
    resolve from its database and `did:key` offline; another service's `did:web` DID document is
    fetched over HTTPS (public addresses only, at most 256 KiB, cached for five minutes; a DID on
    this service's own host is never fetched). A key that cannot be resolved fails the
    `issuer_key` check, which says why. Answers 200 with the report whatever the verdict."""
    data = await _credential_bytes(request)
    # the same pipeline as the verify page (service/api/verifying.py): a kept report whose inputs
    # all read the same takes no verification slot; anything else is verified holding one
    return Response(await submitted.report_json(data), media_type="application/json")
