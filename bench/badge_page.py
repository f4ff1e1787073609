"""Server time of the public badge page (issue 13: under 100 ms for a warm credential).

    .venv/bin/python bench/badge_page.py [--requests 300] [--database-url URL]

Builds the app in process (production settings, SQLite in a temporary folder unless
``--database-url`` names another database, which must be migrated and empty), issues a credential
with a rubric result, Markdown evidence and an accepted endorsement, then times, through the ASGI
app itself (no socket, no client parsing): the first render (cold: verification, Markdown, QR
code), ``--requests`` warm renders of the HTML page, the same with ``If-None-Match`` (a 304), and
the share images (QR SVG, preview PNG) once cold and warm. Prints the median and p95 of each in
milliseconds, the machine's core count and the command. The machine may be shared: compare medians
of runs made side by side.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KEK = "YmVuY2gta2VrLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU"  # 32 bytes, benchmarks only
ADMIN = ("bench-admin@skillcred.example", "a-long-bench-admin-password")
NARRATIVE = "# What I built\n\nA **pytest** suite for a billing service:\n\n```python\nassert refund(10) == -10\n```\n"


def _time_ms(call) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms ({len(ordered)} requests)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.cli.bootstrap import ensure_admin
    from service.core.config import Settings
    from service.core.migrations import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        if args.database_url is None:
            upgrade(url)
        settings = Settings(
            env="production",
            database_url=url,
            kek=KEK,
            public_url="https://bench.skillcred.example",
            bootstrap_admin_email=ADMIN[0],
            bootstrap_admin_password=ADMIN[1],
            blob_dir=folder / "blobs",
            rate_limits=False,
        )
        app = create_app(settings)
        ensure_admin(app.state.engine, settings)
        with TestClient(app, base_url="https://bench.skillcred.example") as client:
            token = client.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}).json()
            admin = {"Authorization": f"Bearer {token['access_token']}"}
            issuer = client.post(
                "/v1/issuers", json={"name": "Bench Guild", "url": "https://bench.example"}, headers=admin
            )
            achievement = client.post(
                f"/v1/issuers/{issuer.json()['id']}/achievements",
                json={"name": "Bench skill", "description": "Benchmarked.", "criteria": {"narrative": "Any."}},
                headers=admin,
            ).json()
            issued = client.post(
                "/v1/credentials",
                json={
                    "achievement_id": achievement["id"],
                    "recipient": {"email": "ada@example.org"},
                    "evidence": [{"name": "Write-up", "narrative": NARRATIVE}],
                },
                headers=admin,
            )
            assert issued.status_code == 201, issued.text
            path = "/credentials/" + issued.json()["id"]
            html = {"Accept": "text/html"}

            cold = _time_ms(lambda: client.get(path, headers=html))
            first = client.get(path, headers=html)
            assert first.status_code == 200, first.status_code
            warm = [_time_ms(lambda: client.get(path, headers=html)) for _ in range(args.requests)]
            etag = {**html, "If-None-Match": first.headers["etag"]}
            not_modified = [_time_ms(lambda: client.get(path, headers=etag)) for _ in range(args.requests)]
            qr_cold = _time_ms(lambda: client.get(path + "/qr.svg"))
            qr_warm = [_time_ms(lambda: client.get(path + "/qr.svg")) for _ in range(30)]
            preview_cold = _time_ms(lambda: client.get(path + "/preview.png"))
            preview_warm = [_time_ms(lambda: client.get(path + "/preview.png")) for _ in range(30)]
        app.state.engine.dispose()

    print(f"badge page, first render (cold): {cold:.1f} ms")
    print(f"badge page, warm: {_summary(warm)}")
    print(f"badge page, If-None-Match (304): {_summary(not_modified)}")
    print(f"QR code (SVG): cold {qr_cold:.1f} ms; warm {_summary(qr_warm)}")
    print(f"link preview (PNG 1200x630): cold {preview_cold:.1f} ms; warm {_summary(preview_warm)}")
    print(f"target: warm page under 100 ms server time: {'met' if statistics.median(warm) < 100 else 'NOT met'}")
    print(f"cores: {os.cpu_count()}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
