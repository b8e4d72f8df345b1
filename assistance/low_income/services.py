"""Writes of the 低保边缘 / 刚性支出 register: a recognition made by a 低保 confirmation (called from the
confirmation's effects, inside its transaction), its renewal by a later decision, and its end when the
household is granted 低保 as a whole."""

from __future__ import annotations

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.selectors import parameter_value

from .models import LowIncomeCategory, LowIncomeRecognition
from .rules import P_EDGE_VALID_MONTHS, P_RIGID_VALID_MONTHS, RIGID_MAX_MONTHS


def add_months_to_date(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validity_until(category: str, valid_from: datetime.date) -> datetime.date:
    """The last day of a recognition made on `valid_from`: 低保边缘 edge.valid_months, 刚性支出
    rigid.valid_months but never more than 12 (DOMAIN.md "valid ≤ 12 months"), read on the decision date."""
    key = P_EDGE_VALID_MONTHS if category == LowIncomeCategory.EDGE else P_RIGID_VALID_MONTHS
    try:
        months = int(parameter_value(key, valid_from))
    except BenefitsError as exc:
        raise ValidationError(str(exc)) from None
    if category == LowIncomeCategory.RIGID:
        months = min(months, RIGID_MAX_MONTHS)
    return add_months_to_date(valid_from, max(1, months)) - datetime.timedelta(days=1)


def active_recognition(household, category: str, on_date: datetime.date) -> LowIncomeRecognition | None:
    """The household's recognition of the category in force on the date (active and not past its end)."""
    return (
        LowIncomeRecognition.objects.filter(
            household_id=household.pk,
            category=category,
            status=LowIncomeRecognition.Status.ACTIVE,
            valid_from__lte=on_date,
            valid_until__gte=on_date,
        )
        .order_by("-valid_from")
        .first()
    )


@transaction.atomic
def low_income_recognise(*, household, category: str, case, actor, basis: str = "") -> LowIncomeRecognition:
    """认定 by the confirmation of `case`: valid from today for the category's period. An active recognition
    of the household and category (in force, nearing its end, or past it) is replaced: marked 已续期 and
    linked from the new one (续期). The database keeps one active recognition per household and category;
    a decision racing another for the same household gets the Chinese refusal."""
    if category not in LowIncomeCategory.values:
        raise ValidationError("认定类别须为低保边缘家庭或刚性支出困难家庭")
    today = timezone.localdate()
    label = LowIncomeCategory(category).label
    until = validity_until(category, today)
    previous = (
        LowIncomeRecognition.objects.select_for_update()
        .filter(household_id=household.pk, category=category, status=LowIncomeRecognition.Status.ACTIVE)
        .first()
    )
    if previous is not None:
        previous.status = LowIncomeRecognition.Status.RENEWED
        previous.ended_on = today
        previous.end_reason = f"经{case.number}重新认定（续期）"
        previous.save(update_fields=["status", "ended_on", "end_reason"])
    try:
        with transaction.atomic():
            return LowIncomeRecognition.objects.create(
                household=household,
                category=category,
                case=case,
                region_code=household.region_code,
                valid_from=today,
                valid_until=until,
                basis=basis,
                renews=previous,
                decided_by=actor,
            )
    except IntegrityError:
        raise ValidationError(f"该家庭已有有效的{label}认定（另一认定刚刚作出），请刷新后核实") from None


@transaction.atomic
def low_income_end_for_dibao(*, household, case, actor) -> int:
    """The household is granted 低保 as a whole: its 低保边缘 and 刚性支出 recognitions end (刚性支出 is for
    households that are not 低保/特困/边缘; a 低保 household is no longer 边缘). Returns how many ended."""
    return LowIncomeRecognition.objects.filter(
        household_id=household.pk, status=LowIncomeRecognition.Status.ACTIVE
    ).update(
        status=LowIncomeRecognition.Status.ENDED,
        ended_on=timezone.localdate(),
        end_reason=f"经{case.number}纳入最低生活保障",
    )
