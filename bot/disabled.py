"""A chat bound to a disabled staff account: every update is refused, audited, and the chat's
own command menu is removed (Telegram then shows the default guest menu)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommandScopeChat, TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.chat_scope import in_private_chat
from bot.i18n import Translator, normalize_locale
from bot.menus import set_chat_menu
from bot.replies import chat_id_of, tell
from storage.models import TelegramUser
from workflow import staff_accounts
from workflow.context import Ctx
from workflow.enums import Role


def _what(update: Update) -> str | None:
    if update.callback_query is not None:
        return "button"
    if update.message is not None:
        text = update.message.text or ""
        return "command" if text.startswith("/") else "message"
    return None  # a chat member change, say: nothing to answer


async def refuse_if_disabled(
    ctx: Ctx,
    session: AsyncSession,
    bot: Bot,
    event: TelegramObject,
    tg: TelegramUser | None,
    i18n: Translator,
) -> bool:
    """True when the update came from a disabled staff account and was refused here."""
    if tg is None or tg.account_id is None or not isinstance(event, Update):
        return False
    if not in_private_chat(event):
        return False  # bot/chat_scope.py answers there, without a word about the account
    what = _what(event)
    if what is None:
        return await staff_accounts.disabled_account(ctx, tg) is not None
    account = await staff_accounts.refuse_disabled(ctx, tg, what)
    if account is None:
        return False
    await session.commit()
    chat_id = chat_id_of(event) or tg.chat_id or tg.id
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
    await tell(bot, event, i18n("account.disabled"))
    return True


async def update_chat_menu(
    bot: Bot, tg: TelegramUser, role: Role, active: bool, i18n: Translator
) -> None:
    """Right after a change of state: the chat's own menu goes, or comes back in the language
    its user chose (`i18n` is the fallback)."""
    scope = BotCommandScopeChat(chat_id=tg.chat_id or tg.id)
    if not active:
        await bot.delete_my_commands(scope=scope)
        return
    locale = tg.locale or normalize_locale(tg.language_code) or i18n.locale
    await set_chat_menu(bot, tg.chat_id or tg.id, role, Translator(locale, i18n.tz))
