"""Webhook signing secrets: made, sealed at rest, opened to sign, and the signature header.

A secret is ``whsec_`` + base64 of 32 random bytes (Standard Webhooks). It must be used again
to sign every delivery, so it is encrypted, not hashed: AES-256-GCM under a key the
:class:`~service.core.keystore.Keystore` derives from the KEK for this purpose only, bound to the
subscription's id. Signing uses the ``standardwebhooks`` package (MIT, maintained by the
Standard Webhooks project): HMAC-SHA256 over ``{id}.{timestamp}.{body}`` with the secret's
decoded bytes, base64, prefixed ``v1,``.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from standardwebhooks.webhooks import Webhook

from service.core.keystore import Keystore, KeystoreError

SECRET_PREFIX = "whsec_"
_PURPOSE = "webhook-secrets"
_NONCE_BYTES = 12
_FORMAT_V1 = b"\x01"


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def seal(keystore: Keystore, secret: str, *, subscription_id: str) -> bytes:
    """``secret`` encrypted for storage, bound to ``subscription_id``."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    aead = AESGCM(keystore.derive_secret(_PURPOSE))
    return _FORMAT_V1 + nonce + aead.encrypt(nonce, secret.encode("ascii"), subscription_id.encode())


def open_secret(keystore: Keystore, sealed: bytes, *, subscription_id: str) -> str:
    """The secret :func:`seal` encrypted; :class:`KeystoreError` when it does not open."""
    if not sealed.startswith(_FORMAT_V1):
        raise KeystoreError(f"the secret of webhook {subscription_id} has an unknown format")
    nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
    try:
        plain = AESGCM(keystore.derive_secret(_PURPOSE)).decrypt(nonce, ciphertext, subscription_id.encode())
    except Exception as err:  # InvalidTag: another KEK, or tampered
        raise KeystoreError(f"the secret of webhook {subscription_id} does not open with this KEK") from err
    return plain.decode("ascii")


def signature_header(secrets_in_use: list[str], message_id: str, timestamp: datetime, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1,<base64>`` per secret, separated by spaces."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_in_use)
