"""The keystore keeps the keys it opened (issue 15): an issuer's keys are unwrapped once, not for
every credential; and a key retired or reported compromised never signs again, whoever retired it
(this process, through the API, or another one, straight in the database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from service.core.keystore import OPENED_KEYS_KEPT, Keystore, load_kek
from service.issuers.keys import generate_private_key
from service.issuers.models import SigningKey
from tests.credentials.helpers import assert_error

KEYS = SigningKey.__table__  # type: ignore[attr-defined]


@pytest.fixture
def opened(app, monkeypatch) -> list[str]:
    """The ids of the keys the app's keystore unwraps (decrypts and parses), in order."""
    keystore = app.state.keystore
    real = keystore._open
    calls: list[str] = []

    def spy(sealed: bytes, *, key_id: str):
        calls.append(key_id)
        return real(sealed, key_id=key_id)

    monkeypatch.setattr(keystore, "_open", spy)
    return calls


@pytest.fixture
def achievement(api) -> dict:
    issuer = api.create_issuer("Opened Keys Academy")
    return api.create_achievement(issuer["id"], name="Kept keys")


def signed_by(credential: dict) -> str:
    """The fragment of the key of the credential's embedded proof."""
    return credential["credential"]["proof"][0]["verificationMethod"].rsplit("#", 1)[1]


def test_an_issuers_keys_are_unwrapped_once_not_for_every_credential(api, achievement, opened):
    for _ in range(3):
        api.issue(achievement["id"])

    assert len(opened) == 2  # its Ed25519 and its RSA key, once each
    assert len(set(opened)) == 2


def test_a_rotated_key_never_signs_again_and_is_dropped_from_the_keystore(api, app, achievement, opened):
    first = api.issue(achievement["id"])
    old_ids = set(opened)
    rotated = api.client.post(f"/v1/issuers/{achievement['issuer_id']}/keys/rotate", headers=api.admin)
    assert rotated.status_code == 200, rotated.text

    second = api.issue(achievement["id"])

    assert (signed_by(first), signed_by(second)) == ("key-1", "key-2")
    assert not {key_id for key_id, _ in app.state.keystore._opened} & old_ids


def test_a_key_reported_compromised_never_signs_again(api, achievement, opened):
    api.issue(achievement["id"])  # key-1 is opened and kept
    reported = api.client.post(
        f"/v1/issuers/{achievement['issuer_id']}/keys/key-1/compromise",
        json={"reason": "The key export leaked", "compromised_at": datetime.now(UTC).isoformat()},
        headers=api.admin,
    )
    assert reported.status_code == 200, reported.text

    assert signed_by(api.issue(achievement["id"])) == "key-2"


def _change_key_row(app, fragment: str, **values) -> None:
    """What another process's rotation or report does: a change of the key's row only (this
    process's keystore is not told)."""
    with app.state.engine.begin() as connection:
        connection.execute(sa.update(KEYS).where(KEYS.c.fragment == fragment).values(**values))


def test_a_kept_key_retired_by_another_process_signs_nothing(api, app, achievement, opened):
    api.issue(achievement["id"])
    _change_key_row(app, "key-1", retired_at=datetime.now(UTC))

    response = api.client.post(
        "/v1/credentials",
        json={"achievement_id": achievement["id"], "recipient": {"email": "next@example.org"}},
        headers=api.admin,
    )

    assert_error(response, 409, "no_active_key")


def test_a_kept_key_reported_compromised_by_another_process_signs_nothing(api, app, achievement, opened):
    api.issue(achievement["id"])
    _change_key_row(app, "rsa-1", compromised_at=datetime.now(UTC), compromise_reason="leaked")

    response = api.client.post(
        "/v1/credentials",
        json={"achievement_id": achievement["id"], "recipient": {"email": "next@example.org"}},
        headers=api.admin,
    )

    assert_error(response, 409, "active_key_compromised")


def test_opened_keys_belong_to_one_keystore_and_are_bounded(settings):
    kek = load_kek(settings)
    first, second = Keystore(kek), Keystore(kek)
    key = generate_private_key("EdDSA")
    sealed = first.seal(key, key_id="k")

    first.signer(sealed, key_id="k", verification_method="did:example:a#key-1")
    assert len(first._opened) == 1 and len(second._opened) == 0  # nothing shared between keystores
    for number in range(OPENED_KEYS_KEPT + 5):
        first.signer(first.seal(key, key_id=f"k{number}"), key_id=f"k{number}", verification_method="did:x#k")

    assert len(first._opened) == OPENED_KEYS_KEPT
    assert "k" not in {key_id for key_id, _ in first._opened}  # the least recently used went first
    assert "sealed" not in repr(first) and "PrivateKey" not in repr(first)
