"""Subscriptions and their deliveries: creating, listing, deleting, rotating secrets, asking for a
redelivery, and fanning an event out to its subscribers. No FastAPI here, and nothing commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Protocol

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from service.accounts.models import Account, Role
from service.audit.service import record
from service.core.config import Settings
from service.core.errors import Conflict, NotFound, ServiceError
from service.core.keystore import Keystore
from service.core.paging import PageParams, paginate
from service.events.models import Event
from service.events.service import QUEUE
from service.issuers.models import Issuer
from service.jobs.defer import JobRequest, defer
from service.net.addresses import is_public_address
from service.net.errors import FetchError
from service.net.fetch import split_url, url_host
from service.webhooks.models import (
    DeliveryState,
    SubscriptionState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from service.webhooks.secrets import new_secret, seal

MAX_SUBSCRIPTIONS_PER_ISSUER = 20
SECRET_OVERLAP = timedelta(hours=24)
"""After a rotation the previous secret keeps signing this long (receivers switch meanwhile)."""
DELIVER_TASK = "webhooks:deliver"
NO_SUCH_WEBHOOK = "No such webhook"


def _bad_url(message: str) -> ServiceError:
    return ServiceError(message, code="bad_webhook_url", status_code=422)


def check_url(settings: Settings, url: str) -> str:
    """``url`` if it may receive webhooks: ``https`` (``http`` only with
    ``webhooks_allow_private``), a host, no credentials, and not an IP literal outside the
    public Internet. Host names are vetted again at every delivery (they may resolve anywhere)."""
    try:
        parts, _port = split_url(url)
        scheme = parts.scheme.lower()
        if scheme != "https" and not (scheme == "http" and settings.webhooks_allow_private):
            raise _bad_url("The webhook URL must be https")
        if "@" in parts.netloc or not parts.hostname:
            raise _bad_url("The webhook URL needs a host and no user:password@")
        host, literal = url_host(parts.hostname, url)
    except FetchError as err:
        raise _bad_url(f"Not a usable webhook URL: {err}") from None
    if literal is not None and not is_public_address(literal):
        if not (settings.webhooks_allow_private and ip_address(literal).is_loopback):
            raise _bad_url("The webhook URL points at a private address")
    return url


def _issuer_for(session: Session, account: Account, issuer_id: str | None) -> str:
    if account.role == Role.admin:
        if issuer_id is None:
            raise ServiceError(
                "Name the issuer (issuer_id) whose events the webhook receives", code="issuer_required", status_code=422
            )
    elif issuer_id is not None and issuer_id != account.issuer_id:
        raise NotFound("No such issuer")
    else:
        issuer_id = account.issuer_id
    if issuer_id is None or session.get(Issuer, issuer_id) is None:
        raise NotFound("No such issuer")
    return issuer_id


def create_subscription(
    session: Session,
    settings: Settings,
    keystore: Keystore,
    account: Account,
    *,
    url: str,
    events: list[str],
    issuer_id: str | None,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (the only time the secret is returned)."""
    issuer_id = _issuer_for(session, account, issuer_id)
    check_url(settings, url)
    count = len(session.exec(select(WebhookSubscription.id).where(WebhookSubscription.issuer_id == issuer_id)).all())
    if count >= MAX_SUBSCRIPTIONS_PER_ISSUER:
        raise Conflict(f"An issuer may have at most {MAX_SUBSCRIPTIONS_PER_ISSUER} webhooks", code="too_many_webhooks")
    secret = new_secret()
    subscription = WebhookSubscription(
        issuer_id=issuer_id, url=url, events=sorted(set(events)), secret_sealed=b"", created_by=account.id
    )
    subscription.secret_sealed = seal(keystore, secret, subscription_id=subscription.id)
    session.add(subscription)
    session.flush()
    record(
        session,
        action="webhook.create",
        object_type="webhook",
        object_id=subscription.id,
        actor=account,
        issuer_id=issuer_id,
        after={"url": url, "events": subscription.events},
    )
    return subscription, secret


def get_subscription(session: Session, account: Account, subscription_id: str) -> WebhookSubscription:
    """The subscription, if ``account`` may manage it (admins: any; issuer admins: their own)."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or (account.role != Role.admin and account.issuer_id != subscription.issuer_id):
        raise NotFound(NO_SUCH_WEBHOOK)
    return subscription


def list_subscriptions(
    session: Session, account: Account, params: PageParams, *, issuer_id: str | None
) -> tuple[list[WebhookSubscription], int]:
    """The subscriptions ``account`` manages, oldest first (admins may filter by issuer)."""
    statement = select(WebhookSubscription)
    if account.role != Role.admin:
        statement = statement.where(WebhookSubscription.issuer_id == account.issuer_id)
    elif issuer_id is not None:
        statement = statement.where(WebhookSubscription.issuer_id == issuer_id)
    return paginate(
        session, statement.order_by(col(WebhookSubscription.created_at), col(WebhookSubscription.id)), params
    )


def delete_subscription(session: Session, account: Account, subscription_id: str) -> None:
    """Delete the subscription with its deliveries and their log (pending ones are dropped)."""
    subscription = get_subscription(session, account, subscription_id)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription.id)
    session.exec(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries)))
    session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == subscription.id))
    record(
        session,
        action="webhook.delete",
        object_type="webhook",
        object_id=subscription.id,
        actor=account,
        issuer_id=subscription.issuer_id,
        before={"url": subscription.url, "events": subscription.events},
    )
    session.delete(subscription)
    session.flush()


def rotate_secret(
    session: Session, keystore: Keystore, account: Account, subscription_id: str, now: datetime
) -> tuple[WebhookSubscription, str]:
    """A new secret for the subscription; the current one keeps signing for
    :data:`SECRET_OVERLAP` alongside it. Returns the subscription and the new secret."""
    subscription = get_subscription(session, account, subscription_id)
    secret = new_secret()
    subscription.previous_secret_sealed = subscription.secret_sealed
    subscription.previous_secret_until = now + SECRET_OVERLAP
    subscription.secret_sealed = seal(keystore, secret, subscription_id=subscription.id)
    session.add(subscription)
    record(
        session,
        action="webhook.rotate_secret",
        object_type="webhook",
        object_id=subscription.id,
        actor=account,
        issuer_id=subscription.issuer_id,
        after={"previous_secret_until": subscription.previous_secret_until.isoformat()},
    )
    session.flush()
    return subscription, secret


def set_enabled(
    session: Session, account: Account, subscription_id: str, *, enabled: bool, now: datetime
) -> WebhookSubscription:
    """Disable the subscription by hand (no event is delivered to it until it is enabled again;
    its pending deliveries fail at their next attempt) or enable it again (from the next event
    on; failed deliveries can be sent again with :func:`redeliver`). Asking for the state it is
    already in changes nothing."""
    subscription = get_subscription(session, account, subscription_id)
    wanted = SubscriptionState.active if enabled else SubscriptionState.disabled
    if subscription.state == wanted:
        return subscription
    before = {"state": subscription.state, "reason": subscription.disabled_reason}
    if enabled:
        subscription.state, subscription.disabled_at, subscription.disabled_reason = wanted, None, None
    else:
        subscription.state, subscription.disabled_at = wanted, now
        subscription.disabled_reason = (
            f"disabled by hand by an {'admin' if account.role == Role.admin else 'issuer admin'}"
        )
    session.add(subscription)
    record(
        session,
        action="webhook.enable" if enabled else "webhook.disable",
        object_type="webhook",
        object_id=subscription.id,
        actor=account,
        issuer_id=subscription.issuer_id,
        before=before,
        after={"state": subscription.state, "reason": subscription.disabled_reason},
    )
    session.flush()
    return subscription


def list_deliveries(
    session: Session, account: Account, subscription_id: str, params: PageParams
) -> tuple[list[WebhookDelivery], int, dict[str, list[WebhookAttempt]]]:
    """The subscription's deliveries, newest first, and each one's attempts (oldest first)."""
    subscription = get_subscription(session, account, subscription_id)
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
    )
    deliveries, total = paginate(session, statement, params)
    log: dict[str, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        attempts = session.exec(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(list(log)))
            .order_by(col(WebhookAttempt.number), col(WebhookAttempt.at))
        ).all()
        for attempt in attempts:
            log[attempt.delivery_id].append(attempt)
    return deliveries, total, log


def redeliver(session: Session, account: Account, subscription_id: str, delivery_id: str) -> WebhookDelivery:
    """Ask for a new attempt of a delivery at once (whatever its state); the attempt is logged
    as manual and, when it succeeds, the delivery is ``delivered``."""
    subscription = get_subscription(session, account, subscription_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound("No such delivery")
    defer(session, deliver_request(delivery.id, manual=True))
    return delivery


def deliver_request(delivery_id: str, *, manual: bool = False, delay_seconds: float | None = None) -> JobRequest:
    """The job that makes the next attempt of a delivery."""
    return JobRequest(
        DELIVER_TASK, {"delivery_id": delivery_id, "manual": manual}, delay_seconds=delay_seconds, queue=QUEUE
    )


def fan_out(session: Session, event_id: str, now: datetime) -> list[str]:
    """Make the deliveries of event ``event_id``: one per active subscription of its issuer that
    asked for its type, each with its first attempt deferred. Idempotent (``dispatched_at``)."""
    event = session.get(Event, event_id)
    if event is None or event.dispatched_at is not None:
        return []
    return fan_out_events(session, [event], active_subscriptions(session, event.issuer_id), now)


def active_subscriptions(session: Session, issuer_id: str) -> list[WebhookSubscription]:
    """The issuer's active subscriptions (what a fan-out matches its events against)."""
    return list(
        session.exec(
            select(WebhookSubscription).where(
                WebhookSubscription.issuer_id == issuer_id, WebhookSubscription.state == SubscriptionState.active
            )
        )
    )


class EventToFanOut(Protocol):
    """What a fan-out reads of an event: an :class:`Event`, or a row of those columns."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...


def fan_out_events(
    session: Session, events: Sequence[EventToFanOut], subscriptions: Sequence[WebhookSubscription], now: datetime
) -> list[str]:
    """The deliveries of ``events`` (one issuer's, not yet dispatched) to those of its active
    ``subscriptions`` that asked for each event's type and existed when it happened (a
    subscription never receives earlier events); the events are marked dispatched, in one
    UPDATE whatever their number. The ids of the deliveries made, each with its first attempt
    deferred."""
    made = []
    for event in events:
        for subscription in subscriptions:
            if event.type not in subscription.events or subscription.created_at > event.occurred_at:
                continue
            delivery = WebhookDelivery(
                subscription_id=subscription.id,
                event_id=event.id,
                event_type=event.type,
                state=DeliveryState.pending,
                next_attempt_at=now,
            )
            session.add(delivery)
            made.append(delivery.id)
    if events:
        # an Event of the session is given the new value too (synchronize_session="auto")
        ids = [event.id for event in events]
        session.execute(update(Event).where(col(Event.id).in_(ids)).values(dispatched_at=now))
    if made:
        session.flush()
    for delivery_id in made:
        defer(session, deliver_request(delivery_id))
    return made
