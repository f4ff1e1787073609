"""Outgoing mail: tokens reach the address, over a real SMTP server (STARTTLS verified, or a plain
local relay), and a mail failure never fails the request."""

from __future__ import annotations

import ssl

import pytest
from aiosmtpd.controller import Controller

from service.core.config import Settings
from service.core.mail import Message, OutboxMailer, SmtpMailer, deliver, mailer_from_settings
from tests.net.local_server import make_tls_contexts
from tests.serve import free_port


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def smtp_server(tmp_path):
    servers = []

    def start(*, tls: bool) -> tuple[Inbox, int, ssl.SSLContext | None]:
        inbox, port = Inbox(), free_port()
        server_context, client_context = make_tls_contexts(tmp_path, "localhost") if tls else (None, None)
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=tls
        )
        controller.start()
        servers.append(controller)
        return inbox, port, client_context

    yield start
    for controller in servers:
        controller.stop()


def test_a_message_goes_through_starttls_to_a_verified_server(smtp_server):
    inbox, port, client_context = smtp_server(tls=True)
    mailer = SmtpMailer(
        "localhost", port, "SkillCred <no-reply@skillcred.test>", security="starttls", tls_context=client_context
    )
    assert deliver(mailer, Message("ada@example.org", "Verify", "token: abc123"))
    ((recipients, content),) = inbox.received
    assert recipients == ["ada@example.org"] and "token: abc123" in content and "Subject: Verify" in content


def test_a_server_whose_certificate_is_not_trusted_gets_nothing(smtp_server):
    inbox, port, _ = smtp_server(tls=True)
    mailer = SmtpMailer("localhost", port, "no-reply@skillcred.test", security="starttls")  # system CAs
    assert deliver(mailer, Message("ada@example.org", "Verify", "token: abc123")) is False
    assert inbox.received == []


def test_a_local_relay_without_tls(smtp_server):
    inbox, port, _ = smtp_server(tls=False)
    assert deliver(
        SmtpMailer("127.0.0.1", port, "no-reply@skillcred.test", security="none"),
        Message("ada@example.org", "Hello", "body"),
    )
    assert len(inbox.received) == 1


def test_an_unreachable_server_is_logged_not_raised():
    mailer = SmtpMailer("127.0.0.1", free_port(), "no-reply@skillcred.test", security="none")
    assert deliver(mailer, Message("ada@example.org", "Hello", "body")) is False


def test_which_mailer_a_deployment_gets(tmp_path):
    base = {"database_url": "sqlite://", "dev_kek_file": tmp_path / "kek"}
    assert isinstance(mailer_from_settings(Settings(env="test", **base)), OutboxMailer)
    assert isinstance(mailer_from_settings(Settings(env="test", smtp_host="mail.example", **base)), SmtpMailer)
    assert mailer_from_settings(Settings(env="production", kek="A" * 43, **base)) is None


def test_registration_mails_the_verification_token(app, client):
    response = client.post(
        "/v1/auth/register", json={"email": "mailme@example.org", "password": "a-long-enough-password"}
    )
    assert response.status_code == 201
    (message,) = app.state.mailer.to("mailme@example.org")
    assert response.json()["verification_token"] in message.body


def test_a_failing_mail_server_does_not_fail_registration(app, client):
    app.state.mailer = SmtpMailer("127.0.0.1", free_port(), "no-reply@skillcred.test", security="none")
    response = client.post(
        "/v1/auth/register", json={"email": "down@example.org", "password": "a-long-enough-password"}
    )
    assert response.status_code == 201
