"""Credential-core throughput on one core: issue/s and verify/s per proof format, beside the Node anchor.

    .venv/bin/python bench/vc_core.py [--n 200] [--rounds 5] [--no-node]

Measures, in this one process (so one core):
- eddsa-rdfc-2022 (DataIntegrityProof) issue and verify of an Open Badges 3.0 credential
  (``verify`` = the proof alone, ``verify (full report)`` = the whole pipeline: schema, dates...);
- VC-JWT issue and verify with RS256 (2048-bit RSA) and EdDSA.
The anchor is digitalbazaar's ``@digitalbazaar/vc`` + ``eddsa-rdfc-2022-cryptosuite`` on Node, run
by ``tests/interop/node/dbvc.mjs bench`` on the same credential in the same run. Each figure is the
median of ``--rounds`` rounds of ``--n`` operations; the machine is noisy, so compare medians and
ratios, not single runs.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from service.vc import data_integrity, jose
from service.vc import jsonld_fast_path as fast_path
from service.vc.did import DidKeyResolver, DocumentKeyResolver, PublishedKey, build_did_document
from service.vc.jsonld import canonize
from service.vc.keys import LocalSigner, did_key_signer, generate_ed25519, verify_ed25519
from service.vc.schema_validation import validate_credential
from service.vc.verify import verify

REPO = Path(__file__).resolve().parents[1]

CREDENTIAL = REPO / "tests" / "fixtures" / "standards" / "vectors" / "ob3-impl-guide" / "unsigned-credential.json"


def rate(operation: Callable[[int], object], n: int, rounds: int) -> float:
    """Median operations per second over ``rounds`` rounds of ``n`` calls (after a warm-up)."""
    for i in range(min(n, 20)):
        operation(i)
    per_round = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            operation(i)
        per_round.append(n / (time.perf_counter() - start))
    return statistics.median(per_round)


def credential_for(issuer: str) -> dict:
    credential = json.loads(CREDENTIAL.read_text())
    credential["issuer"]["id"] = issuer
    return credential


def bench_data_integrity(n: int, rounds: int) -> dict[str, float]:
    signer = did_key_signer(generate_ed25519())
    issuer = signer.verification_method.split("#")[0]
    base = credential_for(issuer)
    variants = []
    for i in range(n):
        c = copy.deepcopy(base)
        c["id"] = f"urn:uuid:00000000-0000-0000-0000-{i:012d}"
        variants.append(c)
    signed = [data_integrity.sign(c, signer, proof_as_list=True) for c in variants]  # as SkillCred issues
    resolver = DidKeyResolver()
    return {
        "issue": rate(lambda i: data_integrity.sign(variants[i], signer), n, rounds),
        "verify": rate(
            lambda i: data_integrity.verify_proofs(signed[i], resolver, expected_controller=issuer), n, rounds
        ),
        "verify (full report)": rate(lambda i: verify(signed[i]), n, rounds),
    }


def bench_jwt(n: int, rounds: int, private_key, fragment: str) -> dict[str, float]:
    did = "did:web:issuer.example"
    signer = LocalSigner(private_key, f"{did}#{fragment}")
    resolver = DocumentKeyResolver({did: build_did_document(did, [PublishedKey(fragment, private_key.public_key())])})
    credential = credential_for(did)
    tokens = [jose.sign_vc_jwt(credential, signer) for _ in range(n)]
    return {
        "issue": rate(lambda i: jose.sign_vc_jwt(credential, signer), n, rounds),
        "verify": rate(lambda i: jose.verify_vc_jwt(tokens[i], resolver), n, rounds),
    }


def bench_node(n: int) -> dict[str, float] | None:
    if not shutil.which("node"):
        return None
    sys.path.insert(0, str(REPO / "tests" / "interop"))
    from node_verifier import NodeVC, ensure_node_modules

    ensure_node_modules()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "credential.json"
        path.write_text(json.dumps(credential_for("did:example:placeholder")))
        result = NodeVC().bench(path, n)
    return {"issue": result["issue_per_s"], "verify": result["verify_per_s"]}


def bench_raw_ed25519(n: int, rounds: int) -> dict[str, float]:
    """The physical limit: one Ed25519 verify of a 64-byte message, OpenSSL and libsodium."""
    private = generate_ed25519()
    message = bytes(range(64))
    signature = private.sign(message)
    public = private.public_key()
    raw = public.public_bytes_raw()
    return {
        "Ed25519 verify, cryptography (OpenSSL)": rate(lambda i: public.verify(signature, message), n * 10, rounds),
        "Ed25519 verify, PyNaCl (libsodium)": rate(lambda i: verify_ed25519(raw, signature, message), n * 10, rounds),
    }


def stage_costs(n: int, rounds: int) -> dict[str, float]:
    """Microseconds per call of each stage of one full verification (a profile summary)."""
    signer = did_key_signer(generate_ed25519())
    issuer = signer.verification_method.split("#")[0]
    signed = data_integrity.sign(credential_for(issuer), signer, proof_as_list=True)
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    config = {k: v for k, v in signed["proof"][0].items() if k != "proofValue"} | {"@context": signed["@context"]}
    hash_data = bytes(64)
    signature = signer.sign(hash_data)
    raw = signer.public_key.public_bytes_raw()

    def us(operation: Callable[[int], object]) -> float:
        return 1e6 / rate(operation, n, rounds)

    stages = {
        "whole verification (full report)": us(lambda i: verify(signed)),
        "1EdTech JSON Schema": us(lambda i: validate_credential(signed)),
        "canonical document (fast path)": us(lambda i: canonize(unsecured)),
        "canonical proof configuration (fast path)": us(lambda i: canonize(config)),
    }
    stages["Ed25519 verify (libsodium)"] = us(lambda i: verify_ed25519(raw, signature, hash_data))
    fast_path.enabled = False
    try:
        stages["canonical document (full pyld path)"] = us(lambda i: canonize(unsecured))
    finally:
        fast_path.enabled = True
    return stages


def measure(n: int, rounds: int, *, node: bool = True) -> dict[str, object]:
    """Every figure of this benchmark: ``rows`` (format, operation, SkillCred /s, anchor /s),
    the raw Ed25519 rates, the stage costs and the JSON-LD fast path counters."""
    anchor = bench_node(n) if node else None
    rows: list[tuple[str, str, float, float | None]] = []
    before = fast_path.stats()
    for op, value in bench_data_integrity(n, rounds).items():
        anchor_op = "verify" if op.startswith("verify") else op
        rows.append(("eddsa-rdfc-2022", op, value, anchor.get(anchor_op) if anchor else None))
    after = fast_path.stats()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for name, key, fragment in (("VC-JWT RS256", rsa_key, "rsa-1"), ("VC-JWT EdDSA", generate_ed25519(), "key-1")):
        for op, value in bench_jwt(n, rounds, key, fragment).items():
            rows.append((name, op, value, None))
    return {
        "rows": rows,
        "raw": bench_raw_ed25519(n, rounds),
        "stages": stage_costs(n, rounds),
        "fast_path": {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)},
        "node_found": anchor is not None or not node,
    }


def print_report(figures: dict[str, object], n: int, rounds: int) -> None:
    print(
        f"# bench/vc_core.py --n {n} --rounds {rounds}  ({platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}, one process = one core, "
        f"load {os.getloadavg()[0]:.2f})"
    )
    print("| format | operation | SkillCred /s (median) | Node anchor /s | ratio |")
    print("|---|---|---:|---:|---:|")
    for fmt, op, value, anchor in figures["rows"]:  # type: ignore[attr-defined]
        anchor_text = f"{anchor:,.0f}" if anchor else "-"
        ratio = f"{value / anchor:.2f}x" if anchor else "-"
        print(f"| {fmt} | {op} | {value:,.0f} | {anchor_text} | {ratio} |")
    full = next(v for f, op, v, _ in figures["rows"] if op == "verify (full report)")  # type: ignore[attr-defined]
    print("\n| physical limit | /s (median) | full-report verify as a share of it |")
    print("|---|---:|---:|")
    for name, value in figures["raw"].items():  # type: ignore[attr-defined]
        print(f"| {name} | {value:,.0f} | {full / value:.0%} |")
    print("\n| stage of one verification | us per call (median) |")
    print("|---|---:|")
    for name, value in figures["stages"].items():  # type: ignore[attr-defined]
        print(f"| {name} | {value:,.1f} |")
    print(f"\nJSON-LD fast path during the eddsa-rdfc-2022 rows: {figures['fast_path']}")
    if not figures["node_found"]:
        print("\n(node not found: no anchor figures)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-node", action="store_true")
    args = parser.parse_args()
    print_report(measure(args.n, args.rounds, node=not args.no_node), args.n, args.rounds)


if __name__ == "__main__":
    main()
