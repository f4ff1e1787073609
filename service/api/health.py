"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.api.auth import Public

router = APIRouter(tags=["health"])


@router.get("/health", dependencies=[Public])
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", dependencies=[Public], responses={503: {"description": "database unreachable"}})
def ready(request: Request) -> JSONResponse:
    """The database answers; 503 with the error shape when it does not."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"error": "not_ready", "detail": "The database is unreachable"}, status_code=503)
    return JSONResponse({"status": "ready"})
