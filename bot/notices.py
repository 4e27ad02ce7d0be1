"""How an outbox row becomes a chat message. Features register a renderer per notice kind;
the outbox sender renders at send time, in the recipient's language, from fresh data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import Translator
from storage.models import OutboxMessage
from workflow.context import Ctx


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


# None means "no longer relevant": the sender marks the row skipped instead of sending it.
Renderer = Callable[[Ctx, OutboxMessage, Translator], Awaitable[Rendered | None]]

_RENDERERS: dict[str, Renderer] = {}


def register(kind: str) -> Callable[[Renderer], Renderer]:
    """Decorator: `@register("result_acceptable")` on an async renderer."""

    def decorate(fn: Renderer) -> Renderer:
        if kind in _RENDERERS and _RENDERERS[kind] is not fn:
            raise ValueError(f"two renderers for notice kind {kind!r}")
        _RENDERERS[kind] = fn
        return fn

    return decorate


async def render(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    renderer = _RENDERERS.get(row.kind)
    if renderer is not None:
        return await renderer(ctx, row, i18n)
    # Plain notices: `notice.<kind>` with the payload as parameters.
    return Rendered(i18n(f"notice.{row.kind}", **(row.payload or {})))


def registered_kinds() -> set[str]:
    return set(_RENDERERS)
