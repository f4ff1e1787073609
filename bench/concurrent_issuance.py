"""Concurrent issuance on PostgreSQL, fresh and after a mixed soak (issue 16).

    SKILLCRED_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/concurrent_issuance.py [--clients 8 16 32] [--seconds 10] [--soak 60]

Starts ``skillcred serve --workers 2`` in production mode on a schema of its own (dropped
afterwards), with status lists re-signed every ``--resign`` seconds. Then, for each client count,
a round of ``--seconds`` in which that many clients (threads, one keep-alive connection each)
issue credentials to fresh recipients and nothing else; then a ``--soak`` of the mixed load of
`tests/load.py` (16 issuers, verifiers, badge pages, status lists with clients hanging up,
revocations and suspensions); then the same rounds again. Each round reports credentials/s,
p50 and p99 latency, errors, and the CPU each party used per credential (the server, PostgreSQL,
the clients: the soak's figure counts its other requests too). The run ends with the database
checked: every acknowledged credential stored once, every status index unique, and no session
left idle in a transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.schemas import postgres_schema
from tests.conftest import idle_in_transaction
from tests.load import MixedLoad, Outcome, issuance_figures, issuance_problems, prepare
from tests.serve import ADMIN, running_server

NAME = "skillcred-bench"


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            queue += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_by_party(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server (its supervisor and workers), by PostgreSQL (every
    ``postgres`` process: its backends do the statements' work) and by the clients (this process's
    threads), from /proc: where the 2 cores go per credential."""
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    postgres += _cpu_seconds(int(entry.name))
            except OSError:
                continue
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "server": sum(_cpu_seconds(pid) for pid in _descendants(server_pid)),
        "postgres": postgres,
        "clients": usage.ru_utime + usage.ru_stime,
    }


def round_of(
    base: str, work, clients: int, seconds: float, server_pid: int, *, mixed: bool = False
) -> tuple[dict, list[Outcome]]:
    before = cpu_by_party(server_pid)
    started = time.monotonic()
    outcomes = MixedLoad(base, work, issuers=clients, mixed=mixed).run(seconds)
    figures = issuance_figures(outcomes, time.monotonic() - started)
    after = cpu_by_party(server_pid)
    other = [o for o in outcomes if o.kind != "issue" and o.status is not None and o.status >= 500]
    issued = max(1, int(figures["issued"]))
    cpu = {party: round(1000 * (after[party] - before[party]) / issued, 1) for party in before}
    return {"clients": clients, **figures, "other_5xx": len(other), "cpu_ms_per_credential": cpu}, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each issuing round")
    parser.add_argument("--soak", type=float, default=60.0, help="length of the mixed soak between the rounds")
    parser.add_argument("--resign", type=int, default=5, help="status list re-signing interval, seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("SKILLCRED_TEST_POSTGRES_URL"))
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/run_all.py)")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL URL: --database-url or SKILLCRED_TEST_POSTGRES_URL")
    settings = {
        "SKILLCRED_RATE_LIMITS": "false",
        "SKILLCRED_REDIS_URL": "",
        "SKILLCRED_STATUS_LIST_RESIGN_INTERVAL_SECONDS": str(args.resign),
    }
    rows, everything = [], []
    with (
        postgres_schema(args.database_url, NAME) as url,
        tempfile.TemporaryDirectory() as tmp,
        running_server(url, Path(tmp), workers=args.workers, settings=settings) as server,
    ):
        work = prepare(server.base, ADMIN)
        for clients in args.clients:
            row, outcomes = round_of(server.base, work, clients, args.seconds, server.process.pid)
            rows.append({"phase": "fresh", **row})
            everything += outcomes
        soak, outcomes = round_of(server.base, work, 16, args.soak, server.process.pid, mixed=True)
        rows.append({"phase": "soak (mixed)", **soak})
        everything += outcomes
        for clients in args.clients:
            row, outcomes = round_of(server.base, work, clients, args.seconds, server.process.pid)
            rows.append({"phase": "after soak", **row})
            everything += outcomes
        time.sleep(1.5)
        problems = issuance_problems(url, everything)
        leaked = idle_in_transaction(url, f"{NAME}-{os.getpid()}")
    print(
        f"# bench/concurrent_issuance.py --clients {' '.join(map(str, args.clients))} --seconds {args.seconds:g}"
        f" --soak {args.soak:g} --resign {args.resign} --workers {args.workers} (PostgreSQL)"
    )
    print(
        "| phase | clients | credentials/s | p50 s | p99 s | issuance errors | other 5xx"
        " | CPU ms per credential: server / PostgreSQL / clients |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        cpu = r["cpu_ms_per_credential"]
        print(
            f"| {r['phase']} | {r['clients']} | {r['per_second']} | {r['p50_s']} | {r['p99_s']}"
            f" | {r['errors']} | {r['other_5xx']} | {cpu['server']} / {cpu['postgres']} / {cpu['clients']} |"
        )
    print(json.dumps({"problems": problems, "idle_in_transaction": leaked}))
    if args.json is not None:
        args.json.write_text(json.dumps({"rows": rows, "problems": problems, "idle_in_transaction": leaked}))
    if problems or leaked or any(r["errors"] or r["other_5xx"] for r in rows):
        raise SystemExit("FAILED")


if __name__ == "__main__":
    main()
