"""`skillcred serve` in a subprocess for the tests that need a real server (end to end, overload,
faults): started in production mode with the test KEK and a bootstrap admin, ready once `/ready`
answers 200, stopped (killed if it will not stop) when the block ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_KEK

ADMIN = ("ops@skillcred.example", "a-long-admin-password")


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class RunningServer:
    """A started server: its base URL, process and log file."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def running_server(
    database_url: str,
    folder: Path,
    *,
    workers: int = 2,
    settings: Mapping[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[RunningServer]:
    """``skillcred serve --workers N`` on ``database_url``, working in ``folder``; ``settings``
    adds or overrides ``SKILLCRED_*`` variables; ``preexec_fn`` runs in the server's process
    before it starts (a resource limit, say)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "SKILLCRED_ENV": "production",
        "SKILLCRED_DATABASE_URL": database_url,
        "SKILLCRED_PUBLIC_URL": base,
        "SKILLCRED_KEK": TEST_KEK,
        "SKILLCRED_BOOTSTRAP_ADMIN_EMAIL": ADMIN[0],
        "SKILLCRED_BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
        "SKILLCRED_BLOB_DIR": str(folder / "blobs"),
        **(settings or {}),
    }
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli.main", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            preexec_fn=preexec_fn,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("server did not start:\n" + log.read_text())
            time.sleep(0.2)
        yield RunningServer(base, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
