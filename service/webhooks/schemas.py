"""Webhook API input and output, and the payload of each event type (documented in OpenAPI's
``webhooks`` section)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.events.service import EVENT_TYPES, EventType


class SubscriptionIn(BaseModel):
    """A URL to deliver events to. ``issuer_id``: admins name the issuer; an issuer admin's is
    their own (naming another is refused)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2048, examples=["https://hooks.example.com/skillcred"])
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES))
    issuer_id: str | None = Field(default=None, max_length=36)


class SubscriptionOut(BaseModel):
    id: str
    issuer_id: str
    url: str
    events: list[str]
    state: Literal["active", "disabled"]
    disabled_at: datetime | None
    disabled_reason: str | None
    secret_rotated_until: datetime | None = Field(
        description="While set, deliveries are signed with the previous secret too, until this time"
    )
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The signing secret (`whsec_...`): shown once, never again")


class SecretRotated(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret: shown once, never again")
    previous_secret_valid_until: datetime = Field(
        description="Until then every delivery carries a signature with the previous secret as well"
    )


class AttemptOut(BaseModel):
    number: int
    at: datetime
    manual: bool
    status_code: int | None = Field(description="The receiver's HTTP status; null when it was not reached")
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptOut]


# --- the payloads, as receivers get them ---------------------------------------------------------


class CredentialIssuedData(BaseModel):
    credential_id: str
    achievement_id: str
    achievement_version: int | None = None
    issued_at: datetime
    valid_until: datetime | None = None
    replaces_id: str | None = None


class CredentialStatusData(BaseModel):
    credential_id: str
    state: Literal["active", "suspended", "revoked"]
    reason: str
    changed_at: datetime


class CredentialExpiringData(BaseModel):
    credential_id: str
    valid_until: datetime
    days_left: int


class EndorsementReceivedData(BaseModel):
    endorsement_id: str
    credential_id: str
    kind: str
    endorser_name: str | None = None


class OpenData(BaseModel):
    """Facts of the event (see docs/webhooks.md); receivers ignore fields they do not know."""

    model_config = ConfigDict(extra="allow")


class WebhookEvent(BaseModel):
    """The body of every delivery (Standard Webhooks): ``id`` is also the ``webhook-id`` header
    and stays the same across retries (receivers drop duplicates by it)."""

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]


class CredentialIssuedEvent(WebhookEvent):
    type: Literal["credential.issued"]
    data: CredentialIssuedData  # type: ignore[assignment]


class CredentialStatusEvent(WebhookEvent):
    type: Literal["credential.revoked", "credential.suspended", "credential.unsuspended"]
    data: CredentialStatusData  # type: ignore[assignment]


class CredentialExpiringEvent(WebhookEvent):
    type: Literal["credential.expiring"]
    data: CredentialExpiringData  # type: ignore[assignment]


class EndorsementReceivedEvent(WebhookEvent):
    type: Literal["endorsement.received"]
    data: EndorsementReceivedData  # type: ignore[assignment]


class AssessmentEvent(WebhookEvent):
    type: Literal["assessment.completed", "assessment.needs_review"]
    data: OpenData  # type: ignore[assignment]


class BulkCompletedEvent(WebhookEvent):
    type: Literal["bulk.completed"]
    data: OpenData  # type: ignore[assignment]
