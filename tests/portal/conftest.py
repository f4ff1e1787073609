"""Fixtures for the portal's pages: a browser (a TestClient on the https origin, so the ``Secure``
``__Host-`` cookies of a non-development deployment are sent back), and helpers that read a page's
CSRF token and sign in through the login form as a person would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

PASSWORD = "a-long-enough-password"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


class Browser:
    """A person's browser: cookies kept, redirects shown (not followed) so tests see them."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, follow_redirects=False, **kwargs)

    def form_token(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    def submit(self, page_path: str, action: str, data: dict[str, str], **kwargs: Any) -> Any:
        """Open ``page_path``, then post its form to ``action`` with the page's token, as a browser does."""
        return self.post(action, data={**data, "csrf_token": self.form_token(page_path)}, **kwargs)

    def sign_in(self, email: str, password: str = PASSWORD, next_path: str = "") -> Any:
        response = self.submit("/login", "/login", {"email": email, "password": password, "next": next_path})
        return response


@pytest.fixture
def browser(app) -> Iterator[Browser]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield Browser(client)


@pytest.fixture
def other_browser(app) -> Iterator[Browser]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield Browser(client)


def signed_in(browser: Browser, email: str, password: str = PASSWORD) -> Browser:
    response = browser.sign_in(email, password)
    assert response.status_code == 303, response.text
    return browser
