"""Fixtures for the endorsement tests: an earner with a credential, clients who endorse it (by
email, or with their own did:key), and helpers that walk both flows through the API."""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest

from service.vc import data_integrity
from service.vc.keys import LocalSigner, did_key_signer, generate_ed25519
from tests.credentials.conftest import achievement, issuer  # noqa: F401 (fixtures)

_numbers = itertools.count(1)
PASSWORD = "a-long-enough-password"


@dataclass
class Earner:
    email: str
    headers: dict[str, str]


def register_earner(api, email: str | None = None) -> Earner:
    """A freelancer's own account (``POST /v1/auth/register``), signed in."""
    email = email or f"earner{next(_numbers)}@example.org"
    return Earner(email, api.register_earner(email, PASSWORD))


@pytest.fixture
def earner(api) -> Earner:
    return register_earner(api)


@pytest.fixture
def credential(api, achievement, earner) -> dict[str, Any]:  # noqa: F811 (the fixture above)
    """A credential issued to the earner's address, with a result and evidence."""
    return api.issue(
        achievement["id"],
        {"email": earner.email},
        evidence=[{"id": "https://github.com/ada/tested-project", "name": "Tested project"}],
        results=[{"result_description": "Grade", "value": "A"}],
    )


ENGAGEMENT = {
    "project_name": "Checkout rewrite",
    "start_date": "2026-01-05",
    "end_date": "2026-03-20",
    "contract_id": "UPW-12345",
}


def ask(
    api,
    credential_id: str,
    *,
    email: str = "grace@client.example",
    name: str = "Grace Client",
    statement: str = "Ada rebuilt our checkout with a thorough test suite.",
    engagement: Any = ENGAGEMENT,
):
    """POST /v1/credentials/{id}/endorsements/requests (the raw response)."""
    body: dict[str, Any] = {"email": email, "name": name, "statement": statement}
    if engagement is not None:
        body["engagement"] = engagement
    return api.client.post(f"/v1/credentials/{credential_id}/endorsements/requests", json=body)


def confirm(api, request_id: str, token: str):
    return api.client.post(f"/v1/endorsements/requests/{request_id}/confirm", json={"token": token})


def endorse_by_email(api, credential_id: str, **kwargs: Any) -> dict[str, Any]:
    """Flow A end to end: request, confirm with the token; returns the endorsement."""
    asked = ask(api, credential_id, **kwargs)
    assert asked.status_code == 202, asked.text
    confirmed = confirm(api, asked.json()["id"], asked.json()["verification_token"])
    assert confirmed.status_code == 201, confirmed.text
    return confirmed.json()


# --- a client with their own did:key ----------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Client:
    signer: LocalSigner

    @property
    def did(self) -> str:
        return self.signer.verification_method.split("#")[0]

    def sign_jws(self, payload: dict[str, Any], **header: Any) -> str:
        header = {"alg": "EdDSA", "kid": self.signer.verification_method, **header}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
        return f"{signing_input}.{_b64(self.signer.sign(signing_input.encode('ascii')))}"

    def endorsement(
        self, subject_id: str, comment: str = "Excellent engineer; I would hire Ada again.", **changes: Any
    ) -> dict[str, Any]:
        unsigned = {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "id": f"urn:uuid:0b7a6c1e-4d3f-4b8e-9a2c-{next(_numbers):012d}",
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "name": "Endorsement by Linus Client",
            "issuer": {"id": self.did, "type": ["Profile"], "name": "Linus Client"},
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": subject_id, "type": ["EndorsementSubject"], "endorsementComment": comment},
            **changes,
        }
        return data_integrity.sign(unsigned, self.signer, proof_as_list=True)


@pytest.fixture
def client_key() -> Client:
    return Client(did_key_signer(generate_ed25519()))


def challenge(api, credential_id: str, did: str) -> dict[str, Any]:
    response = api.client.post(f"/v1/credentials/{credential_id}/endorsements/challenges", json={"did": did})
    assert response.status_code == 201, response.text
    return response.json()


def submit(api, credential_id: str, challenge_id: str, proof: str, endorsement: Any):
    return api.client.post(
        f"/v1/credentials/{credential_id}/endorsements/signed",
        json={"challenge_id": challenge_id, "proof": proof, "endorsement": endorsement},
    )


def endorse_with_did(api, credential: dict[str, Any], client: Client, **kwargs: Any) -> dict[str, Any]:
    """Flow B end to end: challenge, signed challenge and signed endorsement; returns the endorsement."""
    issued = challenge(api, credential["id"], client.did)
    proof = client.sign_jws({"nonce": issued["nonce"], "aud": issued["audience"], "iss": client.did})
    response = submit(api, credential["id"], issued["id"], proof, client.endorsement(credential["url"], **kwargs))
    assert response.status_code == 201, response.text
    return response.json()


def decide(api, endorsement_id: str, decision: str, headers: dict[str, str]):
    return api.client.post(f"/v1/endorsements/{endorsement_id}/{decision}", headers=headers)


def accept(api, endorsement: dict[str, Any], earner: Earner) -> dict[str, Any]:
    """The earner accepts an endorsement; returns it as accepted, with its signed document."""
    response = decide(api, endorsement["id"], "accept", earner.headers)
    assert response.status_code == 200, response.text
    assert response.json()["endorsement"] is not None
    return response.json()


def revoke(api, endorsement_id: str, headers: dict[str, str], reason: str = "The endorser withdrew it"):
    """POST /v1/endorsements/{id}/revoke (the raw response)."""
    return api.client.post(f"/v1/endorsements/{endorsement_id}/revoke", json={"reason": reason}, headers=headers)
