"""miniapp_draft: unsaved Mini App forms, kept on the server (encrypted)

Revision ID: 0005_miniapp
Revises: 0004
Create Date: 2026-12-08 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_miniapp"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "miniapp_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_miniapp_draft_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_miniapp_draft")),
        sa.UniqueConstraint("account_id", "form", name=op.f("uq_miniapp_draft_account_id_form")),
    )
    with op.batch_alter_table("miniapp_draft", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_miniapp_draft_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("miniapp_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_miniapp_draft_account_id"))
    op.drop_table("miniapp_draft")
