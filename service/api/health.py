"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.api.auth import Public
from service.api.deps import EngineDep

router = APIRouter(tags=["health"])


@router.get("/health", dependencies=[Public])
async def health() -> dict[str, str]:  # async: answered on the event loop, no worker thread
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", dependencies=[Public], responses={503: {"description": "database unreachable"}})
def ready(engine: EngineDep) -> JSONResponse:
    """The database answers; 503 with the error shape and ``Retry-After`` when it does not."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse(
            {"error": "not_ready", "detail": "The database is unreachable"},
            status_code=503,
            headers={"Retry-After": "2"},
        )
    return JSONResponse({"status": "ready"})
