"""issuer DID aliases: the did:web an issuer held before the public URL changed
(``skillcred issuers move-dids``), so credentials signed under it keep resolving

Revision ID: f3a1d0c0ffee
Revises: e71de0ce0005
Create Date: 2026-12-04 22:22:36
"""

import sqlalchemy as sa
import sqlmodel

import service.core.models
from alembic import op

revision = "f3a1d0c0ffee"
down_revision = "e71de0ce0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuerdidalias",
        sa.Column("did", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("issuer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("moved_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_issuerdidalias_issuer_id_issuer")),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_issuerdidalias")),
    )
    with op.batch_alter_table("issuerdidalias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issuerdidalias_issuer_id"), ["issuer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issuerdidalias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issuerdidalias_issuer_id"))
    op.drop_table("issuerdidalias")
