"""pages: an account's display name; an earner's choice of whether a credential is public and
whether its page shows their name

Revision ID: d15b1a000008
Revises: c1a7f0000007
Create Date: 2026-12-10 09:00:00
"""

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = "d15b1a000008"
down_revision = "c1a7f0000007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sqlmodel.AutoString(length=100), nullable=True))
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public", sa.Boolean(), server_default=sa.text("true"), nullable=False))
        batch_op.add_column(sa.Column("show_name", sa.Boolean(), server_default=sa.text("true"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_column("show_name")
        batch_op.drop_column("public")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("display_name")
