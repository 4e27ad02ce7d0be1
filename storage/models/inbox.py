"""Updates fetched from Telegram and not yet handled: polling confirms an update to Telegram
before its handler finishes, so the update is kept here until it is. An update can carry a
typed password, an ID or a phone number: it is stored encrypted, like all personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary
from sqlmodel import Field, SQLModel

from storage.models._base import when


class InboxUpdate(SQLModel, table=True):
    __tablename__ = "inbox_update"

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    payload_enc: bytes = Field(sa_type=LargeBinary)  # the Update as JSON, AES-GCM
    received_at: datetime | None = when()
    replays: int = Field(default=0)  # times it was picked up again after a restart


class UpdateLog(SQLModel, table=True):
    """Updates whose effect is committed: one row per update_id, written in the same transaction
    as the handler's changes. A redelivered update (polling after a crash, a webhook retry, a
    replay from the inbox) finds its row and does not run again. `replies_enc` holds the calls to
    Telegram the update still owes (sent right after the commit, cleared once they went out), so
    a crash between the commit and the reply loses no reply. Rows are purged after a few days:
    Telegram does not redeliver older updates."""

    __tablename__ = "update_log"

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    handled_at: datetime | None = when(index=True)
    replies_enc: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    # The replies are someone's to send until then (the instance that committed them); after
    # it, any instance sends them. Also the time of the next try after a failure.
    reply_after: datetime | None = when(index=True)
    replies_sent: int = Field(default=0)  # of the owed calls, how many went out already
    reply_attempts: int = Field(default=0)
