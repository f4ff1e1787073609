"""Drive the independent JavaScript issuer/verifier (tests/interop/node/dbvc.mjs).

dbvc.mjs runs digitalbazaar's `@digitalbazaar/vc` + `eddsa-rdfc-2022-cryptosuite`
fully offline: contexts come from SkillCred's bundle, did:key resolves itself, and
anything else (did:web documents, https controller documents, status list
credentials) must be handed in with `resolve={url: path}`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
DBVC_SCRIPT = NODE_DIR / "dbvc.mjs"

NOT_VERIFIED_EXIT_CODE = 1
NPM_CI_TIMEOUT_SECONDS = 600
COMMAND_TIMEOUT_SECONDS = 120


class NodeHarnessError(RuntimeError):
    """The harness itself failed (node/npm missing, bad usage, a crash): not a verdict."""


@dataclass(frozen=True)
class NodeResult:
    """dbvc's verdict on one credential.

    `checks` says how far verification got, each True, False or None (not reached):
    `signature` (the proof verified against the key its verificationMethod resolves to),
    `purpose` (the method's controller lists it under assertionMethod and is the issuer)
    and `status` (the Bitstring Status List credential verified and the bit is clear).
    """

    verified: bool
    errors: list[str]
    raw: str
    checks: dict[str, bool | None] = field(default_factory=dict)


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise NodeHarnessError(
            f"`{name}` is not on PATH: the interop tests need Node.js 20+ and npm "
            "to run digitalbazaar's verifier (tests/interop/node)."
        )
    return path


def _installed_marker() -> Path:
    # npm writes this hidden lockfile at the end of every successful install
    return NODE_DIR / "node_modules" / ".package-lock.json"


def _node_modules_are_current() -> bool:
    marker = _installed_marker()
    lock = NODE_DIR / "package-lock.json"
    return marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime


def _install_lock_path() -> Path:
    # outside the tree: `npm ci` deletes node_modules, and the lock must outlive it
    digest = hashlib.sha256(str(NODE_DIR).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"skillcred-interop-npm-ci-{digest}.lock"


def ensure_node_modules() -> Path:
    """Install tests/interop/node's locked dependencies when missing or stale.

    Runs `npm ci` under an exclusive file lock, so parallel pytest-xdist workers
    install once and the rest wait. Returns the node_modules folder.
    """
    _require_tool("node")
    npm = _require_tool("npm")
    with open(_install_lock_path(), "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            if not _node_modules_are_current():
                completed = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=NODE_DIR,
                    capture_output=True,
                    text=True,
                    timeout=NPM_CI_TIMEOUT_SECONDS,
                    check=False,
                )
                if completed.returncode != 0:
                    raise NodeHarnessError(
                        f"npm ci failed in {NODE_DIR} (exit {completed.returncode}):\n"
                        f"{completed.stdout}\n{completed.stderr}"
                    )
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
    return NODE_DIR / "node_modules"


class NodeVC:
    """Sign, verify and benchmark credentials with digitalbazaar's libraries."""

    def __init__(self, node: str | None = None) -> None:
        self._node = node or _require_tool("node")

    def _run(self, args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._node, str(DBVC_SCRIPT), *args],
            cwd=NODE_DIR,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )

    @staticmethod
    def _fail(command: str, completed: subprocess.CompletedProcess[str]) -> NodeHarnessError:
        return NodeHarnessError(
            f"dbvc {command} exited {completed.returncode}:\n{completed.stderr.strip() or completed.stdout.strip()}"
        )

    def sign(
        self,
        unsigned: dict[str, Any],
        key_file: Path,
        *,
        created: str | None = None,
        verification_method: str | None = None,
    ) -> dict[str, Any]:
        """Sign with DataIntegrityProof / eddsa-rdfc-2022 for assertionMethod.

        The verification method defaults to the key's did:key
        (`did:key:<publicKeyMultibase>#<publicKeyMultibase>`).
        """
        # dbvc runs in NODE_DIR: a relative path must mean what it means to the caller
        args = ["sign", "--key", str(Path(key_file).resolve())]
        if created is not None:
            args += ["--created", created]
        if verification_method is not None:
            args += ["--verification-method", verification_method]
        completed = self._run(args, json.dumps(unsigned))
        if completed.returncode != 0:
            raise self._fail("sign", completed)
        signed: dict[str, Any] = json.loads(completed.stdout)
        return signed

    def verify(
        self,
        signed: dict[str, Any] | str,
        resolve: dict[str, Path] | None = None,
        *,
        now: str | None = None,
    ) -> NodeResult:
        """Verify a credential; a str is passed through byte-for-byte.

        `resolve` maps URLs (a did:web DID, a controller document, a status list
        credential) to local JSON files; `URL#fragment` resolves inside the
        mapped document. `now` (ISO 8601) replaces the clock for date checks.
        """
        text = signed if isinstance(signed, str) else json.dumps(signed)
        args = ["verify"]
        for url, path in (resolve or {}).items():
            args += ["--resolve", f"{url}={Path(path).resolve()}"]
        if now is not None:
            args += ["--now", now]
        completed = self._run(args, text)
        if completed.returncode not in (0, NOT_VERIFIED_EXIT_CODE):
            raise self._fail("verify", completed)
        verdict = json.loads(completed.stdout)
        return NodeResult(
            verified=verdict["verified"],
            errors=list(verdict["errors"]),
            raw=completed.stdout,
            checks=dict(verdict.get("checks", {})),
        )

    def bench(self, unsigned_file: Path, n: int, *, rounds: int = 3) -> dict[str, Any]:
        """Issue then verify `unsigned_file` n times per round with a fresh did:key.

        Returns `issue_per_s`, `verify_per_s` (medians over rounds), `n`, `rounds`,
        the per-round figures and notes on what was changed for the fresh key.
        """
        completed = self._run(["bench", "--n", str(n), "--rounds", str(rounds), str(unsigned_file)])
        if completed.returncode != 0:
            raise self._fail("bench", completed)
        figures: dict[str, Any] = json.loads(completed.stdout)
        return figures

    def context_comparison(self) -> list[dict[str, Any]]:
        """For each context a JS library ships: does SkillCred bundle it, with equal JSON?"""
        completed = self._run(["contexts"])
        if completed.returncode != 0:
            raise self._fail("contexts", completed)
        comparison: list[dict[str, Any]] = json.loads(completed.stdout)
        return comparison
