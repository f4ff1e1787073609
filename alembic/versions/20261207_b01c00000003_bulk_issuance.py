"""bulk issuance (jobs and their rows)

Revision ID: b01c00000003
Revises: e7e47a000002
Create Date: 2026-12-07 09:00:00
"""

revision = "b01c00000003"
down_revision = "e7e47a000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
