"""No response and no log line of the issuer routes carries private key material."""

from __future__ import annotations

import base64
import json
import logging

from cryptography.hazmat.primitives import serialization
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from sqlmodel import select

from service.issuers.models import SigningKey


def secrets_of(app, db) -> list[str]:
    """Every form of every issuer key's private part that could leak: sealed bytes (base64 both
    alphabets, hex), the PKCS#8 DER (base64), and the private JWK members."""
    keystore = app.state.keystore
    found: list[str] = []
    with db() as session:
        keys = session.exec(select(SigningKey)).all()
    for key in keys:
        sealed = key.private_sealed
        found += [
            base64.b64encode(sealed).decode(),
            base64.urlsafe_b64encode(sealed).decode().rstrip("="),
            sealed.hex(),
        ]
        private = keystore._open(sealed, key_id=key.id)  # the test needs the secret to search for it
        der = private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        found += [base64.b64encode(der).decode()[:64], base64.b64encode(der).decode()[-64:]]
        algorithm = OKPAlgorithm if key.algorithm == "EdDSA" else RSAAlgorithm
        jwk = algorithm.to_jwk(private, as_dict=True)
        found += [jwk[m] for m in ("d", "p", "q", "dp", "dq", "qi") if m in jwk]
    return found


def test_no_issuer_route_response_or_log_line_contains_private_key_material(client, api, app, db, caplog):
    caplog.set_level(logging.DEBUG)
    first = api.create_issuer("Host")
    second = api.create_issuer("Path")
    admin = api.admin
    own = api.create_account("issuer_admin", second["id"])
    responses = [
        client.post("/v1/issuers", json={"name": "Third", "url": "https://third.example"}, headers=admin),
        client.get("/v1/issuers", headers=admin),
        client.get(f"/v1/issuers/{first['id']}", headers=admin),
        client.patch(f"/v1/issuers/{first['id']}", json={"description": "About"}, headers=admin),
        client.get(f"/v1/issuers/{second['id']}/keys", headers=own),
        client.post(f"/v1/issuers/{second['id']}/keys/rotate", headers=own),
        client.get(f"/v1/issuers/{second['id']}/keys", headers=admin),
        client.get("/.well-known/did.json"),
        client.get(f"/issuers/{second['id']}/did.json"),
        client.get("/.well-known/jwks.json"),
        # and the errors
        client.post("/v1/issuers", json={"name": "x" * 300, "url": "https://x.example"}, headers=admin),
        client.get(f"/issuers/{first['id']}/did.json"),
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200, 200, 200, 200, 200, 200, 422, 404]
    secrets = secrets_of(app, db)
    assert len(secrets) > 30
    texts = [r.text for r in responses] + [caplog.text] + [json.dumps(r.json()) for r in responses]
    for text in texts:
        assert "PRIVATE" not in text
        assert "private_sealed" not in text
        for secret in secrets:
            assert secret not in text
    for response in responses:
        assert '"d":' not in response.text.replace(" ", "")
        for key in response.json().get("keys", []) if isinstance(response.json(), dict) else []:
            assert "d" not in key
