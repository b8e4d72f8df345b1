"""Review rules of 低保 dynamic management as pure, set-based functions.

民发〔2021〕57号 第二十九条 (DOMAIN.md "Dynamic management"): households whose situation is stable (e.g. all
members old, sick or disabled with fixed income) are reviewed once a year; households whose income is
unstable or that have members able to work are reviewed every six months."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable

from django.db.models import Q

from core.benefits.months import add_months
from core.registry.choices import IncomeKind, LabourCapacity
from core.registry.models import IncomeRecord, Person

from ..models import DibaoReview
from ..rules import age_on

Frequency = DibaoReview.Frequency

# Income that goes up and down with work (工资性收入, 经营净收入, 种养殖收入): the household's situation
# is "unstable" and it is reviewed half-yearly. Also the kinds a 渐退期 requires ("通过就业增加收入").
WORK_INCOME_KINDS = (IncomeKind.WAGE, IncomeKind.BUSINESS, IncomeKind.AGRICULTURE)
WORKING_AGE = (18, 59)  # both included
MONTHS = {Frequency.YEARLY: 12, Frequency.HALF_YEARLY: 6}
# Reviews are opened this many days before they fall due.
LEAD_DAYS = 30


def _in_force(on_date: datetime.date) -> Q:
    return Q(period_start__lte=on_date) & (Q(period_end__isnull=True) | Q(period_end__gte=on_date))


def households_with_work_income(household_ids: Iterable[int], on_date: datetime.date) -> set[int]:
    """Households with a work income record (wage, business, agriculture) in force on the date."""
    ids = sorted(set(household_ids))
    if not ids:
        return set()
    return set(
        IncomeRecord.objects.filter(_in_force(on_date), household_id__in=ids, kind__in=WORK_INCOME_KINDS)
        .values_list("household_id", flat=True)
        .distinct()
    )


def households_with_working_age_members(household_ids: Iterable[int], on_date: datetime.date) -> set[int]:
    """Households with a living member aged 18–59 who has not lost the ability to work."""
    ids = sorted(set(household_ids))
    if not ids:
        return set()
    rows = (
        Person.objects.filter(household_id__in=ids)
        .filter(Q(death_date__isnull=True) | Q(death_date__gt=on_date))
        .exclude(labour_capacity=LabourCapacity.NONE)
        .values_list("household_id", "birth_date")
    )
    low, high = WORKING_AGE
    return {hid for hid, birth in rows if low <= age_on(birth, on_date) <= high}


def review_frequencies(household_ids: Iterable[int], on_date: datetime.date) -> dict[int, str]:
    """{household id: Frequency} — half-yearly when the income is unstable (work income in force) or a
    member is able to work (aged 18–59); yearly otherwise. Two queries for any number of households."""
    ids = sorted(set(household_ids))
    unstable = households_with_work_income(ids, on_date) | households_with_working_age_members(ids, on_date)
    return {hid: (Frequency.HALF_YEARLY if hid in unstable else Frequency.YEARLY) for hid in ids}


def add_months_to_date(day: datetime.date, count: int) -> datetime.date:
    """The same day `count` months later, clamped to the month's last day (31 Aug + 6 months → 28/29 Feb)."""
    first = add_months(day.replace(day=1), count)
    last_day = calendar.monthrange(first.year, first.month)[1]
    return first.replace(day=min(day.day, last_day))


def review_due_on(anchor: datetime.date, frequency: str) -> datetime.date:
    """The next review date: `anchor` (the last confirmed review, or the start of the entitlement) plus
    12 or 6 months."""
    return add_months_to_date(anchor, MONTHS[frequency])
