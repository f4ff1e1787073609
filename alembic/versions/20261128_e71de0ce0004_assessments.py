"""assessments, reviews and appeals (append-only)

Revision ID: e71de0ce0004
Revises: e71de0ce0003
Create Date: 2026-11-28 08:00:00
"""
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

from alembic import op  # noqa: F401

revision = 'e71de0ce0004'
down_revision = 'e71de0ce0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
