"""RequestValidator and the HTML parser on their own, without the server."""

from __future__ import annotations

import json

import pytest

from bot.emulator import EntityParseError, RequestValidator, UploadedFile, parse_html
from bot.emulator.html import apply_parse_mode, utf16_len


@pytest.fixture(scope="module")
def validator() -> RequestValidator:
    return RequestValidator()


def messages(validator: RequestValidator, method: str, params: dict) -> list[str]:
    return [str(problem) for problem in validator.validate(method, params)]


def inline_markup(rows: list[list[dict]]) -> str:
    return json.dumps({"inline_keyboard": rows})


# --- HTML ----------------------------------------------------------------------


def test_html_visible_text_and_entities() -> None:
    parsed = parse_html('<b>粗体 <i>it</i></b> &lt;tag&gt; <a href="https://x.org/?a=1&b=2">l</a>')
    assert parsed.text == "粗体 it <tag> l"
    assert parsed.entities == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "italic", "offset": 3, "length": 2},
        {"type": "text_link", "offset": 12, "length": 1, "url": "https://x.org/?a=1&b=2"},
    ]


def test_html_pre_with_language_spoiler_and_blockquote() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        "<blockquote expandable>q</blockquote>"
    )
    assert parsed.text == "x = 1stq"
    assert [e["type"] for e in parsed.entities] == [
        "pre",
        "spoiler",
        "spoiler",
        "expandable_blockquote",
    ]
    assert parsed.entities[0]["language"] == "python"


def test_html_offsets_count_utf16_units() -> None:
    parsed = parse_html("😀<b>x</b>")
    assert utf16_len("😀") == 2
    assert parsed.entities == [{"type": "bold", "offset": 2, "length": 1}]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'Unescaped "<" at byte offset 2'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;"'),
        ("line<br>next", 'Unsupported start tag "br" at byte offset 4'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have attribute "emoji-id"'),
        ("中<b", "Unclosed start tag at byte offset 3"),
    ],
)
def test_html_errors(source: str, error: str) -> None:
    with pytest.raises(EntityParseError, match=error.replace("(", r"\(")):
        parse_html(source)


def test_markdown_is_refused_as_unsupported() -> None:
    with pytest.raises(ValueError, match="not supported by the emulator"):
        apply_parse_mode("*x*", "MarkdownV2")


# --- request validation ------------------------------------------------------------


def test_valid_form_request_is_converted(validator: RequestValidator) -> None:
    checked = validator.check(
        "sendMessage",
        {
            "chat_id": "42",
            "text": "<b>hi</b>",
            "parse_mode": "HTML",
            "disable_notification": "true",
            "reply_markup": inline_markup([[{"text": "A", "callback_data": "a"}]]),
        },
    )
    assert checked.ok, checked.problems
    assert checked.params["chat_id"] == 42
    assert checked.params["disable_notification"] is True
    assert checked.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"


def test_method_names_are_case_insensitive(validator: RequestValidator) -> None:
    assert validator.check("SENDMESSAGE", {"chat_id": 1, "text": "x"}).method == "sendMessage"


def test_unknown_method(validator: RequestValidator) -> None:
    assert messages(validator, "sendTelepathy", {}) == ["unknown method 'sendTelepathy'"]


def test_unknown_parameter(validator: RequestValidator) -> None:
    assert messages(validator, "sendMessage", {"chat_id": "1", "text": "x", "colour": "red"}) == [
        "unknown parameter 'colour' for method sendMessage"
    ]


def test_missing_required_parameter(validator: RequestValidator) -> None:
    assert messages(validator, "sendMessage", {"text": "x"}) == ["parameter 'chat_id' is required"]


def test_wrong_types(validator: RequestValidator) -> None:
    problems = messages(
        validator,
        "editMessageText",
        {"chat_id": "1", "message_id": "seven", "text": "x", "disable_web_page_preview": "1"},
    )
    assert "expected Integer, got 'seven' (in message_id)" in problems
    nested = messages(
        validator,
        "sendMessage",
        {
            "chat_id": 1,
            "text": "x",
            "reply_markup": inline_markup([[{"text": "A", "callback_data": 5}]]),
        },
    )
    assert nested == [
        "expected String, got 5 (in reply_markup.inline_keyboard[0][0].callback_data)"
    ]


def test_union_reports_every_alternative(validator: RequestValidator) -> None:
    assert messages(validator, "sendMessage", {"chat_id": {"id": 1}, "text": "x"}) == [
        "expected Integer or String, got an object (in chat_id)"
    ]


def test_discriminated_subtype(validator: RequestValidator) -> None:
    commands = json.dumps([{"command": "start", "description": "Start"}])
    ok = {"commands": commands, "scope": json.dumps({"type": "chat", "chat_id": 5})}
    assert messages(validator, "setMyCommands", ok) == []
    missing = {"commands": commands, "scope": json.dumps({"type": "chat"})}
    assert messages(validator, "setMyCommands", missing) == [
        "field 'chat_id' of BotCommandScopeChat is required (in scope.chat_id)"
    ]


def test_text_length_counts_visible_characters(validator: RequestValidator) -> None:
    visible_4096 = "<b>" + "字" * 4096 + "</b>"
    assert (
        messages(
            validator, "sendMessage", {"chat_id": 1, "text": visible_4096, "parse_mode": "HTML"}
        )
        == []
    )
    assert messages(validator, "sendMessage", {"chat_id": 1, "text": "a" * 4097}) == [
        "message is too long (4097 characters after entity parsing, at most 4096) (in text)"
    ]
    assert messages(
        validator, "sendMessage", {"chat_id": 1, "text": "<b> </b>", "parse_mode": "HTML"}
    ) == ["message text is empty (in text)"]


def test_caption_limit(validator: RequestValidator) -> None:
    document = UploadedFile("a.pdf", b"%PDF")
    problems = validator.validate(
        "sendDocument",
        {"chat_id": 1, "document": "attach://f", "caption": "c" * 1025},
        {"f": document},
    )
    assert [p.message.split(" (")[0] for p in problems] == ["message caption is too long"]


def test_file_parts(validator: RequestValidator) -> None:
    document = UploadedFile("a.pdf", b"%PDF")
    checked = validator.check(
        "sendDocument", {"chat_id": "1", "document": "attach://f"}, {"f": document}
    )
    assert checked.ok and checked.params["document"] is document
    direct = validator.check("sendDocument", {"chat_id": "1"}, {"document": document})
    assert direct.ok and direct.params["document"] is document
    missing = messages(validator, "sendDocument", {"chat_id": "1", "document": "attach://nope"})
    assert missing == ["file part 'nope' referenced by 'attach://nope' is missing (in document)"]
    stray = validator.validate("sendMessage", {"chat_id": "1", "text": "x"}, {"junk": document})
    assert [str(p) for p in stray] == ["unknown file part 'junk' for method sendMessage"]


def test_inline_keyboard_limits(validator: RequestValidator) -> None:
    too_much_data = inline_markup([[{"text": "A", "callback_data": "é" * 33}]])
    assert messages(
        validator, "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": too_much_data}
    ) == [
        "BUTTON_DATA_INVALID: callback_data is 66 bytes in UTF-8, allowed 1-64 "
        "(in reply_markup.inline_keyboard[0][0].callback_data)"
    ]
    many = inline_markup([[{"text": str(i), "callback_data": str(i)}] for i in range(101)])
    assert messages(
        validator, "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": many}
    ) == [
        "reply markup is too long (101 inline buttons, at most 100) "
        "(in reply_markup.inline_keyboard)"
    ]
    text_only = inline_markup([[{"text": "A"}]])
    assert (
        "Text buttons are unallowed"
        in messages(
            validator, "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": text_only}
        )[0]
    )


def test_callback_answer_and_commands_limits(validator: RequestValidator) -> None:
    assert (
        messages(validator, "answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 200})
        == []
    )
    assert messages(
        validator, "answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 201}
    )[0].startswith("MESSAGE_TOO_LONG")
    bad = json.dumps(
        [{"command": "Start", "description": "ok"}, {"command": "help", "description": ""}]
    )
    problems = messages(validator, "setMyCommands", {"commands": bad, "language_code": "zh-hans"})
    assert len(problems) == 3
    assert problems[0].startswith("invalid language code 'zh-hans'")
    assert problems[1].startswith("BOT_COMMAND_INVALID: 'Start'")
    assert problems[2].startswith("BOT_COMMAND_DESCRIPTION_INVALID")
    many = json.dumps([{"command": f"c{i}", "description": "d"} for i in range(101)])
    assert messages(validator, "setMyCommands", {"commands": many}) == [
        "too many commands (101, at most 100) (in commands)"
    ]


def test_json_body_values(validator: RequestValidator) -> None:
    checked = validator.check(
        "sendMessage",
        {"chat_id": 7, "text": "x", "reply_markup": {"remove_keyboard": True}},
    )
    assert checked.ok, checked.problems
