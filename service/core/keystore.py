"""Key custody: issuers' private keys encrypted at rest (AES-256-GCM) under a key-encryption key.

The KEK comes from ``SKILLCRED_KEK`` (32 bytes, base64url) or the file named by
``SKILLCRED_KEK_FILE``. In development, when neither is set, one is created at
``keys/dev-kek`` (mode 0600) and marked as a development key; with ``SKILLCRED_ENV=production``
the service refuses to start without a KEK and refuses a development one.

Private keys leave this module only as :class:`~service.vc.keys.Signer` objects, whose repr
holds no key material; they are never serialised except sealed. A :class:`Keystore` keeps the keys
it opened (a bounded number, by key id and sealed bytes) so that signing does not decrypt and
parse a key for every credential; whether a key may sign is the caller's check, made on the key's
row before it asks for a signer (:func:`service.issuers.keys.active_signers`).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.core.config import Settings
from service.vc.keys import LocalSigner, Signer
from service.vc.multikey import PrivateKey

DEV_KEK_PREFIX = "skillcred-dev-kek:"
_NONCE_BYTES = 12
_FORMAT_V1 = b"\x01"
OPENED_KEYS_KEPT = 64
"""Opened private keys a :class:`Keystore` keeps (least recently used first out): two per issuer
that signs, so a deployment's signing issuers stay opened."""


class KeystoreError(Exception):
    """The KEK is missing, malformed or not allowed here; or a sealed key does not open."""


@dataclass(frozen=True)
class KeyEncryptionKey:
    """The 32-byte KEK and where it came from (``env``, ``file`` or ``development``)."""

    key: bytes
    source: str

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(source={self.source!r})"


def _decode_kek(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as err:
        raise KeystoreError(f"{where} is not base64url") from err
    if len(raw) != 32:
        raise KeystoreError(f"{where} must hold 32 bytes (base64url), not {len(raw)}")
    return raw


def new_kek_text() -> str:
    """A fresh random KEK, base64url (what ``SKILLCRED_KEK`` expects)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def load_kek(settings: Settings) -> KeyEncryptionKey:
    """The KEK the settings name; in development only, create one if none is configured."""
    if settings.kek is not None:
        text = settings.kek.get_secret_value()
        if text.startswith(DEV_KEK_PREFIX) and settings.is_production:
            raise KeystoreError("SKILLCRED_KEK is a development key; production needs its own")
        return KeyEncryptionKey(_decode_kek(text.removeprefix(DEV_KEK_PREFIX), "SKILLCRED_KEK"), "env")
    path = settings.kek_file
    if path is None:
        if settings.is_production:
            raise KeystoreError("Production needs SKILLCRED_KEK or SKILLCRED_KEK_FILE; refusing to start")
        path = settings.dev_kek_file
        if not path.exists():
            _create_private_file(path, DEV_KEK_PREFIX + new_kek_text() + "\n")
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise KeystoreError(f"Cannot read the KEK file {path}") from err
    is_dev = text.startswith(DEV_KEK_PREFIX)
    if settings.is_production and (is_dev or path.resolve() == settings.dev_kek_file.resolve()):
        raise KeystoreError("The KEK file holds the development key; production refuses it")
    source = "development" if is_dev else "file"
    return KeyEncryptionKey(_decode_kek(text.removeprefix(DEV_KEK_PREFIX), f"KEK file {path}"), source)


def _create_private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


class Keystore:
    """Seals and opens private keys; hands out signers. Never returns key bytes to callers."""

    def __init__(self, kek: KeyEncryptionKey) -> None:
        self._aead = AESGCM(kek.key)
        self._kek = kek
        # (key id, sealed bytes) -> the opened key: the sealed bytes are part of the name, so a
        # key sealed again (a new KEK) or another key under a reused id is opened afresh
        self._opened: OrderedDict[tuple[str, bytes], PrivateKey] = OrderedDict()
        self._opened_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Keystore({self._kek!r})"

    def seal(self, private_key: PrivateKey, *, key_id: str) -> bytes:
        """Encrypt a private key (PKCS#8 DER) bound to ``key_id`` (as associated data)."""
        der = private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, der, key_id.encode())

    def _open(self, sealed: bytes, *, key_id: str) -> PrivateKey:
        if not sealed.startswith(_FORMAT_V1):
            raise KeystoreError(f"Sealed key {key_id} has an unknown format")
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            der = self._aead.decrypt(nonce, ciphertext, key_id.encode())
        except Exception as err:  # InvalidTag: wrong KEK or tampered ciphertext
            raise KeystoreError(f"Sealed key {key_id} does not open with this KEK") from err
        # The bytes are authenticated by AES-GCM (we sealed them), so the slow RSA consistency
        # check (~190 ms for RSA 3072) adds nothing.
        key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
        return key  # type: ignore[return-value]

    def _opened_key(self, sealed: bytes, *, key_id: str) -> PrivateKey:
        """:meth:`_open`, once per key while it stays among the :data:`OPENED_KEYS_KEPT` most
        recently used (unwrapping an RSA 3072 key costs more than signing with it)."""
        name = (key_id, bytes(sealed))
        with self._opened_lock:
            key = self._opened.get(name)
            if key is not None:
                self._opened.move_to_end(name)
                return key
        key = self._open(sealed, key_id=key_id)
        with self._opened_lock:
            self._opened[name] = key
            while len(self._opened) > OPENED_KEYS_KEPT:
                self._opened.popitem(last=False)
        return key

    def forget(self, key_id: str) -> None:
        """Drop the opened key ``key_id`` (it was retired or reported compromised): this process
        holds it no longer than it must. Callers never rely on this to stop a key signing: they
        check the key's row every time (another process may have retired it)."""
        with self._opened_lock:
            for name in [name for name in self._opened if name[0] == key_id]:
                del self._opened[name]

    def signer(self, sealed: bytes, *, key_id: str, verification_method: str) -> Signer:
        """A :class:`Signer` over a sealed key, named by its verification method."""
        return LocalSigner(self._opened_key(sealed, key_id=key_id), verification_method)

    def derive_secret(self, purpose: str) -> bytes:
        """A 32-byte secret for ``purpose`` (e.g. access-token signing), derived with HKDF."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"skillcred:{purpose}".encode())
        return hkdf.derive(self._kek.key)
