"""Helpers for the OB 3.0 REST API tests: the 1EdTech JSON Schemas the answers must validate
against, an earner's account, and tokens a platform holds for an earner."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fastapi import FastAPI
from jsonschema import Draft7Validator, Draft201909Validator
from sqlmodel import Session, select

from service.accounts.models import Account
from service.platforms import service
from service.platforms.models import PlatformEarner
from service.vc.schema_validation import schemas_directory

OB = "/ims/ob/v3p0"
OPENAPI = "service/platforms/data/ob_v3p0_openapi.json"


@cache
def _schema(name: str) -> dict[str, Any]:
    return json.loads((schemas_directory() / name).read_text(encoding="utf-8"))


def schema_errors(name: str, instance: Any) -> list[str]:
    """What the vendored 1EdTech JSON Schema ``name`` finds wrong with ``instance``."""
    validator = Draft201909Validator(_schema(name))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def _with_one_status(node: Any, member: int) -> Any:
    """``node`` with every ``credentialStatus`` set replaced by its ``member``-th entry (or last)."""
    if isinstance(node, list):
        return [_with_one_status(item, member) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _with_one_status(value, member) for key, value in node.items()}
    status = node.get("credentialStatus")
    if isinstance(status, list) and status:
        copy["credentialStatus"] = status[min(member, len(status) - 1)]
    return copy


def _largest_status_set(node: Any) -> int:
    if isinstance(node, list):
        return max((_largest_status_set(item) for item in node), default=0)
    if not isinstance(node, dict):
        return 0
    status = node.get("credentialStatus")
    own = len(status) if isinstance(status, list) else 0
    return max([own, *(_largest_status_set(value) for value in node.values())])


def ob_schema_errors(name: str, instance: Any) -> list[str]:
    """:func:`schema_errors`, reading a VCDM 2.0 ``credentialStatus`` set (SkillCred's revocation and
    suspension entries) as the 1EdTech schema's single CredentialStatus, one member at a time:
    each member must be a valid CredentialStatus, and everything else must validate as it is."""
    members = _largest_status_set(instance)
    if members == 0:
        return schema_errors(name, instance)
    return sorted(
        {error for member in range(members) for error in schema_errors(name, _with_one_status(instance, member))}
    )


def openapi_schema_errors(component: str, instance: Any) -> list[str]:
    """What the OB 3.0 OpenAPI document's schema ``component`` finds wrong with ``instance``."""
    from pathlib import Path

    document = json.loads(Path(__file__).resolve().parents[2].joinpath(OPENAPI).read_text(encoding="utf-8"))
    validator = Draft7Validator({**document, "$ref": f"#/components/schemas/{component}"})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def assert_imsx(response: Any, status: int, code_minor: str) -> dict[str, Any]:
    """The response is an ``Imsx_StatusInfo`` error with this status and code minor."""
    assert response.status_code == status, response.text
    body = response.json()
    assert schema_errors("imsx_statusinfo.json", body) == []
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == code_minor
    return body


def account_id(app: FastAPI, email: str) -> str:
    with Session(app.state.engine) as session:
        account = session.exec(select(Account).where(Account.email == email)).one()
        return account.id


def earner_client_token(app: FastAPI, earner_id: str, scope: str) -> dict[str, str]:
    """The auth headers of an earner-facing platform (no issuer) the earner granted ``scope``
    (as the authorization code grant leaves it: a grant for the earner's account)."""
    with Session(app.state.engine, expire_on_commit=False) as session:
        registered = service.register_client(
            session, name="Wallet", issuer_id=None, scope=scope, redirect_uris=["https://wallet.example/cb"]
        )
        earner = session.get(Account, earner_id)
        assert earner is not None
        grant = service.open_grant(session, registered.client, earner_id, scope, "authorization_code", expires_at=None)
        token = service.mint_access_token(app.state.tokens, registered.client, grant, earner)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def provision(app: FastAPI, issuer_id: str, client_id: str, earner_id: str) -> None:
    """Link ``earner_id`` to ``issuer_id`` as an earner its platform (``client_id``) provisioned."""
    with Session(app.state.engine) as session:
        client = service.find_client(session, client_id)
        assert client is not None
        session.add(
            PlatformEarner(issuer_id=issuer_id, account_id=earner_id, external_id=earner_id, client_pk=client.id)
        )
        session.commit()
