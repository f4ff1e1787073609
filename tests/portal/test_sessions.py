"""Browser sessions: what the cookie is and carries, what the server keeps, and every way a
session ends (sign-out, idle, its absolute end, a changed password, a disabled account)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from types import SimpleNamespace

from procrastinate.testing import InMemoryConnector
from sqlmodel import Session, select

from service.accounts.models import Account
from service.accounts.service import set_password
from service.api.page_auth import secure_cookies, session_cookie_name
from service.core.clock import FixedClock
from service.jobs.context import SERVICES_KEY, JobServices
from service.portal import jobs as portal_jobs
from service.portal.models import PortalSession
from service.portal.sessions import ABSOLUTE_LIFETIME, IDLE_TIMEOUT
from service.worker import build_job_app
from tests.portal.conftest import PASSWORD, signed_in

EMAIL = "ada@example.org"


def _earner(api, email: str = EMAIL) -> dict[str, str]:
    return api.register_earner(email, PASSWORD)


def _rows(app) -> list[PortalSession]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(PortalSession)))


def test_signing_in_sets_a_host_only_httponly_secure_lax_cookie(api, browser):
    _earner(api)
    response = browser.sign_in(EMAIL)

    assert response.status_code == 303 and response.headers["location"] == "/portal"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("__Host-skillcred_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path", "samesite", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    assert "domain" not in attributes  # __Host-: this host only
    assert browser.get("/portal").status_code == 200


def test_only_development_leaves_out_secure(settings):
    assert secure_cookies(settings)  # env=test
    development = settings.model_copy(update={"env": "development"})
    assert not secure_cookies(development)
    assert session_cookie_name(development) == "skillcred_session"  # __Host- needs Secure


def test_the_server_keeps_only_the_hash_of_the_cookie(app, api, browser):
    _earner(api)
    signed_in(browser, EMAIL)
    token = _cookie(browser)

    (row,) = _rows(app)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(row.model_dump())


def test_a_new_sign_in_gets_a_new_token_so_a_planted_cookie_is_worthless(api, browser):
    _earner(api)
    planted = "planted-by-an-attacker-" + "x" * 20
    browser.client.cookies.set("__Host-skillcred_session", planted)
    response = browser.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": browser.form_token("/login")}
    )

    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("__Host-skillcred_session="))
    assert planted not in cookie


def test_signing_out_deletes_the_session_and_the_old_cookie_no_longer_works(app, api, browser):
    _earner(api)
    signed_in(browser, EMAIL)
    token = _cookie(browser)

    out = browser.submit("/portal", "/logout", {})

    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert _rows(app) == []
    browser.client.cookies.clear()  # signed out: a copy of the old cookie is replayed
    browser.client.cookies.set("__Host-skillcred_session", token)
    again = browser.get("/portal")
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_a_signed_out_visitor_of_a_portal_page_is_sent_to_sign_in_and_back(browser):
    response = browser.get("/portal/assessments/abc?x=1")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/portal/assessments/abc%3Fx%3D1"
    form = browser.get(response.headers["location"])
    assert 'name="next" value="/portal/assessments/abc?x=1"' in form.text


def test_a_session_ends_after_an_idle_spell_and_at_its_absolute_end(app, api, browser, other_browser):
    _earner(api)
    start = app.state.clock.now()
    app.state.clock = clock = FixedClock(start)
    signed_in(browser, EMAIL)
    signed_in(other_browser, EMAIL)

    clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
    assert browser.get("/portal").status_code == 200  # still in use: the idle clock starts again
    clock.advance(timedelta(minutes=2))
    assert other_browser.get("/portal").status_code == 303  # idle too long

    while clock.now() < start + ABSOLUTE_LIFETIME:
        assert browser.get("/portal").status_code == 200
        clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
    assert browser.get("/portal").status_code == 303  # however active, it ends
    assert _rows(app) == []


def test_changing_the_password_ends_every_session(app, api, browser):
    _earner(api)
    signed_in(browser, EMAIL)

    with Session(app.state.engine) as session:
        account = session.exec(select(Account).where(Account.email == EMAIL)).one()
        set_password(session, account, "another-long-enough-passphrase")
        session.commit()

    assert browser.get("/portal").status_code == 303
    assert _rows(app) == []


def test_disabling_the_account_ends_every_session(app, api, browser):
    _earner(api)
    signed_in(browser, EMAIL)

    with Session(app.state.engine) as session:
        account = session.exec(select(Account).where(Account.email == EMAIL)).one()
        account.disabled = True
        session.add(account)
        session.commit()

    assert browser.get("/portal").status_code == 303
    assert _rows(app) == []


def _cookie(browser) -> str:
    """The session cookie the browser holds (the one the server set)."""
    (value,) = [c.value for c in browser.client.cookies.jar if c.name == "__Host-skillcred_session"]
    return value


def test_an_hourly_job_deletes_the_sessions_that_ended_and_keeps_the_live_ones(app, api, browser, other_browser):
    start = app.state.clock.now()
    app.state.clock = clock = FixedClock(start)
    api.register_earner("idle@example.org", PASSWORD)
    api.register_earner("busy@example.org", PASSWORD)
    signed_in(browser, "idle@example.org")
    signed_in(other_browser, "busy@example.org")
    clock.advance(IDLE_TIMEOUT - timedelta(minutes=5))
    assert other_browser.get("/portal").status_code == 200  # in use: its idle clock starts again
    clock.advance(timedelta(minutes=10))
    state = app.state

    portal_jobs.sweep_sessions(
        SimpleNamespace(
            additional_context={
                SERVICES_KEY: JobServices(state.engine, state.keystore, state.settings, state.mailer, state.clock)
            }
        ),
        0,
    )

    with Session(app.state.engine) as session:
        (kept,) = session.exec(select(PortalSession)).all()
        assert session.get(Account, kept.account_id).email == "busy@example.org"
    assert other_browser.get("/portal").status_code == 200


def test_the_session_sweep_runs_hourly_on_the_worker():
    job_app = build_job_app(InMemoryConnector())
    [periodic] = [
        task for (name, _), task in job_app.periodic_registry.periodic_tasks.items() if name == "portal:sweep_sessions"
    ]
    assert periodic.cron == "41 * * * *"
