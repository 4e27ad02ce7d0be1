"""update log

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:02:12.294136
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "update_log",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replies_enc", sa.LargeBinary(), nullable=True),
        sa.Column("reply_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replies_sent", sa.Integer(), nullable=False),
        sa.Column("reply_attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_update_log")),
    )
    with op.batch_alter_table("update_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_update_log_handled_at"), ["handled_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_update_log_reply_after"), ["reply_after"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("update_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_update_log_reply_after"))
        batch_op.drop_index(batch_op.f("ix_update_log_handled_at"))

    op.drop_table("update_log")
