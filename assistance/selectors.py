"""Reads of the 低保 application flow. Every list and page starts from `visible_to(user)`."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.selectors import parameter_value
from core.registry.models import Attachment
from core.registry.selectors import attachments_for
from core.workflow.calendar import add_working_days, working_days_between
from core.workflow.models import PublicNotice

from . import rules
from .case_types import CASE_TYPE_CODE, DibaoStatus
from .models import AssistanceApplication, Decision, Investigation
from .services import BENEFIT_TYPE_CODE, investigation_problem

SORTS = {
    "number": "case__number",
    "-number": "-case__number",
    "applied": "applied_on",
    "-applied": "-applied_on",
    "due": "case__due_date",
    "-due": "-case__due_date",
}
DEFAULT_SORT = "-applied"
TOTAL_WORKING_DAYS_PARAMETER = "dibao.total_working_days"


def applications_visible_to(user) -> QuerySet[AssistanceApplication]:
    return AssistanceApplication.objects.visible_to(user).filter(case_type=CASE_TYPE_CODE)


def dibao_application_list(user, params: Mapping[str, Any]) -> QuerySet[AssistanceApplication]:
    """低保申请台账: `q` (case number, applicant name, 户编号), `street`, `community` (region codes inside
    the user's scope), `status`, `staff_relative` ("1"), `sort`. Case, household and region in the same
    query."""
    qs = applications_visible_to(user).select_related(
        "case", "case__region", "household", "household__head", "decision"
    )
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
    elif status in DibaoStatus.values:
        qs = qs.filter(case__status=status)
    if params.get("staff_relative") == "1":
        qs = qs.filter(staff_relative=True)
    sort = params.get("sort") or DEFAULT_SORT
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    return qs.order_by(order, "-case_id")


def dibao_entitlement_list(user, params: Mapping[str, Any]) -> QuerySet[Entitlement]:
    """低保保障对象台账: the 低保 entitlements in the user's scope, filtered like the application list."""
    qs = (
        Entitlement.objects.visible_to(user)
        .filter(benefit_type__code=BENEFIT_TYPE_CODE)
        .select_related("household", "household__head", "household__region", "case")
    )
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(case__number__istartswith=q)
            | Q(household__head__name__contains=q)
            | Q(household__number__istartswith=q.upper())
        )
    community = (params.get("community") or "").strip()
    street = (params.get("street") or "").strip()
    if community.isdigit():
        qs = qs.filter(region_code=community)
    elif street.isdigit():
        qs = qs.filter(region_code__startswith=street[:9])
    status = params.get("status") or ""
    if status in Entitlement.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("region_code", "-start_month", "id")


@dataclass
class ApplicationDetail:
    application: AssistanceApplication
    investigations: list[Investigation]
    notices: list[PublicNotice]
    decision: Decision | None
    investigation_problem: str | None
    payment_lines: list[PaymentLine] = field(default_factory=list)
    # 一次申请、一次性确认 (seed 003): how the application fits each category today, while it is open.
    assessment: list[Any] = field(default_factory=list)
    assessment_error: str = ""
    time_limit: TimeLimit | None = None
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class TimeLimit:
    """The whole-process limit counted from 受理 (民发〔2021〕57号: 30 working days, parameter
    dibao.total_working_days) and how much of it is used."""

    working_days: int
    deadline: datetime.date
    used: int
    overdue: bool


def dibao_time_limit(application: AssistanceApplication, today: datetime.date) -> TimeLimit | None:
    case = application.case
    if case.accepted_on is None:
        return None
    try:
        days = int(parameter_value(TOTAL_WORKING_DAYS_PARAMETER, case.accepted_on))
    except BenefitsError:
        return None
    end = timezone.localtime(case.closed_at).date() if case.closed_at else today
    deadline = add_working_days(case.accepted_on, days)
    return TimeLimit(
        working_days=days,
        deadline=deadline,
        used=working_days_between(case.accepted_on, end),
        overdue=end > deadline,
    )


def dibao_application_get(user, pk: int) -> AssistanceApplication:
    """One application in the user's scope, or AssistanceApplication.DoesNotExist."""
    return (
        applications_visible_to(user)
        .select_related("case", "case__region", "household", "household__head")
        .get(pk=pk)
    )


def dibao_application_detail(user, pk: int) -> ApplicationDetail:
    application = (
        applications_visible_to(user)
        .select_related(
            "case",
            "case__region",
            "case__created_by",
            "household",
            "household__head",
            "household__region",
            "created_by",
        )
        .prefetch_related("members")
        .get(pk=pk)
    )
    investigations = list(
        Investigation.objects.filter(application=application)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("visitors"))
        .order_by("-recorded_at", "-id")
    )
    notices = list(
        PublicNotice.objects.filter(case_id=application.pk)
        .select_related("created_by", "closed_by")
        .order_by("-start_date", "-id")
    )
    decision = (
        Decision.objects.filter(application=application).select_related("decided_by", "entitlement").first()
    )
    lines: list[PaymentLine] = []
    if decision is not None and decision.entitlement_id:
        lines = list(
            PaymentLine.objects.filter(entitlement_id=decision.entitlement_id)
            .select_related("run")
            .order_by("-for_month", "-id")[:12]
        )
    problem = None
    if application.case.status == DibaoStatus.INVESTIGATION:
        problem = investigation_problem(application, application.case)
    detail = ApplicationDetail(
        application=application,
        investigations=investigations,
        notices=notices,
        decision=decision,
        investigation_problem=problem,
        payment_lines=lines,
    )
    detail.time_limit = dibao_time_limit(application, timezone.localdate())
    detail.attachments = attachments_for(application.case)
    if application.case.is_open:
        try:
            detail.assessment = rules.assess_categories(
                application.household, list(application.members.all()), timezone.localdate()
            )
        except (BenefitsError, BenefitType.DoesNotExist) as exc:
            detail.assessment_error = str(exc) or "低保标准未设置，无法评估"
    return detail
