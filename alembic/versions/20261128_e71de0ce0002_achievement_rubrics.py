"""achievement rubrics and skill alignments: achievementversion.rubric (the rubric JSON, following
schemas/rubric.schema.json; NULL for achievements without one). ESCO skill alignments need no
column: they are stored as ordinary alignments.

Revision ID: e71de0ce0002
Revises: e71de0ce0001
Create Date: 2026-11-28 08:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = "e71de0ce0002"
down_revision = "e71de0ce0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("achievementversion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rubric", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("achievementversion", schema=None) as batch_op:
        batch_op.drop_column("rubric")
