"""bulk rows: the (job, state) index also orders by seq; a partial index of undispatched events

A chunk reads its next pending rows with ``job_id = ? AND state = 'pending' AND seq`` in its range,
ordered by ``seq``. Right after a big file is accepted PostgreSQL's statistics still say the
table is tiny, and the planner took the (job_id, state) index: every batch read every pending row
of the job, so a 100,000-row file issued at half the rate of a 20,000-row one. With ``seq`` in
the index that plan is a range scan too, whatever the statistics say.

The webhooks fan-out reads an issuer's undispatched events oldest first; through the issuer index
it read every event the issuer ever had (100,000 after such a file). A partial index holds only
the undispatched ones.

Revision ID: b0c5e9000006
Revises: e71d0c000005
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = "b0c5e9000006"
down_revision = "e71d0c000005"
branch_labels = None
depends_on = None


UNDISPATCHED = sa.text("dispatched_at IS NULL")


def upgrade() -> None:
    op.drop_index("ix_bulkrow_job_state", table_name="bulkrow")
    op.create_index("ix_bulkrow_job_state", "bulkrow", ["job_id", "state", "seq"])
    op.create_index(
        "ix_event_undispatched",
        "event",
        ["issuer_id", "occurred_at", "id"],
        postgresql_where=UNDISPATCHED,
        sqlite_where=UNDISPATCHED,
    )


def downgrade() -> None:
    op.drop_index("ix_event_undispatched", table_name="event")
    op.drop_index("ix_bulkrow_job_state", table_name="bulkrow")
    op.create_index("ix_bulkrow_job_state", "bulkrow", ["job_id", "state"])
