"""``/``: a small HTML page that says what this service is and links to the docs, the verify API
and the health check. Self-contained (no script, no external stylesheet, font or image)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from service.api.auth import Public
from service.api.deps import SettingsDep
from service.api.docs import DOCS_URL, REDOC_URL

router = APIRouter()

# Swagger UI deep link to an operation: #/<tag>/<operationId> (operation ids are "<tag>-<function>").
VERIFY_OPERATION = "#/verification/verification-verify_credential"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SkillCred</title>
<style>
  body {{ font-family: system-ui, sans-serif; line-height: 1.5; max-width: 40rem; margin: 2rem auto;
         padding: 0 1rem; color: #1a1a1a; background: #fff; }}
  a {{ color: #0b57d0; }}
  a:focus-visible {{ outline: 3px solid #1a1a1a; outline-offset: 2px; }}
  code {{ background: #f1f1f1; padding: 0 .25em; }}
</style>
</head>
<body>
<main>
<h1>SkillCred</h1>
<p>This service issues and verifies Open Badges 3.0 credentials.</p>
<nav aria-label="Service links">
<ul>
{docs}<li><a href="/openapi.json">OpenAPI document</a> (JSON)</li>
<li>{verify}: <code>POST /v1/verify</code> with a credential (JSON-LD, VC-JWT, baked PNG or SVG)</li>
<li><a href="/health">Health check</a> (<a href="/ready">readiness</a>, which also checks the database)</li>
</ul>
</nav>
</main>
</body>
</html>
"""


def home_page(*, api_docs: bool) -> str:
    """The page's HTML; without the API docs it links the OpenAPI document only."""
    docs = (
        f'<li><a href="{DOCS_URL}">API documentation</a> (Swagger UI; also <a href="{REDOC_URL}">ReDoc</a>)</li>\n'
        if api_docs
        else ""
    )
    verify = f'<a href="{DOCS_URL}{VERIFY_OPERATION}">Verify API</a>' if api_docs else "Verify API"
    return _PAGE.format(docs=docs, verify=verify)


@router.get("/", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
def home(settings: SettingsDep) -> HTMLResponse:
    """A landing page linking to the API docs, the verify API and the health check."""
    return HTMLResponse(home_page(api_docs=settings.api_docs_enabled))
