"""The real key generator (the rest of the suite draws RSA keys from a fixture pool for speed)."""

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from service.issuers import keys


def test_issuer_keys_are_fresh_ed25519_and_rsa_3072(monkeypatch):
    monkeypatch.undo()  # drop the conftest's pooled RSA keys for this test
    first, second = keys.generate_private_key("RS256"), keys.generate_private_key("RS256")
    assert isinstance(first, rsa.RSAPrivateKey) and first.key_size == 3072
    assert first.private_numbers() != second.private_numbers()
    assert isinstance(keys.generate_private_key("EdDSA"), ed25519.Ed25519PrivateKey)
