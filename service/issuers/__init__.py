"""Issuers (OB 3.0 Profiles), their signing keys, DID documents and key rotation."""
