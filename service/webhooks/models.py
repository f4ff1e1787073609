"""Subscriptions, deliveries (one per event and subscription) and the log of their attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.core.models import created_field, id_field, json_field, timestamp_field


class SubscriptionState(StrEnum):
    active = "active"
    disabled = "disabled"


class DeliveryState(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookSubscription(SQLModel, table=True):
    """A URL that receives an issuer's events of the listed types. The signing secret is sealed
    (AES-GCM under a key derived from the KEK); after a rotation the previous one keeps signing
    until ``previous_secret_until``. ``busy_until`` is a lease: while it lies in the future one
    delivery to this URL is in flight and the others wait their turn."""

    __tablename__ = "webhook_subscription"

    id: str = id_field()
    issuer_id: str = Field(foreign_key="issuer.id", index=True, max_length=36)
    url: str = Field(max_length=2048)
    events: list[str] = json_field(list)
    secret_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    previous_secret_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    previous_secret_until: datetime | None = timestamp_field()
    state: str = Field(default=SubscriptionState.active, max_length=16)
    disabled_at: datetime | None = timestamp_field()
    disabled_reason: str | None = Field(default=None, max_length=500)
    busy_until: datetime | None = timestamp_field()
    created_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = created_field()


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription: its state, attempts so far and when the next is due."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("event_id", "subscription_id"),)

    id: str = id_field()
    subscription_id: str = Field(foreign_key="webhook_subscription.id", index=True, max_length=36)
    event_id: str = Field(foreign_key="event.id", index=True, max_length=36)
    event_type: str = Field(max_length=64)
    state: str = Field(default=DeliveryState.pending, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = timestamp_field()
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = timestamp_field()
    created_at: datetime = created_field()


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery: its answer's status code or the transport error, and how long."""

    __tablename__ = "webhook_attempt"

    id: str = id_field()
    delivery_id: str = Field(foreign_key="webhook_delivery.id", index=True, max_length=36)
    number: int
    manual: bool = False
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0
    at: datetime = created_field()
