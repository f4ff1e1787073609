"""The public read and verify paths over HTTP, keep-alive load from loopback (issue 15).

    .venv/bin/python bench/http_load.py [--database-url postgresql+psycopg://...] [--connections 32]
        [--seconds 5] [--rounds 3] [--workers 2] [--only verify-jsonld page ...] [--profile]

Starts ``skillcred serve --workers N`` in production mode (`tests/serve.py`), on PostgreSQL in a
schema of its own (dropped afterwards) when ``--database-url`` (or SKILLCRED_TEST_POSTGRES_URL) is
a PostgreSQL URL, else on a fresh SQLite file. Issues a credential, then for each target runs
``--rounds`` rounds of ``--seconds``: ``--connections`` keep-alive connections (threads with
``http.client``, spread over ``--client-processes`` processes so the client is not one GIL), each
sending its next request as soon as the previous one is answered. Targets: ``POST /v1/verify``
with the JSON-LD credential and with its VC-JWT, the badge page ``GET /credentials/{id}`` (HTML,
warmed first), ``GET /status/{id}`` and ``GET /health``.

Printed per target: req/s (median of the rounds, and the range), p50 and p99 latency (of the
median round), non-200 answers, and how the load split over the uvicorn workers. The split is
read from outside the server, so nothing in it is exposed in production: the established
connections each worker process owns (``ss -tnp`` on the server port, sampled mid-round) and the
CPU seconds each worker burnt during the round (``/proc/<pid>/stat``). The client shares the
machine's cores with the server, so the figures are a floor for the server.

``--profile``: py-spy (a dev dependency) samples the first worker during each target's first round,
only while it holds the GIL (its CPU time in Python), and the frames with the largest share of
samples are printed after the table: the profile summary of the HTTP path.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import http.client
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bench.schemas import postgres_schema
from tests.serve import ADMIN, RunningServer, running_server

NAME = "skillcred-bench-http"
TARGETS = ("verify-jsonld", "verify-jwt", "page", "status", "health")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


# --- the server and what it serves ----------------------------------------------------------------


def issue_one(base: str) -> tuple[str, str, str, str]:
    """An issuer, an achievement and one credential: its page path, JSON-LD, VC-JWT and the path of
    its revocation list."""
    with httpx.Client(base_url=base, timeout=60) as client:
        login = client.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        body = {"name": "Bench Academy", "url": "https://bench.example"}
        issuer = client.post("/v1/issuers", json=body, headers=auth)
        assert issuer.status_code == 201, issuer.text
        achievement = client.post(
            f"/v1/issuers/{issuer.json()['id']}/achievements",
            headers=auth,
            json={"name": "Fast hands", "description": "Verified under load.", "criteria": {"narrative": "Any."}},
        ).json()
        issued = client.post(
            "/v1/credentials",
            headers=auth,
            json={"achievement_id": achievement["id"], "recipient": {"email": "bench@example.org"}},
        )
        assert issued.status_code == 201, issued.text
        credential = issued.json()
        page = urlsplit(credential["url"]).path
        jsonld = client.get(page, headers={"Accept": "application/vc+ld+json"}).text
        jwt = client.get(f"/v1/credentials/{credential['id']}/jwt", headers=auth).text
        lists = sorted(e["statusListCredential"] for e in credential["credential"]["credentialStatus"])
        for url in lists:
            # a deployment's lists are published (the re-signing job, or the first reader, signs
            # and stores them); until then every verification signs an unpublished list for itself
            assert client.get(urlsplit(url).path).status_code == 200
        for request in (
            Request("POST", "/v1/verify", jsonld.encode(), {"Content-Type": "application/vc+ld+json"}),
            Request("POST", "/v1/verify", jwt.encode(), {"Content-Type": "application/vc+jwt"}),
        ):
            report = client.post(request.path, content=request.body, headers=request.headers).json()
            assert report["verified"], report
    return page, jsonld, jwt, urlsplit(lists[0]).path


def requests_for(page: str, jsonld: str, jwt: str, status_path: str) -> dict[str, Request]:
    return {
        "verify-jsonld": Request("POST", "/v1/verify", jsonld.encode(), {"Content-Type": "application/vc+ld+json"}),
        "verify-jwt": Request("POST", "/v1/verify", jwt.encode(), {"Content-Type": "application/vc+jwt"}),
        "page": Request("GET", page, None, {"Accept": "text/html"}),
        "status": Request("GET", status_path, None, {}),
        "health": Request("GET", "/health", None, {}),
    }


# --- the load ---------------------------------------------------------------------------------------


def _connection_loop(
    port: int, request: Request, start: float, stop: float, latencies: list[float], codes: Counter[int]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {**request.headers, "Connection": "keep-alive"}
    connection.connect()  # connect before the window opens, as wrk does
    while time.monotonic() < start:
        time.sleep(0.001)
    while True:
        began = time.monotonic()
        if began >= stop:
            break
        try:
            connection.request(request.method, request.path, body=request.body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ended = time.monotonic()
        if ended <= stop:
            latencies.append(ended - began)
            codes[status] += 1
    connection.close()


def _client_process(port: int, request: Request, threads: int, start: float, stop: float, out: object) -> None:
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    workers = [
        threading.Thread(target=_connection_loop, args=(port, request, start, stop, latencies, codes))
        for _ in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, dict(codes)))  # type: ignore[attr-defined]


def worker_pids(server: RunningServer) -> list[int]:
    """The uvicorn worker processes: the server process's children that are Python interpreters
    running the app (uvicorn's supervisor spawns them)."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sorted(int(c) for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connections_by_pid(port: int) -> Counter[int]:
    """Established connections accepted on ``port``, by the pid of the process that owns each."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True, check=False
    ).stdout
    return Counter(int(pid) for pid in re.findall(r"pid=(\d+)", out))


PY_SPY = str(Path(sys.executable).with_name("py-spy"))


def profile_summary(raw: Path, top: int = 12) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """A py-spy raw profile in two lists of (percent of samples, "function file"): SkillCred's own
    functions by inclusive share (each counts for every sample it is on the stack of), and the
    functions the samples were in (self share), whatever their package."""
    own: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack:
            continue
        count, frames = int(number), stack.split(";")
        total += count
        # the project's frames but its ASGI middleware (``__call__`` and its send wrappers), which
        # every request passes through
        for frame in {_name_of(f) for f in frames if "(service/" in f and "__call__" not in f}:
            own[frame] += count
        leaves[_name_of(frames[-1])] += count
    if not total:
        return [], []

    def shares(counter: Counter[str]) -> list[tuple[float, str]]:
        return [(100 * n / total, frame) for frame, n in counter.most_common(top)]

    return shares(own), shares(leaves)


def _name_of(frame: str) -> str:
    function, _, where = frame.partition(" (")
    return f"{function} {where.split(':')[0].rsplit('/', 1)[-1].rstrip(')')}"


@dataclass(frozen=True)
class Round:
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    connections: dict[int, int]
    cpu: dict[int, float]


WRK_LUA = """
local f = io.open(os.getenv("BENCH_BODY_FILE") or "", "rb")
if f then wrk.body = f:read("*a"); f:close() end
wrk.method = os.getenv("BENCH_METHOD")
for name, value in string.gmatch(os.getenv("BENCH_HEADERS") or "", "([^\\n:]+): ([^\\n]*)") do
  wrk.headers[name] = value
end
"""


def start_spy(pid: int, seconds: float, profile: Path | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling worker ``pid`` while it holds the GIL (its CPU time in Python) for the
    round's length less a second, its raw stacks written to ``profile``; None without one."""
    if profile is None:
        return None
    duration = str(max(1, int(seconds) - 1))
    return subprocess.Popen(
        [PY_SPY, "record", "--pid", str(pid), "--gil", "--nonblocking", "--rate", "250"]
        + ["--duration", duration, "--format", "raw", "--output", str(profile)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_wrk_round(
    server: RunningServer,
    port: int,
    request: Request,
    connections: int,
    seconds: float,
    profile: Path | None = None,
) -> Round:
    """One round driven by wrk (C, two threads): far less of the 2 cores go to the client than
    with the Python clients, so the figure is closer to what the server can do."""
    pids = worker_pids(server)
    with tempfile.TemporaryDirectory() as tmp:
        script, body = Path(tmp) / "request.lua", Path(tmp) / "body"
        script.write_text(WRK_LUA)
        environment = {**os.environ, "BENCH_METHOD": request.method}
        environment["BENCH_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
        if request.body is not None:
            body.write_bytes(request.body)
            environment["BENCH_BODY_FILE"] = str(body)
        cpu_before = {pid: cpu_seconds(pid) for pid in pids}
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script)]
        running = subprocess.Popen(
            [*command, f"http://127.0.0.1:{port}{request.path}"], stdout=subprocess.PIPE, text=True, env=environment
        )
        spy = start_spy(pids[0], seconds, profile)
        time.sleep(seconds / 2)
        split = connections_by_pid(port)
        out, _ = running.communicate(timeout=seconds + 60)
        if spy is not None:
            spy.wait(timeout=60)
    cpu = {pid: round(cpu_seconds(pid) - cpu_before[pid], 2) for pid in pids}

    def latency_ms(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if found is None:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        return float(found.group(1)) * scale

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Round(
        per_second=(total - errors) / seconds,
        p50_ms=latency_ms("50"),
        p99_ms=latency_ms("99"),
        errors=errors,
        connections={pid: split.get(pid, 0) for pid in pids},
        cpu=cpu,
    )


def run_round(
    server: RunningServer,
    port: int,
    request: Request,
    connections: int,
    processes: int,
    seconds: float,
    profile: Path | None = None,
) -> Round:
    """One round; with ``profile``, py-spy samples the first worker (only while it holds the GIL:
    its CPU time in Python) over the round's middle and writes the raw stacks there."""
    pids = worker_pids(server)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    start = time.monotonic() + 1.0
    stop = start + seconds
    per_process = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    clients = [
        multiprocessing.Process(target=_client_process, args=(port, request, n, start, stop, queue))
        for n in per_process
        if n
    ]
    for c in clients:
        c.start()
    time.sleep(max(0.0, start - time.monotonic()))
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
    spy = start_spy(pids[0], seconds, profile)
    time.sleep(seconds / 2)
    split = connections_by_pid(port)
    time.sleep(max(0.0, stop - time.monotonic()))
    if spy is not None:
        spy.wait(timeout=60)
    cpu = {pid: round(cpu_seconds(pid) - cpu_before[pid], 2) for pid in pids}
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    for _ in clients:
        got, counted = queue.get(timeout=seconds + 60)
        latencies += got
        codes.update(counted)
    for c in clients:
        c.join()
    latencies.sort()
    ok = codes.get(200, 0)

    def pct(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    return Round(
        per_second=ok / seconds,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        errors=sum(n for code, n in codes.items() if code != 200),
        connections={pid: split.get(pid, 0) for pid in pids},
        cpu=cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SKILLCRED_TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even when a PostgreSQL URL is set")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--resign", type=int, default=300, help="status list re-signing interval, seconds")
    parser.add_argument("--request-threads", type=int, default=None, help="SKILLCRED_REQUEST_THREADS (default 40)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/run_all.py)")
    parser.add_argument(
        "--client",
        choices=("python", "wrk"),
        default="python",
        help="the load generator: Python threads over http.client, or wrk (apt install wrk)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="sample one worker with py-spy in each target's first round and print"
    )
    args = parser.parse_args()
    if args.client == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("--client wrk needs wrk on the PATH (Debian: apt-get install wrk)")
    assert 1 <= args.connections <= 256 and 0 < args.seconds <= 60 and 1 <= args.rounds <= 10, "keep runs bounded"
    postgres = bool(args.database_url) and args.database_url.startswith("postgresql") and not args.sqlite
    settings = {
        "SKILLCRED_RATE_LIMITS": "false",
        "SKILLCRED_REDIS_URL": "",
        "SKILLCRED_STATUS_LIST_RESIGN_INTERVAL_SECONDS": str(args.resign),
    }
    if args.request_threads is not None:
        settings["SKILLCRED_REQUEST_THREADS"] = str(args.request_threads)
    results: dict[str, list[Round]] = {}
    profiles: dict[str, tuple[list[tuple[float, str]], list[tuple[float, str]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with postgres_schema(args.database_url, NAME) if postgres else sqlite_url(Path(tmp)) as url:
            with running_server(url, Path(tmp), workers=args.workers, settings=settings) as server:
                port = int(urlsplit(server.base).port or 80)
                requests = requests_for(*issue_one(server.base))
                for target in args.only:
                    request = requests[target]
                    warm_every_worker(server.base, request, args.connections)
                    profile = Path(tmp) / f"{target}.txt" if args.profile else None
                    results[target] = [
                        run_wrk_round(
                            server, port, request, args.connections, args.seconds, profile if index == 0 else None
                        )
                        if args.client == "wrk"
                        else run_round(
                            server,
                            port,
                            request,
                            args.connections,
                            args.client_processes,
                            args.seconds,
                            profile if index == 0 else None,
                        )
                        for index in range(args.rounds)
                    ]
                    if profile is not None and profile.exists():
                        profiles[target] = profile_summary(profile)
    print(
        f"# bench/http_load.py --workers {args.workers} --connections {args.connections} --seconds {args.seconds:g}"
        f" --rounds {args.rounds}"
        + (f" --request-threads {args.request_threads}" if args.request_threads is not None else "")
        + (f" --client {args.client}" if args.client != "python" else "")
        + f" ({'PostgreSQL' if postgres else 'SQLite'}; {os.cpu_count()} cores,"
        f" load {os.getloadavg()[0]:.2f})"
    )
    print(
        "| target | req/s (median) | req/s (range) | p50 ms | p99 ms | non-200"
        " | connections per worker | CPU s per worker |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for target, rounds in results.items():
        rates = [r.per_second for r in rounds]
        middle = sorted(rounds, key=lambda r: r.per_second)[len(rounds) // 2]
        splits = " / ".join("+".join(str(n) for n in r.connections.values()) for r in rounds)
        cpus = " / ".join("+".join(f"{s:g}" for s in r.cpu.values()) for r in rounds)
        print(
            f"| {target} | {statistics.median(rates):.0f} | {min(rates):.0f}-{max(rates):.0f} | {middle.p50_ms:.1f}"
            f" | {middle.p99_ms:.1f} | {sum(r.errors for r in rounds)} | {splits} | {cpus} |"
        )
    for target, (own, leaves) in profiles.items():
        print(f"\n{target}: one worker's time holding the GIL (py-spy --gil), share of samples")
        print("  SkillCred's functions, inclusive:")
        for share, frame in own:
            print(f"    {share:5.1f}%  {frame}")
        print("  where the samples were (self):")
        for share, frame in leaves:
            print(f"    {share:5.1f}%  {frame}")
    if args.json is not None:
        figures = {
            target: {
                "req_per_s": statistics.median(r.per_second for r in rounds),
                "p50_ms": sorted(rounds, key=lambda r: r.per_second)[len(rounds) // 2].p50_ms,
                "p99_ms": sorted(rounds, key=lambda r: r.per_second)[len(rounds) // 2].p99_ms,
                "errors": sum(r.errors for r in rounds),
            }
            for target, rounds in results.items()
        }
        args.json.write_text(json.dumps({"targets": figures, "postgres": postgres, "workers": args.workers}))


def warm_every_worker(base: str, request: Request, connections: int) -> None:
    """A few requests on each of ``connections`` new connections (spread over the workers as the
    round's will be), so every worker has the page and caches warm before the window opens."""

    def warm() -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for _ in range(3):
                client.request(request.method, request.path, content=request.body, headers=request.headers)

    threads = [threading.Thread(target=warm) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@contextmanager
def sqlite_url(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'bench.db'}"


if __name__ == "__main__":
    main()
