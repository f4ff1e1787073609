"""Webhook rows -> responses (the one place). Secrets appear only in the two "shown once" views."""

from __future__ import annotations

from datetime import datetime

from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from service.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    SecretRotated,
    SubscriptionCreated,
    SubscriptionOut,
)


def subscription_view(subscription: WebhookSubscription, now: datetime | None = None) -> SubscriptionOut:
    until = subscription.previous_secret_until
    return SubscriptionOut(
        id=subscription.id,
        issuer_id=subscription.issuer_id,
        url=subscription.url,
        events=list(subscription.events),
        state=subscription.state,
        disabled_at=subscription.disabled_at,
        disabled_reason=subscription.disabled_reason,
        secret_rotated_until=until if until is not None and (now is None or until > now) else None,
        created_at=subscription.created_at,
    )


def created_view(subscription: WebhookSubscription, secret: str) -> SubscriptionCreated:
    return SubscriptionCreated(**subscription_view(subscription).model_dump(), secret=secret)


def rotated_view(subscription: WebhookSubscription, secret: str) -> SecretRotated:
    assert subscription.previous_secret_until is not None
    return SecretRotated(
        id=subscription.id, secret=secret, previous_secret_valid_until=subscription.previous_secret_until
    )


def attempt_view(attempt: WebhookAttempt) -> AttemptOut:
    return AttemptOut(
        number=attempt.number,
        at=attempt.at,
        manual=attempt.manual,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
    )


def delivery_view(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        subscription_id=delivery.subscription_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        state=delivery.state,
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
        attempt_log=[attempt_view(a) for a in attempts],
    )
