"""Emulated chat messages as the page shows them: formatted text as safe HTML (built from the
text and its entities, never from the bot's markup), keyboards, files."""

from __future__ import annotations

import html
from typing import Any

from bot.emulator import ChatMessage

# Entity type -> (opening tag, closing tag); anything else is shown as plain text.
_TAGS: dict[str, tuple[str, str]] = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote>", "</blockquote>"),
}
_SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")


def _open_close(entity: dict[str, Any]) -> tuple[str, str] | None:
    kind = entity.get("type")
    if kind == "text_link":
        url = str(entity.get("url", ""))
        if not url.startswith(_SAFE_SCHEMES):
            return None
        href = html.escape(url, quote=True)
        return f'<a href="{href}" target="_blank" rel="noopener">', "</a>"
    return _TAGS.get(str(kind))


def entities_to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """HTML of `text` with its entities (offsets in UTF-16 code units), every character
    escaped; nested entities are closed and reopened where they cross."""
    units = text.encode("utf-16-le")
    events: dict[int, list[tuple[int, str]]] = {}
    for index, entity in enumerate(entities):
        tags = _open_close(entity)
        if tags is None:
            continue
        start, end = entity["offset"], entity["offset"] + entity["length"]
        events.setdefault(start, []).append((index, "open"))
        events.setdefault(end, []).append((index, "close"))
    out: list[str] = []
    stack: list[int] = []
    cuts = sorted(set(events) | {0, len(units) // 2})
    for a, b in zip(cuts, [*cuts[1:], None], strict=True):
        closing = {i for i, kind in events.get(a, []) if kind == "close"}
        if closing:
            # Close down to the deepest entity that ends here, reopen the others.
            reopen: list[int] = []
            while stack and closing:
                top = stack.pop()
                out.append(_open_close(entities[top])[1])  # type: ignore[index]
                if top in closing:
                    closing.discard(top)
                else:
                    reopen.append(top)
            for i in reversed(reopen):
                out.append(_open_close(entities[i])[0])  # type: ignore[index]
                stack.append(i)
        for i, kind in events.get(a, []):
            if kind == "open":
                out.append(_open_close(entities[i])[0])  # type: ignore[index]
                stack.append(i)
        if b is not None:
            chunk = units[a * 2 : b * 2].decode("utf-16-le", errors="replace")
            out.append(html.escape(chunk, quote=False))
    while stack:
        out.append(_open_close(entities[stack.pop()])[1])  # type: ignore[index]
    return "".join(out).replace("\n", "<br>")


def _file(stored: Any) -> dict[str, Any] | None:
    if stored is None:
        return None
    return {
        "id": stored.file_id,
        "name": stored.file_name or stored.file_path.rsplit("/", 1)[-1],
        "size": stored.size,
        "mime": stored.mime_type or "",
    }


def _inline_button(button: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"text": button["text"]}
    if "url" in button:
        shown["url"] = button["url"]
    if "web_app" in button:
        shown["web_app"] = button["web_app"].get("url", "")
    shown["pressable"] = "callback_data" in button
    return shown


def message_view(message: ChatMessage) -> dict[str, Any]:
    text = message.text or ""
    return {
        "id": message.message_id,
        "seq": message.seq,
        "from_bot": message.from_bot,
        "html": entities_to_html(text, message.entities) if text else "",
        "date": message.sent_at,
        "edited": message.edited,
        "deleted": message.deleted,
        "document": _file(message.document),
        "photo": _file(message.photo),
        "contact": (message.contact or {}).get("phone_number"),
        "buttons": [[_inline_button(b) for b in row] for row in message.inline_keyboard],
    }


def reply_keyboard_view(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]] | None:
    if not markup:
        return None
    return [
        [{"text": b["text"], "contact": bool(b.get("request_contact"))} for b in row]
        for row in markup.get("keyboard", [])
    ]
