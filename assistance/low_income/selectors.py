"""Reads of the 低保边缘 / 刚性支出 register and of the 专项救助 referral lists; every list starts from
`visible_to(user)`."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, QuerySet

from core.registry.models import Person

from .. import rules
from .models import LowIncomeCategory, LowIncomeRecognition
from .services import active_recognition


def recognitions_visible_to(user) -> QuerySet[LowIncomeRecognition]:
    return LowIncomeRecognition.objects.visible_to(user).select_related(
        "household", "household__head", "household__region", "case", "renews__case"
    )


def recognised_households_q(on_date: datetime.date):
    """Households with a recognition in force on the date (active, not past its end)."""
    return Exists(
        LowIncomeRecognition.objects.filter(
            household_id=OuterRef("household_id"),
            status=LowIncomeRecognition.Status.ACTIVE,
            valid_from__lte=on_date,
            valid_until__gte=on_date,
        )
    )


def referral_persons_visible_to(user, on_date: datetime.date) -> QuerySet[Person]:
    """专项救助转介: the living members of households in the user's scope whose 低保边缘 or 刚性支出 recognition
    is in force on the date."""
    return (
        Person.objects.visible_to(user)
        .filter(recognised_households_q(on_date), death_date__isnull=True, household__isnull=False)
        .select_related("household", "household__region")
    )


def household_edge_standing(household, on_date: datetime.date) -> tuple[bool, str]:
    """Whether the household counts as 低保边缘 for 单人保 on the date, and why: recognised in the register,
    or — to be recognised by this application's own decision — its whole household's income and assets
    fit 低保边缘 now (assistance.rules.assess_categories on all living members)."""
    recognition = active_recognition(household, LowIncomeCategory.EDGE, on_date)
    if recognition is not None:
        return (
            True,
            f"已认定为低保边缘家庭（{recognition.case.number}，有效期至{recognition.valid_until:%Y-%m-%d}）",
        )
    living = list(household.members.filter(death_date__isnull=True))
    edge = next(a for a in rules.assess_categories(household, living, on_date) if a.code == "dibao_edge")
    return bool(edge.fits), edge.reason
