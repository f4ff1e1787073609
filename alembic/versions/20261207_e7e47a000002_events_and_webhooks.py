"""events (the outbox written with each change) and webhooks (subscriptions, secrets, deliveries)

Revision ID: e7e47a000002
Revises: 10b5a0000001
Create Date: 2026-12-07 09:00:00
"""

import sqlalchemy as sa
import sqlmodel

from alembic import op
from service.core.models import UTCDateTime

revision = "e7e47a000002"
down_revision = "10b5a0000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("issuer_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("type", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("dispatched_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    op.create_index(op.f("ix_event_issuer_id"), "event", ["issuer_id"])
    op.create_index(op.f("ix_event_occurred_at"), "event", ["occurred_at"])
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("issuer_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("url", sqlmodel.AutoString(length=2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_until", UTCDateTime(), nullable=True),
        sa.Column("state", sqlmodel.AutoString(length=16), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.Column("disabled_reason", sqlmodel.AutoString(length=500), nullable=True),
        sa.Column("busy_until", UTCDateTime(), nullable=True),
        sa.Column("created_by", sqlmodel.AutoString(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_webhook_subscription_issuer_id_issuer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.create_index(op.f("ix_webhook_subscription_issuer_id"), "webhook_subscription", ["issuer_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("subscription_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("event_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("event_type", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("state", sqlmodel.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.AutoString(length=500), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], name=op.f("fk_webhook_delivery_event_id_event")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint("event_id", "subscription_id", name=op.f("uq_webhook_delivery_event_id")),
    )
    op.create_index(op.f("ix_webhook_delivery_event_id"), "webhook_delivery", ["event_id"])
    op.create_index(op.f("ix_webhook_delivery_subscription_id"), "webhook_delivery", ["subscription_id"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("delivery_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.AutoString(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["webhook_delivery.id"], name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(op.f("ix_webhook_attempt_delivery_id"), "webhook_attempt", ["delivery_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_attempt_delivery_id"), table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.drop_index(op.f("ix_webhook_delivery_subscription_id"), table_name="webhook_delivery")
    op.drop_index(op.f("ix_webhook_delivery_event_id"), table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index(op.f("ix_webhook_subscription_issuer_id"), table_name="webhook_subscription")
    op.drop_table("webhook_subscription")
    op.drop_index(op.f("ix_event_occurred_at"), table_name="event")
    op.drop_index(op.f("ix_event_issuer_id"), table_name="event")
    op.drop_table("event")
