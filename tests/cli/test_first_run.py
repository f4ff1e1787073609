"""A first run without surprises: the port picks the public URL, a public URL change is caught at
start-up, and a lost admin password can be reset from the console."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from service.accounts.models import Account
from service.accounts.security import verify_password
from service.audit.models import AuditEvent
from service.cli import commands
from service.cli.main import main
from service.core.config import Settings, get_settings, local_public_url
from service.core.db import make_engine
from service.issuers.models import Issuer, IssuerDidAlias

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def environment(tmp_path, monkeypatch):
    """A development environment in ``tmp_path`` with no SKILLCRED_PUBLIC_URL; os.environ and the
    cached settings are restored afterwards (``serve`` writes the environment for its workers)."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("SKILLCRED_")]:
        del os.environ[name]
    os.environ["SKILLCRED_DATABASE_URL"] = f"sqlite:///{tmp_path}/var/skillcred.db"
    os.environ["SKILLCRED_DEV_KEK_FILE"] = str(tmp_path / "keys" / "dev-kek")
    os.environ["SKILLCRED_BLOB_DIR"] = str(tmp_path / "blobs")
    get_settings.cache_clear()
    served: list[dict] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: served.append(kwargs))
    yield served
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_dev_serve_port_sets_the_public_url_printed_urls_and_the_did(environment, capsys):
    code, out, _ = run(capsys, "dev-serve", "--port", "8101")
    assert code == 0 and environment == [
        {
            "host": "127.0.0.1",
            "port": 8101,
            "workers": 1,
            "proxy_headers": True,
            "log_level": "info",
            "access_log": True,
        }
    ]  # the access log is on in development only (each line costs a busy server throughput)
    assert "SkillCred on http://127.0.0.1:8101 " in out
    assert "http://127.0.0.1:8101/docs" in out and "POST http://127.0.0.1:8101/v1/verify" in out
    assert "http://127.0.0.1:8101/health" in out
    assert "did:web:127.0.0.1%3A8101" in out and ":8000" not in out
    # the uvicorn workers build their settings from the environment
    assert os.environ["SKILLCRED_PUBLIC_URL"] == "http://127.0.0.1:8101"
    assert os.environ["SKILLCRED_ENV"] == "development"


def test_the_host_option_is_served_and_a_wildcard_host_is_printed_as_loopback(environment, capsys):
    code, out, _ = run(capsys, "dev-serve", "--host", "0.0.0.0", "--port", "8102")
    assert code == 0 and environment[0]["host"] == "0.0.0.0"
    assert "SkillCred on http://127.0.0.1:8102 " in out


def test_an_explicit_public_url_is_kept_whatever_the_port(environment, capsys):
    os.environ["SKILLCRED_PUBLIC_URL"] = "https://badges.example"
    code, out, _ = run(capsys, "dev-serve", "--port", "8101")
    assert code == 0 and environment[0]["port"] == 8101
    assert "SkillCred on https://badges.example " in out and "did:web:badges.example" in out


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8101"),
        ("0.0.0.0", "http://127.0.0.1:8101"),
        ("::", "http://127.0.0.1:8101"),
        ("localhost", "http://localhost:8101"),
        ("::1", "http://[::1]:8101"),
    ],
)
def test_local_public_url(host, url):
    assert local_public_url(host, 8101) == url


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_passes_port_and_host_to_dev_serve():
    def dry_run(*variables: str) -> str:
        result = subprocess.run(
            ["make", "-n", "-W", "pyproject.toml", "-o", ".venv/.installed", "run", *variables],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return next(line for line in result.stdout.splitlines() if "dev-serve" in line)

    assert dry_run("PORT=8101", "HOST=0.0.0.0").split()[-4:] == ["--host", "0.0.0.0", "--port", "8101"]
    assert dry_run().split()[-1] == "dev-serve"


# --- a change of public URL on an existing database ---------------------------------------------


def settings_for(tmp_path, public_url: str, env: str = "development") -> Settings:
    return Settings(
        env=env,
        database_url=f"sqlite:///{tmp_path}/var/skillcred.db",
        dev_kek_file=tmp_path / "keys" / "dev-kek",
        kek=None if env == "development" else "dGVzdC1rZWstMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY",
        public_url=public_url,
    )


def issuer_dids(settings: Settings) -> tuple[str, list[str]]:
    with Session(make_engine(settings.database_url)) as session:
        issuer = session.exec(select(Issuer)).one()
        aliases = session.exec(select(IssuerDidAlias.did).where(IssuerDidAlias.issuer_id == issuer.id)).all()
        return issuer.did, list(aliases)


def test_development_moves_the_dids_when_the_port_changes_and_says_so(tmp_path, capsys):
    commands.prepare(settings_for(tmp_path, "http://127.0.0.1:8000"), announce=True)
    capsys.readouterr()
    commands.prepare(settings_for(tmp_path, "http://127.0.0.1:8101"), announce=True)
    out = capsys.readouterr().out
    assert "did:web:127.0.0.1%3A8000 -> did:web:127.0.0.1%3A8101 (old DID kept)" in out
    assert issuer_dids(settings_for(tmp_path, "http://unused.example")) == (
        "did:web:127.0.0.1%3A8101",
        ["did:web:127.0.0.1%3A8000"],
    )


def test_serve_refuses_to_start_after_a_public_url_change_and_names_the_command(tmp_path):
    commands.prepare(settings_for(tmp_path, "http://127.0.0.1:8000"), announce=False)
    moved = settings_for(tmp_path, "https://badges.example", env="production")
    with pytest.raises(SystemExit) as stopped:
        commands.prepare(moved, announce=False)
    message = str(stopped.value)
    assert "SKILLCRED_PUBLIC_URL is https://badges.example" in message
    assert "did:web:127.0.0.1%3A8000 -> did:web:badges.example" in message
    assert "skillcred issuers move-dids" in message
    assert issuer_dids(moved) == ("did:web:127.0.0.1%3A8000", [])  # nothing changed


def test_move_dids_command_moves_every_issuer_and_keeps_the_old_dids(environment, tmp_path, capsys):
    commands.prepare(settings_for(tmp_path, "http://127.0.0.1:8000"), announce=False)
    os.environ |= {"SKILLCRED_PUBLIC_URL": "https://badges.example", "SKILLCRED_ENV": "test"}
    os.environ["SKILLCRED_KEK_FILE"] = str(tmp_path / "keys" / "dev-kek")
    get_settings.cache_clear()
    code, out, _ = run(capsys, "issuers", "move-dids")
    assert code == 0
    assert "did:web:127.0.0.1%3A8000 -> did:web:badges.example" in out
    assert "1 issuer DID(s) moved to https://badges.example" in out
    assert issuer_dids(get_settings()) == ("did:web:badges.example", ["did:web:127.0.0.1%3A8000"])
    with Session(make_engine(get_settings().database_url)) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "issuer.move_did")).one()
        assert event.before == {"did": "did:web:127.0.0.1%3A8000"}
    # now serve starts, and a second run has nothing to move
    commands.prepare(get_settings(), announce=False)
    code, out, _ = run(capsys, "issuers", "move-dids")
    assert code == 0 and "0 issuer DID(s) moved" in out


def test_moving_back_returns_the_former_dids(tmp_path):
    commands.prepare(settings_for(tmp_path, "http://127.0.0.1:8000"), announce=False)
    commands.prepare(settings_for(tmp_path, "http://127.0.0.1:8101"), announce=False)
    commands.prepare(settings_for(tmp_path, "http://127.0.0.1:8000"), announce=False)
    assert issuer_dids(settings_for(tmp_path, "http://unused.example")) == (
        "did:web:127.0.0.1%3A8000",
        ["did:web:127.0.0.1%3A8101"],
    )


# --- admin reset-password -----------------------------------------------------------------------


def test_reset_password_prints_a_new_password_that_signs_in(environment, capsys):
    commands.prepare(get_settings(), announce=True)
    first = re.search(r"admin login: (\S+) / (\S+)", capsys.readouterr().out)
    assert first
    code, out, _ = run(capsys, "admin", "reset-password", "Admin@Skillcred.local")
    password = out.strip()
    assert code == 0 and len(password) >= 16 and password != first.group(2)
    with Session(make_engine(get_settings().database_url)) as session:
        admin = session.exec(select(Account).where(Account.email == "admin@skillcred.local")).one()
        assert verify_password(admin.password_hash, password)
        assert not verify_password(admin.password_hash, first.group(2))
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "account.password_reset")).one()
        assert event.object_id == admin.id and password not in str(event.after)


def test_reset_password_refuses_an_unknown_email(environment, capsys):
    commands.prepare(get_settings(), announce=False)
    code, out, err = run(capsys, "admin", "reset-password", "nobody@example.com")
    assert code == 1 and out == ""
    assert "No account has the email 'nobody@example.com'; nothing changed" in err


def test_every_start_says_how_to_reset_the_admin_password(environment, capsys):
    for _ in range(2):
        code, out, _ = run(capsys, "dev-serve")
        assert code == 0
        assert "skillcred admin reset-password admin@skillcred.local" in out
