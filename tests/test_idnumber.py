"""居民身份证号码 (GB 11643-1999) validation: a table of numbers and what the caseworker is told."""

import datetime

import pytest

from core.registry.idnumbers import IdNumberError, check_char, make_ric, parse_ric

TODAY = datetime.date(2026, 6, 1)


def _with_check(first17: str) -> str:
    return first17 + check_char(first17)


def _wrong_check(first17: str) -> str:
    right = check_char(first17)
    return first17 + ("1" if right != "1" else "2")


# A number whose check character is X (found by construction, so the table stays honest).
X_NUMBER = next(
    n for n in (make_ric("220106", datetime.date(1985, 3, 7), s) for s in range(1000)) if n[-1] == "X"
)


@pytest.mark.parametrize(
    ("value", "number", "birth", "sex"),
    [
        ("11010519491231002X", "11010519491231002X", datetime.date(1949, 12, 31), "F"),
        ("11010519491231002x", "11010519491231002X", datetime.date(1949, 12, 31), "F"),  # lowercase x
        (_with_check("22010619800101001"), None, datetime.date(1980, 1, 1), "M"),
        (_with_check("22010620000229002"), None, datetime.date(2000, 2, 29), "F"),  # leap day
        (X_NUMBER, X_NUMBER, datetime.date(1985, 3, 7), None),
        (X_NUMBER.lower(), X_NUMBER, datetime.date(1985, 3, 7), None),
        (f"  {X_NUMBER[:6]} {X_NUMBER[6:]} ", X_NUMBER, datetime.date(1985, 3, 7), None),
        (_with_check("22010620260601001"), None, datetime.date(2026, 6, 1), "M"),  # born today
    ],
)
def test_valid_numbers(value, number, birth, sex):
    info = parse_ric(value, today=TODAY)
    assert info.number == (number or value.strip().upper())
    assert info.number == info.number.upper()
    assert info.birth_date == birth
    if sex:
        assert info.sex == sex
    assert info.sex == ("M" if int(info.number[16]) % 2 else "F")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (_wrong_check("22010619800101001"), "校验位错误"),
        (_wrong_check("11010519491231002"), "校验位错误"),
        (_with_check("22010619800230001"), "出生日期无效"),  # 30 February
        (_with_check("22010619801301001"), "出生日期无效"),  # month 13
        (_with_check("22010619800100001"), "出生日期无效"),  # day 0
        (_with_check("22010620230229001"), "出生日期无效"),  # 2023 is not a leap year
        (_with_check("22010620260602001"), "晚于今天"),  # tomorrow
        (_with_check("22010630000101001"), "晚于今天"),
        (_with_check("22010618890101001"), "出生日期无效"),  # before 1900
        ("220106800101001", "15位旧身份证号码已停止使用"),
        ("22010619800101001", "应为18位"),  # 17 characters
        ("2201061980010100111", "应为18位"),  # 19 characters
        ("22010619800101001Y", "应为18位"),
        ("2201061980010A0011", "应为18位"),
        ("", "请填写身份证号码"),
        (None, "请填写身份证号码"),
        (_with_check("99010619800101001"), "省级行政区划代码"),
    ],
)
def test_invalid_numbers(value, message):
    with pytest.raises(IdNumberError) as excinfo:
        parse_ric(value, today=TODAY)
    assert message in str(excinfo.value)


def test_make_ric_round_trips():
    number = make_ric("220106", datetime.date(1990, 7, 15), 123)
    info = parse_ric(number, today=TODAY)
    assert (info.birth_date, info.sex) == (datetime.date(1990, 7, 15), "M")
