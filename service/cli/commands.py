"""Service commands behind the CLI: serve, migrate, openapi, dev set-up, key rotation."""

from __future__ import annotations

import secrets
import sys
from typing import Any

import yaml
from pydantic import SecretStr

from service.core.config import Settings, get_settings
from service.core.keystore import KeystoreError, load_kek


def migrate(settings: Settings) -> None:
    """Apply every Alembic migration to the configured database."""
    from service.core.migrations import upgrade

    upgrade(settings.database_url)


def openapi_yaml() -> str:
    """The REST contract as YAML, generated from the app (what openapi.yaml must equal)."""
    from service.api.app import create_app
    from service.core.keystore import new_kek_text

    settings = Settings(
        env="development", database_url="sqlite:///:memory:", kek=new_kek_text(), public_url="http://127.0.0.1:8000"
    )
    spec: dict[str, Any] = create_app(settings).openapi()
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)


def prepare(settings: Settings, *, announce: bool) -> None:
    """Check the KEK, migrate, and create the bootstrap admin (and, in development, demo data)."""
    from service.cli.bootstrap import ensure_admin, ensure_demo_data
    from service.core.db import make_engine

    try:
        load_kek(settings)
    except KeystoreError as err:
        raise SystemExit(f"skillcred: {err}") from err
    migrate(settings)
    generated = None
    if settings.env == "development" and not settings.bootstrap_admin_password:
        generated = secrets.token_urlsafe(12)
        email = settings.bootstrap_admin_email or "admin@skillcred.local"
        settings = settings.model_copy(
            update={"bootstrap_admin_email": email, "bootstrap_admin_password": SecretStr(generated)}
        )
    engine = make_engine(settings.database_url)
    created = ensure_admin(engine, settings)
    demo = ensure_demo_data(engine, settings) if settings.env == "development" else None
    engine.dispose()
    if announce:
        print(f"SkillCred on {settings.public_url}  (database: {settings.database_url})")
        if created and generated:
            print(
                f"  admin login: {created} / {generated}   (shown once; set SKILLCRED_BOOTSTRAP_ADMIN_PASSWORD to choose it)"
            )
        elif created:
            print(f"  admin created: {created}")
        if demo:
            print(f"  demo issuer {demo['issuer_id']} ({demo['did']}), achievement {demo['achievement_id']}")
        sys.stdout.flush()


def serve(host: str, port: int, workers: int, *, development: bool = False) -> None:
    """Migrate, bootstrap, then serve with uvicorn (several workers need PostgreSQL to be safe)."""
    import uvicorn

    settings = get_settings()
    if development:
        settings = settings.model_copy(update={"env": "development"})
    prepare(settings, announce=True)
    uvicorn.run("service.api.asgi:app", host=host, port=port, workers=workers, proxy_headers=True, log_level="info")
