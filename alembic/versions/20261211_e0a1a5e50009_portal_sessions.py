"""portal: browser sessions (only the hash of the cookie's token is stored)

Revision ID: e0a1a5e50009
Revises: d15b1a000008
Create Date: 2026-12-11 09:00:00
"""

import sqlalchemy as sa
import sqlmodel

from alembic import op
from service.core.models import UTCDateTime

revision = "e0a1a5e50009"
down_revision = "d15b1a000008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portalsession",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("token_hash", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("account_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("password_stamp", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_portalsession_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portalsession")),
    )
    with op.batch_alter_table("portalsession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portalsession_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_portalsession_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_portalsession_token_hash"), ["token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("portalsession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portalsession_token_hash"))
        batch_op.drop_index(batch_op.f("ix_portalsession_expires_at"))
        batch_op.drop_index(batch_op.f("ix_portalsession_account_id"))
    op.drop_table("portalsession")
