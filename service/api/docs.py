"""Interactive API documentation that works offline: Swagger UI at ``/docs``, ReDoc at ``/redoc``.

FastAPI's own pages load Swagger UI and ReDoc from a CDN (and the FastAPI favicon from its site),
so they are blank without internet. These pages load the same bundles from the installed
``fastapi-offline`` package (MIT; its ``static/`` folder holds ``swagger-ui-bundle.js``,
``swagger-ui.css``, ``redoc.standalone.js`` and ``favicon.png``; see NOTICE), served here under
``/docs/assets/``. No page refers to another host: Google Fonts are off for ReDoc and Swagger UI's
online validator badge (``validatorUrl``) is off. ``SKILLCRED_API_DOCS`` switches both pages off.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from service.api.auth import Public
from service.api.security_headers import inline_hashes, page_policy

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS_URL = "/docs/assets"
ASSET_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def assets_directory() -> Path:
    """The installed folder holding the Swagger UI and ReDoc bundles (``fastapi_offline/static``)."""
    return Path(str(files("fastapi_offline") / "static"))


def install_api_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI), ``/redoc`` (ReDoc) and their assets from this process.

    The app must be built with ``docs_url=None, redoc_url=None`` (FastAPI's CDN pages off). None
    of these routes is part of the OpenAPI document.
    """
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=assets_directory()), name="api-docs-assets")

    # Each page is rendered once, from fixed settings (nothing from the request), so its own
    # Content-Security-Policy can allow exactly its inline start-up script by hash. Swagger UI and
    # ReDoc add inline styles as they run, so these pages (only) allow inline styles; ReDoc's
    # search runs in a worker made from a blob: URL.
    swagger = with_policy(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API (Swagger UI)",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_ui_parameters={"validatorUrl": None},  # no badge image from validator.swagger.io
        ),
        inline_styles=True,
    )
    oauth2_redirect = with_policy(get_swagger_ui_oauth2_redirect_html())
    redoc_page = with_policy(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API (ReDoc)",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        ),
        inline_styles=True,
        workers=("blob:",),
    )

    @app.get(DOCS_URL, dependencies=[Public], include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(*swagger)

    @app.get(OAUTH2_REDIRECT_URL, dependencies=[Public], include_in_schema=False)
    def swagger_ui_oauth2_redirect() -> HTMLResponse:
        return HTMLResponse(*oauth2_redirect)

    @app.get(REDOC_URL, dependencies=[Public], include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(*redoc_page)


def with_policy(
    page: HTMLResponse, *, inline_styles: bool = False, workers: tuple[str, ...] = ()
) -> tuple[str, int, dict[str, str]]:
    """``page``'s HTML, status and a Content-Security-Policy allowing this origin, its own inline
    scripts (by SHA-256) and its inline styles (by hash, or any with ``inline_styles``); each
    request gets a fresh response made of them."""
    html = bytes(page.body).decode()
    policy = page_policy(
        scripts=inline_hashes(html, "script"),
        styles=inline_hashes(html, "style"),
        inline_styles=inline_styles,
        workers=workers,
    )
    return html, page.status_code, {"Content-Security-Policy": policy}
