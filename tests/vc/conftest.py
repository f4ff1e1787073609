"""Fixtures for the credential core: test keys (fixture files) and an Open Badges 3.0 credential."""

import copy
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from service.vc import data_integrity
from service.vc.keys import LocalSigner, did_key_signer, load_ed25519_key_file
from tests.standards import OB3_IMPL_GUIDE, load_json

KEYS = Path(__file__).resolve().parents[1] / "fixtures" / "keys"


def load_key_file(name: str):
    return load_ed25519_key_file(json.loads((KEYS / name).read_text()))


def load_pem(name: str):
    return serialization.load_pem_private_key((KEYS / name).read_bytes(), password=None)


@pytest.fixture(scope="session")
def issuer_signer() -> LocalSigner:
    """The test issuer's Ed25519 key, named by its did:key."""
    return did_key_signer(load_key_file("issuer-ed25519.json"))


@pytest.fixture(scope="session")
def other_signer() -> LocalSigner:
    """A key that does not belong to the issuer."""
    return did_key_signer(load_key_file("other-ed25519.json"))


@pytest.fixture(scope="session")
def issuer_did(issuer_signer) -> str:
    return issuer_signer.verification_method.split("#")[0]


@pytest.fixture(scope="session")
def _unsigned(issuer_did) -> dict:
    credential = load_json(OB3_IMPL_GUIDE / "unsigned-credential.json")
    credential["issuer"]["id"] = issuer_did
    return credential


@pytest.fixture
def unsigned_credential(_unsigned) -> dict:
    """An unsigned OB 3.0 AchievementCredential (the implementation guide's) issued by the test issuer."""
    return copy.deepcopy(_unsigned)


@pytest.fixture(scope="session")
def _signed(_unsigned, issuer_signer) -> dict:
    return data_integrity.sign(_unsigned, issuer_signer, created="2024-01-01T00:00:00Z")


@pytest.fixture
def signed_credential(_signed) -> dict:
    """``unsigned_credential`` with an eddsa-rdfc-2022 proof by the issuer's did:key."""
    return copy.deepcopy(_signed)
