"""Service commands behind the CLI: serve, migrate, openapi, and the start-up set-up with its banner."""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any

import yaml
from pydantic import SecretStr

from service.core.config import Settings, get_settings, local_public_url
from service.core.errors import ServiceError
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
    """Check the KEK, migrate, check the issuers' DIDs against the public URL, and create the
    bootstrap admin (and, in development, demo data).

    Issuer DIDs made for another public URL are moved (``skillcred issuers move-dids``) in
    development; otherwise start-up stops with a message that names that command.
    """
    from service.cli.admin import dids_to_move, move_issuer_dids, public_url_changed_message
    from service.cli.bootstrap import admin_email, ensure_admin, ensure_demo_data
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
    try:
        moves = dids_to_move(engine, settings)
        if moves and settings.env != "development":
            raise SystemExit(public_url_changed_message(settings, moves))
        if moves:
            moves = move_issuer_dids(engine, settings)
        try:
            created = ensure_admin(engine, settings)
        except ServiceError as err:  # e.g. a bootstrap password on the list of common passwords
            raise SystemExit(f"skillcred: SKILLCRED_BOOTSTRAP_ADMIN_PASSWORD is refused: {err.detail}") from None
        demo = ensure_demo_data(engine, settings) if settings.env == "development" else None
        admin = admin_email(engine)
    finally:
        engine.dispose()
    if announce:
        _banner(settings, created=created, generated=generated, admin=admin, demo=demo, moves=moves)


def _banner(
    settings: Settings,
    *,
    created: str | None,
    generated: str | None,
    admin: str | None,
    demo: dict[str, str] | None,
    moves: list[Any],
) -> None:
    """What a person starting the service needs: where it is, how to sign in, what changed."""
    url = settings.public_url
    print(f"SkillCred on {url}  (database: {settings.database_url})")
    if settings.api_docs_enabled:
        print(f"  API docs:      {url}/docs  (ReDoc: {url}/redoc)")
    print(f"  verify API:    POST {url}/v1/verify")
    print(f"  health check:  {url}/health")
    for move in moves:
        print(f"  issuer {move.issuer_id} moved to the public URL: {move.old_did} -> {move.new_did} (old DID kept)")
    if created and generated:
        print(f"  admin login: {created} / {generated}   (shown once; SKILLCRED_BOOTSTRAP_ADMIN_PASSWORD chooses it)")
    elif created:
        print(f"  admin created: {created}")
    print(f"  lost the admin password? skillcred admin reset-password {admin or 'EMAIL'}  (prints a new one)")
    if demo:
        print(f"  demo issuer {demo['issuer_id']} ({demo['did']}), achievement {demo['achievement_id']}")
    sys.stdout.flush()


def serve(host: str, port: int, workers: int, *, development: bool = False) -> None:
    """Migrate, bootstrap, then serve with uvicorn (several workers need PostgreSQL to be safe).

    Without SKILLCRED_PUBLIC_URL the public URL is ``http://<host>:<port>`` (see
    :func:`~service.core.config.local_public_url`); ``dev-serve`` runs with SKILLCRED_ENV=development.
    Both are put in the environment, which the uvicorn workers build their settings from.
    """
    import uvicorn

    from service.cli import listeners  # uvicorn is imported only by the commands that serve

    settings = get_settings()
    if development:
        os.environ["SKILLCRED_ENV"] = "development"
    if "public_url" not in settings.model_fields_set:
        os.environ["SKILLCRED_PUBLIC_URL"] = local_public_url(host, port)
    get_settings.cache_clear()
    prepare(get_settings(), announce=True)
    # uvicorn's loop="auto" and http="auto" pick uvloop and httptools (C parsers; installed with
    # the service) over asyncio and h11. The per-request access log is development's only: in
    # production it costs a log record per request (a reverse proxy keeps one anyway); errors
    # and the service's own records are still logged.
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "proxy_headers": True,
        "log_level": "info",
        "access_log": get_settings().env == "development",
    }
    if workers > 1 and listeners.supported():
        # a listening socket per worker: the kernel spreads connections over the workers
        listeners.serve_workers(uvicorn.Config("service.api.asgi:app", **options))
    else:
        uvicorn.run("service.api.asgi:app", **options)
