"""Long lists of choices in chat (bases, specialties, 民族…): one page at a time, and filtered by
what the user types while the list is shown, matched on the characters or on pinyin
(`workflow.search`).

A screen that shows such a list says so with `shown(state, screen, key)`: the dialog data then
holds which list it is (`key` names the list and what it belongs to, e.g. an application's step),
the dialog state it was shown in, and the text typed for it. A typed message while a list is
shown goes to the screen's renderer, registered by name with `build_router`; a renderer that
finds its list no longer current returns False and the user gets the ordinary hint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message

from bot.i18n import Translator
from bot.keyboards import PAGE_SIZE, page_of, pager_row
from workflow.search import search

T = TypeVar("T")
LIST_KEY = "list"
QUERY_MAX = 40

# (the typed message or the ✖ press, the list's key, the handler data) -> shown; a renderer
# answers a press itself.
Renderer = Callable[[Message | CallbackQuery, str, dict[str, Any]], Awaitable[bool]]


class ListCb(CallbackData, prefix="lst"):
    op: str  # "clear": show the whole list again


@dataclass(frozen=True)
class Choices(Generic[T]):
    shown: Sequence[T]
    page: int
    pages: int
    query: str
    matched: int


def choose(
    items: Sequence[T],
    page: int,
    query: str,
    texts: Callable[[T], Sequence[str]],
    size: int = PAGE_SIZE,
) -> Choices[T]:
    """The page of the items that match the query (all of them without one)."""
    found = search(items, query, texts) if query else list(items)
    shown, page, pages = page_of(found, page, size)
    return Choices(shown, page, pages, query, len(found))


def hint(i18n: Translator, choices: Choices[Any]) -> list[str]:
    """The line above the buttons: what the filter found, or that typing filters."""
    if choices.query:
        if not choices.matched:
            return [i18n("lists.no_match", query=choices.query)]
        return [i18n("lists.filtered", query=choices.query, n=choices.matched)]
    if choices.pages > 1:
        return [i18n("lists.hint")]
    return []


def rows(
    i18n: Translator, choices: Choices[Any], make_page: Callable[[int], CallbackData]
) -> list[list[InlineKeyboardButton]]:
    """The pager and, while filtered, the button that shows the whole list again."""
    out = [pager_row(i18n, choices.page, choices.pages, make_page)]
    if choices.query:
        out.append(
            [
                InlineKeyboardButton(
                    text=i18n("lists.clear"), callback_data=ListCb(op="clear").pack()
                )
            ]
        )
    return [r for r in out if r]


async def shown(state: FSMContext, screen: str, key: str) -> str:
    """Record that this list is on screen; returns the text typed for it while it still is the
    same list (a page turn keeps the filter, another list starts unfiltered)."""
    data = await state.get_data()
    current = data.get(LIST_KEY) or {}
    dialog = await state.get_state()
    same = (current.get("s"), current.get("k"), current.get("st")) == (screen, key, dialog)
    query = str(current.get("q", "")) if same else ""
    if not same:
        await state.update_data({LIST_KEY: {"s": screen, "k": key, "q": query, "st": dialog}})
    return query


async def forget(state: FSMContext) -> None:
    data = await state.get_data()
    if LIST_KEY in data:
        data.pop(LIST_KEY)
        await state.set_data(data)


async def _listed(message: Message, state: FSMContext) -> bool:
    """Typed text while a list is shown, in the dialog state it was shown in: a question asked
    since (another state) gets its answer, not a filtered list."""
    if not message.text or message.text.startswith("/"):
        return False
    current = (await state.get_data()).get(LIST_KEY)
    return bool(current) and current.get("st") == await state.get_state()


def build_router(screens: Mapping[str, Renderer]) -> Router:
    """Typed text while a list is shown filters it; ✖ shows it whole again. Placed before the
    features' routers, so it also answers inside a dialog's state that shows a list."""
    router = Router(name="lists")

    async def render(
        event: Message | CallbackQuery, state: FSMContext, query: str, data: dict[str, Any]
    ) -> bool:
        current = dict((await state.get_data()).get(LIST_KEY) or {})
        screen = screens.get(str(current.get("s")))
        if screen is None:
            await forget(state)
            return False
        current["q"] = query
        await state.update_data({LIST_KEY: current})
        if await screen(event, str(current.get("k", "")), {**data, "state": state}):
            return True
        await forget(state)
        return False

    @router.message(_listed)
    async def typed(message: Message, state: FSMContext, i18n: Translator, **data: Any) -> None:
        query = " ".join((message.text or "").split())[:QUERY_MAX]
        if not await render(message, state, query, {**data, "i18n": i18n}):
            await message.answer(i18n("common.unknown_command"))

    @router.callback_query(ListCb.filter(F.op == "clear"))
    async def clear(query: CallbackQuery, state: FSMContext, i18n: Translator, **data: Any) -> None:
        # A renderer answers the press itself (staff screens answer as they edit).
        if not await render(query, state, "", {**data, "i18n": i18n}):
            await query.answer(i18n("error.stale"), show_alert=True)

    return router
