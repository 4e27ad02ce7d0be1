"""outbox: partial indexes of the waiting rows for the sender's claim

Revision ID: 0006_outbox_waiting
Revises: 0005_miniapp
Create Date: 2026-12-08 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_outbox_waiting"
down_revision: str | Sequence[str] | None = "0005_miniapp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "status IN ('pending', 'sending')"


def upgrade() -> None:
    # Pending rows and claimed ones (whose lease may run out), nearest deadline first: a claim
    # reads them in this order and stops after a claim's worth, however many rows were sent.
    op.create_index(
        "ix_outbox_waiting",
        "outbox",
        ["deadline_at", "id"],
        unique=False,
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )
    # The claim's probes per row: the recipient's rows about the subject, older or later. It
    # serves what the index on account_id alone served.
    op.create_index(
        "ix_outbox_account_id_subject_id",
        "outbox",
        ["account_id", "subject", "id"],
        unique=False,
    )
    op.drop_index("ix_outbox_account_id", table_name="outbox")
    # Leases that ran out are found through the new index (or the status index's prefix).
    op.drop_index("ix_outbox_status_lease_until", table_name="outbox")


def downgrade() -> None:
    op.create_index(
        "ix_outbox_status_lease_until", "outbox", ["status", "lease_until"], unique=False
    )
    op.create_index("ix_outbox_account_id", "outbox", ["account_id"], unique=False)
    op.drop_index("ix_outbox_account_id_subject_id", table_name="outbox")
    op.drop_index(
        "ix_outbox_waiting",
        table_name="outbox",
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )
