"""platforms: OAuth 2.0 clients, grants, refresh tokens and authorization codes; provisioned
earners; credentials stored through the OB 3.0 API; idempotency records; service accounts

Revision ID: c1a7f0000007
Revises: b0c5e9000006
Create Date: 2026-12-09 09:00:00
"""

import sqlalchemy as sa
import sqlmodel

from alembic import op
from service.core.models import UTCDateTime

revision = "c1a7f0000007"
down_revision = "b0c5e9000006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotencyrecord",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("owner", sqlmodel.AutoString(length=80), nullable=False),
        sa.Column("key", sqlmodel.AutoString(length=255), nullable=False),
        sa.Column("request_hash", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("method", sqlmodel.AutoString(length=10), nullable=False),
        sa.Column("path", sqlmodel.AutoString(length=2048), nullable=False),
        sa.Column("state", sqlmodel.AutoString(length=10), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotencyrecord")),
        sa.UniqueConstraint("owner", "key", name=op.f("uq_idempotencyrecord_owner")),
    )
    with op.batch_alter_table("idempotencyrecord", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotencyrecord_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "oauthclient",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("client_id", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("secret_hash", sqlmodel.AutoString(length=255), nullable=True),
        sa.Column("name", sqlmodel.AutoString(length=200), nullable=False),
        sa.Column("issuer_id", sqlmodel.AutoString(length=36), nullable=True),
        sa.Column("account_id", sqlmodel.AutoString(length=36), nullable=True),
        sa.Column("metadata_", sa.JSON(), nullable=False),
        sa.Column("registered_by", sqlmodel.AutoString(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_oauthclient_account_id_account")),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_oauthclient_issuer_id_issuer")),
        sa.ForeignKeyConstraint(["registered_by"], ["account.id"], name=op.f("fk_oauthclient_registered_by_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauthclient")),
    )
    with op.batch_alter_table("oauthclient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauthclient_client_id"), ["client_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_oauthclient_issuer_id"), ["issuer_id"], unique=False)

    op.create_table(
        "oauthauthorizationcode",
        sa.Column("code_hash", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("client_pk", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("account_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("redirect_uri", sqlmodel.AutoString(length=2048), nullable=False),
        sa.Column("scope", sqlmodel.AutoString(length=2000), nullable=False),
        sa.Column("code_challenge", sqlmodel.AutoString(length=128), nullable=False),
        sa.Column("code_challenge_method", sqlmodel.AutoString(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_oauthauthorizationcode_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauthclient.id"], name=op.f("fk_oauthauthorizationcode_client_pk_oauthclient")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oauthauthorizationcode")),
    )
    with op.batch_alter_table("oauthauthorizationcode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauthauthorizationcode_client_pk"), ["client_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauthauthorizationcode_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "oauthgrant",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("client_pk", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("account_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("scope", sqlmodel.AutoString(length=2000), nullable=False),
        sa.Column("grant_type", sqlmodel.AutoString(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sqlmodel.AutoString(length=40), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_oauthgrant_account_id_account")),
        sa.ForeignKeyConstraint(["client_pk"], ["oauthclient.id"], name=op.f("fk_oauthgrant_client_pk_oauthclient")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauthgrant")),
    )
    with op.batch_alter_table("oauthgrant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauthgrant_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauthgrant_client_pk"), ["client_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauthgrant_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "platformearner",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("issuer_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("account_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("external_id", sqlmodel.AutoString(length=255), nullable=False),
        sa.Column("client_pk", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_platformearner_account_id_account")),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauthclient.id"], name=op.f("fk_platformearner_client_pk_oauthclient")
        ),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_platformearner_issuer_id_issuer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platformearner")),
        sa.UniqueConstraint("issuer_id", "account_id", name="uq_platformearner_account_id"),
        sa.UniqueConstraint("issuer_id", "external_id", name="uq_platformearner_external_id"),
    )
    with op.batch_alter_table("platformearner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platformearner_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_platformearner_issuer_id"), ["issuer_id"], unique=False)

    op.create_table(
        "storedcredential",
        sa.Column("id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("account_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("credential_key", sqlmodel.AutoString(length=2048), nullable=False),
        sa.Column("format", sqlmodel.AutoString(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("client_pk", sqlmodel.AutoString(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_storedcredential_account_id_account")),
        sa.ForeignKeyConstraint(
            ["client_pk"], ["oauthclient.id"], name=op.f("fk_storedcredential_client_pk_oauthclient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storedcredential")),
        sa.UniqueConstraint("account_id", "credential_key", name=op.f("uq_storedcredential_account_id")),
    )
    with op.batch_alter_table("storedcredential", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storedcredential_account_id"), ["account_id"], unique=False)

    op.create_table(
        "oauthrefreshtoken",
        sa.Column("token_hash", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("grant_id", sqlmodel.AutoString(length=36), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["grant_id"], ["oauthgrant.id"], name=op.f("fk_oauthrefreshtoken_grant_id_oauthgrant")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oauthrefreshtoken")),
    )
    with op.batch_alter_table("oauthrefreshtoken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauthrefreshtoken_grant_id"), ["grant_id"], unique=False)

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_service", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("is_service")

    with op.batch_alter_table("oauthrefreshtoken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauthrefreshtoken_grant_id"))

    op.drop_table("oauthrefreshtoken")
    with op.batch_alter_table("storedcredential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storedcredential_account_id"))

    op.drop_table("storedcredential")
    with op.batch_alter_table("platformearner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platformearner_issuer_id"))
        batch_op.drop_index(batch_op.f("ix_platformearner_account_id"))

    op.drop_table("platformearner")
    with op.batch_alter_table("oauthgrant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauthgrant_expires_at"))
        batch_op.drop_index(batch_op.f("ix_oauthgrant_client_pk"))
        batch_op.drop_index(batch_op.f("ix_oauthgrant_account_id"))

    op.drop_table("oauthgrant")
    with op.batch_alter_table("oauthauthorizationcode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauthauthorizationcode_expires_at"))
        batch_op.drop_index(batch_op.f("ix_oauthauthorizationcode_client_pk"))

    op.drop_table("oauthauthorizationcode")
    with op.batch_alter_table("oauthclient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauthclient_issuer_id"))
        batch_op.drop_index(batch_op.f("ix_oauthclient_client_id"))

    op.drop_table("oauthclient")
    with op.batch_alter_table("idempotencyrecord", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotencyrecord_expires_at"))

    op.drop_table("idempotencyrecord")
