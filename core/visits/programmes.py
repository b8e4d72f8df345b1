"""探访关爱 programmes, declared by the bureau apps (`register_programme` from their AppConfig.ready()).

A programme names its section (业务科室) and the rule that SUGGESTS its members — a function
`(user, on_date) -> QuerySet[Person]`, set-based (one query), scoped to the user (it starts from
`Person.objects.visible_to(user)`). A caseworker confirms each suggestion (services.enrollment_create).

How often a member is visited is a dated parameter per programme and risk level (core/benefits
Parameter, key `visits.interval.<programme>.<risk>`), in MONTHS: 1 = monthly, 3 = quarterly, 0.5 = half a
month (twice a month). The coverage target of a month is `visits.target.<programme>` (1 = 100%).
visits/0002 seeds them for the programmes declared today; a bureau that declares a new programme seeds its
rows in a data migration of its own (a missing interval refuses the enrolment with the parameter's name).

Due dates (`due_after`): whole months are calendar months with the day kept, or the month's last day
when it has no such day (1月31日 + 1 个月 = 2月28日/29日; 12月15日 + 1 个月 = 次年1月15日); a fraction is that share
of the days of the month the whole months end in, rounded down (1月31日 + 0.5 → 2月15日 (31 × 0.5 = 15.5 → 15);
2月10日 + 0.5 → 2月24日 (28 × 0.5 = 14); 12月20日 + 1.5 → 次年2月4日 (1月20日 + 31 × 0.5 → 15)). Rounding down
keeps "twice a month" at least twice."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db import models
from django.db.models import QuerySet


class RiskLevel(models.TextChoices):
    LOW = "low", "低"
    MEDIUM = "medium", "中"
    HIGH = "high", "高"


SuggestRule = Callable[[object, datetime.date], QuerySet]


@dataclass(frozen=True)
class Programme:
    code: str
    title: str
    section: str  # the 业务科室 code whose district staff work on it ("assistance", "eldercare" …)
    suggest: SuggestRule
    rule_text: str  # what the rule finds, in words (stored on each enrolment it suggested)
    # A member with no visit yet is first due after joining by this level's interval.
    first_visit_risk: str = RiskLevel.LOW
    sort_order: int = 100

    def interval_key(self, risk: str) -> str:
        return interval_key(self.code, risk)

    @property
    def target_key(self) -> str:
        return target_key(self.code)


_REGISTRY: dict[str, Programme] = {}


def register_programme(programme: Programme) -> Programme:
    """Register a programme (call from AppConfig.ready()); re-registering a code replaces it."""
    _REGISTRY[programme.code] = programme
    return programme


def get_programme(code: str) -> Programme:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise LookupError(f"visit programme {code!r} is not registered") from None


def find_programme(code: str) -> Programme | None:
    return _REGISTRY.get(code)


def programmes() -> list[Programme]:
    return sorted(_REGISTRY.values(), key=lambda p: (p.sort_order, p.code))


def programme_choices() -> list[tuple[str, str]]:
    return [(p.code, p.title) for p in programmes()]


def programme_title(code: str) -> str:
    programme = find_programme(code)
    return programme.title if programme else code


def interval_key(code: str, risk: str) -> str:
    return f"visits.interval.{code}.{risk}"


def target_key(code: str) -> str:
    return f"visits.target.{code}"


# --- due dates -------------------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` plus whole calendar months; the month's last day when it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_after(day: datetime.date, months: Decimal | int | float | str) -> datetime.date:
    """The day a visit is due `months` (see the module docstring) after `day`."""
    months = Decimal(str(months))
    if months <= 0:
        raise ValueError("a visit interval is a positive number of months")
    whole = int(months.to_integral_value(rounding=ROUND_FLOOR))
    base = add_months(day, whole)
    fraction = months - whole
    if not fraction:
        return base
    days_in_month = calendar.monthrange(base.year, base.month)[1]
    extra = int((fraction * days_in_month).to_integral_value(rounding=ROUND_FLOOR))
    return base + datetime.timedelta(days=extra)


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
