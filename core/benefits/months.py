"""Month arithmetic. A month is the first day of the month in a `date` (DESIGN.md "Money, dates, text")."""

from __future__ import annotations

import datetime


def month_start(value: datetime.date) -> datetime.date:
    return value.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + (month.month - 1) + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(month: datetime.date) -> datetime.date:
    return add_months(month_start(month), 1) - datetime.timedelta(days=1)


def parse_month(value: str) -> datetime.date:
    """'2024-03' or '2024-03-01' → date(2024, 3, 1); ValueError otherwise."""
    value = value.strip()
    if len(value) == 7:
        value = f"{value}-01"
    return month_start(datetime.date.fromisoformat(value))


def months_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Every month from `first` to `last`, both included."""
    result, month = [], month_start(first)
    while month <= last:
        result.append(month)
        month = add_months(month, 1)
    return result
