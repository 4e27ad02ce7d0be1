"""The emulator answering a real aiogram Bot: results, Telegram's errors, injected failures."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    ReplyParameters,
)
from PIL import Image

from bot.emulator import BotApiEmulator

CHAT = 501


@pytest.fixture
def chat(emulator: BotApiEmulator) -> int:
    """A chat the user opened (the bot itself is not running in these tests)."""
    user = emulator.user(CHAT)
    emulator.enqueue_update({"message": {"from": user.api, "text": "/start"}})
    return CHAT


async def raw_call(emulator: BotApiEmulator, method: str, **kwargs: Any) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.url}/bot{emulator.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


def keyboard(count: int, data: str = "x") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=str(i), callback_data=data)] for i in range(count)
        ]
    )


# --- limits, seen through aiogram ---------------------------------------------------


async def test_text_longer_than_4096(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    await bot.send_message(chat, "a" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(chat, "a" * 4097)
    assert [v.method for v in emulator.violations] == ["sendMessage"]
    assert "4097 characters" in emulator.violations[0].problem


async def test_broken_html(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await bot.send_message(chat, "<b>x", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unescaped "<" at byte offset 2'):
        await bot.send_message(chat, "1 < 2", parse_mode="HTML")
    message = await bot.send_message(chat, "1 < 2")  # fine without parse_mode
    assert message.text == "1 < 2"
    assert len(emulator.violations) == 2


async def test_callback_data_and_button_count(
    emulator: BotApiEmulator, bot: Bot, chat: int
) -> None:
    await bot.send_message(chat, "ok", reply_markup=keyboard(100, "d" * 64))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(chat, "x", reply_markup=keyboard(1, "d" * 65))
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(chat, "x", reply_markup=keyboard(101))


async def test_invalid_commands_and_callback_answer(
    emulator: BotApiEmulator, bot: Bot, chat: int
) -> None:
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start-Now", description="x")])
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("123", text="x" * 201)


async def test_not_emulated_method_is_a_violation(
    emulator: BotApiEmulator, bot: Bot, chat: int
) -> None:
    with pytest.raises(TelegramBadRequest, match="not supported by the emulator"):
        await bot.send_location(chat, latitude=31.2, longitude=121.5)
    assert emulator.violations[0].problem == "method is not emulated"


async def test_assert_no_violations_lists_them(
    emulator: BotApiEmulator, bot: Bot, chat: int
) -> None:
    emulator.assert_no_violations()
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(chat, "<i>x</b>", parse_mode="HTML")
    with pytest.raises(AssertionError, match=r"(?s)1 Bot API violation.*sendMessage: can.t parse"):
        emulator.assert_no_violations()


# --- malformed requests, sent over raw HTTP -----------------------------------------


async def test_unknown_parameter(emulator: BotApiEmulator, chat: int) -> None:
    status, body = await raw_call(
        emulator, "sendMessage", data={"chat_id": str(chat), "text": "x", "colour": "red"}
    )
    assert status == 400 and body["ok"] is False and body["error_code"] == 400
    assert body["description"] == "Bad Request: unknown parameter 'colour' for method sendMessage"


async def test_missing_chat_id(emulator: BotApiEmulator) -> None:
    status, body = await raw_call(emulator, "sendMessage", data={"text": "x"})
    assert status == 400
    assert body["description"] == "Bad Request: parameter 'chat_id' is required"


async def test_wrong_type_in_json_body(emulator: BotApiEmulator, chat: int) -> None:
    status, body = await raw_call(
        emulator, "sendMessage", json={"chat_id": chat, "text": "x", "protect_content": "perhaps"}
    )
    assert status == 400
    assert (
        body["description"] == "Bad Request: expected Boolean, got 'perhaps' (in protect_content)"
    )
    assert emulator.violations[0].params["protect_content"] == "perhaps"


async def test_unknown_method(emulator: BotApiEmulator, bot: Bot) -> None:
    status, body = await raw_call(emulator, "sendTelepathy", data={"chat_id": "1"})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert emulator.violations[0].problem == "unknown method 'sendTelepathy'"


async def test_wrong_token(emulator: BotApiEmulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emulator.url}/bot1:wrong/getMe") as response,
    ):
        assert response.status == 401


async def test_get_me_and_json_requests(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    me = await bot.get_me()
    assert me.username == "zhupei_sandbox_bot" and me.is_bot and me.id == emulator.bot_id
    status, body = await raw_call(
        emulator,
        "sendMessage",
        json={
            "chat_id": chat,
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        },
    )
    assert status == 200
    assert body["result"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }


# --- Telegram's own errors and injected failures ------------------------------------


async def test_not_modified(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    sent = await bot.send_message(chat, "<b>same</b>", parse_mode="HTML", reply_markup=keyboard(1))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>same</b>",
            chat_id=chat,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard(1),
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=chat, message_id=sent.message_id, reply_markup=keyboard(1)
        )
    edited = await bot.edit_message_text(
        "<b>same</b>", chat_id=chat, message_id=sent.message_id, parse_mode="HTML"
    )
    assert edited.reply_markup is None and edited.edit_date is not None  # the keyboard went away
    emulator.assert_no_violations()


async def test_missing_messages(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=chat, message_id=999)
    sent = await bot.send_message(chat, "x")
    assert await bot.delete_message(chat, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(chat, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("y", chat_id=chat, message_id=sent.message_id)
    user_message = emulator.messages(chat)[0]
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("y", chat_id=chat, message_id=user_message.message_id)


async def test_unknown_and_unopened_chats(emulator: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello?")
    emulator.user(777)  # exists, but never opened the chat
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(777, "hello?")


async def test_injected_429(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    emulator.inject_failure(status=429, retry_after=3, method="sendMessage", chat_id=chat, times=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(chat, "x")
        assert caught.value.retry_after == 3
    await bot.send_message(chat, "now it works")
    assert [call.status for call in emulator.calls_to("sendMessage")] == [429, 429, 200]


async def test_injected_failure_matches_method_and_chat(
    emulator: BotApiEmulator, bot: Bot, chat: int
) -> None:
    emulator.inject_failure(status=500, method="sendDocument")
    emulator.inject_failure(status=429, retry_after=1, chat_id=999)
    await bot.send_message(chat, "unaffected")
    assert await bot.get_me()


async def test_blocked_chat(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    await bot.send_message(chat, "before")
    emulator.block_chat(chat)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(chat, "after")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(chat, "typing")


async def test_calls_are_recorded_with_times(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    for i in range(3):
        await bot.send_message(chat, f"m{i}")
    calls = emulator.calls_to("sendMessage")
    assert [c.params["text"] for c in calls] == ["m0", "m1", "m2"]
    assert all(c.chat_id == chat and c.status == 200 for c in calls)
    assert calls[0].monotonic <= calls[1].monotonic <= calls[2].monotonic
    assert abs(calls[0].wall_time - emulator.messages(chat)[1].sent_at) < 1


async def test_get_updates_offsets_and_long_polling(
    emulator: BotApiEmulator, bot: Bot, chat: int
) -> None:
    first = await bot.get_updates(timeout=0)
    assert [u.update_id for u in first] == [1]
    assert first[0].message is not None and first[0].message.text == "/start"
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [1]  # not confirmed yet
    assert await bot.get_updates(offset=2, timeout=1) == []
    emulator.enqueue_update({"message": {"from": emulator.user(CHAT).api, "text": "hi"}})
    later = await bot.get_updates(offset=2, timeout=5)
    assert [u.update_id for u in later] == [2]


async def test_commands_storage(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert await bot.get_my_commands(language_code="zh") == []
    assert emulator.user(CHAT).visible_commands() == [("start", "Start")]
    await bot.delete_my_commands()
    assert emulator.user(CHAT).visible_commands() == []


async def test_get_file_for_unknown_id(emulator: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_photo_upload(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    png = _tiny_png()
    sent = await bot.send_photo(
        chat, BufferedInputFile(png, "p.png"), caption="<i>pic</i>", parse_mode="HTML"
    )
    assert sent.photo is not None and sent.photo[-1].width == 2
    assert sent.caption == "pic"
    stored = emulator.messages(chat)[-1]
    assert stored.photo is not None and stored.photo.data == png
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(chat, BufferedInputFile(b"not an image", "p.png"))


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 3), "white").save(buffer, format="PNG")
    return buffer.getvalue()


async def test_other_emulated_methods(emulator: BotApiEmulator, bot: Bot, chat: int) -> None:
    seen: list[tuple[str, int]] = []
    emulator.add_listener(lambda kind, message: seen.append((kind, message.message_id)))

    document = await bot.send_document(
        chat, BufferedInputFile(b"data", "a.txt"), caption="v1", reply_markup=keyboard(1)
    )
    edited = await bot.edit_message_caption(
        chat_id=chat, message_id=document.message_id, caption="<b>v2</b>", parse_mode="HTML"
    )
    assert edited.caption == "v2" and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=chat, message_id=document.message_id)

    reply = await bot.send_message(
        chat, "re", reply_parameters=ReplyParameters(message_id=document.message_id)
    )
    assert emulator.messages(chat)[-1].reply_to_message_id == document.message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(chat, "re", reply_parameters=ReplyParameters(message_id=999))

    assert await bot.delete_messages(chat, [document.message_id, reply.message_id, 999])
    assert [m.deleted for m in emulator.messages(chat)[1:]] == [True, True]
    assert seen == [
        ("sent", document.message_id),
        ("edited", document.message_id),
        ("sent", reply.message_id),
        ("deleted", document.message_id),
        ("deleted", reply.message_id),
    ]

    assert await bot.send_chat_action(chat, "upload_document")
    assert emulator.chat(chat).chat_actions[-1][1] == "upload_document"
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(chat, "dancing")

    assert await bot.set_chat_menu_button(chat_id=chat, menu_button=MenuButtonCommands())
    assert (await bot.get_chat_menu_button(chat_id=chat)).type == "commands"
    assert await bot.set_my_description("简介", language_code="zh")
    assert (await bot.get_my_description(language_code="zh")).description == "简介"
    assert (await bot.get_my_short_description()).short_description == ""
    full = await bot.get_chat(chat)
    assert full.id == chat and full.type == "private"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert [v.method for v in emulator.violations] == ["sendChatAction"]


async def test_allowed_updates_and_polling_conflict(
    emulator: BotApiEmulator, bot: Bot, chat: int
) -> None:
    user = emulator.user(CHAT)
    skipped = emulator.enqueue_update(
        {"callback_query": {"from": user.api, "data": "x", "chat_instance": "c"}}
    )
    updates = await bot.get_updates(allowed_updates=["message"], timeout=0)
    assert [u.update_id for u in updates] == [1]
    await emulator.wait_processed(skipped, timeout=0.1)  # never delivered counts as done
    assert emulator.unanswered_callbacks == []

    waiting = asyncio.create_task(bot.get_updates(offset=3, timeout=5))
    await asyncio.sleep(0.1)
    assert await bot.get_updates(offset=3, timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await waiting
