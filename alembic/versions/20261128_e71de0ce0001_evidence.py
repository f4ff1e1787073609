"""evidence bundles and items (content-addressed): evidencebundle (an earner's evidence for one
achievement, open or locked, and the credential that cites it) and evidenceitem (one item: its
kind, the SHA-256, size and sniffed media type of its stored bytes, and kind-specific columns)

Revision ID: e71de0ce0001
Revises: 1dd0721db136
Create Date: 2026-11-28 08:00:00
"""

import sqlalchemy as sa
import sqlmodel

import service.core.models
from alembic import op

revision = "e71de0ce0001"
down_revision = "1dd0721db136"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidencebundle",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("achievement_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("issuer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("issued_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["achievement_id"], ["achievement.id"], name=op.f("fk_evidencebundle_achievement_id_achievement")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credential.id"], name=op.f("fk_evidencebundle_credential_id_credential")
        ),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_evidencebundle_issuer_id_issuer")),
        sa.ForeignKeyConstraint(["owner_id"], ["account.id"], name=op.f("fk_evidencebundle_owner_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidencebundle")),
    )
    with op.batch_alter_table("evidencebundle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidencebundle_achievement_id"), ["achievement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidencebundle_credential_id"), ["credential_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidencebundle_issuer_id"), ["issuer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidencebundle_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "evidenceitem",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("bundle_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=127), nullable=False),
        sa.Column("declared_media_type", sqlmodel.sql.sqltypes.AutoString(length=127), nullable=True),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("final_url", sqlmodel.sql.sqltypes.AutoString(length=4096), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("fetched_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("commit", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("author_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("created_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["evidencebundle.id"], name=op.f("fk_evidenceitem_bundle_id_evidencebundle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidenceitem")),
        sa.UniqueConstraint("bundle_id", "position", name=op.f("uq_evidenceitem_bundle_id")),
    )
    with op.batch_alter_table("evidenceitem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidenceitem_bundle_id"), ["bundle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidenceitem_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidenceitem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidenceitem_sha256"))
        batch_op.drop_index(batch_op.f("ix_evidenceitem_bundle_id"))
    op.drop_table("evidenceitem")

    with op.batch_alter_table("evidencebundle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidencebundle_owner_id"))
        batch_op.drop_index(batch_op.f("ix_evidencebundle_issuer_id"))
        batch_op.drop_index(batch_op.f("ix_evidencebundle_credential_id"))
        batch_op.drop_index(batch_op.f("ix_evidencebundle_achievement_id"))
    op.drop_table("evidencebundle")
