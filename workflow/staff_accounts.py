"""Staff accounts after their invitation: the list, disabling and enabling, a new invitation.

The operator (the command line, actor `None`) may do all of it. In chat only the province may
disable or enable, and only base and city staff (a province account is the operator's to
manage, so the province cannot lock itself or its colleagues out). A disabled account keeps its
chat binding: its next update is recognised and refused (`refuse_disabled`), not taken for a
stranger's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from storage.models import Account, Base, City, Invitation, TelegramUser
from workflow.accounts import reinvite
from workflow.actor import Actor, require_role
from workflow.audit import audit
from workflow.context import Ctx
from workflow.enums import STAFF_ROLES, Role
from workflow.errors import DomainError, Forbidden, NotFound

ACTIVE, DISABLED = "active", "disabled"


@dataclass(frozen=True)
class StaffRow:
    id: int
    role: Role
    name: str
    scope: str | None  # "广州市红十字会医院 GZ01", "广州市 4401", or None for the province
    active: bool
    bound: bool


async def list_staff(ctx: Ctx, actor: Actor | None) -> list[StaffRow]:
    """Every base, city and province account, by role then id."""
    if actor is not None:
        require_role(actor, Role.PROVINCE)
    bound = select(TelegramUser.account_id).where(TelegramUser.account_id.is_not(None))
    rows = await ctx.session.execute(
        select(
            Account,
            Base.name,
            Base.code,
            City.name,
            City.code,
            Account.id.in_(bound),
        )
        .outerjoin(Base, Base.id == Account.base_id)
        .outerjoin(City, City.id == Account.city_id)
        .where(Account.role.in_([r.value for r in STAFF_ROLES]))
        .order_by(Account.id)
    )
    order = {Role.PROVINCE: 0, Role.CITY: 1, Role.BASE: 2}
    out = []
    for account, base_name, base_code, city_name, city_code, is_bound in rows:
        scope = None
        if base_name is not None:
            scope = f"{base_name} {base_code}"
        elif city_name is not None:
            scope = f"{city_name} {city_code}"
        out.append(
            StaffRow(
                id=account.id,
                role=Role(account.role),
                name=account.display_name,
                scope=scope,
                active=account.is_active,
                bound=bool(is_bound),
            )
        )
    return sorted(out, key=lambda r: (order.get(r.role, 9), r.id))


async def _staff_account(ctx: Ctx, account_id: int) -> Account:
    account = await ctx.session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise NotFound("account")
    if Role(account.role) not in STAFF_ROLES:
        raise DomainError("staff_account.not_staff", id=account_id)
    return account


def _may_manage(actor: Actor | None, account: Account) -> None:
    if actor is None:  # the operator, on the command line
        return
    require_role(actor, Role.PROVINCE)
    if Role(account.role) is Role.PROVINCE:
        raise Forbidden("staff_account.province_by_operator")


async def set_active(ctx: Ctx, actor: Actor | None, account_id: int, active: bool) -> Account:
    """Disable or enable a staff account; the change is audited. Disabling takes effect at the
    staff member's next update; their chat stays bound, so enabling needs no new invitation."""
    account = await _staff_account(ctx, account_id)
    _may_manage(actor, account)
    if account.is_active == active:
        raise DomainError(
            "staff_account.already_enabled" if active else "staff_account.already_disabled",
            id=account_id,
            name=account.display_name,
        )
    account.is_active = active
    audit(
        ctx,
        actor,
        "account",
        account_id,
        "enabled" if active else "disabled",
        from_state=DISABLED if active else ACTIVE,
        to_state=ACTIVE if active else DISABLED,
        by="chat" if actor else "cli",
    )
    await ctx.session.flush()
    return account


async def reinvite_staff(
    ctx: Ctx, account_id: int, *, ttl: timedelta = timedelta(hours=72), created_by: str = "cli"
) -> tuple[Account, str]:
    """A new one-time invitation for a staff account; every link issued before and not yet
    used is revoked. The chat bound now stays bound until the new link is opened elsewhere."""
    account = await _staff_account(ctx, account_id)
    if not account.is_active:
        raise DomainError("staff_account.disabled", id=account_id, name=account.display_name)
    now = ctx.now()
    revoked = await ctx.session.execute(
        update(Invitation)
        .where(
            Invitation.account_id == account_id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if revoked.rowcount:  # type: ignore[attr-defined]
        audit(ctx, None, "account", account_id, "invitations_revoked", count=revoked.rowcount)  # type: ignore[attr-defined]
    token = await reinvite(ctx, account, ttl=ttl, created_by=created_by)
    return account, token


async def bound_chat(ctx: Ctx, account_id: int) -> TelegramUser | None:
    """The Telegram user whose chat is bound to the account, if any."""
    return await ctx.session.scalar(
        select(TelegramUser).where(TelegramUser.account_id == account_id)
    )


async def disabled_account(ctx: Ctx, tg: TelegramUser) -> Account | None:
    """The disabled staff account this chat is bound to, if it is one (the update's middleware
    loads only active accounts, so a bound chat without one may be a disabled account's)."""
    if tg.account_id is None:
        return None
    account = await ctx.session.get(Account, tg.account_id)
    if account is None or account.is_active or Role(account.role) not in STAFF_ROLES:
        return None
    return account


async def refuse_disabled(ctx: Ctx, tg: TelegramUser, what: str) -> Account | None:
    """If the chat belongs to a disabled staff account: audit the refused update (`what`: a
    button press, a command…) and return the account; the caller refuses the update."""
    account = await disabled_account(ctx, tg)
    if account is not None:
        audit(ctx, Actor.of(account), "account", account.id, "refused_disabled", update=what)  # type: ignore[arg-type]
    return account
