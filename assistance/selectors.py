"""Reads of the 低保 application flow. Every list and page starts from `visible_to(user)`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.selectors import parameter_value
from core.workflow.calendar import add_working_days, working_days_between

from . import bases
from .case_types import CASE_TYPE_CODE, DibaoStatus
from .low_income.rules import application_assessment
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
            # With the 刚性支出 inputs and the whole household for 边缘 (assistance.low_income.rules).
            detail.assessment = application_assessment(application, timezone.localdate())
        except (BenefitsError, BenefitType.DoesNotExist) as exc:
            detail.assessment_error = str(exc) or "低保标准未设置，无法评估"
    if application.case.status in PROPOSAL_STATUSES:
        detail.proposal = dibao_proposed_amount(application, timezone.localdate())
    # Kept on the page's application so the 公示 start warning (dibao_go_on_warning, asked by the kit with
    # the application only) reads this assessment instead of computing it again.
    application.detail_today = detail
    return detail


# --- the assessment speaks early (issue 13 item 7) -------------------------------------------------

TEKUN_BASIC_CODE = "tekun_basic"  # assistance.tekun.services.BASIC_BENEFIT_CODE (imported lazily there)
_APPLIED_ASSESSMENT_CODE = {"dibao": "dibao", "edge": "dibao_edge", "tekun": "tekun", "rigid": "rigid"}


def _in_force_from(month: datetime.date) -> Q:
    # entitlement_covering's rule: not ended before `month` (an entitlement ended before its start never ran).
    return Q(end_month__isnull=True) | (Q(end_month__gte=month) & Q(end_month__gte=F("start_month")))


def tekun_members_in_force(household, today: datetime.date) -> list[Entitlement]:
    """The household's living members who hold 特困 (tekun_basic) from this month on — one query."""
    month = month_start(today)
    return list(
        Entitlement.objects.filter(
            _in_force_from(month),
            benefit_type__code=TEKUN_BASIC_CODE,
            person__household_id=household.pk,
            person__death_date__isnull=True,
        )
        .select_related("person")
        .order_by("person_id", "start_month")
    )


def dibao_in_force(household, today: datetime.date) -> Entitlement | None:
    """The household's 低保 entitlement from this month on, or None."""
    return (
        Entitlement.objects.filter(
            _in_force_from(month_start(today)),
            benefit_type__code=BENEFIT_TYPE_CODE,
            household_id=household.pk,
        )
        .order_by("-start_month")
        .first()
    )


def _month_text(month: datetime.date) -> str:
    return f"{month.year}年{month.month}月"


def dibao_overlap_warning(household, today: datetime.date, *, members=None) -> str | None:
    """低保 for a household with a member in 特困: the 特困 person is supported by 特困 and not counted twice
    (民发〔2021〕43号: 特困人员不再纳入低保). `members` — the application's listed members — narrows the
    warning to those the application would cover."""
    holders = tekun_members_in_force(household, today)
    if members is not None:
        listed = {m.pk for m in members}
        holders = [e for e in holders if e.person_id in listed]
    if not holders:
        return None
    names = "、".join(f"{e.person.name}（{_month_text(e.start_month)}起）" for e in holders)
    return (
        f"家庭成员{names}正在享受特困人员救助供养：特困人员不重复享受低保，"
        "请核实申请保障成员，不应将其计入低保保障人数"
    )


def tekun_overlap_warning(household, today: datetime.date) -> str | None:
    """特困 for a member of a 低保 household: approving it changes the household's 低保 (review it)."""
    entitlement = dibao_in_force(household, today)
    if entitlement is None:
        return None
    case = f"，{entitlement.case.number}" if entitlement.case_id else ""
    return (
        f"申请人所在家庭正在享受最低生活保障（{_month_text(entitlement.start_month)}起{case}）："
        "认定特困后，该成员不再计入家庭低保保障人数，须对家庭低保进行复核"
    )


def dibao_go_on_warning(
    application: AssistanceApplication, today: datetime.date, *, detail: ApplicationDetail | None = None
) -> str | None:
    """Why the 公示 may follow the investigation only on the caseworker's explicit 已知悉: the latest
    investigation's economic check found the household 不符合, or the assessment on today's facts finds
    it fits none of the categories it applied for. Refusal stays possible (科长确认 → 不予批准), so the
    flow warns rather than stops: a household that is not eligible gets a written refusal with reasons
    (民发〔2021〕57号 第二十一条), which needs the case to reach the decision. `detail`: the page's
    dibao_application_detail of today, whose investigations and assessment are reused."""
    reasons = []
    if detail is not None:
        latest = detail.investigations[0] if detail.investigations else None
        assessment = detail.assessment
    else:
        latest = (
            Investigation.objects.filter(application_id=application.pk)
            .order_by("-recorded_at", "-id")
            .first()
        )
        try:
            assessment = application_assessment(application, today)
        except (BenefitsError, BenefitType.DoesNotExist):
            assessment = []
    if latest is not None and latest.economic_check_result == Investigation.EconomicCheck.INELIGIBLE:
        reasons.append(f"入户调查的家庭经济状况核对结果为“{latest.get_economic_check_result_display()}”")
    applied = {_APPLIED_ASSESSMENT_CODE.get(c, c) for c in (application.categories or ["dibao"])}
    judged = [a for a in assessment if a.code in applied and a.fits is not None]
    if judged and not any(a.fits for a in judged):
        reasons.append(
            "按现有家庭信息评估不符合所申请类别的条件（"
            + "；".join(f"{a.label}：{a.reason}" for a in judged)
            + "）"
        )
    if not reasons:
        return None
    return "；".join(reasons) + "。不符合条件的可在科长确认环节作不予批准，或由申请人撤回申请"
