"""Telegram's parse_mode=HTML: visible text plus MessageEntity dicts, or a parse error.

Follows the rules of https://core.telegram.org/bots/api#html-style, with one deliberate
difference: a bare "&" (or an HTML entity Telegram does not know, such as &nbsp;) is an
error here, while Telegram would show it literally. Either way it is an escaping bug in
the bot, and the emulator exists to catch those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
SPECIAL_TAGS = frozenset({"a", "span", "tg-emoji", "blockquote", "tg-time"})

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]*);")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.-]*")
_UNQUOTED_VALUE_RE = re.compile(r"[^\s\"'=<>`]+")
_PLAIN_TEXT_RE = re.compile(r"[^<&]+")
_LANGUAGE_CLASS_PREFIX = "language-"


class EntityParseError(ValueError):
    """The text cannot be parsed; the message mirrors Telegram's wording."""


class UnsupportedParseModeError(ValueError):
    """A parse_mode that Telegram knows but the emulator does not implement."""


@dataclass(frozen=True)
class FormattedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def apply_parse_mode(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> FormattedText:
    """What a message looks like once Telegram has applied parse_mode."""
    if not parse_mode:
        return FormattedText(text, list(entities or []))
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in {"markdown", "markdownv2"}:
        raise UnsupportedParseModeError(
            f"parse_mode {parse_mode!r} is not supported by the emulator; use HTML"
        )
    raise EntityParseError(f"Unsupported parse_mode {parse_mode!r}")


def parse_html(source: str) -> FormattedText:
    return _HtmlParser(source).parse()


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the visible text
    language: str | None = None  # set on <pre> by a nested <code class="language-...">


class _HtmlParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def parse(self) -> FormattedText:
        src = self.source
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                self._emit(self._read_entity())
            elif char == "<":
                if src.startswith("</", self.pos):
                    self._read_end_tag()
                elif _TAG_NAME_RE.match(src, self.pos + 1):
                    self._read_start_tag()
                else:
                    raise self._error('Unescaped "<" at byte offset {}; write "&lt;"')
            else:
                match = _PLAIN_TEXT_RE.match(src, self.pos)
                assert match is not None
                self._emit(match.group())
                self.pos = match.end()
        if self.stack:
            name = self.stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return FormattedText("".join(self.out), self.entities)

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def _byte_offset(self, pos: int | None = None) -> int:
        return len(self.source[: self.pos if pos is None else pos].encode("utf-8"))

    def _error(self, template: str, pos: int | None = None) -> EntityParseError:
        return EntityParseError(template.format(self._byte_offset(pos)))

    def _read_entity(self) -> str:
        match = _ENTITY_RE.match(self.source, self.pos)
        if match is None:
            raise self._error('Unescaped "&" at byte offset {}; write "&amp;"')
        decoded = _decode_entity(match.group(1))
        if decoded is None:
            raise self._error(f'Unsupported HTML entity "{match.group()}" at byte offset {{}}')
        self.pos = match.end()
        return decoded

    def _read_start_tag(self) -> None:
        tag_pos = self.pos
        name_match = _TAG_NAME_RE.match(self.source, self.pos + 1)
        assert name_match is not None
        name = name_match.group().lower()
        self.pos = name_match.end()
        attrs = self._read_attributes(tag_pos)
        if name not in SIMPLE_TAGS and name not in SPECIAL_TAGS:
            raise self._error(f'Unsupported start tag "{name}" at byte offset {{}}', tag_pos)
        self._check_start_tag(name, attrs)
        self.stack.append(_OpenTag(name=name, attrs=attrs, start=self.out_len))

    def _read_attributes(self, tag_pos: int) -> dict[str, str]:
        src = self.source
        attrs: dict[str, str] = {}
        while True:
            while self.pos < len(src) and src[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(src):
                raise self._error("Unclosed start tag at byte offset {}", tag_pos)
            if src[self.pos] == ">":
                self.pos += 1
                return attrs
            name_match = _ATTR_NAME_RE.match(src, self.pos)
            if name_match is None:
                raise self._error(
                    "Expected equal sign in declaration of an attribute of the "
                    "tag at byte offset {}",
                    tag_pos,
                )
            self.pos = name_match.end()
            attrs[name_match.group().lower()] = self._read_attribute_value(tag_pos)

    def _read_attribute_value(self, tag_pos: int) -> str:
        src = self.source
        if self.pos >= len(src) or src[self.pos] != "=":
            return ""  # a bare attribute such as <blockquote expandable>
        self.pos += 1
        if self.pos < len(src) and src[self.pos] in "\"'":
            quote = src[self.pos]
            end = src.find(quote, self.pos + 1)
            if end == -1:
                raise self._error("Unclosed start tag at byte offset {}", tag_pos)
            raw = src[self.pos + 1 : end]
            self.pos = end + 1
        else:
            match = _UNQUOTED_VALUE_RE.match(src, self.pos)
            if match is None:
                raise self._error("Unclosed start tag at byte offset {}", tag_pos)
            raw = match.group()
            self.pos = match.end()
        # Telegram decodes entities inside attribute values but tolerates a bare "&"
        # there, which URLs with query strings rely on.
        return _ENTITY_RE.sub(lambda m: _decode_entity(m.group(1)) or m.group(), raw)

    def _check_start_tag(self, name: str, attrs: dict[str, str]) -> None:
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise EntityParseError('Tag "tg-emoji" must have attribute "emoji-id"')
        if name == "tg-time" and not attrs.get("unix", "").lstrip("-").isdigit():
            raise EntityParseError('Tag "tg-time" must have an integer attribute "unix"')
        if name == "code" and "class" in attrs:
            css = attrs["class"]
            if (
                self.stack
                and self.stack[-1].name == "pre"
                and css.startswith(_LANGUAGE_CLASS_PREFIX)
            ):
                self.stack[-1].language = css[len(_LANGUAGE_CLASS_PREFIX) :]

    def _read_end_tag(self) -> None:
        tag_pos = self.pos
        name_match = _TAG_NAME_RE.match(self.source, self.pos + 2)
        name = name_match.group().lower() if name_match else ""
        self.pos = name_match.end() if name_match else self.pos + 2
        while self.pos < len(self.source) and self.source[self.pos].isspace():
            self.pos += 1
        if self.pos >= len(self.source) or self.source[self.pos] != ">":
            raise self._error("Unclosed end tag at byte offset {}", tag_pos)
        self.pos += 1
        if not self.stack:
            raise self._error("Unexpected end tag at byte offset {}", tag_pos)
        open_tag = self.stack.pop()
        if open_tag.name != name:
            raise self._error(
                f'Unmatched end tag at byte offset {{}}, expected "</{open_tag.name}>", '
                f'found "</{name}>"',
                tag_pos,
            )
        entity = self._entity_for(open_tag)
        if entity is not None and entity["length"] > 0:
            self.entities.append(entity)

    def _entity_for(self, tag: _OpenTag) -> dict[str, Any] | None:
        span = {"offset": tag.start, "length": self.out_len - tag.start}
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            return None  # folded into the enclosing <pre> as its language
        if tag.name in SIMPLE_TAGS:
            entity: dict[str, Any] = {"type": SIMPLE_TAGS[tag.name], **span}
            if tag.name == "pre" and tag.language:
                entity["language"] = tag.language
            return entity
        if tag.name == "span":
            return {"type": "spoiler", **span}
        if tag.name == "a":
            href = tag.attrs.get("href", "")
            return {"type": "text_link", **span, "url": href} if href else None
        if tag.name == "tg-emoji":
            return {"type": "custom_emoji", **span, "custom_emoji_id": tag.attrs["emoji-id"]}
        if tag.name == "blockquote":
            kind = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
            return {"type": kind, **span}
        if tag.name == "tg-time":
            entity = {"type": "date_time", **span, "unix_time": int(tag.attrs["unix"])}
            if tag.attrs.get("format"):
                entity["date_time_format"] = tag.attrs["format"]
            return entity
        return None


def _decode_entity(body: str) -> str | None:
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    else:
        return _NAMED_ENTITIES.get(body)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)
