"""Outgoing mail: the one-time tokens that prove someone controls an email address (earner
registration, client endorsements) have to reach that address.

:class:`SmtpMailer` sends through the configured SMTP server (STARTTLS or implicit TLS with
certificate verification; ``none`` only for a local relay). Without an SMTP server, development
and test deployments use an :class:`OutboxMailer` that keeps messages in memory (tests read it;
the token is also returned in the response there), and production has no mailer: tokens cannot
be delivered and :func:`mailer_from_settings` says so in the log at start.

Routes send *after* the response (FastAPI background tasks), so a slow or failing mail server
never fails or rolls back the request; :func:`deliver` logs a failure (never the message body,
which holds the token) and the person can ask for a new token.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from service.core.config import Settings

log = logging.getLogger("skillcred.mail")
SMTP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Message:
    """A plain-text message to one recipient."""

    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """Sends a message or raises (``smtplib.SMTPException`` / ``OSError``)."""

    def send(self, message: Message) -> None: ...


class OutboxMailer:
    """Keeps messages in memory instead of sending them (development and tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[Message] = []

    def send(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    def to(self, address: str) -> list[Message]:
        """The messages sent to ``address`` so far, oldest first."""
        with self._lock:
            return [m for m in self.messages if m.to.lower() == address.lower()]


class SmtpMailer:
    """Sends through an SMTP server: ``security`` ``starttls``, ``tls`` or ``none``."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.sender, self.security = host, port, sender, security
        self.username, self.password = username, password
        self.tls_context = tls_context or ssl.create_default_context()

    def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.sender, message.to, message.subject
        email.set_content(message.body)
        if self.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=self.tls_context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if self.security == "starttls":
                client.starttls(context=self.tls_context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(email)


def mailer_from_settings(settings: Settings) -> Mailer | None:
    """The deployment's mailer: SMTP when configured, else an outbox outside production, else None."""
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        )
    if settings.is_production:
        log.warning("SKILLCRED_SMTP_HOST is not set: email verification and endorsement tokens cannot be delivered")
        return None
    return OutboxMailer()


def deliver(mailer: Mailer | None, message: Message) -> bool:
    """Send ``message``; False (and a log line without the body) when there is no mailer or the
    server refuses. Never raises: it runs after the response."""
    if mailer is None:
        log.warning("no mailer configured: a message to %s was not sent", message.to)
        return False
    try:
        mailer.send(message)
    except (smtplib.SMTPException, OSError) as err:
        log.error("sending mail to %s failed: %s", message.to, err)
        return False
    return True


def verification_message(to: str, token: str, public_url: str, *, valid_hours: int = 48) -> Message:
    """The earner's email-verification message; the token is good for ``valid_hours``."""
    return Message(
        to=to,
        subject="Verify your SkillCred email address",
        body=(
            "Someone (hopefully you) registered a SkillCred account with this address.\n\n"
            f"To verify it, open {public_url}/verify-email?token={token} and press the button there.\n\n"
            f"Your verification token: {token}\n\n"
            f"Redeem it with POST {public_url}/v1/auth/verify-email "
            f'{{"token": "<token>"}} within {valid_hours} hours.\n'
            "If it was not you, ignore this message: the account cannot see anything issued to you.\n"
        ),
    )


def endorsement_message(to: str, token: str, request_id: str, public_url: str) -> Message:
    """The client's endorsement-confirmation message."""
    return Message(
        to=to,
        subject="Confirm your SkillCred endorsement",
        body=(
            "You asked to endorse a freelancer's credential on SkillCred.\n\n"
            f"Your confirmation token: {token}\n\n"
            f"Confirm with POST {public_url}/v1/endorsements/requests/{request_id}/confirm "
            '{"token": "<token>"} within 48 hours. If it was not you, ignore this message.\n'
        ),
    )
