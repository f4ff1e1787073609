"""job queue: procrastinate's tables, types and functions (PostgreSQL only; on SQLite the queue
lives in the serving process)

The SQL is procrastinate's own ``schema.sql`` of the pinned release (pyproject allows 3.10.x).
Allowing a newer procrastinate release means adding a migration that runs its
``sql/migrations/*.sql`` deltas since 3.10.0, as its upgrade notes say.

Revision ID: 10b5a0000001
Revises: c0de5afe0001
Create Date: 2026-12-07 09:00:00
"""

from typing import Any

from procrastinate.schema import SchemaManager

from alembic import op

revision = "10b5a0000001"
down_revision = "c0de5afe0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _run_script(bind, SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _run_script(
        bind,
        """
        DO $$
        DECLARE item record;
        BEGIN
          FOR item IN SELECT tablename FROM pg_tables
                      WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate%' LOOP
            EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename);
          END LOOP;
          FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                      JOIN pg_namespace n ON n.oid = p.pronamespace
                      WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%' LOOP
            EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', item.signature);
          END LOOP;
          FOR item IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                      WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%'
                        AND t.typtype IN ('e', 'c') LOOP
            EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname);
          END LOOP;
        END $$;
        """,
    )


def _run_script(bind: Any, script: str) -> None:
    # psycopg's own connection, in the migration's transaction, with no parameters: the script
    # holds PL/pgSQL bodies whose colons and percent signs no placeholder parser may touch
    bind.connection.driver_connection.execute(script)
