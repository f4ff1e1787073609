"""Fixtures for the interop tests: the independent JavaScript verifier and the W3C test key."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop_vectors import EDDSA_VECTORS, load_json, write_json
from node_verifier import NodeVC, ensure_node_modules


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/interop/node/node_modules, installed from package-lock.json (once per machine)."""
    return ensure_node_modules()


@pytest.fixture(scope="session")
def node_vc(node_modules: Path) -> NodeVC:
    """digitalbazaar's issuer/verifier (tests/interop/node/dbvc.mjs), dependencies installed."""
    return NodeVC()


@pytest.fixture(scope="session")
def vector_key() -> dict[str, str]:
    """The W3C vc-di-eddsa test key pair (keyPair.json)."""
    key_pair: dict[str, str] = load_json(EDDSA_VECTORS / "keyPair.json")
    return key_pair


@pytest.fixture(scope="session")
def vector_did(vector_key: dict[str, str]) -> str:
    return f"did:key:{vector_key['publicKeyMultibase']}"


@pytest.fixture(scope="session")
def vector_key_file(vector_key: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """keyPair.json in SkillCred's key file format."""
    key_file = {
        "type": "Multikey",
        "publicKeyMultibase": vector_key["publicKeyMultibase"],
        "secretKeyMultibase": vector_key["privateKeyMultibase"],
    }
    return write_json(tmp_path_factory.mktemp("keys") / "vector-key.json", key_file)
