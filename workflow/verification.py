"""What the chat proves before it registers, logs in or recovers someone: that a mobile number is
the sender's own (their own shared contact, or an SMS code typed back) and that a password was
typed twice the same.

The SMS code itself leaves through the caller's provider (`bot/sms.py`): this module only makes,
keeps and checks it. A code is kept as a keyed hash, the number encrypted, one per chat.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from storage.models import PhoneVerification
from workflow.accounts import check_password, hash_password, verify_password
from workflow.context import Ctx
from workflow.errors import DomainError
from workflow.identity import normalize_mobile

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)  # the web form's 重新发送(60) timer
MAX_ATTEMPTS = 5


def own_contact(contact_user_id: int | None, sender_id: int, phone_number: str) -> str:
    """A contact shared in the chat proves the number only when it is the sender's own."""
    if contact_user_id is None or contact_user_id != sender_id:
        raise DomainError("reg.contact_not_own")
    text = phone_number.strip()
    # Telegram sends the number in international form, with or without the plus sign.
    return normalize_mobile(text if text.startswith("+") else f"+{text}")


def _code_hash(ctx: Ctx, tg_user_id: int, e164: str, code: str) -> str:
    return ctx.cipher.blind_index("sms_code", f"{tg_user_id}:{e164}:{code}")


async def issue_code(ctx: Ctx, tg_user_id: int, phone: str) -> tuple[str, str]:
    """A fresh code for a typed mobile number; returns (E.164 number, code) for the provider.

    One code per chat: a new one replaces the old, but not within a minute of the last send.
    """
    e164 = normalize_mobile(phone)
    now = ctx.now()
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    if row is not None and row.sent_at is not None and now < row.sent_at + RESEND_AFTER:
        wait = row.sent_at + RESEND_AFTER - now
        raise DomainError("sms.resend_wait", seconds=max(1, int(wait.total_seconds())))
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


async def pending_phone(ctx: Ctx, tg_user_id: int) -> str | None:
    """The number a code was last sent to from this chat (to say where it went)."""
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    return ctx.cipher.decrypt("sms_phone", row.phone_enc) if row is not None else None


async def check_code(ctx: Ctx, tg_user_id: int, code: str) -> str:
    """The code typed back: returns the verified number and forgets the code.

    A wrong code counts (the refusal persists the count); after MAX_ATTEMPTS a new code is needed.
    """
    row = await ctx.session.get(PhoneVerification, tg_user_id)
    if row is None:
        raise DomainError("sms.no_code")
    if row.expires_at is None or ctx.now() > row.expires_at:
        raise DomainError("reg.code_expired")
    if row.attempts >= MAX_ATTEMPTS:
        raise DomainError("sms.too_many_attempts")
    e164 = ctx.cipher.decrypt("sms_phone", row.phone_enc)
    typed = "".join(code.split())
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


def pending_password(password: str, login_name: str | None) -> str:
    """The first of the two password messages: checked against the rules and kept only as an
    Argon2id hash until the second one arrives."""
    check_password(password, login_name)
    return hash_password(password)


def confirm_password(pending_hash: str | None, password: str) -> None:
    """The second message must repeat the first."""
    if not pending_hash or not verify_password(pending_hash, password):
        raise DomainError("reg.password_mismatch")
