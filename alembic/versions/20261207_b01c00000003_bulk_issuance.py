"""bulk issuance (jobs and their rows)

Revision ID: b01c00000003
Revises: e7e47a000002
Create Date: 2026-12-07 09:00:00
"""

import sqlalchemy as sa
import sqlmodel

import service.core.models
from alembic import op

revision = "b01c00000003"
down_revision = "e7e47a000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulkjob",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("issuer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("created_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["account.id"]),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_bulkjob_issuer_id"), "bulkjob", ["issuer_id"], unique=False)
    op.create_index(op.f("ix_bulkjob_state"), "bulkjob", ["state"], unique=False)
    op.create_table(
        "bulkrow",
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("achievement_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("recipient_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("recipient_did", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("valid_until", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["bulkjob.id"]),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )
    op.create_index("ix_bulkrow_job_state", "bulkrow", ["job_id", "state"], unique=False)
    op.create_table(
        "bulkexternalid",
        sa.Column("issuer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("created_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["credential_id"], ["credential.id"]),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"]),
        sa.PrimaryKeyConstraint("issuer_id", "external_id"),
    )


def downgrade() -> None:
    op.drop_table("bulkexternalid")
    op.drop_index("ix_bulkrow_job_state", table_name="bulkrow")
    op.drop_table("bulkrow")
    op.drop_index(op.f("ix_bulkjob_state"), table_name="bulkjob")
    op.drop_index(op.f("ix_bulkjob_issuer_id"), table_name="bulkjob")
    op.drop_table("bulkjob")
