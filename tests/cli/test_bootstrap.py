"""First run: what `make run` prepares (migrations, an admin with a one-time password, demo data)."""

import re

from sqlmodel import Session, select

from service.accounts.models import Account, Role
from service.achievements.models import Achievement, AchievementVersion
from service.achievements.result_descriptions import rubric_of
from service.cli.bootstrap import DEMO_ISSUER_NAME
from service.cli.commands import prepare
from service.core.config import Settings
from service.core.db import make_engine
from service.issuers.models import Issuer


def dev_settings(tmp_path) -> Settings:
    return Settings(
        env="development",
        database_url=f"sqlite:///{tmp_path}/var/skillcred.db",
        dev_kek_file=tmp_path / "keys" / "dev-kek",
        public_url="http://127.0.0.1:8000",
    )


def test_first_development_run_creates_admin_demo_issuer_and_achievement(tmp_path, capsys):
    settings = dev_settings(tmp_path)
    prepare(settings, announce=True)
    out = capsys.readouterr().out
    login = re.search(r"admin login: (\S+) / (\S+)", out)
    assert login and login.group(1) == "admin@skillcred.local"
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        admin = session.exec(select(Account).where(Account.role == Role.admin)).one()
        issuer = session.exec(select(Issuer)).one()
        assert issuer.name == DEMO_ISSUER_NAME and issuer.did == "did:web:127.0.0.1%3A8000"
        achievement = session.exec(select(Achievement)).one()
        assert achievement.issuer_id == issuer.id
        version = session.exec(select(AchievementVersion)).one()
        assert rubric_of(version).policy == "review"  # evidence can be assessed and reviewed at once
    from service.accounts.security import verify_password

    assert verify_password(admin.password_hash, login.group(2))
    assert (tmp_path / "keys" / "dev-kek").exists()


def test_a_second_run_creates_nothing_and_prints_no_password(tmp_path, capsys):
    settings = dev_settings(tmp_path)
    prepare(settings, announce=True)
    capsys.readouterr()
    prepare(settings, announce=True)
    out = capsys.readouterr().out
    assert "admin login" not in out and "demo issuer" not in out
    with Session(make_engine(settings.database_url)) as session:
        assert len(session.exec(select(Account)).all()) == 1
        assert len(session.exec(select(Issuer)).all()) == 1
