"""Helpers for the credential and verification tests: database reads, row counts, DID documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from service.audit.models import AuditEvent
from service.credentials.models import Credential, RecipientIdentity
from service.status.models import StatusEntry, StatusList
from service.vc.did import DocumentKeyResolver

MEDIA_TYPES = {
    "jsonld": "application/vc+ld+json",
    "jwt": "application/vc+jwt",
    "png": "image/png",
    "svg": "image/svg+xml",
}


def stored_credential(app: Any, credential_id: str) -> Credential:
    """The credential row as the database holds it."""
    with Session(app.state.engine) as session:
        credential = session.get(Credential, credential_id)
        assert credential is not None
        session.expunge(credential)
        return credential


def stored_recipient(app: Any, recipient_id: str) -> RecipientIdentity:
    with Session(app.state.engine) as session:
        identity = session.get(RecipientIdentity, recipient_id)
        assert identity is not None
        session.expunge(identity)
        return identity


def audit_events(app: Any, action: str) -> list[AuditEvent]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def row_counts(app: Any) -> dict[str, int]:
    """How many credentials, recipient identities, audit events, status lists and status entries
    the database holds."""
    with Session(app.state.engine) as session:
        return {
            model.__name__: session.exec(select(func.count()).select_from(model)).one()
            for model in (Credential, RecipientIdentity, AuditEvent, StatusList, StatusEntry)
        }


def did_document(client: TestClient, issuer: dict[str, Any]) -> dict[str, Any]:
    """The issuer's DID document, fetched from the public URL did:web resolution would use."""
    response = client.get(urlsplit(issuer["did_document_url"]).path)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    assert document["id"] == issuer["did"]
    return document


def published_keys(client: TestClient, issuer: dict[str, Any]) -> DocumentKeyResolver:
    """A key resolver that knows only what the service publishes (the DID document), not its database."""
    return DocumentKeyResolver({issuer["did"]: did_document(client, issuer)})


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an error in the service's one shape (and no stack trace)."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail"}, body
    assert "Traceback" not in response.text
    if code is not None:
        assert body["error"] == code, body
    return body


def status_list_urls(credential: dict[str, Any]) -> list[str]:
    """The status list credential URLs a credential's ``credentialStatus`` entries name."""
    entries = credential.get("credentialStatus", [])
    return [entry["statusListCredential"] for entry in (entries if isinstance(entries, list) else [entries])]


def resolve_map(
    client: TestClient, issuer: dict[str, Any], credential: dict[str, Any], folder: Path
) -> dict[str, Path]:
    """What an offline verifier needs for a credential, as the service publishes it: the issuer's
    DID document and each status list credential, fetched from their public URLs into files."""
    did_json = folder / "did.json"
    did_json.write_text(json.dumps(did_document(client, issuer)))
    files = {issuer["did"]: did_json}
    for number, url in enumerate(status_list_urls(credential)):
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, response.text
        files[url] = folder / f"status-list-{number}.json"
        files[url].write_bytes(response.content)
    return files
