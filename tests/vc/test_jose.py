"""VC-JWT as Open Badges 3.0 section 8.2 defines it: signing, verifying, and everything refused."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from service.vc.constants import CREDENTIALS_V1, CREDENTIALS_V2, OB_V3P0_CONTEXT
from service.vc.did import DocumentKeyResolver, PublishedKey, build_did_document, did_key
from service.vc.errors import JwtError
from service.vc.jose import (
    MAX_TOKEN_LENGTH,
    decode_vc_jwt_unverified,
    encode_compact_jws,
    looks_like_compact_jws,
    sign_vc_jwt,
    verify_vc_jwt,
)
from service.vc.keys import LocalSigner
from service.vc.multikey import public_key_to_jwk

ISSUER = "did:web:issuer.example"
OTHER_ISSUER = "did:web:other.example"
LEARNER = "did:example:learner-7"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
VALID_FROM = datetime(2024, 1, 1, tzinfo=UTC)
VALID_UNTIL = datetime(2099, 1, 1, tzinfo=UTC)
ALGORITHMS = ("RS256", "EdDSA", "ES256")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_keys() -> dict[str, Any]:
    """One key per algorithm; RSA is 2048 bits, the OB conformance minimum."""
    return {
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
    }


@pytest.fixture(scope="module")
def signers(private_keys: dict[str, Any]) -> dict[str, LocalSigner]:
    return {alg: LocalSigner(key, f"{ISSUER}#{alg.lower()}-1") for alg, key in private_keys.items()}


@pytest.fixture(scope="module")
def stranger_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def resolver(private_keys: dict[str, Any], stranger_key: Any) -> DocumentKeyResolver:
    """The issuer's did:web document lists every key; another DID lists a stranger's key."""
    issuer_keys = [PublishedKey(f"{a.lower()}-1", k.public_key()) for a, k in private_keys.items()]
    login_key = private_keys["EdDSA"].public_key()
    issuer_keys.append(PublishedKey("login-only", login_key, purposes=("authentication",)))
    stranger_keys = [PublishedKey("key-1", stranger_key.public_key())]
    return DocumentKeyResolver(
        {
            ISSUER: build_did_document(ISSUER, issuer_keys),
            OTHER_ISSUER: build_did_document(OTHER_ISSUER, stranger_keys),
        }
    )


def make_credential(issuer: str = ISSUER, **changes: Any) -> dict[str, Any]:
    """An OpenBadgeCredential (VCDM 2.0); ``changes`` set (or, with None, remove) members."""
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT],
        "id": "urn:uuid:5c1c4a4e-6b7b-4c55-9f3e-0c1f7d3b2a10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example Academy"},
        "validFrom": "2024-01-01T00:00:00Z",
        "validUntil": "2099-01-01T00:00:00Z",
        "name": "Prompt engineering for translators",
        "credentialSubject": {
            "id": LEARNER,
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.example/achievements/prompting",
                "type": ["Achievement"],
                "name": "Prompt engineering",
                "criteria": {"narrative": "Portfolio of ten reviewed translations."},
            },
        },
    }
    for name, value in changes.items():
        if value is None:
            credential.pop(name, None)
        else:
            credential[name] = value
    return credential


def error_code(action: Callable[[], Any]) -> str:
    with pytest.raises(JwtError) as excinfo:
        action()
    return excinfo.value.code


def verify(token: str, resolver: Any, **options: Any) -> Any:
    options.setdefault("now", NOW)
    return verify_vc_jwt(token, resolver, **options)


def verify_error(token: str, resolver: Any, **options: Any) -> str:
    return error_code(lambda: verify(token, resolver, **options))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_json(value: Any) -> str:
    return b64(json.dumps(value).encode())


def sign_crafted(signer: LocalSigner, payload: dict[str, Any], **header: Any) -> str:
    """A token with any header and payload, validly signed by ``signer``."""
    full_header = {"alg": signer.algorithm, "typ": "JWT", "kid": signer.verification_method}
    full_header.update(header)
    present = {name: value for name, value in full_header.items() if value is not None}
    return encode_compact_jws(present, payload, signer)


def claims_of(credential: dict[str, Any], signer: LocalSigner) -> dict[str, Any]:
    """The payload sign_vc_jwt would produce, for tests to alter and re-sign."""
    return decode_vc_jwt_unverified(sign_vc_jwt(credential, signer))[1]


def vcdm_1_1_credential(**changes: Any) -> dict[str, Any]:
    """The same badge as a VCDM 1.1 credential: issuanceDate/expirationDate, the v1 context."""
    credential = make_credential(validFrom=None, validUntil=None, **changes)
    credential["@context"] = [CREDENTIALS_V1, OB_V3P0_CONTEXT]
    credential.setdefault("issuanceDate", "2024-01-01T00:00:00Z")
    return credential


def replace_part(token: str, index: int, new_part: str) -> str:
    parts = token.split(".")
    parts[index] = new_part
    return ".".join(parts)


# --- what a signed VC-JWT looks like -----------------------------------------------------------


def test_header_holds_alg_typ_jwt_and_the_signers_verification_method_as_kid(signers):
    header, _ = decode_vc_jwt_unverified(sign_vc_jwt(make_credential(), signers["RS256"]))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": f"{ISSUER}#rs256-1"}


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_jwk_header_holds_the_public_key_and_never_a_private_member(signers, alg):
    token = sign_vc_jwt(make_credential(), signers[alg], key_in_header="jwk")
    header, _ = decode_vc_jwt_unverified(token)
    assert set(header) == {"alg", "typ", "jwk"}
    assert header["jwk"] == public_key_to_jwk(signers[alg].public_key)
    assert not {"d", "p", "q", "dp", "dq", "qi"} & header["jwk"].keys()


def test_payload_is_the_credential_plus_iss_jti_nbf_sub_exp_and_nothing_else(signers):
    credential = make_credential()
    _, payload = decode_vc_jwt_unverified(sign_vc_jwt(credential, signers["EdDSA"]))
    claims = {k: payload.pop(k) for k in ("iss", "jti", "nbf", "sub", "exp")}
    assert payload == credential
    assert claims == {
        "iss": ISSUER,
        "jti": credential["id"],
        "nbf": int(VALID_FROM.timestamp()),
        "sub": LEARNER,
        "exp": int(VALID_UNTIL.timestamp()),
    }


def test_exp_is_left_out_when_the_credential_does_not_expire(signers):
    token = sign_vc_jwt(make_credential(validUntil=None), signers["EdDSA"])
    _, payload = decode_vc_jwt_unverified(token)
    assert "exp" not in payload and "iat" not in payload


def test_a_vcdm_1_1_credential_travels_in_the_vc_claim_with_issuanceDate_as_nbf(signers):
    credential = vcdm_1_1_credential(expirationDate="2099-01-01T00:00:00Z")
    _, payload = decode_vc_jwt_unverified(sign_vc_jwt(credential, signers["RS256"]))
    assert payload == {
        "iss": ISSUER,
        "jti": credential["id"],
        "nbf": int(VALID_FROM.timestamp()),
        "sub": LEARNER,
        "exp": int(VALID_UNTIL.timestamp()),
        "vc": credential,
    }


def test_fractional_validFrom_becomes_whole_seconds_and_still_verifies(signers, resolver):
    credential = make_credential(validFrom="2024-01-01T00:00:00.750Z")
    token = sign_vc_jwt(credential, signers["ES256"])
    assert decode_vc_jwt_unverified(token)[1]["nbf"] == int(VALID_FROM.timestamp())
    assert verify(token, resolver).credential == credential


@pytest.mark.parametrize("missing", ["issuer", "id", "validFrom"])
def test_signing_needs_the_issuer_id_the_credential_id_and_validFrom(signers, missing):
    credential = make_credential(**{missing: None})
    assert error_code(lambda: sign_vc_jwt(credential, signers["EdDSA"])) == "claim_missing"


def test_signing_refuses_a_credential_that_already_uses_a_jwt_claim_name(signers):
    credential = make_credential(iss="https://someone.else")
    assert error_code(lambda: sign_vc_jwt(credential, signers["EdDSA"])) == "claim_mismatch"


def test_an_es256_signer_that_returns_der_is_refused(private_keys):
    class DerSigner(LocalSigner):
        def sign(self, data: bytes) -> bytes:
            return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    signer = DerSigner(private_keys["ES256"], f"{ISSUER}#es256-1")
    assert error_code(lambda: sign_vc_jwt(make_credential(), signer)) == "signer_error"


def test_a_signer_whose_algorithm_does_not_fit_its_key_is_refused(private_keys):
    class LyingSigner(LocalSigner):
        algorithm = "EdDSA"  # type: ignore[assignment]

    signer = LyingSigner(private_keys["RS256"], f"{ISSUER}#rs256-1")
    assert error_code(lambda: sign_vc_jwt(make_credential(), signer)) == "alg_key_mismatch"


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_kid_round_trip_gives_back_the_credential_and_the_resolved_key(signers, resolver, alg):
    credential = make_credential()
    result = verify(sign_vc_jwt(credential, signers[alg]), resolver)
    assert result.credential == credential
    assert result.algorithm == alg
    assert result.key_source == "kid"
    assert result.verification_method == signers[alg].verification_method
    assert result.warnings == ()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_jwk_header_holding_a_key_the_issuer_publishes_verifies(signers, resolver, alg):
    result = verify(sign_vc_jwt(make_credential(), signers[alg], key_in_header="jwk"), resolver)
    assert result.key_source == "jwk"
    assert result.verification_method == signers[alg].verification_method
    assert result.warnings == ()


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_jwk_header_is_not_trusted_without_the_issuers_document(signers, alg):
    token = sign_vc_jwt(make_credential(), signers[alg], key_in_header="jwk")
    assert verify_error(token, None) == "key_not_resolved"


def test_a_forged_token_signed_by_any_key_in_the_jwk_header_is_refused(stranger_key, resolver):
    """The attack: keep iss = the issuer, change the payload, sign with your own key and put it
    in the jwk header. The issuer's document does not list that key, so nothing verifies."""
    forger = LocalSigner(stranger_key, "urn:forger")
    forged = make_credential(name="Chief surgeon")
    token = sign_vc_jwt(forged, forger, key_in_header="jwk")
    with pytest.raises(JwtError) as refused:
        verify(token, resolver)
    assert refused.value.code == "key_not_published"
    assert "signed by a key the issuer does not publish" in str(refused.value).lower()


def test_a_jwk_header_with_no_iss_belongs_to_nobody(signers, resolver):
    signer = signers["EdDSA"]
    payload = claims_of(make_credential(), signer)
    del payload["iss"]
    token = sign_crafted(signer, payload, kid=None, jwk=public_key_to_jwk(signer.public_key))
    assert verify_error(token, resolver) == "key_not_published"


def test_a_jwk_header_of_a_key_the_issuer_lists_only_for_login_is_refused(private_keys):
    login_key = private_keys["EdDSA"]
    document = build_did_document(ISSUER, [PublishedKey("login", login_key.public_key(), ("authentication",))])
    token = sign_vc_jwt(make_credential(), LocalSigner(login_key, "urn:x"), key_in_header="jwk")
    assert verify_error(token, DocumentKeyResolver({ISSUER: document})) == "purpose_mismatch"


def test_a_did_key_issuer_needs_neither_kid_nor_jwk(private_keys):
    did = did_key(private_keys["EdDSA"].public_key())
    signer = LocalSigner(private_keys["EdDSA"], f"{did}#{did.removeprefix('did:key:')}")
    token = sign_crafted(signer, claims_of(make_credential(issuer=did), signer), kid=None)
    assert verify(token, None).verification_method == signer.verification_method


def test_the_fully_specified_ed25519_algorithm_name_is_accepted(signers, resolver):
    signer = signers["EdDSA"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), alg="Ed25519")
    assert verify(token, resolver).algorithm == "EdDSA"


def test_the_ed25519_algorithm_name_does_not_fit_an_rsa_key(signers, resolver):
    signer = signers["RS256"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), alg="Ed25519")
    assert verify_error(token, resolver) == "alg_key_mismatch"


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_jwk_header_is_trusted_when_it_is_the_issuers_own_did_key(private_keys, alg):
    did = did_key(private_keys[alg].public_key())
    signer = LocalSigner(private_keys[alg], f"{did}#{did.removeprefix('did:key:')}")
    result = verify(sign_vc_jwt(make_credential(issuer=did), signer, key_in_header="jwk"), None)
    assert result.warnings == ()
    assert result.verification_method == signer.verification_method


def test_a_did_key_kid_resolves_without_any_resolver(private_keys):
    did = did_key(private_keys["EdDSA"].public_key())
    signer = LocalSigner(private_keys["EdDSA"], f"{did}#{did.removeprefix('did:key:')}")
    result = verify(sign_vc_jwt(make_credential(issuer=did), signer), None)
    assert result.verification_method == signer.verification_method


def test_a_fragment_kid_is_resolved_against_iss(signers, resolver):
    signer = signers["RS256"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), kid="#rs256-1")
    assert verify(token, resolver).verification_method == f"{ISSUER}#rs256-1"


def test_a_vcdm_1_1_vc_jwt_round_trips(signers, resolver):
    credential = vcdm_1_1_credential()
    assert verify(sign_vc_jwt(credential, signers["RS256"]), resolver).credential == credential


def test_an_issuer_given_as_a_plain_string_verifies(signers, resolver):
    credential = make_credential(issuer=ISSUER)
    credential["issuer"] = ISSUER
    assert verify(sign_vc_jwt(credential, signers["EdDSA"]), resolver).credential == credential


def test_a_subject_without_id_needs_no_sub_claim(signers, resolver):
    credential = make_credential()
    del credential["credentialSubject"]["id"]
    token = sign_vc_jwt(credential, signers["EdDSA"])
    assert "sub" not in decode_vc_jwt_unverified(token)[1]
    assert verify(token, resolver).credential == credential


# --- independent implementation (PyJWT) agrees -------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_pyjwt_verifies_our_tokens(signers, alg):
    token = sign_vc_jwt(make_credential(), signers[alg])
    claims = pyjwt.decode(token, key=signers[alg].public_key, algorithms=[alg], issuer=ISSUER)
    assert claims["sub"] == LEARNER


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_we_verify_tokens_pyjwt_signed(private_keys, signers, resolver, alg):
    payload = claims_of(make_credential(), signers[alg])
    kid = signers[alg].verification_method
    token = pyjwt.encode(payload, private_keys[alg], algorithm=alg, headers={"kid": kid})
    assert verify(token, resolver).credential == make_credential()


# --- tampering -------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_changed_header_breaks_the_signature(signers, resolver, alg):
    token = sign_vc_jwt(make_credential(), signers[alg])
    header = decode_vc_jwt_unverified(token)[0]
    del header["typ"]
    assert verify_error(replace_part(token, 0, b64_json(header)), resolver) == "bad_signature"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_changed_payload_breaks_the_signature(signers, resolver, alg):
    token = sign_vc_jwt(make_credential(), signers[alg])
    payload = decode_vc_jwt_unverified(token)[1]
    payload["credentialSubject"]["achievement"]["name"] = "Brain surgery"
    assert verify_error(replace_part(token, 1, b64_json(payload)), resolver) == "bad_signature"


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_changed_signature_does_not_verify(signers, resolver, alg):
    token = sign_vc_jwt(make_credential(), signers[alg])
    signature = bytearray(base64.urlsafe_b64decode(token.split(".")[2] + "=="))
    signature[10] ^= 0x01
    assert verify_error(replace_part(token, 2, b64(bytes(signature))), resolver) == "bad_signature"


def test_an_es256_signature_of_the_wrong_length_does_not_verify(signers, resolver):
    token = sign_vc_jwt(make_credential(), signers["ES256"])
    signature = base64.urlsafe_b64decode(token.split(".")[2] + "==")
    too_long = replace_part(token, 2, b64(signature + b"\x00"))
    assert verify_error(too_long, resolver) == "bad_signature"


def test_a_non_canonical_base64url_signature_spelling_is_refused(signers, resolver):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = token[-1]
    same_bytes = token[:-1] + alphabet[alphabet.index(last) ^ 1]  # flips an unused low bit
    assert verify_error(same_bytes, resolver) == "malformed_jwt"


# --- algorithms ------------------------------------------------------------------------------


@pytest.mark.parametrize("none", ["none", "None", "NONE"])
def test_an_unsigned_alg_none_token_is_refused(signers, resolver, none):
    payload = claims_of(make_credential(), signers["RS256"])
    token = f"{b64_json({'alg': none, 'typ': 'JWT'})}.{b64_json(payload)}."
    assert verify_error(token, resolver) == "alg_not_allowed"


def _hs256_token(secret: bytes, kid: str, payload: dict[str, Any]) -> str:
    signing_input = f"{b64_json({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64_json(payload)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


@pytest.mark.parametrize("secret_form", ["pem", "jwk"])
@pytest.mark.parametrize("allowed", [None, frozenset({"HS256", "RS256"})])
def test_hs256_keyed_with_the_issuers_public_key_is_refused(signers, resolver, secret_form, allowed):
    signer = signers["RS256"]
    if secret_form == "pem":
        secret = signer.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        secret = json.dumps(public_key_to_jwk(signer.public_key)).encode()
    token = _hs256_token(secret, signer.verification_method, claims_of(make_credential(), signer))
    options = {"allowed_algorithms": allowed} if allowed else {}
    assert verify_error(token, resolver, **options) == "alg_not_allowed"


def test_an_algorithm_outside_the_callers_allow_list_is_refused(signers, resolver):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    rs256_only = frozenset({"RS256"})
    assert verify_error(token, resolver, allowed_algorithms=rs256_only) == "alg_not_allowed"


@pytest.mark.parametrize(("header_alg", "key_alg"), [("EdDSA", "RS256"), ("RS256", "EdDSA"), ("ES256", "RS256")])
def test_a_key_whose_type_does_not_fit_the_algorithm_is_refused(signers, resolver, header_alg, key_alg):
    signer = signers[key_alg]
    token = sign_crafted(signer, claims_of(make_credential(), signer), alg=header_alg)
    assert verify_error(token, resolver) == "alg_key_mismatch"


def test_rsa_keys_shorter_than_2048_bits_are_refused(signers):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    document = build_did_document(ISSUER, [PublishedKey("weak", weak.public_key())])
    weak_resolver = DocumentKeyResolver({ISSUER: document})

    class WeakSigner:
        verification_method, algorithm, public_key = f"{ISSUER}#weak", "RS256", weak.public_key()

        def sign(self, data: bytes) -> bytes:
            return weak.sign(data, padding.PKCS1v15(), hashes.SHA256())

    payload = claims_of(make_credential(), signers["RS256"])
    token = encode_compact_jws({"alg": "RS256", "kid": f"{ISSUER}#weak"}, payload, WeakSigner())
    assert verify_error(token, weak_resolver) == "weak_key"


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        {"jku": "https://attacker.example/jwks.json"},
        {"x5u": "https://attacker.example/cert.pem"},
        {"crit": ["exp"]},
        {"crit": ["b64"], "b64": False},
    ],
)
def test_headers_that_fetch_keys_or_demand_extensions_are_refused(signers, resolver, header):
    signer = signers["RS256"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), **header)
    assert verify_error(token, resolver) == "header_not_allowed"


def test_a_header_ob3_does_not_allow_verifies_with_a_warning(signers, resolver):
    signer = signers["EdDSA"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), cty="JSON")
    assert [w.split(":")[0] for w in verify(token, resolver).warnings] == ["header_not_in_ob3"]


def test_a_typ_other_than_jwt_verifies_with_a_warning(signers, resolver):
    signer = signers["EdDSA"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), typ="vc+jwt")
    assert [w.split(":")[0] for w in verify(token, resolver).warnings] == ["typ_not_jwt"]


# --- keys and who controls them ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kid",
    [
        f"{ISSUER}#no-such-key",
        "did:web:unknown.example#key-1",
        "https://issuer.example/keys#1",
        "key-1",
    ],
)
def test_a_kid_that_does_not_resolve_is_refused(signers, resolver, kid):
    signer = signers["EdDSA"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), kid=kid)
    assert verify_error(token, resolver) == "key_not_resolved"


def test_a_did_web_kid_without_a_resolver_is_not_resolved(signers):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    assert verify_error(token, None) == "key_not_resolved"


def test_a_header_without_kid_or_jwk_names_no_key(signers, resolver):
    signer = signers["EdDSA"]
    token = sign_crafted(signer, claims_of(make_credential(), signer), kid=None)
    assert verify_error(token, resolver) == "key_not_resolved"


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
def test_a_jwk_header_exposing_the_private_key_is_refused(private_keys, signers, alg):
    to_jwk = RSAAlgorithm.to_jwk if alg == "RS256" else OKPAlgorithm.to_jwk
    private_jwk = to_jwk(private_keys[alg], as_dict=True)
    signer = signers[alg]
    token = sign_crafted(signer, claims_of(make_credential(), signer), kid=None, jwk=private_jwk)
    assert verify_error(token, None) == "private_key_in_header"


def test_a_jwk_header_that_is_not_the_issuers_did_key_is_refused(private_keys, stranger_key):
    did = did_key(private_keys["EdDSA"].public_key())
    impostor = LocalSigner(stranger_key, "urn:whatever")
    token = sign_vc_jwt(make_credential(issuer=did), impostor, key_in_header="jwk")
    assert verify_error(token, None) == "key_not_published"


def test_a_key_controlled_by_someone_other_than_the_issuer_is_refused(stranger_key, resolver):
    stranger = LocalSigner(stranger_key, f"{OTHER_ISSUER}#key-1")
    assert verify_error(sign_vc_jwt(make_credential(), stranger), resolver) == "controller_mismatch"


def test_a_key_not_listed_under_assertionMethod_is_refused(private_keys, resolver):
    login_key = LocalSigner(private_keys["EdDSA"], f"{ISSUER}#login-only")
    assert verify_error(sign_vc_jwt(make_credential(), login_key), resolver) == "purpose_mismatch"


# --- claims against the credential ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("iss", OTHER_ISSUER),
        ("sub", "did:example:someone-else"),
        ("jti", "urn:uuid:00000000-0000-0000-0000-000000000000"),
        ("nbf", int(VALID_FROM.timestamp()) - 3600),
        ("exp", int(VALID_UNTIL.timestamp()) + 3600),
    ],
)
def test_a_claim_that_disagrees_with_the_credential_is_refused(signers, resolver, claim, value):
    signer = signers["RS256"]
    payload = claims_of(make_credential(), signer) | {claim: value}
    assert verify_error(sign_crafted(signer, payload), resolver) == "claim_mismatch"


@pytest.mark.parametrize("claim", ["iss", "jti", "nbf", "exp"])
def test_a_claim_the_credential_calls_for_must_be_present(signers, resolver, claim):
    signer = signers["RS256"]
    payload = claims_of(make_credential(), signer)
    del payload[claim]
    assert verify_error(sign_crafted(signer, payload), resolver) == "claim_missing"


def test_a_missing_sub_while_the_subject_has_an_id_only_warns(signers, resolver):
    """1EdTech's own sample VC-JWTs leave sub out; the subject id is still signed in the payload."""
    signer = signers["RS256"]
    payload = claims_of(make_credential(), signer)
    del payload["sub"]
    result = verify(sign_crafted(signer, payload), resolver)
    assert [w.split(":")[0] for w in result.warnings] == ["sub_missing"]


def test_a_sub_claim_for_a_subject_without_id_is_refused(signers, resolver):
    credential = make_credential()
    del credential["credentialSubject"]["id"]
    signer = signers["EdDSA"]
    payload = claims_of(credential, signer) | {"sub": LEARNER}
    assert verify_error(sign_crafted(signer, payload), resolver) == "claim_mismatch"


def test_a_credential_whose_iss_differs_in_the_vc_claim_is_refused(signers, resolver):
    credential = vcdm_1_1_credential()
    signer = signers["RS256"]
    payload = claims_of(credential, signer)
    payload["vc"]["issuer"]["id"] = OTHER_ISSUER
    assert verify_error(sign_crafted(signer, payload), resolver) == "claim_mismatch"


def test_a_payload_that_holds_no_credential_is_refused(signers, resolver):
    signer = signers["EdDSA"]
    payload = {"iss": ISSUER, "jti": "urn:x", "nbf": 0}
    assert verify_error(sign_crafted(signer, payload), resolver) == "malformed_credential"


# --- the validity window -------------------------------------------------------------------------


def test_an_expired_credential_is_refused_after_the_leeway(signers, resolver):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    assert verify_error(token, resolver, now=VALID_UNTIL + timedelta(minutes=6)) == "expired"
    assert verify(token, resolver, now=VALID_UNTIL + timedelta(minutes=4)).credential


def test_a_credential_not_valid_yet_is_refused_before_the_leeway(signers, resolver):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    assert verify_error(token, resolver, now=VALID_FROM - timedelta(minutes=6)) == "not_yet_valid"
    assert verify(token, resolver, now=VALID_FROM - timedelta(minutes=4)).credential


def test_the_leeway_is_the_callers_to_set(signers, resolver):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    just_after = VALID_UNTIL + timedelta(seconds=1)
    assert verify_error(token, resolver, now=just_after, leeway=timedelta(0)) == "expired"


# --- malformed input always gives a JwtError --------------------------------------------------

DUPLICATE_ALG = b'{"alg":"RS256","alg":"none"}'
NAN_PAYLOAD = b'{"nbf":NaN}'


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc.def",
        "a.b.c.d",
        "eyJhbGciOiJSUzI1NiJ9.e*J9.c2ln",
        f"{b64(b'not json')}.{b64_json({})}.c2ln",
        f"{b64_json(['alg', 'RS256'])}.{b64_json({})}.c2ln",
        f"{b64_json({'alg': 'RS256'})}.{b64(b'{oops')}.c2ln",
        f"{b64(bytes([0xFF, 0xFE]))}.{b64_json({})}.c2ln",
        f"{b64(DUPLICATE_ALG)}.{b64_json({})}.c2ln",
        f"{b64_json({'alg': 'RS256'})}.{b64(NAN_PAYLOAD)}.c2ln",
        f"{b64_json({'alg': 'RS256'})}.{b64(b'[' * 100_000)}.c2ln",
        "A" * (MAX_TOKEN_LENGTH + 1),
        f"{b64_json({'alg': 'RS256'})}.{'A' * MAX_TOKEN_LENGTH}.c2ln",
        None,
        b"eyJ.eyJ.sig",
    ],
    ids=[
        "empty",
        "two-parts",
        "four-parts",
        "bad-base64",
        "header-not-json",
        "header-array",
        "payload-not-json",
        "not-utf8",
        "duplicate-member",
        "nan",
        "deep-nesting",
        "huge",
        "huge-payload",
        "none",
        "bytes",
    ],
)
def test_malformed_tokens_give_a_jwt_error(resolver, token):
    assert error_code(lambda: verify(token, resolver)) == "malformed_jwt"


def test_a_numeric_date_that_is_not_a_number_is_malformed(signers, resolver):
    signer = signers["EdDSA"]
    payload = claims_of(make_credential(), signer) | {"nbf": "2024-01-01"}
    assert verify_error(sign_crafted(signer, payload), resolver) == "malformed_jwt"


# --- format detection and display ----------------------------------------------------------------


def test_decoding_unverified_returns_header_and_payload_even_when_the_signature_is_wrong(signers):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    header, payload = decode_vc_jwt_unverified(replace_part(token, 2, b64(b"\x00" * 64)))
    assert header["alg"] == "EdDSA" and payload["iss"] == ISSUER


def test_compact_jws_detection(signers):
    token = sign_vc_jwt(make_credential(), signers["EdDSA"])
    assert looks_like_compact_jws(token)
    assert looks_like_compact_jws(token + "\n")
    assert not looks_like_compact_jws(json.dumps(make_credential()))
    assert not looks_like_compact_jws(".".join(token.split(".")[:2]))
    assert not looks_like_compact_jws("abc.def.ghi")
    assert not looks_like_compact_jws(f"{b64_json({'typ': 'JWT'})}.e30.")


def test_the_credential_is_not_mutated_by_signing(signers):
    credential = make_credential()
    before = copy.deepcopy(credential)
    sign_vc_jwt(credential, signers["RS256"], key_in_header="jwk")
    assert credential == before
