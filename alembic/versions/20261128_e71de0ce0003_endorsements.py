"""endorsements, refresh and unique expiry reminders: endorsement (signed EndorsementCredentials
about issued credentials, one per endorsement id per credential), endorsementrequest (email
confirmations; open_key unique: one pending request per address per credential),
endorsementchallenge (single-use nonces for clients who sign with their own DID), and
expiryreminder (primary key credential + kind: two `skillcred reminders` runs cannot both record a
reminder). Reminders recorded before this revision (audit events) are copied into the ledger.

Revision ID: e71de0ce0003
Revises: e71de0ce0002
Create Date: 2026-11-28 08:00:00
"""

import sqlalchemy as sa
import sqlmodel

import service.core.models
from alembic import op

revision = "e71de0ce0003"
down_revision = "e71de0ce0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endorsementchallenge",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("did", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credential.id"], name=op.f("fk_endorsementchallenge_credential_id_credential")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsementchallenge")),
        sa.UniqueConstraint("nonce", name=op.f("uq_endorsementchallenge_nonce")),
    )
    with op.batch_alter_table("endorsementchallenge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endorsementchallenge_credential_id"), ["credential_id"], unique=False)

    op.create_table(
        "endorsementrequest",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("open_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("endorser_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("engagement", sa.JSON(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credential.id"], name=op.f("fk_endorsementrequest_credential_id_credential")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsementrequest")),
        sa.UniqueConstraint("open_key", name=op.f("uq_endorsementrequest_open_key")),
    )
    with op.batch_alter_table("endorsementrequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endorsementrequest_credential_id"), ["credential_id"], unique=False)

    op.create_table(
        "endorsement",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("issuer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("endorsement_uri", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("endorser_id", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("endorser_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("jsonld", sa.Text(), nullable=False),
        sa.Column("issued_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state_changed_at", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credential.id"], name=op.f("fk_endorsement_credential_id_credential")
        ),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_endorsement_issuer_id_issuer")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["endorsementrequest.id"], name=op.f("fk_endorsement_request_id_endorsementrequest")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsement")),
        sa.UniqueConstraint("credential_id", "endorsement_uri", name=op.f("uq_endorsement_credential_id")),
    )
    with op.batch_alter_table("endorsement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endorsement_issuer_id"), ["issuer_id"], unique=False)

    op.create_table(
        "expiryreminder",
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("valid_until", service.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("days_before", sa.Integer(), nullable=True),
        sa.Column("recorded_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credential.id"], name=op.f("fk_expiryreminder_credential_id_credential")
        ),
        sa.PrimaryKeyConstraint("credential_id", "kind", name=op.f("pk_expiryreminder")),
    )
    # reminders recorded before the ledger existed: one row per credential reminded about
    op.execute(
        "INSERT INTO expiryreminder (credential_id, kind, valid_until, days_before, recorded_at) "
        "SELECT c.id, 'expiry', c.valid_until, NULL, MIN(a.at) FROM auditevent a "
        "JOIN credential c ON c.id = a.object_id "
        "WHERE a.action = 'credential.expiry_reminder' GROUP BY c.id, c.valid_until"
    )


def downgrade() -> None:
    op.drop_table("expiryreminder")
    with op.batch_alter_table("endorsement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endorsement_issuer_id"))

    op.drop_table("endorsement")
    with op.batch_alter_table("endorsementrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endorsementrequest_credential_id"))

    op.drop_table("endorsementrequest")
    with op.batch_alter_table("endorsementchallenge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_endorsementchallenge_credential_id"))

    op.drop_table("endorsementchallenge")
