"""What the browser tests check a page with: axe-core's audit, the layout at a phone's and a
laptop's width (with screenshots), the origins a page loads from, and the pages' own headline.

Playwright is imported lazily (only the fixtures start it), so `pytest -m 'not browser'` runs on a
machine without it. Nothing here downloads: Chromium is Debian's (scripts/ensure-chromium), and
axe-core is the npm package locked in tests/browser/package-lock.json.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api_client import Api
from tests.serve import ADMIN

if TYPE_CHECKING:
    from playwright.sync_api import Page, Response

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parent / "artifacts"
WIDTHS = (360, 1280)
"""A small phone and a laptop: every page must hold at both."""
BLOCKING_IMPACTS = ("serious", "critical")
NPM_CI_TIMEOUT_SECONDS = 300
HOW_TO_INSTALL = "`make test` installs it (`make browsers`); or deselect these tests with `pytest -m 'not browser'`"


def require_chromium() -> Path:
    """Debian's Chromium, or fail saying how to install it (never a silent skip)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-chromium (apt-get install chromium). {HOW_TO_INSTALL}")
    return CHROMIUM


def require_axe() -> Path:
    """axe.min.js from tests/browser/node_modules, installed with `npm ci` when missing or older than
    the lock file (under a file lock, so two pytest-xdist workers install once)."""
    lock = HERE / "package-lock.json"
    marker = HERE / "node_modules" / ".package-lock.json"  # npm writes it last
    if AXE_JS.exists() and marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return AXE_JS
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"axe-core is not installed in {HERE / 'node_modules'} and npm is not on PATH. {HOW_TO_INSTALL}")
    digest = hashlib.sha256(str(HERE).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"skillcred-browser-npm-ci-{digest}.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not (AXE_JS.exists() and marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime):
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=HERE,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT_SECONDS,
                check=False,
            )
            if done.returncode != 0 or not AXE_JS.exists():
                pytest.fail(f"npm ci in {HERE} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return AXE_JS


def check_accessibility(page: Page) -> None:
    """Run axe-core in ``page`` (all its rules) and fail on any serious or critical violation,
    listing each rule, its help text and the elements that break it."""
    require_axe()
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))  # the context bypasses the page's CSP (tests only)
    results: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core found {len(blocking)} serious or critical problem(s) on {page.url}:\n" + "\n".join(
        _describe_violation(v) for v in blocking
    )


def _describe_violation(violation: dict[str, Any]) -> str:
    lines = [f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>"]
    for node in violation["nodes"][:5]:
        summary = " ".join(node.get("failureSummary", "").split())
        lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}\n      {summary}")
    if len(violation["nodes"]) > 5:
        lines.append(f"    ... and {len(violation['nodes']) - 5} more element(s)")
    return "\n".join(lines)


def assert_no_horizontal_scroll(page: Page) -> None:
    """Nothing on the page is wider than the window: a reader never scrolls sideways."""
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, (
        f"{page.url} scrolls sideways at {inner_width} px: the page is {scroll_width} px wide"
    )


def screenshot(page: Page, name: str) -> list[Path]:
    """Full-page screenshots of ``page`` at each of WIDTHS, as tests/artifacts/<name>-<width>.png
    (gitignored). Leaves the page at the last width."""
    return [_shoot(page, name, width) for width in WIDTHS]


def check_layout(page: Page, name: str) -> None:
    """At a phone's and a laptop's width: no sideways scrolling, and a screenshot of each."""
    for width in WIDTHS:
        _resize(page, width)
        assert_no_horizontal_scroll(page)
        _shoot(page, name, width)


def _resize(page: Page, width: int) -> None:
    height = page.viewport_size["height"] if page.viewport_size else 800
    page.set_viewport_size({"width": width, "height": height})


def _shoot(page: Page, name: str, width: int) -> Path:
    _resize(page, width)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / f"{name}-{width}.png"
    partial = target.with_name(f".{target.stem}.{os.getpid()}.png")  # renamed whole: no torn file if two runs meet
    page.screenshot(path=str(partial), full_page=True)
    partial.replace(target)
    return target


@dataclass
class Tab:
    """One browser tab on the test server, recording every URL it requests."""

    page: Page
    base: str
    requests: list[str] = field(default_factory=list)

    def open(self, path: str, *, status: int = 200) -> Response:
        """Go to ``path`` on the server and wait for it to load; fails unless it answers ``status``."""
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"GET {path}: {response.status}, expected {status}"
        return response

    def foreign_requests(self) -> list[str]:
        """What the page asked of any origin but the server's (data: and blob: URLs are the page's own)."""
        origin = urlsplit(self.base)[:2]
        own = ("data", "blob")
        return [url for url in self.requests if urlsplit(url).scheme not in own and urlsplit(url)[:2] != origin]

    def verdict(self) -> str:
        """The headline of the live verification banner: the status banner's headline where the page
        has one (``role="status"``), otherwise the first sentence that names a verification state."""
        banner = self.page.locator("[role=status]")
        if banner.count():
            strong = banner.first.locator("strong")
            return (strong.first if strong.count() else banner.first).inner_text().strip()
        stated = self.page.locator(r"body :text-matches('\\b(verified|revoked|suspended|expired)\\b', 'i')")
        assert stated.count(), f"{self.page.url} states no verification result"
        return stated.first.inner_text().strip()


SAYS_VERIFIED = re.compile(r"\bverified\b", re.IGNORECASE)
SAYS_NOT_VERIFIED = re.compile(r"\bnot\b|\bwarnings?\b|revoked|suspended|expired", re.IGNORECASE)


def says_verified(headline: str) -> bool:
    """Whether a banner headline says the credential verified, with no warning or failure."""
    return bool(SAYS_VERIFIED.search(headline)) and not SAYS_NOT_VERIFIED.search(headline)


class Inbox:
    """What an SMTP server (aiosmtpd's handler) received: (recipients, message text) in order."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], str]] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def link_to(self, address: str, path: str, *, timeout: float = 10.0) -> str:
        """The path and query of the first ``path`` link in a message to ``address`` (waits for it)."""
        deadline = time.monotonic() + timeout
        pattern = re.compile(rf"https?://[^/\s]+({re.escape(path)}[^\s\"<>]*)")
        while time.monotonic() < deadline:
            for recipients, text in self.received:
                unfolded = text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
                found = pattern.search(unfolded)
                if address in recipients and found:
                    return found.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no message to {address} with a {path} link arrived")


class SiteApi(Api):
    """The test server's HTTP API (tests/api_client.Api over a real connection), signed in as the
    server's bootstrap admin; seeds what the pages show."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client  # the methods only use what TestClient has from httpx.Client
        self.admin = self.login(*ADMIN)

    def create_person(self, role: str, email: str, password: str, issuer_id: str | None = None) -> None:
        """An account a person signs in to through the pages (``POST /v1/accounts`` as the admin)."""
        body: dict[str, Any] = {"email": email, "password": password, "role": role}
        if issuer_id:
            body["issuer_id"] = issuer_id
        response = self.client.post("/v1/accounts", json=body, headers=self.admin)
        assert response.status_code == 201, response.text

    def revoke(self, credential_id: str, reason: str, headers: dict[str, str]) -> None:
        """Revoke a credential as ``headers``' account."""
        response = self.client.post(f"/v1/credentials/{credential_id}/revoke", json={"reason": reason}, headers=headers)
        assert response.status_code == 200, response.text
