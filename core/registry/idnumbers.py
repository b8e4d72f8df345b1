"""居民身份证号码 (GB 11643-1999): validation with python-stdnum and the facts it carries."""

from __future__ import annotations

import datetime
import operator
from dataclasses import dataclass

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


@dataclass(frozen=True)
class RicInfo:
    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F"


class IdNumberError(ValueError):
    """Carries a Chinese message a caseworker can act on."""


def check_char(first17: str) -> str:
    # map() rather than a generator: generate_city calls this a million times.
    if len(first17) != len(WEIGHTS):
        raise ValueError(f"check_char needs 17 digits, got {first17!r}")
    return CHECK_CHARS[sum(map(operator.mul, map(int, first17), WEIGHTS)) % 11]


def parse_ric(value: str, *, today: datetime.date | None = None) -> RicInfo:
    """Validate an 18-digit 居民身份证号码 and return it upper-cased with birth date and sex.

    Raises IdNumberError with a Chinese message. 15-digit numbers (issued before 1999) are refused:
    the holder must have been issued an 18-digit number since, and that is the one to record."""
    number = (value or "").strip().upper().replace(" ", "")
    if not number:
        raise IdNumberError("请填写身份证号码")
    if len(number) == 15 and number.isdigit():
        raise IdNumberError("15位旧身份证号码已停止使用，请录入18位身份证号码")
    if len(number) != 18 or not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise IdNumberError("身份证号码应为18位，前17位为数字，最后一位为数字或X")
    try:
        birth = ric.get_birth_date(number)
    except (stdnum_exceptions.ValidationError, ValueError):
        raise IdNumberError("身份证号码中的出生日期无效") from None
    # The check character (GB 11643 ISO 7064 MOD 11-2). stdnum's full validate() also requires the address
    # code to have existed in the birth year; real numbers break that (a person born in 1980 who registered
    # in 绿园区, created 1995, holds a 220106 number), so only the province part of the address is checked.
    if ric.calc_check_digit(number) != number[17]:
        raise IdNumberError("身份证号码校验位错误，请核对")
    if number[:2] not in PROVINCE_CODES:
        raise IdNumberError("身份证号码前两位不是有效的省级行政区划代码")
    today = today or datetime.date.today()  # noqa: DTZ011 — a calendar date, not an instant
    if birth > today:
        raise IdNumberError("身份证号码中的出生日期晚于今天")
    if birth.year < 1900:
        raise IdNumberError("身份证号码中的出生日期无效")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return RicInfo(number=number, birth_date=birth, sex=sex)


def make_ric(area: str, birth: datetime.date, sequence: int) -> str:
    """Build a valid number (demo data and tests): 6-digit area, birth date, 3-digit sequence, check."""
    first17 = f"{area[:6]}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)
