"""assessments run as jobs (queued and running states)

Revision ID: a55e5a000004
Revises: b01c00000003
Create Date: 2026-12-07 09:00:00
"""

revision = "a55e5a000004"
down_revision = "b01c00000003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
