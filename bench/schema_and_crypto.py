"""Per-call cost of the verify pipeline's small stages: the 1EdTech JSON Schema check, base58btc,
and Ed25519 with ``cryptography`` (OpenSSL) against PyNaCl (libsodium), in one process.

    .venv/bin/python bench/schema_and_crypto.py [--rounds 5] [--scale 1.0]

Each figure is the median over ``--rounds`` rounds of the per-call time in microseconds (after a
warm-up); ``--scale`` multiplies the calls per round. The machine is shared and noisy: compare
figures from one run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from service.vc import data_integrity, multikey
from service.vc.keys import did_key_signer, generate_ed25519
from service.vc.schema_validation import validate_credential

REPO = Path(__file__).resolve().parents[1]
CREDENTIAL = REPO / "tests" / "fixtures" / "standards" / "vectors" / "ob3-impl-guide" / "unsigned-credential.json"


def per_call_us(operation: Callable[[], object], calls: int, rounds: int) -> float:
    """Median over ``rounds`` of the mean time of one call, in microseconds."""
    for _ in range(min(calls, 50)):
        operation()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            operation()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def schema_figures(calls: int, rounds: int) -> dict[str, float]:
    signer = did_key_signer(generate_ed25519())
    credential = json.loads(CREDENTIAL.read_text())
    credential["issuer"]["id"] = signer.verification_method.split("#")[0]
    proof_list = data_integrity.sign(credential, signer, proof_as_list=True)  # as SkillCred issues
    lone_proof = data_integrity.sign(credential, signer)  # as other issuers do: wrapped, with a warning
    for document in (proof_list, lone_proof):
        assert validate_credential(document) == validate_credential(document, reference_only=True)
    return {
        "schema: proof list, jsonschema-rs then jsonschema on no": per_call_us(
            lambda: validate_credential(proof_list), calls, rounds
        ),
        "schema: proof list, jsonschema alone": per_call_us(
            lambda: validate_credential(proof_list, reference_only=True), calls, rounds
        ),
        "schema: lone proof, jsonschema-rs then jsonschema on no": per_call_us(
            lambda: validate_credential(lone_proof), calls, rounds
        ),
        "schema: lone proof, jsonschema alone": per_call_us(
            lambda: validate_credential(lone_proof, reference_only=True), calls, rounds
        ),
    }


def base58_figures(calls: int, rounds: int) -> dict[str, float]:
    signature = os.urandom(64)
    text = base58.b58encode(signature).decode("ascii")
    assert multikey.base58btc_encode(signature) == text
    return {
        "base58btc decode 64 bytes: base58 package": per_call_us(lambda: base58.b58decode(text), calls, rounds),
        "base58btc decode 64 bytes: table codec": per_call_us(lambda: multikey.base58btc_decode(text), calls, rounds),
        "base58btc encode 64 bytes: base58 package": per_call_us(lambda: base58.b58encode(signature), calls, rounds),
        "base58btc encode 64 bytes: table codec": per_call_us(
            lambda: multikey.base58btc_encode(signature), calls, rounds
        ),
        "multibase_decode (proofValue)": per_call_us(lambda: multikey.multibase_decode("z" + text), calls, rounds),
    }


def ed25519_figures(calls: int, rounds: int) -> dict[str, float]:
    import nacl.bindings
    import nacl.signing

    private = ed25519.Ed25519PrivateKey.generate()
    seed = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = private.public_key()
    public_bytes = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    message = os.urandom(64)  # eddsa-rdfc-2022 signs two SHA-256 digests
    signature = private.sign(message)
    signing_key = nacl.signing.SigningKey(seed)
    verify_key = nacl.signing.VerifyKey(public_bytes)
    assert signing_key.sign(message).signature == signature  # Ed25519 signatures are deterministic
    return {
        "Ed25519 verify: cryptography, key object": per_call_us(
            lambda: public.verify(signature, message), calls, rounds
        ),
        "Ed25519 verify: cryptography, from raw bytes": per_call_us(
            lambda: ed25519.Ed25519PublicKey.from_public_bytes(public_bytes).verify(signature, message), calls, rounds
        ),
        "Ed25519 verify: PyNaCl VerifyKey": per_call_us(lambda: verify_key.verify(message, signature), calls, rounds),
        "Ed25519 verify: PyNaCl crypto_sign_open": per_call_us(
            lambda: nacl.bindings.crypto_sign_open(signature + message, public_bytes), calls, rounds
        ),
        "Ed25519 verify: keys.verify_ed25519": per_call_us(
            lambda: _keys_verify(public_bytes, signature, message), calls, rounds
        ),
        "Ed25519 sign: cryptography": per_call_us(lambda: private.sign(message), calls, rounds),
        "Ed25519 sign: PyNaCl SigningKey": per_call_us(lambda: signing_key.sign(message), calls, rounds),
    }


def _keys_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    from service.vc.keys import verify_ed25519

    return verify_ed25519(public_key, signature, message)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    figures = {
        **schema_figures(int(300 * args.scale), args.rounds),
        **base58_figures(int(3000 * args.scale), args.rounds),
        **ed25519_figures(int(2000 * args.scale), args.rounds),
    }
    versions = ", ".join(
        f"{name} {metadata.version(name)}"
        for name in ("jsonschema", "jsonschema-rs", "base58", "cryptography", "pynacl")
    )
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"# {python}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    print(f"# {versions}")
    print(f"# median of {args.rounds} rounds, microseconds per call")
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:9.2f} us  ({1e6 / value:,.0f}/s)")


if __name__ == "__main__":
    main()
