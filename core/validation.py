"""What a query parameter or a typed date may be, checked before it reaches the database or date arithmetic.

A NUL byte in a search box makes PostgreSQL refuse the query (a 500), a 10,000-character query is no search,
and a date in year 9999 overflows the first `+ timedelta` (a 公示's last day, a due date). Every search box,
filter and date of a page goes through here and comes back as a Chinese form error or message instead."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible

QUERY_MAX_LENGTH = 100
# Dates a caseworker types: births of living people, incomes, visits, 公示 — none before 1900 or after 2099.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)

INVALID_CHARACTERS = "查询条件含有无效字符"
TEXT_INVALID_CHARACTERS = "内容含有无效字符（控制字符）"
DATE_OUT_OF_RANGE = "日期超出有效范围（1900年1月1日至2099年12月31日）"


def query_too_long(limit: int) -> str:
    return f"查询条件不能超过{limit}个字符"


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """C0 control characters and DEL; a text area's line breaks and tabs are allowed when `multiline`."""
    allowed = "\t\r\n" if multiline else ""
    return any((ord(ch) < 32 or ord(ch) == 127) and ch not in allowed for ch in text)


def query_problem(text: str, *, max_length: int = QUERY_MAX_LENGTH) -> str | None:
    """Why a search query cannot be searched (None when it can)."""
    if has_control_characters(text):
        return INVALID_CHARACTERS
    if len(text) > max_length:
        return query_too_long(max_length)
    return None


def check_query(text: str | None, *, max_length: int = QUERY_MAX_LENGTH) -> str:
    """A search query from the request, stripped; a ValidationError in Chinese when it cannot be searched."""
    text = (text or "").strip()
    problem = query_problem(text, max_length=max_length)
    if problem:
        raise ValidationError(problem)
    return text


def date_problem(value: datetime.date | None) -> str | None:
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        return DATE_OUT_OF_RANGE
    return None


def check_date(value: datetime.date | None) -> datetime.date | None:
    problem = date_problem(value)
    if problem:
        raise ValidationError(problem)
    return value


@deconstructible
class NoControlCharacters:
    """Refuses C0 control characters (a NUL byte first of all) in a text field, with a Chinese message."""

    def __init__(self, *, multiline: bool = False, message: str = TEXT_INVALID_CHARACTERS):
        self.multiline = multiline
        self.message = message

    def __call__(self, value) -> None:
        if isinstance(value, str) and has_control_characters(value, multiline=self.multiline):
            raise ValidationError(self.message, code="control_characters")

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharacters) and (self.multiline, self.message) == (
            other.multiline,
            other.message,
        )


def _without_django_null_check(field: forms.CharField) -> None:
    # Django's own NUL check says 不允许是用空字符串 ("empty string not allowed"): ours says what is wrong.
    field.validators = [v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)]


class QueryField(forms.CharField):
    """The search box of a list or picker: optional, stripped, at most QUERY_MAX_LENGTH characters, no
    control characters — each refusal a Chinese error."""

    def __init__(self, *, max_length: int = QUERY_MAX_LENGTH, required: bool = False, **kwargs):
        super().__init__(max_length=max_length, required=required, **kwargs)
        _without_django_null_check(self)
        self.error_messages["max_length"] = query_too_long(max_length)

    def to_python(self, value):
        # Checked before the length, so a long query of control characters names the characters.
        value = super().to_python(value)
        if isinstance(value, str) and has_control_characters(value):
            raise ValidationError(INVALID_CHARACTERS, code="control_characters")
        return value


class BoundedDateField(forms.DateField):
    """A date between EARLIEST_DATE and LATEST_DATE (a typed 9999-12-31 or 0001-01-01 is a form error, not
    an OverflowError in the date arithmetic after it)."""

    default_error_messages = {"invalid": "请输入有效的日期（如 2026-03-01）"}

    def to_python(self, value):
        return check_date(super().to_python(value))


def refused_filter_message(form) -> str:
    """The message of a list page whose filter form (or FilterSet) did not validate: its errors in one line."""
    errors = form.errors
    return "查询条件有误：" + "；".join(str(e) for es in errors.values() for e in es)
