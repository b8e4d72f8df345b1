"""Reads of 低保 dynamic management. Every list and page starts from `DibaoReview.objects.visible_to(user)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.registry.models import IncomeRecord

from ..asset_limits import AssetCheck, asset_limits_check
from ..models import DibaoReview
from . import services


def reviews_visible_to(user) -> QuerySet[DibaoReview]:
    return DibaoReview.objects.visible_to(user)


@dataclass
class ReviewDetail:
    review: DibaoReview
    incomes: list[IncomeRecord]
    frequency_now: str
    # While the review is open: what the calculator gives from the incomes recorded now.
    recomputed: services.Recomputed | None = None
    recompute_error: str = ""
    current_amount: Any = None
    max_taper_months: int = 0
    change: str = ""
    # While the review is open: the household's recorded assets against the 财产 limits today.
    assets: AssetCheck | None = None
    assets_error: str = ""


def review_detail(user, pk: int) -> ReviewDetail:
    review = (
        reviews_visible_to(user)
        .select_related(
            "case",
            "case__region",
            "case__created_by",
            "household",
            "household__head",
            "household__region",
            "entitlement",
            "created_by",
        )
        .get(pk=pk)
    )
    today = timezone.localdate()
    incomes = list(
        IncomeRecord.objects.filter(household_id=review.household_id)
        .filter(Q(period_end__isnull=True) | Q(period_end__gte=today))
        .select_related("person")
        .order_by("-period_start", "-id")
    )
    detail = ReviewDetail(
        review=review,
        incomes=incomes,
        frequency_now=services.rules.review_frequencies([review.household_id], today)[review.household_id],
        change=services.describe_change(review),
    )
    if review.is_open:
        detail.current_amount = services.current_amount(review.entitlement)
        detail.max_taper_months = services.max_taper_months(today)
        try:
            detail.recomputed = services.recompute_amount(review.entitlement, services.effective_month(today))
        except ValidationError as exc:
            detail.recompute_error = "；".join(exc.messages)
        try:
            detail.assets = asset_limits_check([review.household], today)[review.household_id]
        except BenefitsError as exc:
            detail.assets_error = str(exc)
    return detail
