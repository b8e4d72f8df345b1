"""Reads of the 低保 application flow. Every list and page starts from `visible_to(user)`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.selectors import parameter_value
from core.workflow.calendar import add_working_days, working_days_between

from . import bases, rules
from .case_types import CASE_TYPE_CODE, DibaoStatus
from .models import AssistanceApplication, Decision, Investigation, TimeLimitExtension
from .services import BENEFIT_TYPE_CODE

TOTAL_WORKING_DAYS_PARAMETER = "dibao.total_working_days"
# 延长办理期限 (民发〔2021〕57号 第二十条): the whole-process limit once extended, read on the acceptance date.
EXTENDED_WORKING_DAYS_PARAMETER = "dibao.extended_working_days"


def applications_visible_to(user) -> QuerySet[AssistanceApplication]:
    return AssistanceApplication.objects.visible_to(user).filter(case_type=CASE_TYPE_CODE)


def dibao_entitlements_visible_to(user) -> QuerySet[Entitlement]:
    """低保保障对象台账: the 低保 entitlements in the user's scope (filtered by DibaoEntitlementFilterSet)."""
    return (
        Entitlement.objects.visible_to(user)
        .filter(benefit_type__code=BENEFIT_TYPE_CODE)
        .select_related("household", "household__head", "household__region", "case")
        .order_by("region_code", "-start_month", "id")
    )


@dataclass
class ApplicationDetail:
    application: AssistanceApplication
    investigations: list[Investigation]
    decision: Decision | None
    payment_lines: list[PaymentLine] = field(default_factory=list)
    # 一次申请、一次性确认 (seed 003): how the application fits each category today, while it is open.
    assessment: list[Any] = field(default_factory=list)
    assessment_error: str = ""
    time_limit: TimeLimit | None = None
    # The amount proposed at investigation, street review and confirmation (None before 受理 and once closed).
    proposal: ProposedAmount | None = None


# The steps at which the proposed amount is shown: after 受理, until the 科长's decision.
PROPOSAL_STATUSES = (
    DibaoStatus.INVESTIGATION,
    DibaoStatus.PUBLICITY,
    DibaoStatus.STREET_REVIEW,
    DibaoStatus.CHIEF_CONFIRMATION,
)


@dataclass
class ProposedAmount:
    """The monthly 低保 amount the rules give the application's household today, paid from `month` (the
    month after a confirmation today). `amount` is None when the per-capita income is not below the
    standard; `error` says why nothing could be computed (no standard in force …)."""

    month: datetime.date
    amount: Decimal | None
    explanation: dict = field(default_factory=dict)
    error: str = ""


def dibao_proposed_amount(application: AssistanceApplication, today: datetime.date) -> ProposedAmount:
    """拟保障金额: the registered 低保 calculator on the household's facts of next month, exactly as the
    confirmation (services.effect_approve) and the payment run compute it — the members the application
    lists are covered (单人保 when they are not all the living members)."""
    month = add_months(month_start(today), 1)
    try:
        result = bases.compute_on_facts(
            application.household,
            month,
            covered=[p.pk for p in application.members.all()],
            label=bases.LABEL_APPROVAL,
        ).result
    except (BenefitsError, BenefitType.DoesNotExist) as exc:
        return ProposedAmount(month, None, error=str(exc) or "低保标准未设置，无法计算")
    if result is None or result.amount <= 0:
        return ProposedAmount(month, None)
    return ProposedAmount(month, result.amount, result.explanation)


@dataclass
class TimeLimit:
    """The whole-process limit counted from 受理 (民发〔2021〕57号: 30 working days, parameter
    dibao.total_working_days; 45 once extended with a recorded reason, dibao.extended_working_days — both
    read on the acceptance date) and how much of it is used."""

    working_days: int
    deadline: datetime.date
    used: int
    overdue: bool
    extension: TimeLimitExtension | None = None


def _extension_of(case) -> TimeLimitExtension | None:
    # A case read with select_related("time_limit_extension") answers without a query.
    try:
        return case.time_limit_extension
    except TimeLimitExtension.DoesNotExist:
        return None


def case_total_deadline(case) -> datetime.date | None:
    """The last working day of the case's whole process: the extended deadline once 延长办理期限 was
    decided, else 受理 + dibao.total_working_days (None before 受理 or without the parameter)."""
    if case.accepted_on is None:
        return None
    extension = TimeLimitExtension.objects.filter(case_id=case.pk).first()
    if extension is not None:
        return extension.deadline
    try:
        days = int(parameter_value(TOTAL_WORKING_DAYS_PARAMETER, case.accepted_on))
    except BenefitsError:
        return None
    return add_working_days(case.accepted_on, days)


def dibao_time_limit(application: AssistanceApplication, today: datetime.date) -> TimeLimit | None:
    case = application.case
    if case.accepted_on is None:
        return None
    extension = _extension_of(case)
    if extension is not None:
        days, deadline = extension.working_days, extension.deadline
    else:
        try:
            days = int(parameter_value(TOTAL_WORKING_DAYS_PARAMETER, case.accepted_on))
        except BenefitsError:
            return None
        deadline = add_working_days(case.accepted_on, days)
    end = timezone.localtime(case.closed_at).date() if case.closed_at else today
    return TimeLimit(
        working_days=days,
        deadline=deadline,
        used=working_days_between(case.accepted_on, end),
        overdue=end > deadline,
        extension=extension,
    )


def dibao_application_get(user, pk: int) -> AssistanceApplication:
    """One application in the user's scope, or AssistanceApplication.DoesNotExist."""
    return (
        applications_visible_to(user)
        .select_related("case", "case__region", "household", "household__head")
        .get(pk=pk)
    )


def dibao_application_detail(application: AssistanceApplication) -> ApplicationDetail:
    """What the application page shows besides the kit's frame, for an application the page has read
    through `applications_visible_to(user)` (the 低保 flow's queryset): its scope is already checked."""
    prefetch_related_objects([application], "members")
    investigations = list(
        Investigation.objects.filter(application=application)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("visitors"))
        .order_by("-recorded_at", "-id")
    )
    # Read with the application (the flow's queryset joins it): only a closed case has one.
    decision = getattr(application, "decision", None)
    lines: list[PaymentLine] = []
    if decision is not None and decision.entitlement_id:
        lines = list(
            PaymentLine.objects.filter(entitlement_id=decision.entitlement_id)
            .select_related("run")
            .order_by("-for_month", "-id")[:12]
        )
    detail = ApplicationDetail(
        application=application,
        investigations=investigations,
        decision=decision,
        payment_lines=lines,
    )
    detail.time_limit = dibao_time_limit(application, timezone.localdate())
    if application.case.is_open:
        try:
            detail.assessment = rules.assess_categories(
                application.household, list(application.members.all()), timezone.localdate()
            )
        except (BenefitsError, BenefitType.DoesNotExist) as exc:
            detail.assessment_error = str(exc) or "低保标准未设置，无法评估"
    if application.case.status in PROPOSAL_STATUSES:
        detail.proposal = dibao_proposed_amount(application, timezone.localdate())
    return detail
