"""assessments run as jobs (queued and running states)

The assessment row is now written when the earner submits (evidence digests and rubric, the
decision ``pending``) and its result columns are filled in once, by the job ``assessment:run``,
when the assessor has decided (or the automatic assessment failed). So the database lets exactly
that one UPDATE through: from ``decision = 'pending'`` to a decision, without touching who and
what the assessment is about. Every other UPDATE, and every DELETE, is still refused. The states
``queued`` and ``running`` are events (``assessmentevent.state``), which need no column.

Revision ID: a55e5a000004
Revises: b01c00000003
Create Date: 2026-12-07 09:00:00
"""

from alembic import op

revision = "a55e5a000004"
down_revision = "b01c00000003"
branch_labels = None
depends_on = None

MESSAGE = "assessment rows are append-only"
IDENTITY = ("id", "earner_id", "bundle_id", "achievement_id", "issuer_id", "rubric_hash")
"""Columns the one allowed UPDATE may not change."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in IDENTITY)
        op.execute(
            "CREATE OR REPLACE FUNCTION assessment_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP = 'UPDATE' AND OLD.decision = 'pending' AND NEW.decision <> 'pending' AND {same} "
            f"THEN RETURN NEW; END IF; RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
    else:
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in IDENTITY)
        op.execute("DROP TRIGGER assessment_no_update")
        op.execute(
            "CREATE TRIGGER assessment_no_update BEFORE UPDATE ON assessment "
            f"WHEN OLD.decision <> 'pending' OR NEW.decision = 'pending' OR {changed} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION assessment_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
    else:
        op.execute("DROP TRIGGER assessment_no_update")
        op.execute(
            "CREATE TRIGGER assessment_no_update BEFORE UPDATE ON assessment "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
