"""Accounts, the Telegram users bound to them, invitations and login throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._base import short, telegram_id, when
from workflow.enums import Program, Role


class Account(SQLModel, table=True):
    """Anyone who acts: a trainee (self-registered) or staff of a base or a commission (invited).

    Staff have no password: the invitation binds their Telegram account once.
    """

    id: int | None = Field(default=None, primary_key=True)
    role: Role = short(16, index=True)
    display_name: str = Field(max_length=64)
    login_name: str | None = Field(default=None, max_length=32)
    password_hash: str | None = Field(default=None, max_length=255)
    # The business line a trainee registered for (业务入口); staff see both.
    program: Program | None = short(16, default=None, nullable=True)
    base_id: int | None = Field(default=None, foreign_key="base.id", index=True)
    city_id: int | None = Field(default=None, foreign_key="city.id", index=True)
    is_active: bool = Field(default=True)
    created_at: datetime | None = when()

    __table_args__ = (UniqueConstraint("login_name"),)


class TelegramUser(SQLModel, table=True):
    """A Telegram user the bot has met, their language, and the account bound to their chat."""

    __tablename__ = "telegram_user"

    id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )  # Telegram user id
    chat_id: int | None = telegram_id()
    language_code: str | None = Field(default=None, max_length=16)
    locale: str | None = Field(default=None, max_length=8)  # chosen with /language
    account_id: int | None = Field(default=None, foreign_key="account.id")
    first_seen: datetime | None = when()
    last_seen: datetime | None = when()

    # One chat per account: binding a new chat unbinds the old one in the same transaction.
    __table_args__ = (UniqueConstraint("account_id"),)


class Invitation(SQLModel, table=True):
    """A one-time, expiring link that binds a chat to a staff or commission account."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_type=String(64))
    account_id: int = Field(foreign_key="account.id", index=True)
    created_by: str = Field(default="cli", max_length=64)
    created_at: datetime | None = when()
    expires_at: datetime | None = when(nullable=False)
    used_at: datetime | None = when()
    used_by_tg: int | None = telegram_id()
    # Set when a newer link replaced this one (`zhupei staff reinvite`): it no longer redeems.
    revoked_at: datetime | None = when()

    __table_args__ = (UniqueConstraint("token_hash"),)


class LoginThrottle(SQLModel, table=True):
    """Failed logins counted per account and per chat (`scope` is `account:ID` or `chat:ID`)."""

    __tablename__ = "login_throttle"

    scope: str = Field(sa_type=String(48), primary_key=True)
    failures: int = Field(default=0)
    window_start: datetime | None = when()
    blocked_until: datetime | None = when()


class PhoneVerification(SQLModel, table=True):
    """A code sent to a typed mobile number, waiting to be entered in the chat."""

    __tablename__ = "phone_verification"

    tg_user_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    phone_enc: bytes = Field(sa_type=LargeBinary)
    code_hash: str = Field(max_length=255)
    attempts: int = Field(default=0)
    sent_at: datetime | None = when()
    expires_at: datetime | None = when()

    __table_args__ = (Index(None, "expires_at"),)
