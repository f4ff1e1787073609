"""Test helper: the OAuth 2.0 flows a platform runs, driven over HTTP as a platform would."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

REDIRECT_URI = "https://platform.example/callback"
EARNER_SCOPE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly evidence:write"


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636 section 4)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the consent page's form."""
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    }


@dataclass
class Authorization:
    """What comes back to the client's redirect URI."""

    status: int
    location: str

    @property
    def params(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(self.location).query).items()}


def register_public_client(http: Any, *, scope: str = EARNER_SCOPE, **extra: Any) -> dict[str, Any]:
    body = {
        "client_name": "Portfolio Platform",
        "client_uri": "https://platform.example",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": scope,
        **extra,
    }
    response = http.post("/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def authorize(
    http: Any,
    client_id: str,
    challenge: str,
    *,
    email: str,
    password: str,
    decision: str = "approve",
    scope: str = EARNER_SCOPE,
    state: str = "xyz",
    redirect_uri: str = REDIRECT_URI,
) -> Authorization:
    """Open the consent page, sign in on it and decide; returns the redirect back to the client."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = http.get(f"/oauth/authorize?{query}")
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text)
    answer = http.post(
        "/oauth/authorize",
        data={**form, "email": email, "password": password, "decision": decision},
        follow_redirects=False,
    )
    return Authorization(answer.status_code, answer.headers.get("location", ""))


def exchange_code(http: Any, client_id: str, code: str, verifier: str, *, redirect_uri: str = REDIRECT_URI) -> Any:
    return http.post(
        "/v1/auth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )
