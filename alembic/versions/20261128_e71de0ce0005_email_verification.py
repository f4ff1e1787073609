"""email verification: account.email_verified_at (existing accounts count as verified: they were
created by an admin, the bootstrap, or registered before verification existed), and the hash and
expiry of an outstanding verification token

Revision ID: e71de0ce0005
Revises: e71de0ce0004
Create Date: 2026-11-28 08:40:00
"""

import sqlalchemy as sa
import sqlmodel

import service.core.models
from alembic import op

revision = "e71de0ce0005"
down_revision = "e71de0ce0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_at", service.core.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("email_verification_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("email_verification_expires", service.core.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_account_email_verification_hash"), ["email_verification_hash"], unique=False
        )
    op.execute("UPDATE account SET email_verified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_email_verification_hash"))
        batch_op.drop_column("email_verification_expires")
        batch_op.drop_column("email_verification_hash")
        batch_op.drop_column("email_verified_at")
