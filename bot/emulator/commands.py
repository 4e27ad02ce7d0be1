"""Bot command lists per scope and language, and what a private or group chat ends up seeing."""

from __future__ import annotations

from typing import Any

from bot.emulator.models import Command

ScopeKey = tuple[Any, ...]
DEFAULT_SCOPE: ScopeKey = ("default",)


def scope_key(scope: dict[str, Any] | None) -> ScopeKey:
    if not scope:
        return DEFAULT_SCOPE
    kind = scope["type"]
    if kind in {"chat", "chat_administrators"}:
        return (kind, scope["chat_id"])
    if kind == "chat_member":
        return (kind, scope["chat_id"], scope["user_id"])
    return (kind,)


class CommandRegistry:
    def __init__(self) -> None:
        self._lists: dict[tuple[ScopeKey, str], list[Command]] = {}

    def set(self, scope: dict[str, Any] | None, language_code: str, commands: list[dict]) -> None:
        key = (scope_key(scope), language_code or "")
        if commands:
            self._lists[key] = [Command(c["command"], c["description"]) for c in commands]
        else:
            self._lists.pop(key, None)

    def get(self, scope: dict[str, Any] | None, language_code: str) -> list[Command]:
        return list(self._lists.get((scope_key(scope), language_code or ""), []))

    def delete(self, scope: dict[str, Any] | None, language_code: str) -> None:
        self._lists.pop((scope_key(scope), language_code or ""), None)

    def visible_in_private_chat(self, chat_id: int, language_code: str | None) -> list[Command]:
        """Telegram's lookup order: the chat's own scope, then all private chats, then
        the default scope; within each, the user's language before the language-less
        list. A user language such as "zh-hans" also matches a list set for "zh"."""
        languages = _language_candidates(language_code)
        for scope in (("chat", chat_id), ("all_private_chats",), DEFAULT_SCOPE):
            for language in languages:
                commands = self._lists.get((scope, language))
                if commands:
                    return list(commands)
        return []

    def visible_in_group_chat(self, chat_id: int, language_code: str | None) -> list[Command]:
        """What a member of a group sees: the chat's scope, all group chats, the default."""
        languages = _language_candidates(language_code)
        for scope in (("chat", chat_id), ("all_group_chats",), DEFAULT_SCOPE):
            for language in languages:
                commands = self._lists.get((scope, language))
                if commands:
                    return list(commands)
        return []


def _language_candidates(language_code: str | None) -> list[str]:
    if not language_code:
        return [""]
    code = language_code.lower()
    candidates = [code, code.split("-")[0], ""]
    return list(dict.fromkeys(candidates))
