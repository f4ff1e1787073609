"""endorsement status entries: an issuer-signed endorsement gets an index in its issuer's
revocation list, so it can be revoked (issue 9, item 4); ``statusentry.endorsement_id`` marks
such an entry (its ``credential_id`` is then the endorsed credential's)

Revision ID: e71de0ce0006
Revises: f3a1d0c0ffee
Create Date: 2026-12-05 00:00:00
"""

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = "e71de0ce0006"
down_revision = "f3a1d0c0ffee"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("statusentry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("endorsement_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.create_index(batch_op.f("ix_statusentry_endorsement_id"), ["endorsement_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("statusentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statusentry_endorsement_id"))
        batch_op.drop_column("endorsement_id")
