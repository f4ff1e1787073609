"""key compromise: ``signingkey.compromised_at`` and ``signingkey.compromise_reason``, set when an
issuer reports one of its keys compromised (nothing it signed verifies any more)

Revision ID: c0de5afe0001
Revises: 0ac71fe0c001
Create Date: 2026-12-06 12:00:00
"""

import sqlalchemy as sa
import sqlmodel

import service.core.models
from alembic import op

revision = "c0de5afe0001"
down_revision = "0ac71fe0c001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signingkey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("compromised_at", service.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("compromise_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signingkey", schema=None) as batch_op:
        batch_op.drop_column("compromise_reason")
        batch_op.drop_column("compromised_at")
