"""What openapi.yaml says about the OAuth endpoints that FastAPI cannot see: Authlib reads and
checks these parameters and bodies itself, so a wrong one gets the protocol's answer (an error
page, a redirect, a 400 with an OAuth error code), never a 422. No behaviour here."""

from __future__ import annotations

from typing import Any


def _query(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


#: The authorization request's parameters, for openapi.yaml only: Authlib reads and checks them, so
#: a wrong one gets the protocol's answer (an error page or redirect), not a 422.
AUTHORIZE_PARAMETERS = [
    _query("response_type", "Always `code`.", {"type": "string", "enum": ["code"]}, required=True),
    _query("client_id", "The client's id.", {"type": "string", "maxLength": 64}, required=True),
    _query("redirect_uri", "One of the client's registered redirect URIs, exactly.", {"type": "string"}),
    _query("scope", "Space-separated scopes the client may ask for.", {"type": "string"}),
    _query("state", "Returned unchanged to the redirect URI.", {"type": "string"}),
    _query(
        "code_challenge",
        "PKCE (RFC 7636): BASE64URL(SHA-256(code_verifier)).",
        {"type": "string", "minLength": 43, "maxLength": 128},
        required=True,
    ),
    _query("code_challenge_method", "Only `S256`.", {"type": "string", "enum": ["S256"]}, required=True),
]

ERROR_PAGE = {
    "description": "An error page for a request that cannot go back to the client; the OAuth error code is"
    " the `data-oauth-error` attribute of its `main` element",
    "content": {"text/html": {"schema": {"type": "string"}}},
}


_STRING = {"type": "string", "maxLength": 2048}
_URI = {"type": "string", "format": "uri", "maxLength": 2048}

#: RFC 7591 section 2 client metadata as this server reads it (others are accepted and ignored).
CLIENT_METADATA_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "Client metadata (RFC 7591 section 2). `redirect_uris` is needed for the"
                " authorization code grant (the default grant of an open registration).",
                "minProperties": 1,
                "properties": {
                    "client_name": {"type": "string", "maxLength": 200},
                    "redirect_uris": {"type": "array", "items": _URI, "minItems": 1, "maxItems": 10},
                    "grant_types": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "enum": ["authorization_code", "refresh_token", "client_credentials"],
                        },
                    },
                    "response_types": {"type": "array", "items": {"type": "string", "enum": ["code"]}},
                    "scope": {"type": "string", "description": "Space-separated scopes", "maxLength": 2048},
                    "token_endpoint_auth_method": {
                        "type": "string",
                        "enum": ["client_secret_basic", "client_secret_post", "none"],
                    },
                    "client_uri": _URI,
                    "logo_uri": _URI,
                    "tos_uri": _URI,
                    "policy_uri": _URI,
                    "contacts": {"type": "array", "items": _STRING, "maxItems": 10},
                    "software_id": _STRING,
                    "software_version": _STRING,
                },
            }
        }
    },
}
