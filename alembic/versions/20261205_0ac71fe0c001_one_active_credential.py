"""one active credential per recipient and achievement (issue 9): ``achievement.allow_multiple_active``
and ``credential.active_key`` with a unique index over unrevoked credentials

Existing credentials: of each recipient's unrevoked, not yet replaced credentials for an
achievement, the latest issued takes the key (earlier duplicates keep working, as they did, but
hold no slot).

Revision ID: 0ac71fe0c001
Revises: e71de0ce0006
Create Date: 2026-12-05 12:00:00
"""

import hashlib

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision = "0ac71fe0c001"
down_revision = "e71de0ce0006"
branch_labels = None
depends_on = None

NOT_REVOKED = sa.text("state != 'revoked'")


def _key(achievement_id: str, kind: str, email: str | None, did: str | None) -> str:
    """As ``service.credentials.entry_points.active_key`` computes it (frozen here)."""
    who = f"email:{email}" if kind == "email" else f"did:{did}"
    return hashlib.sha256(f"{achievement_id}\n{who}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("achievement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allow_multiple_active", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT c.id, c.achievement_id, r.kind, r.email, r.did FROM credential c "
            "JOIN recipientidentity r ON r.id = c.recipient_id "
            "WHERE c.state != 'revoked' "
            "AND NOT EXISTS (SELECT 1 FROM credential n WHERE n.replaces_id = c.id) "
            "ORDER BY c.issued_at DESC, c.id"
        )
    ).all()
    taken: set[str] = set()
    for credential_id, achievement_id, kind, email, did in rows:
        key = _key(achievement_id, kind, email, did)
        if key not in taken:
            taken.add(key)
            connection.execute(
                sa.text("UPDATE credential SET active_key = :key WHERE id = :id"), {"key": key, "id": credential_id}
            )

    op.create_index(
        "uq_credential_active_key",
        "credential",
        ["active_key"],
        unique=True,
        sqlite_where=NOT_REVOKED,
        postgresql_where=NOT_REVOKED,
    )


def downgrade() -> None:
    op.drop_index("uq_credential_active_key", table_name="credential")
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_column("active_key")
    with op.batch_alter_table("achievement", schema=None) as batch_op:
        batch_op.drop_column("allow_multiple_active")
