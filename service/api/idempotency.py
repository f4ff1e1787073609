"""``Idempotency-Key`` (issue 11), as pure ASGI middleware: a retried write takes effect once.

A ``POST``, ``PUT`` or ``PATCH`` with an ``Idempotency-Key`` header (1 to 255 printable ASCII
characters, else 400 ``invalid_idempotency_key``) and a valid bearer token is run at most once
per key and caller (a platform client, or a person): the key is stored with a SHA-256 of the
request (method, path, query, ``Content-Type``, ``On-Behalf-Of`` and body) and the answer, for
``SKILLCRED_IDEMPOTENCY_HOURS`` (24 at least).

- A retry with the same key and request gets the stored answer (status, headers, body byte for
  byte) with ``Idempotent-Replayed: true``, and changes nothing.
- The same key with another request: 409 ``idempotency_key_reused``.
- A retry while the first request still runs waits for it (up to :data:`WAIT_SECONDS`), then
  gets its answer; still running then: 409 ``idempotency_request_in_progress`` with ``Retry-After``.
- A request that failed without committing anything (a 4xx or 5xx from validation, a refusal,
  a server error before its commit) gives its key back: a retry with it runs again.
- A request that committed but whose answer was not kept: its retries get 409
  ``idempotency_response_lost`` and never run again. That happens when the answer's body is over
  :data:`MAX_STORED_BODY`, when a server error followed the commit, or in the rare window where the
  process dies between the request's commit and the storing of its answer.

A request without a token, or with an invalid one, passes through untouched (the route answers
401). The request's record turns ``committed`` inside the request's own transaction
(:func:`service.api.deps.session_scope` calls :func:`service.idempotency.service.mark_committed`),
so its changes and the record saying so commit together; a route that writes in transactions of
its own instead is covered only once it answers 2xx.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta
from typing import Any

import anyio
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_content, error_payload
from service.core.db import is_database_busy
from service.idempotency import service
from service.idempotency.service import RECORD_ID_STATE, Claim, KeyedRequest, StoredResponse

log = logging.getLogger("skillcred.idempotency")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PUT", "PATCH"})
WAIT_SECONDS = 10.0
"""How long a retry waits for the key's first request to finish before answering 409."""
MAX_STORED_BODY = 1_048_576
"""Answers with a larger body are not stored: their retries get 409 ``idempotency_response_lost``."""
IN_PROGRESS_RETRY_AFTER = 2
NOT_REPLAYED = frozenset(
    {
        "date",
        "server",
        "content-length",
        "transfer-encoding",
        "connection",
        "set-cookie",
        "retry-after",
        "ratelimit",
        "ratelimit-policy",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
    }
)
"""Headers of the first answer that a replay does not repeat: they describe that moment (rate-limit
counters, the date, a read-after-write cookie), not the answer."""

_ERRORS = {
    "reused": (
        409,
        "idempotency_key_reused",
        "This Idempotency-Key was used with another request (method, path or body); use a new key",
    ),
    "in_flight": (
        409,
        "idempotency_request_in_progress",
        "A request with this Idempotency-Key is still running; retry later",
    ),
    "lost": (
        409,
        "idempotency_response_lost",
        "A request with this Idempotency-Key took effect but its answer was not kept; it will not run again."
        " Look the result up, or use a new key to make a new request",
    ),
}


class IdempotencyKeys:
    """Runs each keyed write once per caller and key, and replays its answer to retries."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        wait_seconds: float | None = None,
        poll_seconds: float = 0.05,
        max_stored_body: int | None = None,
    ) -> None:
        self.app = app
        self.wait_seconds = WAIT_SECONDS if wait_seconds is None else wait_seconds
        self.max_stored_body = MAX_STORED_BODY if max_stored_body is None else max_stored_body
        self.poll_seconds = poll_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        keys = [value for name, value in scope.get("headers", ()) if name == b"idempotency-key"]
        owner = _owner(scope) if keys else None
        if owner is None:
            await self.app(scope, receive, send)
            return
        key = _valid_key(keys)
        if key is None:
            detail = f"{HEADER} must be one header of 1 to 255 printable ASCII characters"
            await _send_error(send, scope["path"], 400, "invalid_idempotency_key", detail)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before it sent its body
        request = KeyedRequest(owner, key, request_hash(scope, body), scope["method"], scope["path"])
        state = scope["app"].state
        try:
            claimed = await self._claim(state, request)
        except Exception as error:
            if not is_database_busy(error):
                raise
            await _send_error(
                send, scope["path"], 503, "service_unavailable", "The database is busy; retry shortly", retry_after=2
            )
            return
        if claimed.kind == "run" and claimed.record_id is not None:
            await self._run(scope, _replaying(body, receive), send, state.engine, claimed.record_id)
        elif claimed.kind == "replay" and claimed.response is not None:
            await _replay(send, claimed.response)
        else:
            status, code, detail = _ERRORS[claimed.kind]
            retry_after = IN_PROGRESS_RETRY_AFTER if claimed.kind == "in_flight" else None
            await _send_error(send, scope["path"], status, code, detail, retry_after=retry_after)

    async def _claim(self, state: Any, request: KeyedRequest) -> Claim:
        """Claim the key; while its first request runs, look again (backing off) until it ends
        or :attr:`wait_seconds` pass."""
        lifetime = _lifetime(state.settings)
        deadline = time.monotonic() + self.wait_seconds
        delay = self.poll_seconds
        while True:
            claimed = await run_in_threadpool(service.claim, state.engine, request, state.clock.now(), lifetime)
            if claimed.kind != "in_flight" or time.monotonic() + delay > deadline:
                return claimed
            await anyio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _run(self, scope: Scope, receive: Receive, send: Send, engine: Any, record_id: str) -> None:
        scope.setdefault("state", {})[RECORD_ID_STATE] = record_id
        capture = _Capture(send, self.max_stored_body)
        try:
            await self.app(scope, receive, capture.send)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await _finish(engine, record_id, 500, None)
            raise
        status, stored = capture.outcome()
        with anyio.CancelScope(shield=True):
            await _finish(engine, record_id, status, stored)
        await capture.flush()


def _lifetime(settings: Any) -> timedelta:
    return timedelta(hours=settings.idempotency_hours)


async def _finish(engine: Any, record_id: str, status: int, stored: StoredResponse | None) -> None:
    try:
        await run_in_threadpool(service.finish, engine, record_id, status, stored)
    except Exception:  # the answer still goes out; the record resolves itself (service.ABANDONED_AFTER)
        log.exception("could not record the outcome of idempotent request %s", record_id)


def _owner(scope: Scope) -> str | None:
    """Whose key this is, from the bearer token's checked claims (no database): ``client:<id>``
    for a platform client's token, ``account:<id>`` for a person's; None without a valid token."""
    authorization = [value for name, value in scope.get("headers", ()) if name == b"authorization"]
    if len(authorization) != 1:
        return None
    scheme, _, token = authorization[0].decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    claims = scope["app"].state.tokens.claims(token.strip())
    if claims is None:
        return None
    return f"client:{claims.client_id}" if claims.client_id is not None else f"account:{claims.subject}"


def _valid_key(values: list[bytes]) -> str | None:
    if len(values) != 1 or not 1 <= len(values[0]) <= 255:
        return None
    if any(byte < 0x20 or byte > 0x7E for byte in values[0]):
        return None
    return values[0].decode("ascii")


def request_hash(scope: Scope, body: bytes) -> str:
    """SHA-256 (hex) of what makes two requests the same: method, path, query, content type, the
    earner a platform client acts for (``On-Behalf-Of``) and the body."""
    headers = scope.get("headers", ())
    content_type = b",".join(value for name, value in headers if name == b"content-type")
    on_behalf_of = b",".join(value for name, value in headers if name == b"on-behalf-of")
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), content_type):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(len(on_behalf_of).to_bytes(8, "big") + on_behalf_of)
    digest.update(body)
    return digest.hexdigest()


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body (the body-size limit outside bounds it), or None on a disconnect."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay_receive


class _Capture:
    """Holds the app's answer back until its outcome is recorded (so a client that has the answer
    and retries finds it stored). An answer whose body grows past ``limit`` is passed on as it
    comes instead, and not stored."""

    def __init__(self, send: Send, limit: int) -> None:
        self._send, self._limit = send, limit
        self._start: Message | None = None
        self._status = 500  # until the app starts its answer
        self._chunks: list[bytes] = []
        self._size = 0
        self._passing = False

    async def send(self, message: Message) -> None:
        if self._passing:
            await self._send(message)
        elif message["type"] == "http.response.start":
            self._start, self._status = message, int(message["status"])
        elif message["type"] == "http.response.body" and self._size + len(message.get("body", b"")) <= self._limit:
            self._chunks.append(message.get("body", b""))
            self._size += len(self._chunks[-1])
        else:  # too large to keep, or something other than a body: pass everything on from here
            self._passing = True
            await self._release(more_body=True)
            await self._send(message)

    def outcome(self) -> tuple[int, StoredResponse | None]:
        """The answer's status, and the answer to store (None when it was not kept)."""
        status = self._status
        if self._passing or self._start is None:
            return status, None
        headers: dict[str, str] = {}
        for raw_name, raw_value in self._start.get("headers", ()):
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            if name in NOT_REPLAYED or name.startswith("x-ratelimit"):
                continue
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return status, StoredResponse(status, headers, b"".join(self._chunks))

    async def flush(self) -> None:
        """Send the answer held back (nothing when it was passed on already)."""
        if not self._passing:
            await self._release(more_body=False)

    async def _release(self, *, more_body: bool) -> None:
        if self._start is not None:
            await self._send(self._start)
            await self._send({"type": "http.response.body", "body": b"".join(self._chunks), "more_body": more_body})
        self._start, self._chunks = None, []


async def _replay(send: Send, response: StoredResponse) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()]
    headers += [
        (b"content-length", str(len(response.body)).encode()),
        (REPLAYED_HEADER.lower().encode(), b"true"),
    ]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _send_error(
    send: Send, path: str, status: int, code: str, detail: str, *, retry_after: int | None = None
) -> None:
    body = json.dumps(error_payload(path, status, code, detail)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_idempotency_docs(app: FastAPI) -> None:
    """Make ``app.openapi()`` document the ``Idempotency-Key`` header (:func:`document_idempotency_key`)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_idempotency_key(generate())

    app.openapi = openapi  # type: ignore[method-assign]


def document_idempotency_key(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the optional ``Idempotency-Key`` header parameter to every POST, PUT and PATCH that takes
    a bearer token (one that declares ``security``) in an OpenAPI ``schema``, in place (once);
    returns it."""
    parameter = {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": "Makes a retry of this write safe. The first request with a key runs; a retry with the same"
        " key, path and body gets its answer again (with `Idempotent-Replayed: true`) instead of running twice,"
        " waiting for it while it runs. The same key with another request is 409 `idempotency_key_reused`;"
        " 409 `idempotency_request_in_progress` (with `Retry-After`) while the first still runs after a wait;"
        " 409 `idempotency_response_lost` when it took effect but its answer was not kept; 400"
        " `invalid_idempotency_key` for a malformed key. A request that failed without effect frees its key."
        " Keys are the caller's own (a platform client's, or a person's) and kept at least 24 hours.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7E]+$"},
    }
    for path, path_item in schema.get("paths", {}).items():
        for method in ("post", "put", "patch"):
            operation = path_item.get(method)
            if operation is None or not operation.get("security"):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == HEADER and p.get("in") == "header" for p in parameters):
                parameters.append(dict(parameter))
            responses = operation.setdefault("responses", {})
            for status, description in (("400", "Bad request"), ("409", "Conflict")):
                if status not in responses:
                    responses[status] = {"description": description, "content": error_content(path)}
    return schema
