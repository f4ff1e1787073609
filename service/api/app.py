"""The FastAPI application: settings, database, keystore, routers and error handling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute

from service.accounts.security import TokenIssuer
from service.api.docs import install_api_docs
from service.api.errors import document_error_bodies, install_error_handlers
from service.api.gates import Gates
from service.api.idempotency import IdempotencyKeys, install_idempotency_docs
from service.api.limits import BodySizeLimit
from service.api.page_auth import install_page_handlers, page_upload_limits
from service.api.ratelimit import PUBLIC_PER_ADDRESS, RateLimiter
from service.api.security_headers import SecurityHeaders
from service.api.throttle import RateLimitHeaders, Throttle
from service.bulk.parsing import body_limits as bulk_body_limits
from service.core.clock import SystemClock
from service.core.config import Settings, get_settings
from service.core.db import DatabaseLimits, make_engine
from service.core.keystore import Keystore, load_kek
from service.core.mail import mailer_from_settings
from service.evidence.intake import upload_body_limits as evidence_upload_limits
from service.jobs.context import JobServices
from service.jobs.runner import InProcessWorker
from service.status.served import ServedLists
from service.verification.service import Verifier
from service.web.page_cache import PageCache
from service.web.verify_input import page_body_limit as verify_page_body_limit

log = logging.getLogger("skillcred")

UPLOAD_PATHS = ("/v1/verify",)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Fails fast (before serving) on a bad KEK configuration."""
    settings = settings or get_settings()
    keystore = Keystore(load_kek(settings))
    # in-process jobs share the request threads' pool: a job that finds it busy waits like a
    # request, then fails and is retried (PostgreSQL's default 100 connections must cover two
    # serving processes)
    engine = make_engine(
        settings.database_url, DatabaseLimits.for_workers(settings.request_threads, settings.issuing_concurrency)
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the pool is sized for this many request threads (DatabaseLimits.for_workers)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        worker = _in_process_worker(app) if settings.jobs_in_process else None
        app.state.worker = worker
        if worker is not None:
            await worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            replica = getattr(app.state, "read_replica", None)  # built on first use (api/deps.py)
            if replica is not None:
                replica.dispose()
            engine.dispose()

    app = FastAPI(
        title="SkillCred",
        version="0.1.0",
        summary="Skill-credential validation: verifiable Open Badges 3.0 credentials from portfolio evidence.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from a CDN; service.api.docs serves them offline
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.keystore = keystore
    app.state.mailer = mailer_from_settings(settings)
    app.state.clock = SystemClock()
    app.state.verifier = Verifier.online()
    app.state.pages = PageCache()  # rendered badge pages, kept while what they show is unchanged
    app.state.status_lists = ServedLists()  # signed status lists, served while their row names them
    app.state.gates = Gates.from_settings(settings)
    app.state.rate_limiter = (
        RateLimiter(settings.redis_url or "memory://", namespace=settings.rate_limit_namespace)
        if settings.rate_limits
        else None
    )
    app.state.tokens = TokenIssuer(
        secret=keystore.derive_secret("access-tokens"),
        issuer=settings.public_url,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )
    install_error_handlers(app)
    install_page_handlers(app)  # after the API's: portal pages answer errors as HTML
    document_error_bodies(app)
    install_idempotency_docs(app)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(IdempotencyKeys)  # inside the body limit: the body it buffers is bounded
    app.add_middleware(
        BodySizeLimit,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
        pattern_limits=(
            *evidence_upload_limits(settings),
            *page_upload_limits(settings),
            *bulk_body_limits(),
            ("/verify", verify_page_body_limit(settings)),  # the verify page's form, with a file
        ),
    )
    app.add_middleware(SecurityHeaders)  # outermost: every answer gets the headers, refusals too
    public = _public_routers()
    for router in _hot_first([*_routers(), *public]):
        # public pages: anyone may read these, so each client address gets a generous share
        app.include_router(router, dependencies=[Throttle(PUBLIC_PER_ADDRESS)] if router in public else None)
    from service.webhooks.routes import event_docs  # the events' payloads, in OpenAPI `webhooks`

    app.webhooks.include_router(event_docs)
    if settings.api_docs_enabled:
        install_api_docs(app)
    return app


def _in_process_worker(app: FastAPI) -> InProcessWorker:
    from service.worker import RECOVERIES, build_job_app

    state = app.state
    services = JobServices(state.engine, state.keystore, state.settings, state.mailer, state.clock)
    return InProcessWorker(
        build_job_app, services, concurrency=state.settings.worker_concurrency, recoveries=RECOVERIES
    )


def operation_id(route: APIRoute) -> str:
    """OpenAPI operation ids ``<tag>-<function name>`` (each router carries its domain's one tag)."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _hot_first(routers: list) -> list:
    """``routers`` with the ones serving the busiest public requests first: the health checks, the
    verify API, badge pages, status lists and DID documents. A request is matched against the
    included routers in order, each walking its routes (FastAPI 0.165 also recomputes each included
    router's version per request), so a route late in the list paid for every route before it:
    a fifth of a cached verification's time. No two routers' paths overlap, so the order changes
    no match."""
    from service.api import health
    from service.issuers import routes as issuers
    from service.status import routes as status
    from service.verification import routes as verification
    from service.web import routes as web

    hot = [health.router, verification.router, web.public_router, status.public_router, issuers.public_router]
    return [router for router in hot if router in routers] + [router for router in routers if router not in hot]


def _routers() -> list:
    from service.accounts import routes as accounts
    from service.achievements import routes as achievements
    from service.achievements.catalogue import routes as catalogue
    from service.api import health
    from service.assessment import routes as assessment
    from service.audit import routes as audit
    from service.bulk import routes as bulk
    from service.credentials import routes as credentials
    from service.discovery import routes as discovery
    from service.endorsements import routes as endorsements
    from service.evidence import routes as evidence
    from service.issuers import routes as issuers
    from service.platforms import routes as platforms
    from service.platforms.earners import routes as platform_earners
    from service.platforms.oauth import routes as oauth
    from service.platforms.ob_api import routes as ob_api
    from service.portal import routes as portal
    from service.portal.earner import routes as portal_earner
    from service.portal.issuer import routes as portal_issuer
    from service.portal.issuer.clients import routes as portal_issuer_clients
    from service.portal.issuer.webhooks import routes as portal_issuer_webhooks
    from service.portal.review import routes as portal_review
    from service.skills import routes as skills
    from service.status import routes as status
    from service.verification import routes as verification
    from service.webhooks import routes as webhooks

    return [
        health.router,
        oauth.router,
        platforms.router,
        accounts.router,
        issuers.router,
        achievements.router,
        catalogue.router,
        skills.router,
        credentials.router,
        endorsements.router,
        status.router,
        verification.router,
        audit.router,
        evidence.router,
        discovery.router,
        assessment.router,
        bulk.router,
        webhooks.router,
        platform_earners.router,
        ob_api.router,
        portal.router,
        portal_earner.router,
        portal_issuer.router,
        portal_issuer_clients.router,
        portal_issuer_webhooks.router,
        portal_review.router,
    ]


def _public_routers() -> list:
    """The public URLs outside /v1: the home and verify pages, DID documents, JWKS, badge pages,
    status lists, evidence."""
    from service.achievements import routes as achievements
    from service.assessment import routes as assessment
    from service.endorsements import routes as endorsements
    from service.evidence import routes as evidence
    from service.issuers import routes as issuers
    from service.status import routes as status
    from service.verification import routes as verification
    from service.web import routes as web
    from service.web.pages import routes as pages

    return [
        pages.router,
        issuers.public_router,
        achievements.public_router,
        web.public_router,
        endorsements.public_router,
        status.public_router,
        verification.public_router,
        evidence.public_router,
        assessment.public_router,
    ]
