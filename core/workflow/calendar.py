"""Dates the law counts: working days over the official calendar, and calendar-day periods.

Two rules, one function each (DESIGN.md "Dates the law counts"):
- time limits in working days (e.g. 低保 confirmation within 10 working days, 民发〔2021〕57号) count
  the working days *after* the start day over the `CalendarDay` table (法定节假日 and 调休);
- periods in calendar days within which a party must act (离婚冷静期 30 days) follow 民法典 第二百零一条/
  第二百零三条: counting starts the day after the start day, and a last day that is a legal holiday moves
  to the first working day after it.

A 公示 is neither: it is a posting, "7 days" being the 7 calendar days it hangs, the first day included
(posted 9-24 → last day 9-30; core.workflow.services.notice_end_date).

Dates in a year that has no calendar rows fall back to Monday–Friday; the dashboard warns when next
year's official schedule (国务院办公厅 notice, usually published in November) has not been entered.
"""

from __future__ import annotations

import datetime

from .models import CalendarDay

# How far past the naive estimate to load in one query; holidays add at most ~2 weeks per window.
_SLACK_DAYS = 21


def _load(start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    """Working-day flags of every calendar row in [start, end], in one query."""
    return dict(CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "is_working_day"))


def _working(day: datetime.date, known: dict[datetime.date, bool]) -> bool:
    flag = known.get(day)
    if flag is None:
        return day.weekday() < 5
    return flag


def is_working_day(day: datetime.date) -> bool:
    """Whether `day` is a working day per the official calendar (Mon–Fri for years not entered)."""
    return _working(day, _load(day, day))


def add_working_days(start: datetime.date, n: int) -> datetime.date:
    """The date that is the `n`-th working day after `start` (`start` itself is not counted).

    `add_working_days(d, 0)` is `d`. One query per ~n·1.5+3 weeks window (one for any usual limit)."""
    if n < 0:
        raise ValueError("n must not be negative")
    if n == 0:
        return start
    remaining = n
    day = start
    while True:
        window_end = day + datetime.timedelta(days=remaining * 7 // 5 + _SLACK_DAYS)
        known = _load(day + datetime.timedelta(days=1), window_end)
        while day < window_end:
            day += datetime.timedelta(days=1)
            if _working(day, known):
                remaining -= 1
                if remaining == 0:
                    return day


def working_days_between(a: datetime.date, b: datetime.date) -> int:
    """Working days in (a, b]: the inverse of `add_working_days` (negative when b is before a)."""
    if b < a:
        return -working_days_between(b, a)
    if a == b:
        return 0
    known = _load(a + datetime.timedelta(days=1), b)
    count = 0
    day = a
    while day < b:
        day += datetime.timedelta(days=1)
        if _working(day, known):
            count += 1
    return count


def add_calendar_period(start: datetime.date, days: int) -> datetime.date:
    """Last day of a period of `days` calendar days starting from `start`.

    民法典 第二百零一条: a period in days starts counting on the day after `start`.
    民法典 第二百零三条: if the last day is a legal holiday (法定休假日, which includes weekends that are
    not 调休 working days), the period ends on the first working day after it."""
    if days < 1:
        raise ValueError("days must be positive")
    end = start + datetime.timedelta(days=days)
    window_end = end + datetime.timedelta(days=_SLACK_DAYS)
    known = _load(end, window_end)
    while not _working(end, known):
        end += datetime.timedelta(days=1)
        if end > window_end:
            window_end = end + datetime.timedelta(days=_SLACK_DAYS)
            known = _load(end, window_end)
    return end


def missing_calendar_years(today: datetime.date) -> list[int]:
    """This year and next year, each if it has no calendar rows yet (they must be entered by hand)."""
    wanted = [today.year, today.year + 1]
    present = {d.year for d in CalendarDay.objects.filter(date__year__in=wanted).dates("date", "year")}
    return [y for y in wanted if y not in present]
