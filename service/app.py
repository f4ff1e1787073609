"""The FastAPI application: settings, database, keystore, routers and error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from service.accounts.security import TokenIssuer
from service.config import Settings, get_settings
from service.db import make_engine
from service.errors import install_error_handlers
from service.keystore import Keystore, load_kek
from service.limits import BodySizeLimit

log = logging.getLogger("skillcred")

UPLOAD_PATHS = ("/v1/verify",)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Fails fast (before serving) on a bad KEK configuration."""
    settings = settings or get_settings()
    keystore = Keystore(load_kek(settings))
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="SkillCred",
        version="0.1.0",
        summary="Skill-credential validation: verifiable Open Badges 3.0 credentials from portfolio evidence.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.keystore = keystore
    app.state.tokens = TokenIssuer(
        secret=keystore.derive_secret("access-tokens"),
        issuer=settings.public_url,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes,
                       upload_limit=settings.max_upload_bytes, upload_paths=UPLOAD_PATHS)
    for router in _routers():
        app.include_router(router)
    return app


def _routers() -> list:
    from service.accounts.routes import router as accounts
    from service.health import router as health

    return [health, accounts]
