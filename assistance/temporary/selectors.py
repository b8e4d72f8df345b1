"""Reads of the 临时救助 flow. Every list and page starts from `visible_to(user)`."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from ..models import TempAssistanceCase, TempAssistanceKind
from .case_types import TempStatus
from .services import decision_deadline, proposal_problem, same_cause_cases

SORTS = {
    "number": "case__number",
    "-number": "-case__number",
    "applied": "applied_on",
    "-applied": "-applied_on",
    "due": "case__due_date",
    "-due": "-case__due_date",
}
DEFAULT_SORT = "-applied"


def temp_cases_visible_to(user) -> QuerySet[TempAssistanceCase]:
    return TempAssistanceCase.objects.visible_to(user)


def temp_case_list(user, params: Mapping[str, Any]) -> QuerySet[TempAssistanceCase]:
    """临时救助台账: `q` (case number, name, 户编号), `street`, `community`, `status` ("open" or a status),
    `kind`, `approval_level`, `sort`."""
    qs = temp_cases_visible_to(user).select_related("case", "case__region", "person", "household")
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(case__number__istartswith=q)
            | Q(person__name__contains=q)
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
        qs = qs.filter(case__is_open=True)
    elif status in TempStatus.values:
        qs = qs.filter(case__status=status)
    kind = params.get("kind") or ""
    if kind in TempAssistanceKind.values:
        qs = qs.filter(kind=kind)
    level = params.get("approval_level") or ""
    if level in TempAssistanceCase.Level.values:
        qs = qs.filter(approval_level=level)
    order = SORTS.get(params.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])
    return qs.order_by(order, "-case_id")


def temp_case_get(user, pk: int) -> TempAssistanceCase:
    """One case in the user's scope, or TempAssistanceCase.DoesNotExist."""
    return (
        temp_cases_visible_to(user)
        .select_related("case", "case__region", "person", "household", "household__region")
        .get(pk=pk)
    )


@dataclass
class TempDetail:
    temp: TempAssistanceCase
    proposal_problem: str | None
    deadline: datetime.date | None
    related: list[TempAssistanceCase] = field(default_factory=list)


def temp_case_detail(user, pk: int) -> TempDetail:
    temp = (
        temp_cases_visible_to(user)
        .select_related(
            "case",
            "case__region",
            "person",
            "household",
            "household__region",
            "earlier_case",
            "earlier_case__case",
            "payment_line",
            "payment_line__run",
        )
        .get(pk=pk)
    )
    case = temp.case
    return TempDetail(
        temp=temp,
        proposal_problem=proposal_problem(temp, case) if case.status == TempStatus.INVESTIGATION else None,
        deadline=decision_deadline(temp),
        related=list(same_cause_cases(temp)),
    )
