"""A personal-data canary: a trainee registers in the chat with a unique ID number and phone,
applies, is admitted and accepts; staff look at their lists and export them. The canary is then
searched for everywhere it could leak: the database file's bytes (every table as text on
PostgreSQL), the log as written, the dialog state rows while the dialog runs, Redis keys and
values, the application form PDF, staff messages and exports. It is found only where it must
be: the base's Excel export (the full number is theirs to see); shown masked everywhere else."""

from __future__ import annotations

import io
import logging
import random
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, text

import storage.models as models
from bot.emulator import ScriptedUser
from bot.logs import build_formatter
from storage.models import Account, FsmRecord
from tests.conftest import redis_url_or_skip
from tests.factories import build_world, complete_profile, make_id, submitted
from tests.hardening.kit import fresh_user_id
from tests.harness import BotHarness
from workflow import accounts, admission, results
from workflow.actor import Actor
from workflow.enums import Role
from workflow.identity import mask_id, mask_phone

PASSWORD = "Canary123x"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
def written_log() -> io.StringIO:
    """The log as the bot writes it (text and JSON formats), everything from INFO."""
    out = io.StringIO()
    handlers = []
    for kind in ("text", "json"):
        handler = logging.StreamHandler(out)
        handler.setFormatter(build_formatter(kind))
        handler.setLevel(logging.INFO)
        handlers.append(handler)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    for handler in handlers:
        root.addHandler(handler)
    yield out
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def forms(number: str, phone: str) -> list[str]:
    """The canary as it could appear: the ID in either case, the phone with and without +86."""
    national = phone.removeprefix("+86")
    return [
        number,
        number.lower(),
        phone,
        national,
        f"{national[:3]} {national[3:7]} {national[7:]}",
    ]


def assert_absent(where: str, haystack: str, canary: list[str]) -> None:
    found = [c for c in canary if c in haystack]
    assert not found, f"the canary {found} is in {where}"


def sqlite_files(data_dir: Path) -> dict[str, bytes]:
    """The database file with its write-ahead log, as bytes on disk."""
    return {p.name: p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("zhupei.db")}


async def database_text(app: BotHarness, data_dir: Path, canary: list[str], present: str) -> None:
    """`present` is stored in clear (the login name): the search finds what is there."""
    if app.db.backend == "postgresql":
        async with app.db.engine.connect() as conn:
            found = 0
            for table in models.metadata.sorted_tables:
                found += await conn.scalar(
                    text(f'SELECT count(*) FROM "{table.name}" AS r WHERE r::text LIKE :p'),
                    {"p": f"%{present}%"},
                )
            assert found
            for table in models.metadata.sorted_tables:
                for needle in canary:
                    hits = await conn.scalar(
                        text(f'SELECT count(*) FROM "{table.name}" AS r WHERE r::text LIKE :p'),
                        {"p": f"%{needle}%"},
                    )
                    assert hits == 0, f"the canary {needle} is in table {table.name}"
        return
    files = sqlite_files(data_dir)
    assert any(present.encode() in raw for raw in files.values())
    for name, raw in files.items():
        for needle in canary:
            for encoded in (needle.encode(), needle.encode("utf-16-le")):
                assert encoded not in raw, f"the canary {needle} is in {name}"


async def redis_contents(url: str) -> str:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    chunks = []
    try:
        async for key in redis.scan_iter(count=1000):
            chunks.append(repr(key))
            kind = (await redis.type(key)).decode()
            if kind == "string":
                chunks.append(repr(await redis.get(key)))
            elif kind == "zset":
                chunks.append(repr(await redis.zrange(key, 0, -1)))
            elif kind == "hash":
                chunks.append(repr(await redis.hgetall(key)))
    finally:
        await redis.aclose()
    return "\n".join(chunks)


async def register(
    app: BotHarness, user: ScriptedUser, number: str, phone: str, canary: list[str]
) -> None:
    await user.command("start")
    await user.press("📝 学员注册")
    await user.press("住院医师规范化培训")
    await user.send("金丝雀")
    await user.press("居民身份证")
    await user.send(number)
    assert mask_id(number) in (user.last_bot_message().text or "")
    # The dialog state holds the number while the dialog runs: sealed.
    async with app.ctx() as ctx:
        rows = (await ctx.session.scalars(select(FsmRecord))).all()
    assert rows
    assert_absent("the dialog state", repr([(r.state, r.data) for r in rows]), canary)
    await user.send(f"canary_{user.user_id % 100000}")
    await user.share_contact(phone.lstrip("+"))
    assert mask_phone(phone) in user.bot_messages()[-2].text
    await user.send(PASSWORD)
    await user.send(PASSWORD)
    assert "注册完成" in (user.last_bot_message().text or "")


async def enrol(app: BotHarness, role: Role, name: str, **scope: int) -> ScriptedUser:
    async with app.ctx() as ctx:
        _, token = await accounts.invite_staff(ctx, role, name, **scope)
    user = app.user(fresh_user_id(), first_name=name)
    await user.command("start", token)
    return user


async def export_rows(user: ScriptedUser) -> str:
    await user.press("📥 导出Excel")
    document = user.last_bot_message().document
    assert document is not None
    book = load_workbook(io.BytesIO(document.data), read_only=True)
    return "\n".join(
        repr(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
    )


async def test_the_canary_is_found_only_where_it_must_be(
    app: BotHarness, data_dir: Path, written_log: io.StringIO
) -> None:
    try:
        redis_url: str | None = redis_url_or_skip()
    except pytest.skip.Exception:
        redis_url = None
    if redis_url:  # the per-user lock, flood and pacing cells in Redis too
        app.services.settings.redis_url = redis_url
        await app.restart()
    rng = random.Random()
    number = make_id(date(1970 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)))
    phone = f"+86139{rng.randrange(10**8):08d}"
    canary = forms(number, phone)

    async with app.ctx() as ctx:
        world = await build_world(ctx)
    trainee = app.user(fresh_user_id(), language_code="zh-hans")
    await register(app, trainee, number, phone, canary)
    async with app.ctx() as ctx:
        account = await accounts.account_of_tg(ctx, trainee.user_id)
        assert account is not None
        actor = Actor.of(account)
        await complete_profile(ctx, actor)
        application = await submitted(ctx, world, actor)
        await admission.pre_admit(ctx, world.staff_a, application.id)

    # Base staff: the queue in chat shows the number masked; their export has it in full.
    base = await enrol(app, Role.BASE, "王主任", base_id=world.base_a.id)
    await base.command("queue")
    await base.press(f"#{application.id} 金丝雀")
    card = base.last_bot_message().text or ""
    assert f"****{number[-4:]}" in card
    assert_absent("the base's card", card, canary)
    await base.press("⬅️ 返回列表")
    assert number in await export_rows(base)  # where it must be

    async with app.ctx() as ctx:
        await admission.admit(ctx, world.staff_a, application.id)
        await admission.send_results(ctx, world.staff_a, [application.id])
    app.clock.advance(hours=13)
    async with app.ctx() as ctx:
        await results.accept(ctx, actor, application.id)

    # The city reviewer's list and export: masked.
    city = await enrol(app, Role.CITY, "广州审核员", city_id=world.gz.id)
    await city.command("confirm")
    rows = await export_rows(city)
    assert "金丝雀" in rows and f"****{number[-4:]}" in rows
    assert_absent("the city's export", rows, canary)

    # The trainee's application form: masked, as in the chat.
    await trainee.command("status")
    await trainee.press("🖨 打印报名表")
    form = trainee.last_bot_message().document
    assert form is not None
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(form.data)).pages)
    assert number[-4:] in pdf_text
    assert_absent("the application form", pdf_text.replace(" ", ""), canary)

    await app.deliver()
    for user in (trainee, base, city):
        shown = "\n".join((m.text or "") for m in user.messages if m.from_bot)
        assert_absent(f"the chat of {user.user_id}", shown, canary)
    await app.stop()  # everything written and flushed
    await database_text(app, data_dir, canary, f"canary_{trainee.user_id % 100000}")
    assert_absent("the log", written_log.getvalue(), canary)
    if redis_url:
        assert_absent("Redis", await redis_contents(redis_url), canary)
    async with app.ctx() as ctx:  # the account is there, sealed
        assert await ctx.session.scalar(select(Account.id).where(Account.id == actor.account_id))
    await app.start()
