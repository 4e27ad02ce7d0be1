"""Registration, login throttling, recovery by phone and staff invitations (`workflow.accounts`)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Account, Invitation, LoginThrottle, TelegramUser, TraineeProfile
from tests.conftest import CtxFactory
from tests.factories import make_id, make_phone
from tests.workflow.helpers import actions, refused, reread, run, wait_for_lock_waiter
from workflow import accounts
from workflow.accounts import Registration
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.enums import IdType, Program, Role
from workflow.errors import DomainError

PASSWORD = "Secret123"


def registration(**kw: object) -> Registration:
    values: dict[str, object] = {
        "program": Program.RESIDENCY,
        "name": "张三",
        "id_type": IdType.RESIDENT_ID,
        "id_number": make_id(),
        "login_name": "zhangsan",
        "password": PASSWORD,
        "phone": make_phone(),
    }
    values.update(kw)
    return Registration(**values)  # type: ignore[arg-type]


async def register(make_ctx: CtxFactory, reg: Registration, tg: int = 501) -> Account:
    return await run(make_ctx, lambda ctx: accounts.register_trainee(ctx, reg, tg))


async def bound_account(make_ctx: CtxFactory, tg: int) -> int | None:
    async with make_ctx() as ctx:
        account = await accounts.account_of_tg(ctx, tg)
        return account.id if account else None


# --- registration -----------------------------------------------------------------------------


async def test_register_stores_encrypted_identity_and_binds_the_chat(
    make_ctx: CtxFactory,
) -> None:
    number = make_id(date(1997, 3, 9))
    account = await register(
        make_ctx, registration(id_number=number.lower(), phone="138 0013 8000", name=" 张  三 ")
    )
    async with make_ctx() as ctx:
        row = await ctx.session.get(Account, account.id)
        profile = await ctx.session.get(TraineeProfile, account.id)
        assert row is not None and profile is not None
        assert (row.role, row.login_name, row.display_name) == (Role.TRAINEE, "zhangsan", "张 三")
        assert row.password_hash and PASSWORD not in row.password_hash
        assert await accounts.verify_password(row.password_hash, PASSWORD)
        assert number.encode() not in profile.id_number_enc
        assert ctx.cipher.decrypt("id_number", profile.id_number_enc) == number
        assert ctx.cipher.decrypt("phone", profile.phone_enc) == "+8613800138000"
        assert profile.id_tail == number[-4:]
        assert profile.birth_date == date(1997, 3, 9)
        assert profile.gender in ("male", "female")
        assert profile.phone_verified_at == ctx.now()
    assert await bound_account(make_ctx, 501) == account.id
    assert await actions(make_ctx, "account", account.id) == ["register"]


async def test_duplicate_id_number_is_refused_at_the_check_and_at_registration(
    make_ctx: CtxFactory,
) -> None:
    number = make_id()
    await register(make_ctx, registration(id_number=number))
    e = await refused(make_ctx, lambda ctx: accounts.check_identity(ctx, "resident_id", number))
    assert e.code == "reg.id_registered"
    e = await refused(
        make_ctx,
        lambda ctx: accounts.register_trainee(
            ctx, registration(id_number=number, login_name="other1"), 502
        ),
    )
    assert e.code == "reg.id_registered"
    async with make_ctx() as ctx:
        assert len((await ctx.session.scalars(select(Account))).all()) == 1


async def test_same_number_under_another_id_type_is_another_identity(
    make_ctx: CtxFactory,
) -> None:
    await register(make_ctx, registration(id_type=IdType.PASSPORT, id_number="12345678"))
    async with make_ctx() as ctx:
        assert await accounts.check_identity(ctx, IdType.TAIWAN_PERMIT, "12345678") == "12345678"


async def test_duplicate_login_name_is_refused_case_insensitively(make_ctx: CtxFactory) -> None:
    await register(make_ctx, registration(login_name="zhangsan"))
    e = await refused(
        make_ctx,
        lambda ctx: accounts.register_trainee(ctx, registration(login_name="ZhangSan "), 502),
    )
    assert e.code == "reg.login_name_taken"


async def test_duplicate_phone_is_refused(make_ctx: CtxFactory) -> None:
    phone = make_phone()
    await register(make_ctx, registration(phone=phone))
    e = await refused(
        make_ctx,
        lambda ctx: accounts.register_trainee(
            ctx, registration(login_name="lisi", phone=phone.removeprefix("+86")), 502
        ),
    )
    assert e.code == "reg.phone_registered"


@pytest.mark.parametrize(
    ("phone", "code"),
    [("020-38314977", "phone.not_mobile"), ("+16502530000", "phone.invalid")],
)
async def test_registration_needs_a_cn_mobile(make_ctx: CtxFactory, phone: str, code: str) -> None:
    e = await refused(
        make_ctx, lambda ctx: accounts.register_trainee(ctx, registration(phone=phone), 501)
    )
    assert e.code == code


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("name", "张3", "reg.name_invalid"),
        ("name", "   ", "reg.name_invalid"),
        ("login_name", "1abc", "reg.login_name_rules"),
        ("login_name", "ab", "reg.login_name_rules"),
        ("password", "short1", "reg.password_rules"),
        ("password", "onlyletters", "reg.password_rules"),
        ("password", "12345678", "reg.password_rules"),
        ("password", "zhangsan99", "reg.password_has_login"),
        ("id_number", "44010619980501123", "id.format"),
    ],
)
async def test_registration_field_rules(
    make_ctx: CtxFactory, field: str, value: str, code: str
) -> None:
    e = await refused(
        make_ctx, lambda ctx: accounts.register_trainee(ctx, registration(**{field: value}), 501)
    )
    assert e.code == code
    async with make_ctx() as ctx:
        assert (await ctx.session.scalars(select(Account))).first() is None


@pytest.mark.parametrize(
    ("clash", "code"),
    [
        ("login_name", "reg.login_name_taken"),
        ("id_number", "reg.id_registered"),
        ("phone", "reg.phone_registered"),
    ],
)
async def test_concurrent_registrations_clash_on_the_unique_indexes_on_postgresql(
    make_ctx: CtxFactory, db: Database, clash: str, code: str
) -> None:
    """The second registration passes every check (the first is not committed yet), waits on a
    unique index until the first commits, and is refused with the rule it broke."""
    if db.backend != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN: transactions never overlap")
    first = registration(login_name="zhangsan")
    second = registration(**{"login_name": "lisi1", clash: getattr(first, clash)})
    async with make_ctx() as ctx:
        await accounts.register_trainee(ctx, first, 501)
        racer = asyncio.create_task(
            refused(make_ctx, lambda c: accounts.register_trainee(c, second, 502))
        )
        await wait_for_lock_waiter(db)
        assert not racer.done()
    e = await asyncio.wait_for(racer, timeout=10)
    assert e.code == code
    async with make_ctx() as ctx:
        assert len((await ctx.session.scalars(select(Account))).all()) == 1
    assert await bound_account(make_ctx, 502) is None


async def test_binding_a_new_chat_unbinds_the_old_one(make_ctx: CtxFactory) -> None:
    account = await register(make_ctx, registration(), tg=501)
    await run(make_ctx, lambda ctx: accounts.bind_chat(ctx, account.id, 777))
    assert await bound_account(make_ctx, 777) == account.id
    assert await bound_account(make_ctx, 501) is None
    assert (await reread(make_ctx, TelegramUser, 501)).account_id is None


# --- login and throttling ---------------------------------------------------------------------


async def login(make_ctx: CtxFactory, login_name: str, password: str, tg: int) -> Account | str:
    """As the chat does: a refusal still commits the failure it counted."""
    async with make_ctx() as ctx:
        try:
            return await accounts.authenticate(ctx, login_name, password, tg)
        except DomainError as e:
            return e.code


async def test_login_with_the_right_password(make_ctx: CtxFactory) -> None:
    account = await register(make_ctx, registration())
    result = await login(make_ctx, " ZhangSan", PASSWORD, 900)
    assert isinstance(result, Account) and result.id == account.id


async def test_wrong_password_and_unknown_login_are_the_same_refusal(
    make_ctx: CtxFactory,
) -> None:
    await register(make_ctx, registration())
    assert await login(make_ctx, "zhangsan", "Wrong1234", 900) == "login.wrong"
    assert await login(make_ctx, "nobody", PASSWORD, 901) == "login.wrong"


async def test_login_throttled_per_account_then_unblocked_after_the_window(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    account = await register(make_ctx, registration())
    # Failures from four different chats: no chat reaches the limit, the account does.
    for tg in range(900, 904):
        assert await login(make_ctx, "zhangsan", "Wrong1234", tg) == "login.wrong"
    assert await login(make_ctx, "zhangsan", "Wrong1234", 904) == "login.throttled"
    row = await reread(make_ctx, LoginThrottle, f"account:{account.id}")
    assert row.failures == 5
    assert row.blocked_until == clock.now() + timedelta(minutes=15)
    # Even the right password from a fresh chat waits.
    assert await login(make_ctx, "zhangsan", PASSWORD, 905) == "login.throttled"
    clock.advance(minutes=14, seconds=59)
    assert await login(make_ctx, "zhangsan", PASSWORD, 905) == "login.throttled"
    clock.advance(seconds=2)
    result = await login(make_ctx, "zhangsan", PASSWORD, 905)
    assert isinstance(result, Account)
    assert (await reread(make_ctx, LoginThrottle, f"account:{account.id}")).failures == 0


async def test_login_throttled_per_chat_across_accounts(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    await register(make_ctx, registration(login_name="zhangsan"))
    await register(make_ctx, registration(login_name="lisi1"), tg=502)
    for name in ("nobody1", "nobody2", "nobody3", "nobody4"):
        assert await login(make_ctx, name, PASSWORD, 900) == "login.wrong"
    assert await login(make_ctx, "zhangsan", "Wrong1234", 900) == "login.throttled"
    assert (await reread(make_ctx, LoginThrottle, "chat:900")).failures == 5
    # The chat is blocked for every account; the accounts are not blocked elsewhere.
    assert await login(make_ctx, "lisi1", PASSWORD, 900) == "login.throttled"
    assert isinstance(await login(make_ctx, "zhangsan", PASSWORD, 901), Account)
    clock.advance(minutes=15, seconds=1)
    assert isinstance(await login(make_ctx, "lisi1", PASSWORD, 900), Account)


async def test_failures_outside_the_window_start_a_new_count(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    account = await register(make_ctx, registration())
    for _ in range(4):
        assert await login(make_ctx, "zhangsan", "Wrong1234", 900) == "login.wrong"
    clock.advance(minutes=16)
    assert await login(make_ctx, "zhangsan", "Wrong1234", 900) == "login.wrong"
    row = await reread(make_ctx, LoginThrottle, f"account:{account.id}")
    assert (row.failures, row.blocked_until) == (1, None)


async def test_login_second_factor_is_the_verified_phone(make_ctx: CtxFactory) -> None:
    phone = make_phone()
    account = await register(make_ctx, registration(phone=phone), tg=501)
    e = await refused(
        make_ctx, lambda ctx: accounts.complete_login(ctx, account.id, make_phone(), 777)
    )
    assert e.code == "login.phone_mismatch"
    assert await bound_account(make_ctx, 777) is None
    await run(make_ctx, lambda ctx: accounts.complete_login(ctx, account.id, phone, 777))
    assert await bound_account(make_ctx, 777) == account.id
    assert await bound_account(make_ctx, 501) is None
    assert await actions(make_ctx, "account", account.id) == ["register", "login"]


async def test_change_password(make_ctx: CtxFactory) -> None:
    account = await register(make_ctx, registration())
    actor = Actor.of(account)
    e = await refused(make_ctx, lambda ctx: accounts.change_password(ctx, actor, "weak"))
    assert e.code == "reg.password_rules"
    await run(make_ctx, lambda ctx: accounts.change_password(ctx, actor, "NewSecret42"))
    assert await login(make_ctx, "zhangsan", PASSWORD, 900) == "login.wrong"
    assert isinstance(await login(make_ctx, "zhangsan", "NewSecret42", 900), Account)


# --- recovery by phone (忘记密码) ---------------------------------------------------------------


async def test_recover_by_phone_binds_the_new_chat(make_ctx: CtxFactory) -> None:
    number, phone = make_id(), make_phone()
    account = await register(make_ctx, registration(id_number=number, phone=phone), tg=501)
    recovered = await run(
        make_ctx,
        lambda ctx: accounts.recover_by_phone(ctx, "resident_id", number, phone[3:], 777),
    )
    assert recovered.id == account.id
    assert await bound_account(make_ctx, 777) == account.id
    assert await bound_account(make_ctx, 501) is None
    assert (await actions(make_ctx, "account", account.id))[-1] == "recover"


async def test_recover_refused_with_another_phone_or_an_unknown_id(make_ctx: CtxFactory) -> None:
    number = make_id()
    await register(make_ctx, registration(id_number=number), tg=501)
    e = await refused(
        make_ctx,
        lambda ctx: accounts.recover_by_phone(ctx, "resident_id", number, make_phone(), 777),
    )
    assert e.code == "recover.mismatch"
    e = await refused(
        make_ctx,
        lambda ctx: accounts.recover_by_phone(ctx, "resident_id", make_id(), make_phone(), 777),
    )
    assert e.code == "recover.mismatch"
    assert await bound_account(make_ctx, 777) is None
    assert await bound_account(make_ctx, 501) is not None


# --- staff invitations ------------------------------------------------------------------------


async def invite(make_ctx: CtxFactory, **kw: object) -> tuple[Account, str]:
    async with make_ctx() as ctx:
        return await accounts.invite_staff(ctx, Role.PROVINCE, "省卫健委", **kw)  # type: ignore[arg-type]


async def test_invitation_binds_the_chat_once(make_ctx: CtxFactory) -> None:
    account, token = await invite(make_ctx)
    assert account.password_hash is None and account.login_name is None
    redeemed = await run(make_ctx, lambda ctx: accounts.redeem_invitation(ctx, token, 4242))
    assert redeemed.id == account.id
    assert await bound_account(make_ctx, 4242) == account.id
    async with make_ctx() as ctx:
        inv = await ctx.session.scalar(select(Invitation))
        assert inv is not None
        assert (inv.used_at, inv.used_by_tg) == (ctx.now(), 4242)
        assert token not in inv.token_hash
    assert await actions(make_ctx, "account", account.id) == ["invited", "invitation_used"]
    e = await refused(make_ctx, lambda ctx: accounts.redeem_invitation(ctx, token, 4343))
    assert e.code == "invite.used"
    assert await bound_account(make_ctx, 4343) is None


async def test_concurrent_redemptions_of_one_invitation(make_ctx: CtxFactory) -> None:
    account, token = await invite(make_ctx)

    async def redeem(tg: int) -> str:
        try:
            await run(make_ctx, lambda ctx: accounts.redeem_invitation(ctx, token, tg))
        except DomainError as e:
            return e.code
        return "bound"

    outcomes = await asyncio.gather(redeem(4242), redeem(4343))
    assert sorted(outcomes) == ["bound", "invite.used"]
    bound = [await bound_account(make_ctx, tg) for tg in (4242, 4343)]
    assert sorted(bound, key=str) == sorted([account.id, None], key=str)


async def test_invitation_expires(make_ctx: CtxFactory, clock: FrozenClock) -> None:
    _account, token = await invite(make_ctx, ttl=timedelta(hours=72))
    clock.advance(hours=72, seconds=1)
    e = await refused(make_ctx, lambda ctx: accounts.redeem_invitation(ctx, token, 4242))
    assert e.code == "invite.expired"
    assert await bound_account(make_ctx, 4242) is None


async def test_invitation_still_valid_at_its_last_moment(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    account, token = await invite(make_ctx, ttl=timedelta(hours=72))
    clock.advance(hours=72)
    redeemed = await run(make_ctx, lambda ctx: accounts.redeem_invitation(ctx, token, 4242))
    assert redeemed.id == account.id


async def test_unknown_invitation_token(make_ctx: CtxFactory) -> None:
    await invite(make_ctx)
    e = await refused(make_ctx, lambda ctx: accounts.redeem_invitation(ctx, "nope", 4242))
    assert e.code == "invite.invalid"


async def test_invitation_refused_in_a_chat_bound_to_another_account(
    make_ctx: CtxFactory,
) -> None:
    await register(make_ctx, registration(), tg=501)
    _account, token = await invite(make_ctx)
    e = await refused(make_ctx, lambda ctx: accounts.redeem_invitation(ctx, token, 501))
    assert e.code == "invite.chat_bound"
    async with make_ctx() as ctx:
        inv = await ctx.session.scalar(select(Invitation))
        assert inv is not None and inv.used_at is None


@pytest.mark.parametrize(
    ("role", "kw", "code"),
    [
        (Role.TRAINEE, {}, "invite.trainee"),
        (Role.BASE, {}, "invite.base_required"),
        (Role.CITY, {}, "invite.city_required"),
    ],
)
async def test_invite_staff_refusals(
    make_ctx: CtxFactory, role: Role, kw: dict[str, int], code: str
) -> None:
    e = await refused(make_ctx, lambda ctx: accounts.invite_staff(ctx, role, "x", **kw))
    assert e.code == code
