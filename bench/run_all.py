"""Every headline figure in one table: SkillCred beside its reference and the physical limit.

    .venv/bin/python bench/run_all.py [--quick] [--database-url URL] [--skip http bulk issuance]

Runs, one after the other on this machine:
- ``bench/vc_core.py`` in this process (one core): eddsa-rdfc-2022 issue and verify with the full
  report beside digitalbazaar's Node stack (the reference, same run), and beside the raw Ed25519
  verify rate (the physical limit);
- ``bench/http_load.py``: ``skillcred serve --workers 2`` on PostgreSQL under keep-alive load
  from loopback (verify JSON-LD and VC-JWT, the badge page);
- ``bench/concurrent_issuance.py``: ``POST /v1/credentials`` with 16 clients;
- ``bench/bulk.py``: bulk issuance with two ``skillcred worker`` processes.
Each figure is the median its script reports; the targets are issue 15's and issue 12's. The
machine's cores, its load before and after, and the library versions are printed with the table:
on a shared machine compare ratios from one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LIBRARIES = ("pyld", "pyoxigraph", "jsonschema-rs", "pynacl", "cryptography", "fastapi", "uvicorn", "sqlalchemy")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def _versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return ", ".join(found + ([f"node {node}"] if node else []))


def _script(name: str, arguments: list[str], database_url: str) -> dict[str, Any] | None:
    """Run ``bench/<name>`` with ``--json`` and return what it wrote (None if it failed)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        command = [sys.executable, "-P", str(REPO / "bench" / name), *arguments, "--json", str(out)]
        environment = os.environ | {"PYTHONPATH": str(REPO), "SKILLCRED_TEST_POSTGRES_URL": database_url}
        print(f"# running {' '.join(command[1:])}", file=sys.stderr, flush=True)
        result = subprocess.run(command, env=environment, cwd=REPO, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not out.exists():
            print(result.stdout[-2000:], result.stderr[-2000:], file=sys.stderr)
            return None
        figures: dict[str, Any] = json.loads(out.read_text())
        return figures


def _row(figure: str, value: str, reference: str, ratio: str, target: str, met: bool | None) -> str:
    verdict = "-" if met is None else ("yes" if met else "**no**")
    return f"| {figure} | {value} | {reference} | {ratio} | {target} | {verdict} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds (a smoke run, not figures to quote)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("SKILLCRED_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=["node", "http", "issuance", "bulk"])
    args = parser.parse_args()
    n, rounds = (100, 3) if args.quick else (200, 5)
    seconds = "2" if args.quick else "5"
    load_before = _load()

    from bench.vc_core import measure

    core = measure(n, rounds, node="node" not in args.skip)
    rows: list[str] = []
    by_op = {(fmt, op): (value, anchor) for fmt, op, value, anchor in core["rows"]}  # type: ignore[attr-defined]
    in_process_verify = 0.0
    for op, label in (("issue", "issue, one core"), ("verify (full report)", "verify with the full report, one core")):
        value, anchor = by_op[("eddsa-rdfc-2022", op)]
        if op.startswith("verify"):
            in_process_verify = value
        ratio = value / anchor if anchor else None
        rows.append(
            _row(
                f"eddsa-rdfc-2022 {label} (/s)",
                f"{value:,.0f}",
                f"{anchor:,.0f} (Node, digitalbazaar)" if anchor else "-",
                f"{ratio:.1f}x" if ratio else "-",
                ">= 10x",
                None if ratio is None else ratio >= 10,
            )
        )
    for name, limit in core["raw"].items():  # type: ignore[attr-defined]
        share = in_process_verify / limit
        target, met = (">= 30%", share >= 0.30) if "OpenSSL" in name else ("(libsodium: the faster limit)", None)
        rows.append(_row(f"full verify as a share of the {name}", f"{share:.0%}", f"{limit:,.0f}/s", "-", target, met))

    if "http" not in args.skip:
        targets = ["verify-jsonld", "verify-jwt", "page", "status", "health"]
        # wrk (C) takes far less of the 2 cores than the Python clients; they stand in without it
        client = ["--client", "wrk"] if shutil.which("wrk") else []
        http = _script(
            "http_load.py", ["--seconds", seconds, "--rounds", "3", *client, "--only", *targets], args.database_url
        )
        load_generator = "wrk" if client else "Python clients"
        wanted = in_process_verify  # 50% of twice the single-core rate
        for key, label, target_rate in (
            ("verify-jsonld", "POST /v1/verify, JSON-LD, 2 workers (req/s, p99)", wanted),
            ("verify-jwt", "POST /v1/verify, VC-JWT, 2 workers (req/s, p99)", wanted),
            ("page", "badge page, warm, 2 workers (req/s, p99)", 1000.0),
            ("status", "GET /status/{id}, 2 workers (req/s, p99)", None),
            ("health", "GET /health, 2 workers: the framework alone (req/s, p99)", None),
        ):
            label = f"{label}, {load_generator}"
            figure = (http or {}).get("targets", {}).get(key)
            if figure is None:
                rows.append(_row(label, "not measured", "-", "-", "-", None))
                continue
            rate, p99 = figure["req_per_s"], figure["p99_ms"]
            if target_rate is None:
                rows.append(_row(label, f"{rate:,.0f}, {p99:,.0f} ms", "-", "-", "-", None))
                continue
            met = rate >= target_rate and (key == "page" or p99 < 100)
            target = f">= {target_rate:,.0f}" + (", p99 < 100 ms" if key != "page" else "")
            rows.append(_row(label, f"{rate:,.0f}, {p99:,.0f} ms", "-", "-", target, met))

    if "issuance" not in args.skip:
        issuance = _script(
            "concurrent_issuance.py",
            ["--clients", "16", "--seconds", seconds, "--soak", "1"],
            args.database_url,
        )
        fresh = next((r for r in (issuance or {}).get("rows", []) if r["phase"] == "fresh"), None)
        rate = None if fresh is None else float(fresh["per_second"])
        rows.append(
            _row(
                "POST /v1/credentials, 16 clients, 2 workers (/s)",
                "not measured" if rate is None else f"{rate:,.0f}",
                "-",
                "-",
                ">= 300",
                None if rate is None else rate >= 300,
            )
        )

    if "bulk" not in args.skip:
        bulk_rows = "4000" if args.quick else "20000"
        bulk = _script(
            "bulk.py", ["--rows", bulk_rows, "--workers", "2", "--database-url", args.database_url], args.database_url
        )
        rate = None if bulk is None else float(bulk["credentials_per_s"])
        rows.append(
            _row(
                f"bulk issuance, {bulk_rows} rows, 2 workers (/s)",
                "not measured" if rate is None else f"{rate:,.0f}",
                "30 (ACA-Py, production bulk loads)",
                "-" if rate is None else f"{rate / 30:.0f}x",
                ">= 500",
                None if rate is None else rate >= 500,
            )
        )

    print(f"# bench/run_all.py{' --quick' if args.quick else ''}  {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
        f"load before {load_before}, after {_load()}"
    )
    print(f"# {_versions()}")
    print("| figure | SkillCred | reference | ratio | target | met |")
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        print(row)
    print("\n| stage of one verification | us per call (median) |")
    print("|---|---:|")
    for name, value in core["stages"].items():  # type: ignore[attr-defined]
        print(f"| {name} | {value:,.1f} |")


if __name__ == "__main__":
    main()
