"""ID numbers, phone numbers and masking (`workflow.identity`): pure rules, no database."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from workflow.enums import IdType
from workflow.errors import DomainError
from workflow.identity import (
    birth_date_of,
    gender_of,
    mask_id,
    mask_phone,
    normalize_mobile,
    normalize_phone,
    validate_id,
)

TODAY = date(2026, 7, 1)


def resident(body: str) -> str:
    """17 digits and their GB 11643 check digit."""
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def code_of(id_type: IdType, number: str) -> str:
    with pytest.raises(DomainError) as e:
        validate_id(id_type, number, TODAY)
    return e.value.code


# --- 居民身份证 ---------------------------------------------------------------------------------


def test_resident_id_with_right_check_digit_is_accepted_and_normalised() -> None:
    number = resident("44010619980501123")
    spaced = f"{number[:6]} {number[6:14]}-{number[14:]}"
    assert validate_id(IdType.RESIDENT_ID, spaced, TODAY) == number


def test_resident_id_check_digit_x_is_accepted_in_lower_case() -> None:
    body = next(
        f"44010619980501{n:03d}"
        for n in range(1000)
        if ric.calc_check_digit(f"44010619980501{n:03d}0") == "X"
    )
    assert validate_id(IdType.RESIDENT_ID, body + "x", TODAY) == body + "X"


def test_resident_id_wrong_check_digit_is_refused() -> None:
    number = resident("44010619980501123")
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    assert code_of(IdType.RESIDENT_ID, wrong) == "id.checksum"


@pytest.mark.parametrize(
    "number", ["4401061998050112", "44010619980501123X9", "44010619980501A23X"]
)
def test_resident_id_wrong_length_or_letters_is_a_format_error(number: str) -> None:
    assert code_of(IdType.RESIDENT_ID, number) == "id.format"


def test_empty_id_number_is_refused() -> None:
    assert code_of(IdType.PASSPORT, " - ") == "id.empty"


def test_resident_id_impossible_date_is_a_component_error() -> None:
    assert code_of(IdType.RESIDENT_ID, resident("44010619980230123")) == "id.component"


@pytest.mark.parametrize("region", ["999999", "440199"])  # unknown; known province, no county
def test_resident_id_unknown_region_is_a_component_error(region: str) -> None:
    assert code_of(IdType.RESIDENT_ID, resident(f"{region}19980501123")) == "id.component"


def test_resident_id_born_before_the_district_code_existed_is_accepted() -> None:
    # 天河区 (440106) dates from 1985; people born there before got the code on their ID later.
    number = resident("44010619800501123")
    assert validate_id(IdType.RESIDENT_ID, number, TODAY) == number


@pytest.mark.parametrize(
    "birth",
    [
        "20990101",  # python-stdnum alone accepts it
        "20260702",  # tomorrow
        "20110101",  # 15 years old
        "19250630",  # 101 years old
    ],
)
def test_resident_id_implausible_birth_date_is_refused(birth: str) -> None:
    with pytest.raises(DomainError) as e:
        validate_id(IdType.RESIDENT_ID, resident(f"440106{birth}123"), TODAY)
    assert e.value.code == "id.birth_date"
    assert e.value.params["born"] == f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"


@pytest.mark.parametrize("birth", ["20100701", "19260701"])
def test_resident_id_age_limits_16_and_100_are_inclusive(birth: str) -> None:
    number = resident(f"440106{birth}123")
    assert validate_id(IdType.RESIDENT_ID, number, TODAY) == number


def test_birth_date_and_gender_come_from_the_resident_id() -> None:
    male = resident("44010619980501123")  # 17th digit 3: odd
    female = resident("44010619980501124")
    assert birth_date_of(IdType.RESIDENT_ID, male) == date(1998, 5, 1)
    assert gender_of(IdType.RESIDENT_ID, male) == "male"
    assert gender_of(IdType.RESIDENT_ID, female) == "female"
    assert birth_date_of(IdType.PASSPORT, "E12345678") is None
    assert gender_of(IdType.PASSPORT, "E12345678") is None


# --- other ID types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "number", "normalised"),
    [
        (IdType.PASSPORT, "e1234 5678", "E12345678"),
        (IdType.HK_MACAO_PERMIT, "H12345678", "H12345678"),
        (IdType.HK_MACAO_PERMIT, "m1234567890", "M1234567890"),
        (IdType.TAIWAN_PERMIT, "12345678", "12345678"),
        (IdType.TAIWAN_PERMIT, "1234567890", "1234567890"),
        (IdType.FOREIGNER_PR, "usa123456789012", "USA123456789012"),
    ],
)
def test_other_id_types_by_format(id_type: IdType, number: str, normalised: str) -> None:
    assert validate_id(id_type, number, TODAY) == normalised


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        (IdType.PASSPORT, "E12"),
        (IdType.PASSPORT, "E1234567#"),
        (IdType.HK_MACAO_PERMIT, "A12345678"),
        (IdType.HK_MACAO_PERMIT, "H1234567"),
        (IdType.TAIWAN_PERMIT, "123456789"),
        (IdType.TAIWAN_PERMIT, "T1234567"),
        (IdType.FOREIGNER_PR, "US1234567890123"),
        (IdType.FOREIGNER_PR, resident("44010619980501123")),  # 18 characters: must start with 9
        (IdType.RESIDENCE_PERMIT, resident("44010619980501123")),  # not 81/82/83 0000
    ],
)
def test_other_id_types_wrong_format_is_refused(id_type: IdType, number: str) -> None:
    assert code_of(id_type, number) == "id.format"


def test_residence_permit_uses_gb11643_without_a_place_check() -> None:
    number = resident("81000019980501123")
    assert validate_id(IdType.RESIDENCE_PERMIT, number, TODAY) == number
    assert birth_date_of(IdType.RESIDENCE_PERMIT, number) == date(1998, 5, 1)
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    assert code_of(IdType.RESIDENCE_PERMIT, wrong) == "id.checksum"
    assert code_of(IdType.RESIDENCE_PERMIT, resident("83000020990101123")) == "id.birth_date"


def test_foreigner_pr_2023_card_has_a_check_digit() -> None:
    number = resident("93315619980501123")
    assert validate_id(IdType.FOREIGNER_PR, number, TODAY) == number
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    assert code_of(IdType.FOREIGNER_PR, wrong) == "id.checksum"


# --- phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["13812345678", "138 1234 5678", "+86 138-1234-5678"])
def test_cn_mobile_is_stored_as_e164(text: str) -> None:
    assert normalize_mobile(text) == "+8613812345678"


def test_cn_landline_is_not_a_mobile() -> None:
    with pytest.raises(DomainError) as e:
        normalize_mobile("020-38314977")
    assert e.value.code == "phone.not_mobile"


@pytest.mark.parametrize("text", ["+16502530000", "+85291234567", "12345", "abc"])
def test_foreign_or_invalid_number_is_not_a_cn_mobile(text: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_mobile(text)
    assert e.value.code == "phone.invalid"


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("13812345678", "+8613812345678"),
        ("020-38314977", "+862038314977"),
        ("+1 650-253-0000", "+16502530000"),
        ("+852 9123 4567", "+85291234567"),
    ],
)
def test_any_valid_phone_mobile_landline_or_foreign_is_stored_as_e164(text: str, e164: str) -> None:
    assert normalize_phone(text) == e164


@pytest.mark.parametrize("text", ["12345", "not a number", "+86 000"])
def test_invalid_phone_is_refused(text: str) -> None:
    with pytest.raises(DomainError) as e:
        normalize_phone(text)
    assert e.value.code == "phone.invalid"


# --- masking ----------------------------------------------------------------------------------


def test_mask_id_keeps_first_two_and_last_four() -> None:
    number = resident("44010619980501123")
    assert mask_id(number) == "44" + "*" * 12 + number[-4:]
    assert mask_id("E12345678") == "E1***5678"
    assert mask_id("H1234") == "*****"


def test_mask_phone() -> None:
    assert mask_phone("+8613812345678") == "+86 138****5678"
    assert mask_phone("+16502530000") == "+16*****0000"
