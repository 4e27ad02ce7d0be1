"""A small aiogram bot, defined here, driven end to end through the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.filters import Command, CommandStart, ExceptionTypeFilter
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    ErrorEvent,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.emulator import BotApiEmulator
from bot.emulator import Command as VisibleCommand
from bot.emulator.harness import make_bot, run_polling
from bot.emulator.tracking import ProcessedTracker

PDF_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def build_router() -> Router:
    """A fresh router per test: a Router can be attached to only one Dispatcher."""
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        await message.answer(
            f"Hello, <b>{html.quote(message.from_user.first_name)}</b>!",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text="Apply", callback_data="apply")],
                    [
                        InlineKeyboardButton(text="Silent", callback_data="silent"),
                        InlineKeyboardButton(text="Docs", url="https://example.org/docs"),
                    ],
                ]
            ),
        )

    @router.callback_query(F.data == "apply")
    async def apply(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text(
            "Application started.",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Confirm", callback_data="confirm")]]
            ),
        )
        await query.answer("Started")

    @router.callback_query(F.data == "silent")
    async def silent(query: CallbackQuery) -> None:
        """Forgets to answer the callback query."""

    @router.message(Command("keyboard"))
    async def keyboard(message: Message) -> None:
        await message.answer(
            "Choose",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[
                    [KeyboardButton(text="Share phone", request_contact=True)],
                    [KeyboardButton(text="Cancel")],
                ],
                resize_keyboard=True,
            ),
        )

    @router.message(F.text == "Cancel")
    async def cancel(message: Message) -> None:
        await message.answer("Cancelled", reply_markup=ReplyKeyboardRemove())

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None and message.from_user is not None
        if message.contact.user_id == message.from_user.id:
            await message.answer(f"Saved {message.contact.phone_number}")
        else:
            await message.answer("Please share your own number.")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        file = await bot.get_file(message.document.file_id)
        assert file.file_path is not None
        buffer = await bot.download_file(file.file_path)
        assert buffer is not None
        data = buffer.read()
        await message.answer_document(
            BufferedInputFile(data, filename=f"echo-{message.document.file_name}"),
            caption=f"Got {len(data)} bytes",
        )

    @router.message(Command("menu"))
    async def menu(message: Message, bot: Bot) -> None:
        await bot.set_my_commands([BotCommand(command="start", description="Start")])
        await bot.set_my_commands(
            [BotCommand(command="start", description="开始")], language_code="zh"
        )
        await bot.set_my_commands(
            [BotCommand(command="admin", description="Admin")],
            scope=BotCommandScopeChat(chat_id=message.chat.id),
            language_code="en",
        )
        await message.answer("Menu set")

    @router.message(Command("cleanup"))
    async def cleanup(message: Message) -> None:
        temporary = await message.answer("temporary")
        await temporary.delete()
        await message.answer("clean")

    @router.message(Command("crash"))
    async def crash(message: Message) -> None:
        raise RuntimeError("boom")

    @router.message(Command("handled"))
    async def handled(message: Message) -> None:
        raise ValueError("expected")

    @router.errors(ExceptionTypeFilter(ValueError))
    async def apologise(event: ErrorEvent) -> None:
        await asyncio.sleep(0.1)  # the action must wait for the error handler too
        assert event.update.message is not None
        await event.update.message.answer("Sorry, that failed.")

    @router.message(Command("slow"))
    async def slow(message: Message) -> None:
        await asyncio.sleep(0.2)
        await message.answer("done slowly")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        assert message.text is not None
        await message.answer(f"Echo: {html.quote(message.text)}", parse_mode="HTML")

    return router


def build_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router())
    return dispatcher


@pytest.fixture
async def polling(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with run_polling(build_dispatcher(), emulator) as bot:
        yield bot
    emulator.assert_no_violations()


async def test_start_shows_inline_keyboard(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1001, first_name="Li <Lei>")
    await user.command("start")
    reply = user.last_bot_message()
    assert reply.text == "Hello, Li <Lei>!"
    assert reply.html == "Hello, <b>Li &lt;Lei&gt;</b>!"
    assert reply.entities == [{"type": "bold", "offset": 7, "length": 8}]
    assert reply.buttons == [["Apply"], ["Silent", "Docs"]]
    assert reply.callback_data("Apply") == "apply"
    sent = user.messages[0]
    assert not sent.from_bot and sent.text == "/start"


async def test_press_edits_message_and_answers(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1002)
    await user.command("start")
    menu = user.last_bot_message()
    answer = await user.press("Apply")
    assert answer.answered and answer.text == "Started"
    assert menu.edited and menu.text == "Application started."
    assert menu.buttons == [["Confirm"]]
    assert menu.previous_versions == ["Hello, <b>Test</b>!"]
    assert len(user.bot_messages()) == 1
    assert emulator.unanswered_callbacks == []


async def test_unanswered_callback_is_recorded(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1003)
    await user.command("start")
    record = await user.press("Silent")
    assert not record.answered
    assert emulator.unanswered_callbacks == [record]


async def test_press_unknown_or_url_button_fails_clearly(
    emulator: BotApiEmulator, polling: Bot
) -> None:
    user = emulator.user(1004)
    await user.command("start")
    with pytest.raises(
        AssertionError, match=r"no button 'Nope'.*\['Apply'\], \['Silent', 'Docs'\]"
    ):
        await user.press("Nope")
    with pytest.raises(AssertionError, match="has no callback_data"):
        await user.press("Docs")


async def test_document_round_trip(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1005)
    sent = await user.upload(PDF_BYTES, "cv.pdf", caption="my CV")
    assert sent.text == "my CV" and sent.document is not None
    echoed = user.last_bot_message()
    assert echoed.text == f"Got {len(PDF_BYTES)} bytes"
    assert echoed.document is not None
    assert echoed.document.file_name == "echo-cv.pdf"
    assert echoed.document.data == PDF_BYTES
    bot_calls = [call.method for call in emulator.calls if call.method != "getUpdates"]
    assert bot_calls[-2:] == ["getFile", "sendDocument"]
    assert emulator.calls_to("getFile")[0].status == 200


async def test_contact_own_and_other(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1006)
    await user.share_contact("+8613800000000")
    assert user.last_bot_message().text == "Saved +8613800000000"
    await user.share_contact("+8613911111111", own=False, first_name="Mum")
    assert user.last_bot_message().text == "Please share your own number."


async def test_reply_keyboard(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1007, phone_number="+8613822222222")
    await user.command("keyboard")
    assert user.reply_keyboard == [["Share phone"], ["Cancel"]]
    await user.press("Share phone")
    assert user.last_bot_message().text == "Saved +8613822222222"
    await user.press("Cancel")
    assert user.last_bot_message().text == "Cancelled"
    assert user.reply_keyboard is None


async def test_visible_commands_follow_scope_and_language(
    emulator: BotApiEmulator, polling: Bot
) -> None:
    chinese = emulator.user(1008, language_code="zh-hans")
    english = emulator.user(1009, language_code="en")
    await chinese.command("menu")
    assert chinese.visible_commands() == [VisibleCommand("start", "开始")]
    assert english.visible_commands() == [("start", "Start")]
    await english.command("menu")
    assert english.visible_commands() == [("admin", "Admin")]
    assert chinese.visible_commands() == [("start", "开始")]


async def test_deleted_messages_stay_in_history(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1010)
    marker = user.mark()
    await user.command("cleanup")
    assert [m.text for m in user.bot_messages_since(marker)] == ["clean"]
    everything = user.bot_messages_since(marker, include_deleted=True)
    assert [(m.text, m.deleted) for m in everything] == [("temporary", True), ("clean", False)]


async def test_crash_in_handler_fails_the_action(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1011)
    with pytest.raises(AssertionError, match="RuntimeError\\('boom'\\)"):
        await user.command("crash")
    assert [update_id for update_id, _ in emulator.processing_errors] == [1]


async def test_error_handled_by_the_bot_is_not_a_failure(emulator: BotApiEmulator) -> None:
    dispatcher = build_dispatcher()
    # Registered the plain way, inside aiogram's ErrorsMiddleware; run_polling moves it out.
    dispatcher.update.outer_middleware(ProcessedTracker(emulator))
    async with run_polling(dispatcher, emulator):
        user = emulator.user(1014)
        await user.command("handled")
        assert user.last_bot_message().text == "Sorry, that failed."
    assert emulator.processing_errors == []
    assert isinstance(dispatcher.update.outer_middleware[0], ProcessedTracker)


async def test_action_waits_for_slow_handler(emulator: BotApiEmulator, polling: Bot) -> None:
    user = emulator.user(1012)
    await user.command("slow")
    assert user.last_bot_message().text == "done slowly"


async def test_burst_of_raw_updates(emulator: BotApiEmulator, polling: Bot) -> None:
    users = [emulator.user(2000 + i) for i in range(40)]
    update_ids = [
        emulator.enqueue_update({"message": {"from": u.api, "text": f"hi {u.user_id}"}})
        for u in users
    ]
    assert update_ids == list(range(1, 41))
    await emulator.wait_idle()
    for u in users:
        assert u.last_bot_message().text == f"Echo: hi {u.user_id}"
    sends = emulator.calls_to("sendMessage")
    assert len(sends) == 40 and all(call.status == 200 for call in sends)
    assert sends[-1].monotonic >= sends[0].monotonic


async def test_without_tracker_waits_for_quiet_chat(emulator: BotApiEmulator) -> None:
    """A bot in another process cannot report progress; the emulator watches the chat."""
    emulator.quiet_period = 0.5  # generous: the slow handler sleeps 0.2 s before replying
    dispatcher = build_dispatcher()
    bot = make_bot(emulator)
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    try:
        user = emulator.user(1013)
        await user.command("slow")
        assert user.last_bot_message().text == "done slowly"
        assert not emulator.tracker_attached
    finally:
        await dispatcher.stop_polling()
        await task
