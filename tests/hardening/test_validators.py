"""The validators of workflow/ as properties: ID numbers, phones, dates, free text, masks and
the time left, over generated inputs (valid ones pass, broken ones fail with their reason, and
full-width forms read the same as ASCII)."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from bot.durations import time_left
from bot.i18n import Translator
from storage.models import EducationRecord
from workflow import profile
from workflow.accounts import check_name
from workflow.enums import IdType
from workflow.errors import DomainError
from workflow.identity import (
    MAX_AGE_YEARS,
    MIN_AGE_YEARS,
    mask_phone,
    normalize_mobile,
    normalize_phone,
    validate_id,
)
from workflow.text import clean, column_limit, nfkc_prose

TODAY = date(2026, 7, 1)
PROPS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REGIONS = ("440106", "440305", "440104", "110101", "310115", "440803")


def full_width(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms (what a Chinese IME types)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")  # the last character is ignored


@st.composite
def births(draw: st.DrawFn, low_age: int = MIN_AGE_YEARS, high_age: int = MAX_AGE_YEARS) -> date:
    latest = TODAY.replace(year=TODAY.year - low_age)
    earliest = TODAY.replace(year=TODAY.year - high_age - 1) + timedelta(days=1)
    return draw(st.dates(min_value=earliest, max_value=latest))


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(births())
    seq = draw(st.integers(0, 999))
    return with_check(f"{region}{born:%Y%m%d}{seq:03d}")


# --- ID numbers ---------------------------------------------------------------------------


@PROPS
@given(resident_ids())
def test_a_valid_id_passes_in_every_written_form(number: str) -> None:
    assert validate_id(IdType.RESIDENT_ID, number, TODAY) == number
    assert validate_id(IdType.RESIDENT_ID, number.lower(), TODAY) == number  # x for X
    spaced = f"{number[:6]} {number[6:14]}-{number[14:]}"
    assert validate_id(IdType.RESIDENT_ID, spaced, TODAY) == number
    assert validate_id(IdType.RESIDENT_ID, full_width(number), TODAY) == number
    assert validate_id(IdType.RESIDENT_ID, full_width(number.lower()), TODAY) == number


def test_ids_ending_in_x_are_generated_and_pass() -> None:
    found = []
    for seq in range(1000):
        number = with_check(f"440106{date(1998, 5, 1):%Y%m%d}{seq:03d}")
        if number.endswith("X"):
            found.append(number)
    assert found
    for number in found[:10]:
        assert validate_id(IdType.RESIDENT_ID, number[:-1] + "x", TODAY) == number
        assert validate_id(IdType.RESIDENT_ID, number[:-1] + "ｘ", TODAY) == number
        assert validate_id(IdType.RESIDENT_ID, number[:-1] + "Ｘ", TODAY) == number


@PROPS
@given(resident_ids(), st.integers(0, 17), st.integers(1, 10))
def test_any_single_changed_character_fails(number: str, position: int, shift: int) -> None:
    alphabet = "0123456789X" if position == 17 else "0123456789"
    old = alphabet.index(number[position])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == number[position]:
        return
    changed = number[:position] + new + number[position + 1 :]
    with pytest.raises(DomainError) as refused:
        validate_id(IdType.RESIDENT_ID, changed, TODAY)
    assert refused.value.code.startswith("id.")


@PROPS
@given(
    st.sampled_from(REGIONS),
    st.one_of(
        births(low_age=0, high_age=MIN_AGE_YEARS - 1).filter(
            lambda d: d > TODAY.replace(year=TODAY.year - MIN_AGE_YEARS)
        ),
        st.dates(min_value=date(1900, 1, 1), max_value=date(1925, 1, 1)),
        st.dates(min_value=TODAY + timedelta(days=1), max_value=date(2099, 12, 31)),
    ),
    st.integers(0, 999),
)
def test_implausible_birth_dates_fail(region: str, born: date, seq: int) -> None:
    number = with_check(f"{region}{born:%Y%m%d}{seq:03d}")
    with pytest.raises(DomainError) as refused:
        validate_id(IdType.RESIDENT_ID, number, TODAY)
    assert refused.value.code in {"id.birth_date", "id.component"}


@pytest.mark.parametrize("birth", ["19981301", "19980230", "19980001", "00000000"])
def test_impossible_birth_dates_fail(birth: str) -> None:
    with pytest.raises(DomainError) as refused:
        validate_id(IdType.RESIDENT_ID, with_check(f"440106{birth}123"), TODAY)
    assert refused.value.code in {"id.birth_date", "id.component"}


# --- phones -------------------------------------------------------------------------------

MOBILE_PREFIXES = ("138", "139", "150", "158", "186", "188", "199", "135", "177")


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(MOBILE_PREFIXES))
    return prefix + "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=8, max_size=8)))


def written_forms(n: str) -> list[str]:
    groups = f"{n[:3]} {n[3:7]} {n[7:]}"
    forms = [
        n,
        f"+86 {groups}",
        f"+86{n}",
        f"{n[:3]}-{n[3:7]}-{n[7:]}",
        f"(+86){n}",
        f"（+86）{n}",
        f"+86-{n[:3]}-{n[3:7]}-{n[7:]}",
        f"0086 {groups}",
        f" {groups} ",
    ]
    return forms + [full_width(f) for f in forms]


@PROPS
@given(mobiles())
def test_a_mobile_reads_the_same_in_every_common_written_form(number: str) -> None:
    expected = "+86" + number
    for form in written_forms(number):
        assert normalize_mobile(form) == expected, form
        assert normalize_phone(form) == expected, form
    assert mask_phone(expected) == f"+86 {number[:3]}****{number[-4:]}"


LANDLINES = [
    ("020-87654321", "+862087654321", "020-****4321"),
    ("（０２０）８７６５ ４３２１", "+862087654321", "020-****4321"),
    ("0755-2345 6789", "+8675523456789", "0755-****6789"),
    ("+86 10 6552 9988", "+861065529988", "010-****9988"),
    ("0769-22223333", "+8676922223333", "0769-****3333"),
]


@pytest.mark.parametrize(("typed", "e164", "masked"), LANDLINES)
def test_a_landline_is_accepted_for_a_contact_and_masked_as_a_landline(
    typed: str, e164: str, masked: str
) -> None:
    assert normalize_phone(typed) == e164
    assert mask_phone(e164) == masked
    with pytest.raises(DomainError) as refused:
        normalize_mobile(typed)
    assert refused.value.code == "phone.not_mobile"


@PROPS
@given(
    st.text(alphabet="0123456789-+() ", max_size=12).filter(lambda t: sum(map(str.isdigit, t)) < 6)
)
def test_too_few_digits_are_no_phone(typed: str) -> None:
    with pytest.raises(DomainError):
        normalize_phone(typed)


# --- dates --------------------------------------------------------------------------------


@PROPS
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31)))
def test_a_date_reads_the_same_in_every_written_form(day: date) -> None:
    forms = [
        day.isoformat(),
        f"{day:%Y/%m/%d}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day:%Y%m%d}",
        f" {day.isoformat()} ",
    ]
    for form in forms + [full_width(f) for f in forms]:
        assert profile.parse_date(form) == day, form


# --- free text ----------------------------------------------------------------------------

REFUSED = [chr(c) for c in (0, 7, 8, 0x1B, 0x7F, 0x85)] + [
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0xFEFF)
]
SCHOOL_MAX = column_limit(EducationRecord, "school")
# Letters of every script, emoji (with joiners and variation selectors), HTML specials.
PIECES = ["👩‍⚕️", "🏥", "❤️", "<", ">", "&", '"', "'", "&amp;", "<b>", "שלום", "مرحبا", "\u200d"]
FREE = st.lists(
    st.text(
        alphabet=st.characters(
            categories=("L", "M", "N", "P", "S", "Zs"),
            exclude_characters="".join(REFUSED),
        ),
        max_size=8,
    )
    | st.sampled_from(PIECES),
    max_size=8,
).map("".join)


@PROPS
@given(FREE)
def test_free_text_is_kept_normalised(text: str) -> None:
    try:
        cleaned = clean(text, limit=SCHOOL_MAX, field="school")
    except DomainError as err:
        assert err.code in {"field.required", "field.too_long"}
        return
    assert cleaned is not None
    assert cleaned == nfkc_prose(cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert clean(cleaned, limit=SCHOOL_MAX, field="school") == cleaned  # idempotent
    assert 0 < len(cleaned) <= SCHOOL_MAX


@PROPS
@given(FREE, st.sampled_from(REFUSED), FREE)
def test_control_and_bidi_characters_are_refused_with_the_character(
    before: str, bad: str, after: str
) -> None:
    with pytest.raises(DomainError) as refused:
        clean(f"院{before}{bad}{after}", limit=10_000, field="school")
    assert refused.value.code == "text.control"
    assert refused.value.params["field"] == "school"
    shown = refused.value.params["char"]
    assert shown.startswith("U+")


def test_the_refusal_names_the_first_bad_character() -> None:
    with pytest.raises(DomainError) as refused:
        check_name("张\u202e三")
    assert refused.value.params["char"] == "U+202E"
    assert "U+202E" in Translator("zh-CN").error(refused.value.code, refused.value.params)


@PROPS
@given(st.integers(0, 3))
def test_the_limit_is_the_column_and_counts_after_normalisation(extra: int) -> None:
    exact = "医" * SCHOOL_MAX
    assert clean(exact, limit=SCHOOL_MAX, field="school") == exact
    assert clean(f"  {exact}\t ", limit=SCHOOL_MAX, field="school") == exact
    with pytest.raises(DomainError) as refused:
        clean("医" * (SCHOOL_MAX + 1 + extra), limit=SCHOOL_MAX, field="school")
    assert refused.value.code == "field.too_long"
    assert refused.value.params["max"] == 128


def test_the_profile_limits_are_the_columns() -> None:
    assert profile.TEXT_MAX["school"] == 128
    with pytest.raises(DomainError) as refused:
        profile.check_typed("school", "中山大学" * 1000)
    assert refused.value.code == "field.too_long"
    assert profile.check_typed("school", "中山大学\u3000医学院") == "中山大学 医学院"


def test_reasons_keep_their_lines_but_no_control_characters() -> None:
    assert clean("材料\n  不全 ", limit=500, field="reason", multiline=True) == "材料\n不全"
    with pytest.raises(DomainError):
        clean("材料\x07不全", limit=500, field="reason", multiline=True)


def test_chinese_punctuation_is_kept_in_prose_and_folded_in_numbers() -> None:
    assert clean("中山大学（北校区），２号楼", limit=100) == "中山大学（北校区），2号楼"
    assert profile.parse_date("２０２３－０７－０１") == date(2023, 7, 1)
    assert unicodedata.normalize("NFKC", "，") == ","  # what plain NFKC would have done


def test_names_take_full_width_and_refuse_digits() -> None:
    assert check_name("Ｌｉ　Ｍｉｎｇ") == "Li Ming"
    with pytest.raises(DomainError):
        check_name("张三１")


# --- time left ----------------------------------------------------------------------------

ZH, EN = Translator("zh-CN"), Translator("en")


@pytest.mark.parametrize(
    ("delta", "zh"),
    [
        (timedelta(hours=1, minutes=25), "1 小时 25 分"),
        (timedelta(hours=15, seconds=-4), "15 小时"),
        (timedelta(hours=2), "2 小时"),
        (timedelta(minutes=59, seconds=40), "1 小时"),
        (timedelta(minutes=12), "12 分钟"),
        (timedelta(seconds=5), "1 分钟"),
        (timedelta(days=2, hours=3, minutes=10), "2 天 3 小时"),
        (timedelta(days=1, hours=23, minutes=50), "2 天"),
        (timedelta(days=3), "3 天"),
    ],
)
def test_time_left_is_said_to_the_minute(delta: timedelta, zh: str) -> None:
    assert time_left(ZH, delta) == zh


@PROPS
@given(st.integers(1, 60 * 24 * 30))
def test_time_left_never_says_less_than_an_hour_too_little(minutes: int) -> None:
    text = time_left(EN, timedelta(minutes=minutes))
    parts = text.split()
    values = dict(zip(parts[1::2], map(int, parts[::2]), strict=True))
    said = values.get("d", 0) * 1440 + values.get("h", 0) * 60 + values.get("min", 0)
    assert abs(said - minutes) <= (30 if minutes >= 1440 else 0)
