"""assessments, reviews and appeals (append-only): assessment (one assessor run over one evidence
bundle, with everything needed to know later how the judgement was made) and assessmentevent (each
review, override, appeal and decision as a new row, numbered per assessment; the latest is the
current state). The database refuses UPDATE and DELETE on both, like on auditevent.

Revision ID: e71de0ce0004
Revises: e71de0ce0003
Create Date: 2026-11-28 08:00:00
"""

import sqlalchemy as sa
import sqlmodel

import service.core.models
from alembic import op

revision = "e71de0ce0004"
down_revision = "e71de0ce0003"
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("assessment", "assessmentevent")


def _refuse_changes(table: str) -> None:
    """Triggers that make ``table`` append-only (the message names it, for the error a caller sees)."""
    message = f"{table} rows are append-only"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def _allow_changes(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION {table}_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{event}")


def upgrade() -> None:
    op.create_table(
        "assessment",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("earner_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("bundle_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("achievement_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("achievement_version", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("renews_credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("evidence_digests", sa.JSON(), nullable=False),
        sa.Column("rubric", sa.JSON(), nullable=False),
        sa.Column("rubric_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("rubric_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rubric_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("rubric_hash", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("assessor_kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("assessor_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("endpoint_host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("prompt_version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("assessor", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decision_reasons", sa.JSON(), nullable=False),
        sa.Column("sampled", sa.Boolean(), nullable=False),
        sa.Column("assessed_at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["achievement_id"], ["achievement.id"], name=op.f("fk_assessment_achievement_id_achievement")
        ),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["evidencebundle.id"], name=op.f("fk_assessment_bundle_id_evidencebundle")
        ),
        sa.ForeignKeyConstraint(["earner_id"], ["account.id"], name=op.f("fk_assessment_earner_id_account")),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuer.id"], name=op.f("fk_assessment_issuer_id_issuer")),
        sa.ForeignKeyConstraint(
            ["renews_credential_id"], ["credential.id"], name=op.f("fk_assessment_renews_credential_id_credential")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
        sa.UniqueConstraint("bundle_id", name=op.f("uq_assessment_bundle_id")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_achievement_id"), ["achievement_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessment_earner_id"), ["earner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessment_issuer_id"), ["issuer_id"], unique=False)

    op.create_table(
        "assessmentevent",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("assessment_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("at", service.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("credential_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"], name=op.f("fk_assessmentevent_actor_id_account")),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name=op.f("fk_assessmentevent_assessment_id_assessment")
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"], ["credential.id"], name=op.f("fk_assessmentevent_credential_id_credential")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessmentevent")),
        sa.UniqueConstraint("assessment_id", "seq", name=op.f("uq_assessmentevent_assessment_id")),
    )
    with op.batch_alter_table("assessmentevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessmentevent_assessment_id"), ["assessment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assessmentevent_state"), ["state"], unique=False)

    for table in APPEND_ONLY_TABLES:
        _refuse_changes(table)


def downgrade() -> None:
    for table in APPEND_ONLY_TABLES:
        _allow_changes(table)
    with op.batch_alter_table("assessmentevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessmentevent_state"))
        batch_op.drop_index(batch_op.f("ix_assessmentevent_assessment_id"))

    op.drop_table("assessmentevent")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_issuer_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_earner_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_achievement_id"))

    op.drop_table("assessment")
