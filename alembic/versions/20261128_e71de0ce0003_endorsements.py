"""endorsements, refresh and unique expiry reminders

Revision ID: e71de0ce0003
Revises: e71de0ce0002
Create Date: 2026-11-28 08:00:00
"""
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

from alembic import op  # noqa: F401

revision = 'e71de0ce0003'
down_revision = 'e71de0ce0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
