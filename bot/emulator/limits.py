"""Documented Bot API limits that the type declarations in api.json do not express.

Each check receives the parameters already converted to JSON types and returns the
problems it found, worded like Telegram's error descriptions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.emulator.html import EntityParseError, UnsupportedParseModeError, apply_parse_mode
from bot.emulator.models import Problem

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION_LENGTH = 256
MAX_DELETE_MESSAGES = 100
# setMyDescription, setMyShortDescription, setMyName: parameter -> maximum length
PROFILE_TEXT_LIMITS = {"description": 512, "short_description": 120, "name": 64}

COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
LANGUAGE_CODE_RE = re.compile(r"[a-z]{2}")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Exactly one of these must be set on an inline keyboard button.
INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_BUTTON_URL_RE = re.compile(r"(https?|tg)://\S+", re.IGNORECASE)


@dataclass(frozen=True)
class _TextRule:
    field: str
    min_length: int
    max_length: int
    too_long: str


_TEXT = _TextRule("text", 1, MAX_TEXT_LENGTH, "message is too long")
_CAPTION = _TextRule("caption", 0, MAX_CAPTION_LENGTH, "message caption is too long")
FORMATTED_TEXT_RULES: dict[str, _TextRule] = {
    "sendMessage": _TEXT,
    "editMessageText": _TEXT,
    **dict.fromkeys(
        (
            "sendDocument",
            "sendPhoto",
            "sendVideo",
            "sendAudio",
            "sendAnimation",
            "sendVoice",
            "sendPaidMedia",
            "copyMessage",
            "editMessageCaption",
        ),
        _CAPTION,
    ),
}


def check_limits(method: str, params: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    rule = FORMATTED_TEXT_RULES.get(method)
    if rule is not None:
        problems += _check_formatted_text(rule, params)
    markup = params.get("reply_markup")
    if isinstance(markup, dict):
        problems += check_reply_markup(markup)
    method_check = _METHOD_CHECKS.get(method)
    if method_check is not None:
        problems += method_check(params)
    return problems


def _check_formatted_text(rule: _TextRule, params: dict[str, Any]) -> list[Problem]:
    raw = params.get(rule.field)
    if raw is None:
        return []
    try:
        formatted = apply_parse_mode(raw, params.get("parse_mode"))
    except UnsupportedParseModeError as error:
        return [Problem(str(error), "parse_mode")]
    except EntityParseError as error:
        return [Problem(f"can't parse entities: {error}", rule.field)]
    length = len(formatted.text)
    if rule.min_length > 0 and not formatted.text.strip():
        return [Problem("message text is empty", rule.field)]
    if length > rule.max_length:
        return [
            Problem(
                f"{rule.too_long} ({length} characters after entity parsing, "
                f"at most {rule.max_length})",
                rule.field,
            )
        ]
    return []


def check_reply_markup(markup: dict[str, Any]) -> list[Problem]:
    if "inline_keyboard" in markup:
        return _check_inline_keyboard(markup["inline_keyboard"])
    if "keyboard" in markup:
        return _check_reply_keyboard(markup["keyboard"])
    return []


def _check_inline_keyboard(rows: list[list[dict[str, Any]]]) -> list[Problem]:
    problems: list[Problem] = []
    count = sum(len(row) for row in rows)
    if count > MAX_INLINE_BUTTONS:
        problems.append(
            Problem(
                f"reply markup is too long ({count} inline buttons, at most {MAX_INLINE_BUTTONS})",
                "reply_markup.inline_keyboard",
            )
        )
    for r, row in enumerate(rows):
        for c, button in enumerate(row):
            problems += _check_inline_button(button, f"reply_markup.inline_keyboard[{r}][{c}]")
    return problems


def _check_inline_button(button: dict[str, Any], path: str) -> list[Problem]:
    problems: list[Problem] = []
    if not button.get("text"):
        problems.append(Problem("BUTTON_TEXT_INVALID: the button text is empty", path))
    actions = [name for name in INLINE_BUTTON_ACTIONS if name in button]
    if not actions:
        problems.append(
            Problem(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard",
                path,
            )
        )
    elif len(actions) > 1:
        problems.append(
            Problem(
                "can't parse inline keyboard button: exactly one of "
                f"{', '.join(actions)} may be set",
                path,
            )
        )
    data = button.get("callback_data")
    if data is not None:
        size = len(data.encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            problems.append(
                Problem(
                    f"BUTTON_DATA_INVALID: callback_data is {size} bytes in UTF-8, "
                    f"allowed 1-{MAX_CALLBACK_DATA_BYTES}",
                    f"{path}.callback_data",
                )
            )
    url = button.get("url")
    if url is not None and not _BUTTON_URL_RE.fullmatch(url):
        problems.append(Problem(f"BUTTON_URL_INVALID: {url!r}", f"{path}.url"))
    return problems


def _check_reply_keyboard(rows: list[list[dict[str, Any]]]) -> list[Problem]:
    problems: list[Problem] = []
    for r, row in enumerate(rows):
        for c, button in enumerate(row):
            if not button.get("text"):
                problems.append(
                    Problem(
                        "BUTTON_TEXT_INVALID: the button text is empty",
                        f"reply_markup.keyboard[{r}][{c}]",
                    )
                )
    return problems


def _check_edit_target(params: dict[str, Any]) -> list[Problem]:
    if "inline_message_id" in params:
        return []
    problems = []
    if "chat_id" not in params:
        problems.append(Problem("chat_id is required unless inline_message_id is given"))
    if "message_id" not in params:
        problems.append(Problem("message identifier is not specified"))
    return problems


def _check_callback_answer(params: dict[str, Any]) -> list[Problem]:
    text = params.get("text") or ""
    if len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        return [
            Problem(
                f"MESSAGE_TOO_LONG: callback answer text is {len(text)} characters, "
                f"at most {MAX_CALLBACK_ANSWER_LENGTH}",
                "text",
            )
        ]
    return []


def _check_language_code(params: dict[str, Any]) -> list[Problem]:
    code = params.get("language_code")
    if code and not LANGUAGE_CODE_RE.fullmatch(code):
        return [
            Problem(
                f"invalid language code {code!r}: must be empty or a two-letter ISO 639-1 code",
                "language_code",
            )
        ]
    return []


def _check_commands(params: dict[str, Any]) -> list[Problem]:
    problems = _check_language_code(params)
    commands = params.get("commands", [])
    if len(commands) > MAX_COMMANDS:
        problems.append(
            Problem(f"too many commands ({len(commands)}, at most {MAX_COMMANDS})", "commands")
        )
    for index, item in enumerate(commands):
        path = f"commands[{index}]"
        if not COMMAND_RE.fullmatch(item.get("command", "")):
            problems.append(
                Problem(
                    f"BOT_COMMAND_INVALID: {item.get('command')!r} must be 1-32 characters "
                    "of a-z, 0-9 and _",
                    f"{path}.command",
                )
            )
        description = item.get("description", "")
        if not 1 <= len(description) <= MAX_COMMAND_DESCRIPTION_LENGTH:
            problems.append(
                Problem(
                    f"BOT_COMMAND_DESCRIPTION_INVALID: description is {len(description)} "
                    f"characters, allowed 1-{MAX_COMMAND_DESCRIPTION_LENGTH}",
                    f"{path}.description",
                )
            )
    return problems


def _check_chat_action(params: dict[str, Any]) -> list[Problem]:
    action = params.get("action")
    if action not in CHAT_ACTIONS:
        return [Problem(f"wrong parameter action in request: {action!r}", "action")]
    return []


def _check_delete_messages(params: dict[str, Any]) -> list[Problem]:
    count = len(params.get("message_ids", []))
    if not 1 <= count <= MAX_DELETE_MESSAGES:
        return [
            Problem(
                f"message_ids must list 1-{MAX_DELETE_MESSAGES} messages, got {count}",
                "message_ids",
            )
        ]
    return []


def _check_profile_text(params: dict[str, Any]) -> list[Problem]:
    problems = _check_language_code(params)
    for name, limit in PROFILE_TEXT_LIMITS.items():
        text = params.get(name)
        if text is not None and len(text) > limit:
            problems.append(
                Problem(f"{name} is too long ({len(text)} characters, at most {limit})", name)
            )
    return problems


_METHOD_CHECKS: dict[str, Callable[[dict[str, Any]], list[Problem]]] = {
    "editMessageText": _check_edit_target,
    "editMessageCaption": _check_edit_target,
    "editMessageReplyMarkup": _check_edit_target,
    "answerCallbackQuery": _check_callback_answer,
    "setMyCommands": _check_commands,
    "getMyCommands": _check_language_code,
    "deleteMyCommands": _check_language_code,
    "setMyDescription": _check_profile_text,
    "setMyShortDescription": _check_profile_text,
    "setMyName": _check_profile_text,
    "sendChatAction": _check_chat_action,
    "deleteMessages": _check_delete_messages,
}
