"""The "typical aiogram bot" the comparison runs against: what a competent developer writes by
default for the same registration steps. aiogram 3 with `start_polling`, MemoryStorage for the
dialog, SQLAlchemy async (aiosqlite or asyncpg) with one INSERT per update, the same replies and
keyboards as the project's bot for /start, 学员注册, the programme, the name, the ID type and the
ID number (checked with the same check-digit rule).

    BOT_TOKEN=… TELEGRAM_API_URL=… DATABASE_URL=sqlite:///x.db python -m bench.typical_bot
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"

WELCOME = (
    "<b>欢迎使用广东省住院医师规范化培训招录助手</b>\n\n"
    "在这里您可以完成学员注册、完善个人信息、报名、查看和确认录取结果，以及管理培训年限。\n\n"
    "请选择操作："
)
PROGRAMS = {"residency": "住院医师规范化培训", "assistant_gp": "助理全科医师规范化培训"}
ID_TYPES = {
    "resident_id": "居民身份证",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "residence_permit": "港澳台居民居住证",
    "foreigner_pr": "外国人永久居留身份证",
}


class Base(DeclarativeBase):
    pass


class Event(Base):
    __tablename__ = "event"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reg(StatesGroup):
    program = State()
    name = State()
    id_type = State()
    id_number = State()
    login = State()


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows
        ]
    )


def id_ok(number: str) -> bool:
    number = number.strip().upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], WEIGHTS, strict=True))
    return CHECK[total % 11] == number[17]


def build_router(sessions: async_sessionmaker[AsyncSession]) -> Router:
    router = Router()

    async def record(user_id: int, kind: str) -> None:
        async with sessions() as session, session.begin():
            session.add(Event(user_id=user_id, kind=kind, at=datetime.now(UTC)))

    @router.message(CommandStart())
    async def start(message: Message, state: FSMContext) -> None:
        await record(message.chat.id, "start")
        await state.clear()
        await message.answer(
            WELCOME,
            reply_markup=keyboard([[("📝 学员注册", "reg")], [("🔑 登录已有账号", "login")]]),
        )

    @router.callback_query(F.data == "reg")
    async def register(query: CallbackQuery, state: FSMContext) -> None:
        await record(query.from_user.id, "register")
        await state.set_state(Reg.program)
        await query.answer()
        rows = [[(label, f"p:{code}")] for code, label in PROGRAMS.items()]
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            "<b>学员注册</b>（第 1 步：个人信息验证）\n\n请选择业务入口：",
            reply_markup=keyboard([*rows, [("取消", "cancel")]]),
        )

    @router.callback_query(Reg.program, F.data.startswith("p:"))
    async def program(query: CallbackQuery, state: FSMContext) -> None:
        await record(query.from_user.id, "program")
        code = (query.data or "")[2:]
        await state.update_data(program=code)
        await state.set_state(Reg.name)
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            f"业务入口：{PROGRAMS.get(code, code)}\n\n请输入您的<b>姓名</b>（与证件一致）：",
            reply_markup=keyboard([[("取消", "cancel")]]),
        )

    @router.message(Reg.name, F.text)
    async def name(message: Message, state: FSMContext) -> None:
        await record(message.chat.id, "name")
        await state.update_data(name=(message.text or "").strip()[:64])
        await state.set_state(Reg.id_type)
        rows = [[(label, f"t:{code}")] for code, label in ID_TYPES.items()]
        await message.answer(
            "请选择<b>证件类型</b>：", reply_markup=keyboard([*rows, [("取消", "cancel")]])
        )

    @router.callback_query(Reg.id_type, F.data.startswith("t:"))
    async def id_type(query: CallbackQuery, state: FSMContext) -> None:
        await record(query.from_user.id, "id_type")
        code = (query.data or "")[2:]
        await state.update_data(id_type=code)
        await state.set_state(Reg.id_number)
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            f"证件类型：{ID_TYPES.get(code, code)}\n\n"
            "请输入<b>证件号码</b>（居民身份证为 18 位，最后一位可能是 X）：",
            reply_markup=keyboard([[("取消", "cancel")]]),
        )

    @router.message(Reg.id_number, F.text)
    async def id_number(message: Message, state: FSMContext) -> None:
        await record(message.chat.id, "id_number")
        number = (message.text or "").strip().upper()
        if not id_ok(number):
            await message.answer("证件号码校验失败，请重新输入证件号码。")
            return
        await state.update_data(id_number=number)
        await state.set_state(Reg.login)
        await message.answer(f"✅ 证件号码 {number[:2]}************{number[-4:]} 验证通过。")
        await message.answer(
            "<b>第 2 步：填写账号密码</b>\n\n请设置<b>登录账号</b>：4–20 位，以字母开头，"
            "只能包含小写字母、数字和下划线（例如 zhang_san1）。"
        )

    @router.message(Command("cancel"))
    @router.callback_query(F.data == "cancel")
    async def cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        if isinstance(event, CallbackQuery):
            await event.answer("已取消")
        else:
            await event.answer("已取消")

    return router


def async_url(url: str) -> str:
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


async def main() -> None:
    engine = create_async_engine(async_url(os.environ["DATABASE_URL"]))
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    api = os.environ.get("TELEGRAM_API_URL")
    bot = Bot(
        os.environ["BOT_TOKEN"],
        session=AiohttpSession(api=TelegramAPIServer.from_base(api)) if api else None,
        default=DefaultBotProperties(parse_mode="HTML"),
    )
    dp = Dispatcher(storage=MemoryStorage())
    dp.include_router(build_router(sessions))
    try:
        await dp.start_polling(bot, handle_signals=True, polling_timeout=10)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
