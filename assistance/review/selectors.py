"""Reads of 低保 dynamic management. Every list and page starts from `DibaoReview.objects.visible_to(user)`."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.registry.models import IncomeRecord
from core.workflow.models import TransitionLog

from ..models import DibaoReview
from . import services
from .case_types import ReviewStatus

SORTS = {
    "due": ("due_on", "case_id"),
    "-due": ("-due_on", "-case_id"),
    "number": ("case__number",),
    "-number": ("-case__number",),
}
DEFAULT_SORT = "due"


def reviews_visible_to(user) -> QuerySet[DibaoReview]:
    return DibaoReview.objects.visible_to(user)


def review_list(user, params: Mapping[str, Any], today: datetime.date | None = None) -> QuerySet[DibaoReview]:
    """低保复核台账: `q` (case number, head name, 户编号), `street`, `community`, `status` ("open", "overdue"
    or a status), `outcome`, `frequency`, `sort`. Case, household and region in the same query."""
    today = today or timezone.localdate()
    qs = reviews_visible_to(user).select_related("case", "case__region", "household", "household__head")
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(case__number__istartswith=q)
            | Q(case__applicant_name__contains=q)
            | Q(household__number__istartswith=q.upper())
        )
    community = (params.get("community") or "").strip()
    street = (params.get("street") or "").strip()
    if community.isdigit():
        qs = qs.filter(region_code=community)
    elif street.isdigit():
        qs = qs.filter(region_code__startswith=street[:9])
    status = params.get("status") or ""
    if status == "open":
        qs = qs.filter(is_open=True)
    elif status == "overdue":
        qs = qs.filter(is_open=True, case__due_date__lt=today)
    elif status in ReviewStatus.values:
        qs = qs.filter(case__status=status)
    if params.get("outcome") in DibaoReview.Outcome.values:
        qs = qs.filter(outcome=params["outcome"], is_open=False)
    if params.get("frequency") in DibaoReview.Frequency.values:
        qs = qs.filter(frequency=params["frequency"])
    return qs.order_by(*SORTS.get(params.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT]))


def review_get(user, pk: int) -> DibaoReview:
    """One review in the user's scope, or DibaoReview.DoesNotExist."""
    return reviews_visible_to(user).select_related("case", "household", "entitlement").get(pk=pk)


@dataclass
class ReviewDetail:
    review: DibaoReview
    timeline: list[TransitionLog]
    incomes: list[IncomeRecord]
    frequency_now: str
    # While the review is open: what the calculator gives from the incomes recorded now.
    recomputed: services.Recomputed | None = None
    recompute_error: str = ""
    current_amount: Any = None
    max_taper_months: int = 0
    change: str = ""
    members: list[Any] = field(default_factory=list)


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
    timeline = list(
        TransitionLog.objects.filter(case_id=review.pk).select_related("actor").order_by("at", "id")
    )
    incomes = list(
        IncomeRecord.objects.filter(household_id=review.household_id)
        .filter(Q(period_end__isnull=True) | Q(period_end__gte=today))
        .select_related("person")
        .order_by("-period_start", "-id")
    )
    detail = ReviewDetail(
        review=review,
        timeline=timeline,
        incomes=incomes,
        frequency_now=services.rules.review_frequencies([review.household_id], today)[review.household_id],
        members=list(review.household.members.filter(death_date__isnull=True).order_by("pk")),
        change=services.describe_change(review),
    )
    if review.is_open:
        detail.current_amount = services.current_amount(review.entitlement)
        detail.max_taper_months = services.max_taper_months(today)
        try:
            detail.recomputed = services.recompute_amount(review.entitlement, services.effective_month(today))
        except ValidationError as exc:
            detail.recompute_error = "；".join(exc.messages)
    return detail
