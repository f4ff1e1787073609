"""The pages of ``/terms`` and ``/privacy``: the policies the Open Badges discovery document names.

The service's own pages say what its software does (what it keeps, shows and deletes; what a
credential means and what the service promises), with this deployment's settings; an operator
with policies of their own sets ``SKILLCRED_TERMS_URL`` / ``SKILLCRED_PRIVACY_URL`` and the routes
(:mod:`service.web.routes`) redirect there. Self-contained: no script, no other host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from service.core.config import Settings
from service.core.templates import render


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
