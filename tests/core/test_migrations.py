"""One Alembic history for SQLite and PostgreSQL, with no drift from the models."""

import sqlalchemy as sa

from service.core.migrations import check


def test_models_and_migrations_agree(database_url):
    check(database_url)  # raises alembic.util.CommandError on drift


def test_audit_events_cannot_be_updated_or_deleted_in_the_database(database_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO auditevent (id, at, action, object_type, object_id, before, after) "
                "VALUES ('e1', CURRENT_TIMESTAMP, 'test', 'thing', 't1', '{}', '{}')"
            )
        )
    for statement in ("UPDATE auditevent SET action = 'forged'", "DELETE FROM auditevent"):
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(statement))
        except sa.exc.DBAPIError as err:
            assert "append-only" in str(err)
        else:
            raise AssertionError(f"{statement} was allowed")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT action FROM auditevent")).scalar_one() == "test"
    engine.dispose()
