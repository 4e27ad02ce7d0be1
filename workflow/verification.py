"""What the chat proves before it registers, logs in or recovers someone: that a mobile number is
the sender's own (their own shared contact, or an SMS code typed back) and that a password was
typed twice the same.

The SMS code itself leaves through the caller's provider (`bot/sms/`): this module only makes,
keeps and checks it. A code is kept as a keyed hash, the number encrypted, one per chat.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from storage.models import PhoneVerification, SmsSend
from workflow.accounts import check_password, hash_password, verify_password
from workflow.context import Ctx
from workflow.errors import DomainError
from workflow.identity import normalize_mobile
from workflow.text import digits

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)  # the web form's 重新发送(60) timer
MAX_ATTEMPTS = 5
# Codes asked for in any 24 hours, sent or not, per chat and per number (the providers' own
# default per-number limit is about the same).
DAILY_SENDS = 10
DAY = timedelta(days=1)


def own_contact(contact_user_id: int | None, sender_id: int, phone_number: str) -> str:
    """A contact shared in the chat proves the number only when it is the sender's own."""
    if contact_user_id is None or contact_user_id != sender_id:
        raise DomainError("reg.contact_not_own")
    text = digits(phone_number)
    # Telegram sends the number in international form, with or without the plus sign.
    return normalize_mobile(text if text.startswith("+") else f"+{text}")


def _code_hash(ctx: Ctx, tg_user_id: int, e164: str, code: str) -> str:
    return ctx.cipher.blind_index("sms_code", f"{tg_user_id}:{e164}:{code}")


async def _check_send_limits(
    ctx: Ctx, tg_user_id: int, e164: str, row: PhoneVerification | None
) -> None:
    """The resend interval and the daily caps, counted over every code asked for (also those a
    provider failed to send, and those of dialogs cancelled since); then this one is counted."""
    now = ctx.now()
    phone_index = ctx.cipher.blind_index("sms_send_phone", e164)
    await ctx.session.execute(delete(SmsSend).where(SmsSend.sent_at < now - DAY))
    last = await ctx.session.scalar(
        select(func.max(SmsSend.sent_at)).where(SmsSend.tg_user_id == tg_user_id)
    )
    if row is not None and row.sent_at is not None and (last is None or row.sent_at > last):
        last = row.sent_at
    if last is not None and now < last + RESEND_AFTER:
        wait = last + RESEND_AFTER - now
        raise DomainError("sms.resend_wait", seconds=max(1, int(wait.total_seconds())))
    recent = SmsSend.sent_at >= now - DAY
    by_chat = await ctx.session.scalar(
        select(func.count()).where(recent, SmsSend.tg_user_id == tg_user_id)
    )
    by_number = await ctx.session.scalar(
        select(func.count()).where(recent, SmsSend.phone_index == phone_index)
    )
    if (by_chat or 0) >= DAILY_SENDS or (by_number or 0) >= DAILY_SENDS:
        raise DomainError("sms.daily_limit", limit=DAILY_SENDS)
    ctx.session.add(SmsSend(tg_user_id=tg_user_id, phone_index=phone_index, sent_at=now))


async def issue_code(ctx: Ctx, tg_user_id: int, phone: str) -> tuple[str, str]:
    """A fresh code for a typed mobile number; returns (E.164 number, code) for the provider.

    One code per chat: a new one replaces the old, but not within a minute of the last send.
    """
    e164 = normalize_mobile(phone)
    now = ctx.now()
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    await _check_send_limits(ctx, tg_user_id, e164, row)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    if row is None:
        row = PhoneVerification(tg_user_id=tg_user_id, phone_enc=b"", code_hash="")
        ctx.session.add(row)
    row.phone_enc = ctx.cipher.encrypt("sms_phone", e164)
    row.code_hash = _code_hash(ctx, tg_user_id, e164, code)
    row.attempts = 0
    row.sent_at = now
    row.expires_at = now + CODE_TTL
    await ctx.session.flush()
    return e164, code


@dataclass(frozen=True)
class CodeState:
    """A chat's code as it stood before a new one was issued (to put back when the new one
    could not be sent)."""

    phone_enc: bytes
    code_hash: str
    attempts: int
    sent_at: datetime | None
    expires_at: datetime | None


async def code_state(ctx: Ctx, tg_user_id: int) -> CodeState | None:
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    if row is None:
        return None
    return CodeState(row.phone_enc, row.code_hash, row.attempts, row.sent_at, row.expires_at)


async def withdraw_code(
    ctx: Ctx, tg_user_id: int, e164: str, code: str, previous: CodeState | None
) -> None:
    """The provider did not take `code`: it can never be typed back, and the code sent before it
    (if any) stands again as it was, its wrong attempts included. The try still starts the
    resend interval: a send that timed out may yet reach the phone, and an immediate retry would
    slip past the interval (and past the provider's own limits)."""
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    if row is None or row.code_hash != _code_hash(ctx, tg_user_id, e164, code):
        return  # already replaced or used: nothing of this code is left
    if previous is not None and previous.code_hash:
        row.phone_enc = previous.phone_enc
        row.code_hash = previous.code_hash
        row.attempts = previous.attempts
        row.expires_at = previous.expires_at
    else:
        row.code_hash = ""  # matches no code: check_code says there is none
        row.attempts = 0
        row.expires_at = row.sent_at
    await ctx.session.flush()


async def pending_phone(ctx: Ctx, tg_user_id: int) -> str | None:
    """The number a code was last sent to from this chat (to say where it went)."""
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    return ctx.cipher.decrypt("sms_phone", row.phone_enc) if row is not None else None


async def check_code(ctx: Ctx, tg_user_id: int, code: str) -> str:
    """The code typed back: returns the verified number and forgets the code.

    A wrong code counts (the refusal persists the count); after MAX_ATTEMPTS a new code is needed.
    """
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    if row is None or not row.code_hash:
        raise DomainError("sms.no_code")
    if row.expires_at is None or ctx.now() > row.expires_at:
        raise DomainError("reg.code_expired")
    if row.attempts >= MAX_ATTEMPTS:
        raise DomainError("sms.too_many_attempts")
    e164 = ctx.cipher.decrypt("sms_phone", row.phone_enc)
    typed = "".join(digits(code).split())
    # Every key's hash: a code sent before a key rotation stays valid.
    hashes = ctx.cipher.blind_indexes("sms_code", f"{tg_user_id}:{e164}:{typed}")
    if not any(hmac.compare_digest(h, row.code_hash) for h in hashes):
        row.attempts += 1
        await ctx.session.flush()
        if row.attempts >= MAX_ATTEMPTS:
            raise DomainError("sms.too_many_attempts", persist=True)
        raise DomainError("reg.code_wrong", persist=True)
    await ctx.session.delete(row)
    await ctx.session.flush()
    return e164


async def forget_code(ctx: Ctx, tg_user_id: int) -> None:
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    if row is not None:
        await ctx.session.delete(row)


async def pending_password(password: str, login_name: str | None) -> str:
    """The first of the two password messages: checked against the rules and kept only as an
    Argon2id hash until the second one arrives."""
    check_password(password, login_name)
    return await hash_password(password)


async def confirm_password(pending_hash: str | None, password: str) -> None:
    """The second message must repeat the first."""
    if not pending_hash or not await verify_password(pending_hash, password):
        raise DomainError("reg.password_mismatch")
