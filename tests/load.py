"""A mixed, concurrent load against a running `skillcred serve`, and what must hold after it:
used by the soak test (`tests/api/test_soak.py`) and `bench/concurrent_issuance.py`.

The load: issuers (each a thread with its own keep-alive client) issue credentials to fresh
recipients; beside them verifiers post a credential to `/v1/verify`, readers open the badge page
and the status lists (some with a client timeout so short they hang up mid-request), and a
status changer revokes, suspends and unsuspends credentials so lists keep going dirty and due.
Loopback only, bounded in time.
"""

from __future__ import annotations

import itertools
import secrets
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

ISSUE, VERIFY, PAGE, STATUS_LIST, CHANGE = "issue", "verify", "page", "status_list", "change"


@dataclass
class Outcome:
    """One request: its kind, when it started and ended, the status (None: the client hung up or
    the connection failed) and, for an issuance, the credential and its status entries."""

    kind: str
    started: float
    ended: float
    status: int | None
    retry_after: str | None = None
    credential_id: str | None = None
    status_entries: tuple[tuple[str, int], ...] = ()
    hung_up: bool = False

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Workload:
    """What the load needs: an admin token, an achievement, and credentials to verify and change."""

    auth: dict[str, str]
    achievement_id: str
    credential_url: str
    jsonld: str
    status_list_paths: list[str]
    changeable: list[str] = field(default_factory=list)


def prepare(base: str, admin: tuple[str, str], *, changeable: int = 12) -> Workload:
    """An issuer, an achievement and a few credentials on the server at ``base``."""
    with httpx.Client(base_url=base, timeout=60) as http:
        login = http.post("/v1/auth/token", data={"username": admin[0], "password": admin[1]})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        issuer = http.post("/v1/issuers", json={"name": "Load Academy", "url": "https://load.example"}, headers=auth)
        assert issuer.status_code == 201, issuer.text
        achievement = http.post(
            f"/v1/issuers/{issuer.json()['id']}/achievements",
            headers=auth,
            json={"name": "Steady hands", "description": "Issued under load.", "criteria": {"narrative": "Any."}},
        ).json()
        ids = []
        for n in range(changeable + 1):
            issued = http.post(
                "/v1/credentials",
                headers=auth,
                json={"achievement_id": achievement["id"], "recipient": {"email": f"prepared{n}@example.org"}},
            )
            assert issued.status_code == 201, issued.text
            ids.append(issued.json())
        first = ids[0]
        jsonld = http.get(first["url"], headers={"Accept": "application/vc+ld+json"}).text
        lists = sorted({entry["statusListCredential"] for entry in first["credential"]["credentialStatus"]})
    paths = [httpx.URL(url).path for url in lists]
    return Workload(auth, achievement["id"], first["url"], jsonld, paths, [c["id"] for c in ids[1:]])


class MixedLoad:
    """Runs the load for ``seconds``: ``issuers`` issuing threads, plus (``mixed``) two verifiers,
    two page readers, two status list readers and one status changer. Every fifth verify and
    list read is made with a 50 ms client timeout, so the server sees clients hang up."""

    def __init__(self, base: str, work: Workload, *, issuers: int, mixed: bool = True) -> None:
        self.base, self.work, self.issuers, self.mixed = base, work, issuers, mixed
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._numbers = itertools.count()
        self._run = secrets.token_hex(4)  # recipients are new in every run (one active credential each)

    def run(self, seconds: float, *, max_issuances: int | None = None) -> list[Outcome]:
        """Run until ``seconds`` pass (or ``max_issuances`` are acknowledged); the outcomes."""
        roles: list[Callable[[httpx.Client], None]] = [self._issue] * self.issuers
        if self.mixed:
            roles += [self._verify] * 2 + [self._page] * 2 + [self._status_list] * 2 + [self._change]
        self._limit = max_issuances
        threads = [threading.Thread(target=self._loop, args=(role,), daemon=True) for role in roles]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stop.is_set():
            time.sleep(0.05)
        self._stop.set()
        for thread in threads:
            thread.join(timeout=60)
        return self.outcomes

    def _loop(self, role: Callable[[httpx.Client], None]) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self._stop.is_set():
                role(http)

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)
            if self._limit is not None and outcome.credential_id is not None:
                if sum(1 for o in self.outcomes if o.credential_id) >= self._limit:
                    self._stop.set()

    def _call(self, http: httpx.Client, kind: str, method: str, path: str, *, impatient: bool = False, **kw: Any):
        started = time.monotonic()
        try:
            response = http.request(method, path, timeout=0.05 if impatient else 30, **kw)
        except httpx.TimeoutException:
            self._record(Outcome(kind, started, time.monotonic(), None, hung_up=impatient))
            return None
        except httpx.TransportError:
            self._record(Outcome(kind, started, time.monotonic(), None))
            return None
        outcome = Outcome(kind, started, time.monotonic(), response.status_code, response.headers.get("retry-after"))
        if kind == ISSUE and response.status_code == 201:
            body = response.json()
            outcome.credential_id = body["id"]
            outcome.status_entries = tuple(
                (entry["statusListCredential"].rsplit("/", 1)[1], int(entry["statusListIndex"]))
                for entry in body["credential"]["credentialStatus"]
            )
        self._record(outcome)
        return response

    def _issue(self, http: httpx.Client) -> None:
        recipient = {"email": f"load-{self._run}-{next(self._numbers)}@example.org"}
        body = {"achievement_id": self.work.achievement_id, "recipient": recipient}
        self._call(http, ISSUE, "POST", "/v1/credentials", json=body, headers=self.work.auth)

    def _verify(self, http: httpx.Client) -> None:
        headers = {"Content-Type": "application/vc+ld+json"}
        impatient = next(self._numbers) % 5 == 0
        self._call(http, VERIFY, "POST", "/v1/verify", content=self.work.jsonld, headers=headers, impatient=impatient)

    def _page(self, http: httpx.Client) -> None:
        self._call(http, PAGE, "GET", self.work.credential_url, headers={"Accept": "text/html"})

    def _status_list(self, http: httpx.Client) -> None:
        number = next(self._numbers)
        path = self.work.status_list_paths[number % len(self.work.status_list_paths)]
        self._call(http, STATUS_LIST, "GET", path, impatient=number % 5 == 0)

    def _change(self, http: httpx.Client) -> None:
        number = next(self._numbers)
        credential_id = self.work.changeable[number % len(self.work.changeable)]
        action = ("suspend", "unsuspend")[(number // len(self.work.changeable)) % 2]
        if number % 7 == 0:
            action = "revoke"
        path = f"/v1/credentials/{credential_id}/{action}"
        self._call(http, CHANGE, "POST", path, json={"reason": "Load test"}, headers=self.work.auth)
        time.sleep(0.05)


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def issuance_figures(outcomes: list[Outcome], seconds: float) -> dict[str, float]:
    """Credentials per second, p50 and p99 latency (s) and errors of the issuances."""
    issued = [o for o in outcomes if o.kind == ISSUE and o.status == 201]
    failed = [o for o in outcomes if o.kind == ISSUE and o.status != 201]
    latencies = [o.seconds for o in issued]
    return {
        "issued": len(issued),
        "per_second": round(len(issued) / seconds, 1) if seconds else 0.0,
        "p50_s": round(statistics.median(latencies), 3) if latencies else 0.0,
        "p99_s": round(percentile(latencies, 0.99), 3),
        "errors": len(failed),
    }


def stored_issuances(database_url: str) -> tuple[dict[str, int], list[tuple[str, int, str]]]:
    """How many rows each credential id has, and every status entry (list, index, credential)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            counts = dict(connection.execute(sa.text("SELECT id, count(*) FROM credential GROUP BY id")).all())
            entries = connection.execute(sa.text("SELECT list_id, status_index, credential_id FROM statusentry")).all()
    finally:
        engine.dispose()
    return counts, [(row[0], row[1], row[2]) for row in entries]


def issuance_problems(database_url: str, outcomes: list[Outcome]) -> list[str]:
    """What is wrong with the acknowledged issuances in the database: one missing or stored
    twice, an index handed out twice, or entries that differ from what the credential says."""
    acknowledged = {o.credential_id: o.status_entries for o in outcomes if o.credential_id}
    counts, entries = stored_issuances(database_url)
    problems = [f"acknowledged but not stored: {cid}" for cid in acknowledged if cid not in counts]
    problems += [f"stored {n} times: {cid}" for cid, n in counts.items() if n != 1]
    pairs = [(list_id, index) for list_id, index, _ in entries]
    if len(pairs) != len(set(pairs)):
        problems.append(f"{len(pairs) - len(set(pairs))} status indexes handed out twice")
    by_credential: dict[str, set[tuple[str, int]]] = {}
    for list_id, index, credential_id in entries:
        by_credential.setdefault(credential_id, set()).add((list_id, index))
    problems += [
        f"{cid}: its credentialStatus differs from its entries"
        for cid, claimed in acknowledged.items()
        if set(claimed) != by_credential.get(cid, set())
    ]
    return problems[:20]
