"""``/terms`` and ``/privacy``: the policies the Open Badges discovery document names.

The service's own pages say what its software does (what it keeps, shows and deletes; what a
credential means and what the service promises), with this deployment's settings; an operator
with policies of their own sets ``SKILLCRED_TERMS_URL`` / ``SKILLCRED_PRIVACY_URL`` and the pages
redirect there. Self-contained: no script, no other host; the inline style is allowed by its hash.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.api.auth import Public
from service.api.deps import SettingsDep
from service.api.security_headers import inline_hashes, page_policy
from service.core.config import Settings
from service.core.templates import render

router = APIRouter()

CACHE_CONTROL = "public, max-age=3600"


def privacy_page(settings: Settings) -> str:
    """The privacy page's HTML for this deployment's settings."""
    llm = settings.assessor == "llm" and settings.llm_base_url is not None
    return render(
        "privacy.html",
        unverified_hours=settings.unverified_account_hours,
        unsubmitted_days=settings.evidence_unsubmitted_bundle_days,
        llm_assessor=llm,
        llm_host=urlsplit(settings.llm_base_url).hostname if llm and settings.llm_base_url else "",
    )


def terms_page(settings: Settings) -> str:
    """The terms page's HTML for this deployment's settings."""
    return render("terms.html", token_minutes=settings.access_token_ttl_seconds // 60)


def _page(html: str) -> HTMLResponse:
    policy = page_policy(styles=inline_hashes(html, "style"))
    return HTMLResponse(html, headers={"Content-Security-Policy": policy, "Cache-Control": CACHE_CONTROL})


@router.get("/terms", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
def terms(settings: SettingsDep) -> Response:
    """The terms of service: the operator's (a redirect) or the service's own page."""
    if settings.terms_url:
        return RedirectResponse(settings.terms_url, status_code=302)
    return _page(terms_page(settings))


@router.get("/privacy", dependencies=[Public], response_class=HTMLResponse, include_in_schema=False)
def privacy(settings: SettingsDep) -> Response:
    """The privacy policy: the operator's (a redirect) or the service's own page."""
    if settings.privacy_url:
        return RedirectResponse(settings.privacy_url, status_code=302)
    return _page(privacy_page(settings))
