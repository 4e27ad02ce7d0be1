"""A local Telegram Bot API emulator and scripted users: the end-to-end test harness
and the sandbox the bot talks to when it runs without a Telegram token.

Typical test::

    async with BotApiEmulator() as emulator:
        async with run_polling(build_dispatcher(), emulator):  # installs ProcessedTracker
            user = emulator.user(1001, first_name="李雷")
            await user.command("start")           # returns once the bot has handled it
            assert user.last_bot_message().buttons == [["申请"]]
            await user.press("申请")
        emulator.assert_no_violations()
"""

from bot.emulator.chats import ChatMessage, ChatState, StoredFile
from bot.emulator.harness import make_bot, run_polling
from bot.emulator.html import EntityParseError, FormattedText, apply_parse_mode, parse_html
from bot.emulator.models import CallRecord, Command, Problem, UploadedFile, Violation
from bot.emulator.server import DEFAULT_TOKEN, BotApiEmulator, InjectedFailure
from bot.emulator.spec import DEFAULT_SPEC_PATH, ApiSpec
from bot.emulator.state import ApiError, CallbackRecord
from bot.emulator.tracking import ProcessedTracker
from bot.emulator.user import ScriptedUser
from bot.emulator.validation import RequestValidator, ValidatedRequest

__all__ = [
    "DEFAULT_SPEC_PATH",
    "DEFAULT_TOKEN",
    "ApiError",
    "ApiSpec",
    "BotApiEmulator",
    "CallRecord",
    "CallbackRecord",
    "ChatMessage",
    "ChatState",
    "Command",
    "EntityParseError",
    "FormattedText",
    "InjectedFailure",
    "Problem",
    "ProcessedTracker",
    "RequestValidator",
    "ScriptedUser",
    "StoredFile",
    "UploadedFile",
    "ValidatedRequest",
    "Violation",
    "apply_parse_mode",
    "make_bot",
    "parse_html",
    "run_polling",
]
