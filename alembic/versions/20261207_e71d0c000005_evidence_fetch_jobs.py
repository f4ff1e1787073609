"""evidence items fetched by a job: item state and error

A URL or repository item is recorded ``fetching`` by the request and filled in by the job
``evidence:fetch_item`` (``ready``), or marked ``failed`` with the reason. Existing items are
``ready``.

Revision ID: e71d0c000005
Revises: a55e5a000004
Create Date: 2026-12-07 12:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = "e71d0c000005"
down_revision = "a55e5a000004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidenceitem") as batch:
        batch.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default=sa.text("'ready'")))
        batch.add_column(sa.Column("error", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidenceitem") as batch:
        batch.drop_column("error")
        batch.drop_column("state")
