"""sms_send: every SMS code asked for, for the daily caps and the resend interval

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_send")),
    )
    with op.batch_alter_table("sms_send", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_send_tg_user_id"), ["tg_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_send_phone_index"), ["phone_index"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sms_send", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_send_phone_index"))
        batch_op.drop_index(batch_op.f("ix_sms_send_tg_user_id"))
    op.drop_table("sms_send")
