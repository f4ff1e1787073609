"""One delivery attempt, as the ``webhooks:deliver`` job makes it.

1. In a short transaction: read the delivery, claim the subscription's lease (``busy_until``: one
   delivery in flight per URL; a job that finds it taken comes back a second later), open the
   secrets and build the signed request.
2. Outside any transaction: POST it through :class:`service.net.SafeFetcher` (the target's
   addresses vetted at this moment and the connection pinned to them; ``webhooks_timeout_seconds``
   for the whole attempt; at most :data:`RESPONSE_CAP` bytes of the answer read).
3. In a second transaction: log the attempt, release the lease and, on failure, defer the next
   attempt (the delay per ``webhooks_retry_schedule_seconds``, stretched by up to a quarter at
   random so that retries after an outage do not arrive together) in that same transaction. When
   the last retry fails the delivery is ``failed``, its subscription is disabled and the issuer's
   admins get a mail.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.audit.service import record
from service.core.config import Settings
from service.core.db import unit_of_work
from service.core.keystore import KeystoreError
from service.core.mail import Message, deliver
from service.events.models import Event
from service.events.service import payload
from service.jobs.context import JobServices
from service.jobs.defer import defer
from service.net.errors import FetchError
from service.net.fetch import SafeFetcher
from service.webhooks.models import (
    DeliveryState,
    SubscriptionState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from service.webhooks.secrets import open_secret, signature_header
from service.webhooks.service import deliver_request

log = logging.getLogger("skillcred.webhooks")

RESPONSE_CAP = 1024
"""Bytes of a receiver's answer that are read; the rest is ignored."""
BUSY_RETRY_SECONDS = 1.0
"""How soon a delivery comes back when another one to the same URL is in flight."""
JITTER = 0.25
LOOPBACK = (ip_network("127.0.0.0/8"), ip_network("::1/128"))


@dataclass(frozen=True)
class Outbound:
    url: str
    message_id: str
    body: bytes
    secrets: list[str]


def fetcher_for(settings: Settings) -> SafeFetcher:
    """The fetcher deliveries use: public addresses over https only, unless
    ``webhooks_allow_private`` (development, tests) admits http and loopback."""
    private = settings.webhooks_allow_private
    return SafeFetcher(
        timeout=settings.webhooks_timeout_seconds,
        max_redirects=0,
        allow_http=private,
        allowed_networks=LOOPBACK if private else (),
    )


def retry_delay(settings: Settings, automatic_attempts: int) -> float | None:
    """Seconds before the next automatic attempt after ``automatic_attempts`` failed ones, or
    None when the schedule is spent."""
    schedule = settings.webhooks_retry_schedule_seconds
    if automatic_attempts > len(schedule):
        return None
    step = schedule[automatic_attempts - 1]
    return step * (1 + random.uniform(0, JITTER))


def attempt(services: JobServices, delivery_id: str, *, manual: bool) -> str:
    """Make one attempt of delivery ``delivery_id``; returns what happened (for the log)."""
    settings = services.settings
    now = services.clock.now()
    with unit_of_work(services.engine) as session:
        outbound = _prepare(session, services, delivery_id, manual=manual, now=now)
    if isinstance(outbound, str):
        return outbound
    sent_at = datetime.now(UTC)
    headers = {
        "webhook-id": outbound.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature_header(outbound.secrets, outbound.message_id, sent_at, outbound.body),
    }
    status: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        result = fetcher_for(settings).post(outbound.url, outbound.body, headers=headers, max_bytes=RESPONSE_CAP)
        status = result.status
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except FetchError as err:
        error = f"{err.code}: {err}"[:500]
    except Exception as err:  # never lose the attempt's record to an unexpected failure
        log.exception("webhook delivery %s failed unexpectedly", delivery_id)
        error = f"error: {type(err).__name__}"
    duration_ms = int((time.monotonic() - started) * 1000)
    with unit_of_work(services.engine) as session:
        notice = _record(session, settings, delivery_id, manual, status, error, duration_ms, services.clock.now())
    if notice is not None:
        for message in notice:
            deliver(services.mailer, message)
    return "delivered" if error is None else f"attempt failed ({error})"


def _prepare(
    session: Session, services: JobServices, delivery_id: str, *, manual: bool, now: datetime
) -> Outbound | str:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "gone"
    if not manual and delivery.state != DeliveryState.pending:
        return "already done"
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    event = session.get(Event, delivery.event_id)
    if subscription is None or event is None:
        return "gone"
    if not manual and subscription.state == SubscriptionState.disabled:
        delivery.state, delivery.next_attempt_at = DeliveryState.failed, None
        delivery.last_error = "the webhook is disabled"
        session.add(delivery)
        return "webhook disabled"
    lease = now + timedelta(seconds=services.settings.webhooks_timeout_seconds + 5)
    claimed = (
        session.connection()
        .execute(
            update(WebhookSubscription)
            .where(
                col(WebhookSubscription.id) == subscription.id,
                or_(col(WebhookSubscription.busy_until).is_(None), col(WebhookSubscription.busy_until) < now),
            )
            .values(busy_until=lease)
        )
        .rowcount
    )
    if claimed != 1:
        defer(session, deliver_request(delivery_id, manual=manual, delay_seconds=BUSY_RETRY_SECONDS))
        return "waiting for the webhook's other delivery"
    try:
        secrets = [open_secret(services.keystore, subscription.secret_sealed, subscription_id=subscription.id)]
        if (
            subscription.previous_secret_sealed is not None
            and subscription.previous_secret_until is not None
            and subscription.previous_secret_until > now
        ):
            secrets.append(
                open_secret(services.keystore, subscription.previous_secret_sealed, subscription_id=subscription.id)
            )
    except KeystoreError:
        log.exception("the secret of webhook %s does not open", subscription.id)
        raise
    body = json.dumps(payload(event), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Outbound(url=subscription.url, message_id=event.id, body=body, secrets=secrets)


def _record(
    session: Session,
    settings: Settings,
    delivery_id: str,
    manual: bool,
    status: int | None,
    error: str | None,
    duration_ms: int,
    now: datetime,
) -> list[Message] | None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None  # the webhook was deleted meanwhile
    session.connection().execute(
        update(WebhookSubscription)
        .where(col(WebhookSubscription.id) == delivery.subscription_id)
        .values(busy_until=None)
    )
    delivery.attempts += 1
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            manual=manual,
            status_code=status,
            error=error,
            duration_ms=duration_ms,
            at=now,
        )
    )
    delivery.last_status_code, delivery.last_error = status, error
    notice = None
    if error is None:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = DeliveryState.delivered, now, None
    elif not manual and delivery.state == DeliveryState.pending:
        session.flush()
        automatic = session.exec(
            select(func.count())
            .select_from(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id) == delivery.id, col(WebhookAttempt.manual).is_(False))
        ).one()
        delay = retry_delay(settings, int(automatic))
        if delay is not None:
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            defer(session, deliver_request(delivery.id, delay_seconds=delay))
        else:
            delivery.state, delivery.next_attempt_at = DeliveryState.failed, None
            notice = _disable(session, delivery, now)
    session.add(delivery)
    session.flush()
    return notice


def _disable(session: Session, delivery: WebhookDelivery, now: datetime) -> list[Message]:
    """Disable the delivery's subscription (its last retry failed); the mails to send."""
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or subscription.state == SubscriptionState.disabled:
        return []
    reason = f"delivery {delivery.id} of event {delivery.event_id} failed on every attempt ({delivery.last_error})"
    subscription.state, subscription.disabled_at, subscription.disabled_reason = (
        SubscriptionState.disabled,
        now,
        reason[:500],
    )
    session.add(subscription)
    record(
        session,
        action="webhook.disable",
        object_type="webhook",
        object_id=subscription.id,
        issuer_id=subscription.issuer_id,
        after={"state": "disabled", "reason": subscription.disabled_reason},
    )
    admins = session.exec(
        select(Account).where(
            Account.issuer_id == subscription.issuer_id, Account.role == Role.issuer_admin, ~col(Account.disabled)
        )
    ).all()
    body = (
        f"The webhook {subscription.id} ({subscription.url}) has been disabled: {reason}.\n\n"
        "No further events are sent to it. Check the receiver, then create a new webhook; the "
        "delivery log (GET /v1/webhooks/{id}/deliveries) shows each attempt, and failed deliveries "
        "can be sent again with POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver."
    )
    return [Message(to=a.email, subject="SkillCred: a webhook was disabled", body=body) for a in admins]
