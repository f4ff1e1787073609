"""``GET /ims/ob/v3p0/discovery``: the OB 3.0 Service Description Document of this deployment.
No FastAPI here.

The SDD is a profiled copy of the 1EdTech OpenAPI document (bundled in
``service/platforms/data``, read from the package, never from the network): its paths and schemas
as published (SkillCred serves all five operations), with this deployment's server URL, ``info``
(title, terms of service, privacy policy) and OAuth 2.0 endpoints (registration, authorization,
token and refresh) in ``components.securitySchemes.OAuth2ACG``.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from service.platforms import scopes
from service.platforms.ob_api.errors import OB_PREFIX

OPENAPI_FILE = "ob_v3p0_openapi.json"
TITLE = "SkillCred Open Badges 3.0 API"


@cache
def published_openapi() -> dict[str, Any]:
    """The 1EdTech OB 3.0 OpenAPI document as published (bundled; do not modify the result)."""
    text = resources.files("service.platforms").joinpath("data", OPENAPI_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def endpoints(public_url: str, *, terms_url: str | None = None, privacy_url: str | None = None) -> dict[str, str]:
    """Where this deployment's OAuth 2.0 endpoints and policies are (the policies at the
    operator's own URLs when given, else the service's pages)."""
    return {
        "registration": f"{public_url}/oauth/register",
        "authorization": f"{public_url}/oauth/authorize",
        "token": f"{public_url}/v1/auth/token",
        "terms": terms_url or f"{public_url}/terms",
        "privacy": privacy_url or f"{public_url}/privacy",
    }


@cache
def service_description_bytes(public_url: str, terms_url: str | None = None, privacy_url: str | None = None) -> bytes:
    """The SDD as JSON bytes (built once per deployment)."""
    document = service_description(public_url, terms_url=terms_url, privacy_url=privacy_url)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def service_description(
    public_url: str, *, terms_url: str | None = None, privacy_url: str | None = None
) -> dict[str, Any]:
    """The Service Description Document of a deployment at ``public_url``."""
    document = copy.deepcopy(published_openapi())
    urls = endpoints(public_url, terms_url=terms_url, privacy_url=privacy_url)
    info = document["info"]
    info.pop("contact", None)  # 1EdTech's support address, not this service's
    info.update(
        {
            "title": TITLE,
            "description": "The Open Badges 3.0 REST API of this SkillCred deployment: credentials and profiles.",
            "termsOfService": urls["terms"],
            "x-imssf-privacyPolicyUrl": urls["privacy"],
        }
    )
    document["servers"] = [{"url": public_url + OB_PREFIX, "description": "This SkillCred deployment"}]
    published = document["components"]["securitySchemes"]["OAuth2ACG"]["flows"]["authorizationCode"]["scopes"]
    document["components"]["securitySchemes"] = {
        "OAuth2ACG": {
            "type": "oauth2",
            "description": "OAuth 2.0 authorization code grant with PKCE (S256); register a client dynamically "
            "(RFC 7591) at x-imssf-registrationUrl.",
            "x-imssf-registrationUrl": urls["registration"],
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": urls["authorization"],
                    "tokenUrl": urls["token"],
                    "refreshUrl": urls["token"],
                    "scopes": {
                        scope: published.get(scope, scopes.DESCRIPTIONS[scope])
                        for scope in (
                            scopes.CREDENTIAL_READONLY,
                            scopes.CREDENTIAL_UPSERT,
                            scopes.PROFILE_READONLY,
                            scopes.PROFILE_UPDATE,
                        )
                    },
                }
            },
        }
    }
    return document
