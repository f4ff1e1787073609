"""Fixtures for the browser tests: one real server, one headless Chromium, and the data the pages show.

Each pytest process (each xdist worker that gets browser tests) starts ONE `skillcred serve` on a
SQLite file (tests/serve.py) and ONE Debian Chromium driven by Playwright, for all its browser tests;
every test gets a fresh browser context (no cookies shared) in a tab that records what it requests.
The context bypasses the pages' Content-Security-Policy so that axe-core can be injected: that is
the only difference from what a visitor's browser does, and it is why a test of the origins a page
loads from checks the requests themselves (anything off the server's origin is aborted, never sent).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller

from tests.browser.harness import Inbox, SiteApi, Tab, require_axe, require_chromium
from tests.serve import RunningServer, free_port, running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

ISSUER_NAME = "Northwind Skills Guild"
ACHIEVEMENT_NAME = "Accessible web front ends"


@dataclass(frozen=True)
class Showcase:
    """An issuer with its own admin, an achievement, and one credential issued to a freelancer."""

    issuer: dict[str, Any]
    issuer_admin: dict[str, str]
    achievement: dict[str, Any]
    credential: dict[str, Any]

    @property
    def credential_path(self) -> str:
        """The badge page's path on the server."""
        return urlsplit(self.credential["url"]).path


@pytest.fixture(scope="session")
def inbox() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what the test server mails."""
    kept = Inbox()
    controller = Controller(kept, hostname="127.0.0.1", port=free_port())
    controller.start()
    kept.port = controller.port
    try:
        yield kept
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path, inbox: Inbox) -> Iterator[RunningServer]:
    """`skillcred serve` (one worker) on a fresh SQLite file, for this process's browser tests: a
    copy of the suite's migrated template, so the server starts without migrating. Its mail goes
    to ``inbox`` over SMTP; jobs (assessments) run in the server's own process, as on SQLite."""
    folder: Path = tmp_path_factory.mktemp("browser-site")
    shutil.copyfile(sqlite_template, folder / "skillcred.db")
    mail = {
        "SKILLCRED_SMTP_HOST": "127.0.0.1",
        "SKILLCRED_SMTP_PORT": str(inbox.port),
        "SKILLCRED_SMTP_SECURITY": "none",
    }
    with running_server(f"sqlite:///{folder}/skillcred.db", folder, workers=1, settings=mail) as server:
        yield server


@pytest.fixture(scope="session")
def site_api(site: RunningServer) -> Iterator[SiteApi]:
    """The server's HTTP API, signed in as its bootstrap admin."""
    with httpx.Client(base_url=site.base, timeout=30) as client:
        yield SiteApi(client)


@pytest.fixture(scope="session")
def showcase(site_api: SiteApi) -> Showcase:
    """Seeded over the API as a real issuer would: the admin creates the issuer and its admin
    account; the issuer's admin defines the achievement and issues a credential."""
    issuer = site_api.create_issuer(ISSUER_NAME, url="https://northwind.example")
    issuer_admin = site_api.create_account("issuer_admin", issuer["id"])
    achievement = site_api.create_achievement(
        issuer["id"],
        headers=issuer_admin,
        name=ACHIEVEMENT_NAME,
        description="Builds web pages that everyone can use, with keyboard, screen reader or phone.",
        criteria={"narrative": "A public site that passes an accessibility audit and holds at 360 px."},
    )
    credential = site_api.issue(achievement["id"], {"email": "ada@freelance.example"}, headers=issuer_admin)
    return Showcase(issuer, issuer_admin, achievement, credential)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium (/usr/bin/chromium), headless, driven by Playwright; never a downloaded build."""
    executable = require_chromium()
    require_axe()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is not installed: `.venv/bin/pip install -e '.[dev]'` (make install)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=args)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium: Browser, site: RunningServer) -> Iterator[Tab]:
    """A tab in a fresh context at 1280 x 800, recording every request; requests off the server's
    origin are recorded and aborted, so no test ever reaches the network."""
    with _tab(chromium, site) as opened:
        yield opened


@pytest.fixture
def second_tab(chromium: Browser, site: RunningServer) -> Iterator[Tab]:
    """Another person's tab: a context of its own (its own cookies)."""
    with _tab(chromium, site) as opened:
        yield opened


@contextmanager
def _tab(chromium: Browser, site: RunningServer) -> Iterator[Tab]:
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    opened = Tab(page, site.base)
    page.on("request", lambda request: opened.requests.append(request.url))

    def only_the_server(route: Route) -> None:
        if urlsplit(route.request.url)[:2] == urlsplit(site.base)[:2]:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_server)
    try:
        yield opened
    finally:
        context.close()
