"""What a persona can do in the sandbox and what the page reads: every action goes to the bot
as an update through the emulator, exactly as a Telegram client would send it, and waits until
the bot has handled it."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.emulator import BotApiEmulator, ChatMessage, ScriptedUser
from bot.emulator.html import utf16_len
from bot.emulator.webapp import launch_fragment, signed_init_data
from bot.services import Services
from bot.webchat.clock import DemoClock
from bot.webchat.events import Hub
from bot.webchat.personas import BY_KEY, PERSONAS, Persona
from bot.webchat.render import message_view, reply_keyboard_view

log = logging.getLogger("zhupei.sandbox")

ACTION_TIMEOUT = 30.0


class ActionError(Exception):
    """Something the page asked cannot be done (an unknown persona, a vanished button)."""


@dataclass
class Outcome:
    """What the page shows after an action: the callback's answer, or a problem."""

    toast: str | None = None
    alert: bool = False
    error: str | None = None

    def view(self) -> dict[str, Any]:
        return {"toast": self.toast, "alert": self.alert, "error": self.error}


@dataclass
class Sandbox:
    emulator: BotApiEmulator
    services: Services
    clock: DemoClock
    hub: Hub
    wake_sender: Any = None  # called after the clock moved and a sweep enqueued notices
    sweep: Any = None  # async () -> None
    seen_problems: int = 0
    problems: list[str] = field(default_factory=list)

    # --- people -------------------------------------------------------------

    def persona(self, key: str) -> Persona:
        persona = BY_KEY.get(key)
        if persona is None:
            raise ActionError(f"no persona {key!r}")
        return persona

    def user(self, persona: Persona) -> ScriptedUser:
        user = self.emulator.user(
            persona.user_id,
            first_name=persona.first_name,
            language_code="zh-hans",
            phone_number=persona.phone,
        )
        user.timeout = ACTION_TIMEOUT
        return user

    # --- reading ------------------------------------------------------------

    def chat_view(self, key: str) -> dict[str, Any]:
        persona = self.persona(key)
        chat = self.emulator.chat(persona.user_id)
        messages = list(chat.messages) if chat else []
        return {
            "persona": persona.key,
            "messages": [message_view(m) for m in messages],
            "reply_keyboard": reply_keyboard_view(chat.reply_keyboard if chat else None),
            "commands": [
                {"command": c.command, "description": c.description}
                for c in self.emulator.visible_commands(persona.user_id, "zh-hans")
            ],
            "menu_app": self._menu_app(chat.menu_button if chat else None),
        }

    def _menu_app(self, button: dict[str, Any] | None) -> dict[str, str] | None:
        """The chat's menu button when it opens a Mini App (the chat's own, or the default)."""
        button = button or self.emulator.state.default_menu_button
        if not button or button.get("type") != "web_app":
            return None
        return {"text": button.get("text", ""), "url": button.get("web_app", {}).get("url", "")}

    def open_miniapp(self, key: str, url: str, language: str) -> str:
        """The address the page opens a Mini App button at: the same page of the Mini App this
        server serves, with init data signed by the emulator's token for the persona."""
        persona = self.persona(key)
        path = urlsplit(url).path
        if not path.startswith("/app/"):
            raise ActionError(f"not a page of the Mini App: {url}")
        init_data = signed_init_data(
            self.emulator.token,
            persona.user_id,
            first_name=persona.first_name,
            language_code="en" if language == "en" else "zh-hans",
        )
        return path + launch_fragment(init_data)

    def meta_view(self, log_lines: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "personas": [p.view() for p in PERSONAS],
            "clock": self.clock_view(),
            "problems": list(self.problems),
            "log": log_lines,
        }

    def clock_view(self) -> dict[str, Any]:
        tz = self.services.settings.tz
        now = self.clock.now().astimezone(tz)
        return {
            "now": now.strftime("%Y-%m-%d %H:%M"),
            "weekday": now.isoweekday(),
            "timezone": str(tz),
            "offset_hours": round(self.clock.offset.total_seconds() / 3600, 2),
        }

    # --- acting -------------------------------------------------------------

    async def send_text(self, key: str, text: str) -> Outcome:
        text = text.strip()
        if not text:
            raise ActionError("empty message")
        user = self.user(self.persona(key))
        body: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return await self._submit(user, {"message": {"from": user.api, **body}})

    async def press(self, key: str, message_id: int, row: int, column: int) -> Outcome:
        user = self.user(self.persona(key))
        message = self._bot_message(user, message_id)
        try:
            button = message.inline_keyboard[row][column]
        except IndexError:
            raise ActionError("that button is no longer there") from None
        if "callback_data" not in button:
            raise ActionError("that button sends nothing to the bot")
        query_id = self.emulator.next_callback_id()
        query = {
            "id": query_id,
            "from": user.api,
            "message": message.to_api(),
            "chat_instance": f"ci{user.chat_id}",
            "data": button["callback_data"],
        }
        outcome = await self._submit(user, {"callback_query": query})
        answer = self.emulator.state.callbacks[query_id].answer or {}
        outcome.toast = answer.get("text")
        outcome.alert = bool(answer.get("show_alert"))
        return outcome

    async def reply_button(self, key: str, row: int, column: int) -> Outcome:
        persona = self.persona(key)
        chat = self.emulator.chat(persona.user_id)
        try:
            button = (chat.reply_keyboard or {})["keyboard"][row][column]  # type: ignore[union-attr]
        except (KeyError, IndexError, AttributeError):
            raise ActionError("that keyboard is no longer shown") from None
        if button.get("request_contact"):
            return await self.share_contact(key)
        return await self.send_text(key, button["text"])

    async def share_contact(self, key: str) -> Outcome:
        persona = self.persona(key)
        user = self.user(persona)
        contact = {
            "phone_number": persona.phone,
            "first_name": persona.first_name,
            "user_id": persona.user_id,
        }
        return await self._submit(user, {"message": {"from": user.api, "contact": contact}})

    async def upload(self, key: str, name: str, data: bytes, mime: str) -> Outcome:
        user = self.user(self.persona(key))
        files = self.emulator.state.files
        if mime.startswith("image/"):
            stored = files.add(data, kind="photos", file_name=name, mime_type=mime)
            body: dict[str, Any] = {"photo": stored.photo_api()}
        else:
            stored = files.add(data, kind="documents", file_name=name, mime_type=mime or None)
            body = {"document": stored.document_api()}
        return await self._submit(user, {"message": {"from": user.api, **body}})

    async def advance(self, hours: float) -> dict[str, Any]:
        self.clock.advance(timedelta(hours=hours))
        log.info("demo clock moved %s h forward: now %s", hours, self.clock_view()["now"])
        self.hub.publish({"type": "clock", "clock": self.clock_view()})
        if self.sweep is not None:
            await self.sweep()
        return self.clock_view()

    # --- internals ----------------------------------------------------------

    def _bot_message(self, user: ScriptedUser, message_id: int) -> ChatMessage:
        chat = self.emulator.chat(user.chat_id)
        message = chat.find(message_id) if chat else None
        if message is None or message.deleted or not message.from_bot:
            raise ActionError("that message is no longer there")
        return message

    async def _submit(self, user: ScriptedUser, update: dict[str, Any]) -> Outcome:
        record, _message = self.emulator.submit_update(update)
        self.hub.publish({"type": "chat", "user_id": user.user_id})
        try:
            await self.emulator.wait_processed(record.update_id, ACTION_TIMEOUT)
        except AssertionError as exc:
            text = _first_line(str(exc))
            log.error("sandbox: %s", text)
            return Outcome(error=text)
        return Outcome()

    # --- problems -----------------------------------------------------------

    def collect_problems(self) -> list[str]:
        """New Bot API violations and emulator errors since the last call (logged too)."""
        found = [f"Bot API violation: {v}" for v in self.emulator.violations]
        found += [f"emulator error: {e!r}" for e in self.emulator.internal_errors]
        fresh = found[self.seen_problems :]
        self.seen_problems = len(found)
        for problem in fresh:
            log.error("%s", problem)
            self.problems.append(problem)
            self.hub.publish({"type": "problem", "text": problem}, False)
        return fresh

    async def watch_problems(self) -> None:
        while True:
            self.collect_problems()
            await asyncio.sleep(0.5)


def _first_line(text: str) -> str:
    return re.split(r"\n", text, maxsplit=1)[0][:500]
