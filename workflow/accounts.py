"""Registration, login, recovery, chat binding and staff invitations."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.models import Account, Invitation, LoginThrottle, TelegramUser, TraineeProfile
from workflow.actor import Actor
from workflow.audit import audit
from workflow.context import Ctx
from workflow.enums import IdType, Program, Role
from workflow.errors import DomainError, NotFound
from workflow.identity import birth_date_of, gender_of, normalize_mobile, validate_id
from workflow.text import clean, nfkc

LOGIN_NAME = re.compile(r"[a-z][a-z0-9_]{3,19}")
PASSWORD_MIN, PASSWORD_MAX = 8, 64
NAME_MAX = 30

_hasher = PasswordHasher()  # Argon2id with the library's recommended parameters


# Argon2id takes tens of milliseconds of CPU by design: in a worker thread, so that the other
# users' updates go on meanwhile.


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def id_index(ctx: Ctx, id_type: IdType | str, number: str) -> str:
    return ctx.cipher.blind_index("id_number", id_index_input(id_type, number))


def id_index_input(id_type: IdType | str, number: str) -> str:
    return f"{IdType(id_type).value}:{number}"


def id_indexes(ctx: Ctx, id_type: IdType | str, number: str) -> list[str]:
    """Every index the number may be stored under (several while keys are being rotated)."""
    return ctx.cipher.blind_indexes("id_number", id_index_input(id_type, number))


def phone_index(ctx: Ctx, e164: str) -> str:
    return ctx.cipher.blind_index("phone", e164)


def phone_indexes(ctx: Ctx, e164: str) -> list[str]:
    return ctx.cipher.blind_indexes("phone", e164)


def check_name(name: str) -> str:
    name = clean(name, limit=NAME_MAX, field="name", required=False) or ""
    if not name or len(name) > NAME_MAX or any(ch.isdigit() for ch in name):
        raise DomainError("reg.name_invalid", max=NAME_MAX)
    return name


def check_login_name(login_name: str) -> str:
    login_name = nfkc(login_name).strip().lower()
    if not LOGIN_NAME.fullmatch(login_name):
        raise DomainError("reg.login_name_rules")
    return login_name


def check_password(password: str, login_name: str | None = None) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise DomainError("reg.password_rules", min=PASSWORD_MIN, max=PASSWORD_MAX)
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise DomainError("reg.password_rules", min=PASSWORD_MIN, max=PASSWORD_MAX)
    if login_name and login_name.lower() in password.lower():
        raise DomainError("reg.password_has_login")


async def check_identity(ctx: Ctx, id_type: IdType | str, id_number: str) -> str:
    """Step 1 of registration: a valid number that nobody registered yet."""
    number = validate_id(id_type, id_number, ctx.now().date())
    taken = await ctx.session.scalar(
        select(TraineeProfile.account_id).where(
            col(TraineeProfile.id_number_index).in_(id_indexes(ctx, id_type, number))
        )
    )
    if taken is not None:
        raise DomainError("reg.id_registered")
    return number


async def login_name_free(ctx: Ctx, login_name: str) -> str:
    login_name = check_login_name(login_name)
    taken = await ctx.session.scalar(select(Account.id).where(Account.login_name == login_name))
    if taken is not None:
        raise DomainError("reg.login_name_taken")
    return login_name


async def phone_free(ctx: Ctx, e164: str) -> str:
    e164 = normalize_mobile(e164)
    taken = await ctx.session.scalar(
        select(TraineeProfile.account_id).where(
            col(TraineeProfile.phone_index).in_(phone_indexes(ctx, e164))
        )
    )
    if taken is not None:
        raise DomainError("reg.phone_registered")
    return e164


@dataclass(frozen=True)
class Registration:
    program: Program
    name: str
    id_type: IdType
    id_number: str
    login_name: str
    password: str
    phone: str  # verified by the caller: an own shared contact or an SMS code


async def register_trainee(ctx: Ctx, reg: Registration, tg_user_id: int) -> Account:
    """Create the trainee account and bind it to the chat. Every field is checked again here."""
    name = check_name(reg.name)
    number = await check_identity(ctx, reg.id_type, reg.id_number)
    login_name = await login_name_free(ctx, reg.login_name)
    check_password(reg.password, login_name)
    phone = await phone_free(ctx, reg.phone)
    now = ctx.now()
    account = Account(
        role=Role.TRAINEE,
        display_name=name,
        login_name=login_name,
        password_hash=await hash_password(reg.password),
        program=Program(reg.program),
        created_at=now,
    )
    ctx.session.add(account)
    try:
        await ctx.session.flush()
    except IntegrityError as exc:  # a concurrent registration took the login name
        raise DomainError("reg.login_name_taken") from exc
    assert account.id is not None
    ctx.session.add(
        TraineeProfile(
            account_id=account.id,
            name=name,
            id_type=IdType(reg.id_type),
            id_number_enc=ctx.cipher.encrypt("id_number", number),
            id_number_index=id_index(ctx, reg.id_type, number),
            id_tail=number[-4:],
            birth_date=birth_date_of(reg.id_type, number),
            gender=gender_of(reg.id_type, number),
            phone_enc=ctx.cipher.encrypt("phone", phone),
            phone_index=phone_index(ctx, phone),
            phone_verified_at=now,
            updated_at=now,
        )
    )
    try:
        await ctx.session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        taken = "reg.phone_registered" if "phone_index" in str(exc.orig) else "reg.id_registered"
        raise DomainError(taken) from exc
    await bind_chat(ctx, account.id, tg_user_id)
    audit(ctx, Actor.of(account), "account", account.id, "register", to_state="active")
    return account


async def bind_chat(ctx: Ctx, account_id: int, tg_user_id: int) -> None:
    """Bind a Telegram user to an account; any chat bound before is unbound first."""
    await ctx.session.execute(
        update(TelegramUser)
        .where(TelegramUser.account_id == account_id, TelegramUser.id != tg_user_id)
        .values(account_id=None)
    )
    tg = await ctx.session.get(TelegramUser, tg_user_id)
    if tg is None:
        tg = TelegramUser(id=tg_user_id, chat_id=tg_user_id, first_seen=ctx.now())
        ctx.session.add(tg)
    tg.account_id = account_id
    tg.last_seen = ctx.now()
    await ctx.session.flush()


async def account_of_tg(ctx: Ctx, tg_user_id: int) -> Account | None:
    return await ctx.session.scalar(
        select(Account)
        .join(TelegramUser, TelegramUser.account_id == Account.id)
        .where(TelegramUser.id == tg_user_id, Account.is_active)
    )


async def chat_locale(ctx: Ctx, tg_user_id: int) -> str | None:
    """The language the Telegram user chose with /language, if any."""
    return await ctx.session.scalar(
        select(TelegramUser.locale).where(TelegramUser.id == tg_user_id)
    )


# --- login and throttling -------------------------------------------------------------------


async def _throttle_row(ctx: Ctx, scope: str) -> LoginThrottle:
    row = await ctx.session.get(LoginThrottle, scope)
    if row is None:
        row = LoginThrottle(scope=scope, failures=0, window_start=ctx.now())
        ctx.session.add(row)
    return row


async def _blocked_until(ctx: Ctx, scopes: list[str]) -> datetime | None:
    now = ctx.now()
    until = await ctx.session.scalar(
        select(func.max(LoginThrottle.blocked_until)).where(
            LoginThrottle.scope.in_(scopes), LoginThrottle.blocked_until > now
        )
    )
    return until


async def _record_failure(
    ctx: Ctx, scopes: list[str], max_failures: int, window: timedelta
) -> None:
    now = ctx.now()
    for scope in scopes:
        row = await _throttle_row(ctx, scope)
        if row.window_start is None or now - row.window_start > window:
            row.window_start, row.failures = now, 0
        row.failures += 1
        if row.failures >= max_failures:
            row.blocked_until = now + window
    await ctx.session.flush()


async def authenticate(
    ctx: Ctx,
    login_name: str,
    password: str,
    tg_user_id: int,
    *,
    max_failures: int = 5,
    window: timedelta = timedelta(minutes=15),
) -> Account:
    """Check login name and password; failures are counted per account and per chat."""
    login_name = nfkc(login_name).strip().lower()
    account = await ctx.session.scalar(
        select(Account).where(Account.login_name == login_name, Account.is_active)
    )
    scopes = [f"chat:{tg_user_id}"] + ([f"account:{account.id}"] if account else [])
    until = await _blocked_until(ctx, scopes)
    if until is not None:
        raise DomainError("login.throttled", until=until)
    if account is None or not await verify_password(account.password_hash, password):
        await _record_failure(ctx, scopes, max_failures, window)
        until = await _blocked_until(ctx, scopes)
        if until is not None:
            raise DomainError("login.throttled", persist=True, until=until)
        raise DomainError("login.wrong", persist=True)
    await ctx.session.execute(
        update(LoginThrottle).where(LoginThrottle.scope.in_(scopes)).values(failures=0)
    )
    return account


async def complete_login(ctx: Ctx, account_id: int, phone: str, tg_user_id: int) -> Account:
    """The second factor of /login: the phone shared must be the account's verified phone."""
    account = await ctx.get(Account, account_id)
    profile = await ctx.session.get(TraineeProfile, account_id)
    e164 = normalize_mobile(phone)
    if profile is None or profile.phone_index not in phone_indexes(ctx, e164):
        raise DomainError("login.phone_mismatch")
    await bind_chat(ctx, account_id, tg_user_id)
    audit(ctx, Actor.of(account), "account", account_id, "login")
    return account


async def recover_by_phone(
    ctx: Ctx, id_type: IdType | str, id_number: str, phone: str, tg_user_id: int
) -> Account:
    """忘记密码: the owner of a registered ID number proves it with the verified phone."""
    number = validate_id(id_type, id_number, ctx.now().date())
    profile = await ctx.session.scalar(
        select(TraineeProfile).where(
            col(TraineeProfile.id_number_index).in_(id_indexes(ctx, id_type, number))
        )
    )
    e164 = normalize_mobile(phone)
    if profile is None or profile.phone_index not in phone_indexes(ctx, e164):
        raise DomainError("recover.mismatch")
    account = await ctx.get(Account, profile.account_id)
    await bind_chat(ctx, profile.account_id, tg_user_id)
    audit(ctx, Actor.of(account), "account", profile.account_id, "recover")
    return account


async def change_password(ctx: Ctx, actor: Actor, new_password: str) -> None:
    account = await ctx.get(Account, actor.account_id)
    check_password(new_password, account.login_name)
    account.password_hash = await hash_password(new_password)
    audit(ctx, actor, "account", actor.account_id, "password_changed")


# --- staff invitations ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def invite_staff(
    ctx: Ctx,
    role: Role | str,
    display_name: str,
    *,
    base_id: int | None = None,
    city_id: int | None = None,
    ttl: timedelta = timedelta(hours=72),
    created_by: str = "cli",
) -> tuple[Account, str]:
    """Create a staff or commission account and a one-time token for its invitation link."""
    role = Role(role)
    if role is Role.TRAINEE:
        raise DomainError("invite.trainee")
    if role is Role.BASE and base_id is None:
        raise DomainError("invite.base_required")
    if role is Role.CITY and city_id is None:
        raise DomainError("invite.city_required")
    account = Account(
        role=role,
        display_name=display_name.strip()[:64] or role.value,
        base_id=base_id if role is Role.BASE else None,
        city_id=city_id if role is Role.CITY else None,
        created_at=ctx.now(),
    )
    ctx.session.add(account)
    await ctx.session.flush()
    assert account.id is not None
    token = await reinvite(ctx, account, ttl=ttl, created_by=created_by)
    return account, token


async def reinvite(
    ctx: Ctx, account: Account, *, ttl: timedelta = timedelta(hours=72), created_by: str = "cli"
) -> str:
    """A fresh one-time invitation token for a staff account (a lost or expired link)."""
    if Role(account.role) is Role.TRAINEE:
        raise DomainError("invite.trainee")
    token = secrets.token_urlsafe(24)
    ctx.session.add(
        Invitation(
            token_hash=_token_hash(token),
            account_id=account.id,  # type: ignore[arg-type]
            created_by=created_by,
            created_at=ctx.now(),
            expires_at=ctx.now() + ttl,
        )
    )
    audit(ctx, None, "account", account.id or 0, "invited", to_state=str(account.role))
    return token


async def redeem_invitation(ctx: Ctx, token: str, tg_user_id: int) -> Account:
    invitation = await ctx.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token)).with_for_update()
    )
    if invitation is None:
        raise DomainError("invite.invalid")
    if invitation.used_at is not None:
        raise DomainError("invite.used")
    if invitation.revoked_at is not None:
        raise DomainError("invite.revoked")
    if invitation.expires_at is not None and invitation.expires_at < ctx.now():
        raise DomainError("invite.expired")
    bound = await account_of_tg(ctx, tg_user_id)
    if bound is not None and bound.id != invitation.account_id:
        raise DomainError("invite.chat_bound")
    account = await ctx.session.get(Account, invitation.account_id)
    if account is None:
        raise NotFound("account")
    if not account.is_active:
        raise DomainError("invite.account_disabled")
    invitation.used_at = ctx.now()
    invitation.used_by_tg = tg_user_id
    await bind_chat(ctx, account.id, tg_user_id)  # type: ignore[arg-type]
    audit(ctx, Actor.of(account), "account", account.id, "invitation_used")  # type: ignore[arg-type]
    return account
