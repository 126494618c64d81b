"""event ordering: the writing transaction's id on every event

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

PostgreSQL: ``txid`` defaults to ``pg_current_xact_id()`` (as a BIGINT), so every event carries
the id of the transaction that wrote it; readers order by ``(txid, id)`` and read only below the
oldest transaction still running (docs/live.md). Events written before this migration get 0 and
keep their id order, ahead of every later event. SQLite: ``txid`` is always 0; writers are
serialised there, so id order is commit order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRES_DEFAULT = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        # A constant default first: existing rows get 0 without rewriting the table.
        batch_op.add_column(
            sa.Column("txid", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_index("ix_events_txid_id", ["txid", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("events", "txid", server_default=sa.text(POSTGRES_DEFAULT))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_txid_id")
        batch_op.drop_column("txid")
