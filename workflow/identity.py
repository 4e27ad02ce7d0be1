"""Identity documents and phone numbers: validation, normalisation and masking."""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from phonenumbers import PhoneNumberType
from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric

from workflow.enums import IdType
from workflow.errors import DomainError
from workflow.text import digits, nfkc

# A trainee doctor is at least 16 and at most 100 years old: python-stdnum's `cn.ric` alone
# accepts births in 2099.
MIN_AGE_YEARS = 16
MAX_AGE_YEARS = 100

_FORMATS: dict[IdType, re.Pattern[str]] = {
    IdType.PASSPORT: re.compile(r"[A-Z0-9]{5,20}"),
    # 港澳居民来往内地通行证: H or M and 8 digits (10 in the 2013 card).
    IdType.HK_MACAO_PERMIT: re.compile(r"[HM]\d{8}(\d{2})?"),
    # 台湾居民来往大陆通行证: 8 digits (2015 card) or the older 10 digits.
    IdType.TAIWAN_PERMIT: re.compile(r"\d{8}|\d{10}"),
    # 外国人永久居留身份证: 3 letters and 12 digits before 2023.
    IdType.FOREIGNER_PR: re.compile(r"[A-Z]{3}\d{12}"),
}


def normalize_id(number: str) -> str:
    """Spaces and dashes dropped, full-width forms read as ASCII (`４４０１…Ｘ`), upper case."""
    return re.sub(r"[\s-]", "", nfkc(number)).upper()


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _birth_date_plausible(born: date, today: date) -> bool:
    return born <= today and MIN_AGE_YEARS <= age_on(born, today) <= MAX_AGE_YEARS


def _region_known(number: str) -> bool:
    """The first six digits name a county. Not `ric.validate`: it also wants the code assigned by
    the birth year, refusing people born before their district got its code (天河区 440106 dates
    from 1985), and it fails with KeyError on an unknown county of a known province."""
    return any("county" in props for _part, props in numdb.get("cn/loc").info(number[:6]))


def _check_gb11643(number: str, today: date, *, place: bool) -> date:
    """Length, digits, check digit, birth date (and place for resident IDs)."""
    if len(number) != 18 or not number[:-1].isdigit():
        raise DomainError("id.format", id_type=IdType.RESIDENT_ID.value)
    if number[-1] != ric.calc_check_digit(number):
        raise DomainError("id.checksum")
    try:
        born = ric.get_birth_date(number)
    except stdnum_errors.InvalidComponent as exc:
        raise DomainError("id.component") from exc
    if place and not _region_known(number):
        raise DomainError("id.component")
    if not _birth_date_plausible(born, today):
        raise DomainError("id.birth_date", born=born.isoformat())
    return born


def validate_id(id_type: IdType | str, number: str, today: date) -> str:
    """Return the normalised number or refuse with the rule it broke."""
    id_type = IdType(id_type)
    number = normalize_id(number)
    if not number:
        raise DomainError("id.empty")
    if id_type is IdType.RESIDENT_ID:
        _check_gb11643(number, today, place=True)
    elif id_type is IdType.RESIDENCE_PERMIT:
        # 港澳台居民居住证: GB 11643 layout, region 810000 (HK), 820000 (Macao) or 830000 (TW).
        if not number.startswith(("810000", "820000", "830000")):
            raise DomainError("id.format", id_type=id_type.value)
        _check_gb11643(number, today, place=False)
    elif id_type is IdType.FOREIGNER_PR and len(number) == 18:
        # The 2023 card: 18 characters starting with 9, with the GB 11643 check digit.
        if not number.startswith("9"):
            raise DomainError("id.format", id_type=id_type.value)
        _check_gb11643(number, today, place=False)
    elif not _FORMATS[id_type].fullmatch(number):
        raise DomainError("id.format", id_type=id_type.value)
    return number


def birth_date_of(id_type: IdType | str, number: str) -> date | None:
    """The birth date an ID number carries, where its type carries one."""
    if IdType(id_type) in {IdType.RESIDENT_ID, IdType.RESIDENCE_PERMIT} and len(number) == 18:
        return ric.get_birth_date(number)
    return None


def gender_of(id_type: IdType | str, number: str) -> str | None:
    """GB 11643: the 17th digit is odd for men and even for women."""
    if IdType(id_type) in {IdType.RESIDENT_ID, IdType.RESIDENCE_PERMIT} and len(number) == 18:
        return "male" if int(number[16]) % 2 else "female"
    return None


def normalize_mobile(text: str) -> str:
    """A Chinese mobile number as E.164 (+86…), or refuse."""
    try:
        parsed = phonenumbers.parse(digits(text), "CN")
    except phonenumbers.NumberParseException as exc:
        raise DomainError("phone.invalid") from exc
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.region_code_for_number(parsed) != "CN"
    ):
        raise DomainError("phone.invalid")
    if phonenumbers.number_type(parsed) != PhoneNumberType.MOBILE:
        raise DomainError("phone.not_mobile")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(text: str) -> str:
    """Any valid Chinese phone number (mobile or landline) as E.164, e.g. an emergency contact."""
    try:
        parsed = phonenumbers.parse(digits(text), "CN")
    except phonenumbers.NumberParseException as exc:
        raise DomainError("phone.invalid") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise DomainError("phone.invalid")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_id(number: str) -> str:
    """Shown in chat and in the staff's lists: the first two and last four characters."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 6) + number[-4:]


def mask_phone(e164: str) -> str:
    """A mobile +8613812345678 → +86 138****5678; a landline +862087654321 → 020-****4321 (its
    area code kept, as it is written in China); anything else keeps its last four digits."""
    if e164.startswith("+86") and len(e164) == 14 and e164[3] == "1":
        return f"+86 {e164[3:6]}****{e164[-4:]}"
    landline = _mask_landline(e164)
    if landline is not None:
        return landline
    return e164[:3] + "*" * max(0, len(e164) - 7) + e164[-4:]


def _mask_landline(e164: str) -> str | None:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or phonenumbers.number_type(parsed) != PhoneNumberType.FIXED_LINE:
        return None
    national = phonenumbers.national_significant_number(parsed)
    area = phonenumbers.length_of_geographical_area_code(parsed)
    if not area or len(national) - area < 5:
        return None
    subscriber = national[area:]
    return f"0{national[:area]}-{'*' * (len(subscriber) - 4)}{subscriber[-4:]}"
