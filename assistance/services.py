"""Every write of the 低保 application flow: one keyword-only, atomic function per business action.

Status changes go through `core.workflow.services.case_transition` (guard, maker-checker, audit row);
the guards and effects the case type declares (assistance/case_types.py) are defined here because they
read and write the application. Errors are Chinese and shown to the user as they are:
`ValidationError` for bad input (field-keyed where a form field is to blame), `TransitionError` for a
refused case action.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.accounts.sections import has_section_role
from core.accounts.templatetags.ui import cn_date
from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement
from core.benefits.months import add_months, month_start
from core.benefits.selectors import (
    entitlement_covered_message,
    entitlement_covering,
    parameter_value,
)
from core.registry.models import Household, Person
from core.registry.querysets import user_scope_prefix
from core.workflow import services as workflow_services
from core.workflow.calendar import add_working_days
from core.workflow.engine import KIND_OTHER
from core.workflow.guards import require_notice_passed
from core.workflow.models import Case, PublicNotice
from core.workflow.services import (
    TransitionError,
    applicant_lock,
    case_log_action,
    last_comment,
    last_log,
    latest_notice,
    record_decide,
    record_lock,
    step_date_problem,
)

from . import bases
from .case_types import CASE_TYPE_CODE, DibaoStatus
from .models import AssistanceApplication, Category, Decision, Investigation, PovertyCause

logger = logging.getLogger(__name__)

BENEFIT_TYPE_CODE = "dibao"
# 民发〔2021〕57号 第十五条: the home visit is made by at least two staff.
MIN_VISITORS = 2
DISTRICT_PREFIX_LENGTH = 6
# Roles whose members do home visits (leaders and administrators do not).
VISITOR_ROLES = ("社区经办人", "街道审核员", "科室经办人", "科长")


def _application_of(case: Case) -> AssistanceApplication:
    return AssistanceApplication.objects.get(case_id=case.pk)


def _latest_investigation(application_id: int) -> Investigation | None:
    return Investigation.objects.filter(application_id=application_id).order_by("-recorded_at", "-id").first()


# The papers a 低保 or 特困 applicant signs with the written application (民发〔2021〕57号 第十条, 43号 第十二条),
# by the application's field: without both the application is neither registered nor accepted.
SIGNED_PAPERS = {"promise_signed": "告知承诺书", "authorisation_signed": "家庭经济状况核对授权书"}


def unsigned_errors(**signed: bool) -> dict[str, str]:
    """The form errors of a new application for each paper the applicant has not signed."""
    return {
        field: f"申请人须签署{paper}后方可申请" for field, paper in SIGNED_PAPERS.items() if not signed[field]
    }


def unsigned_problem(application) -> str | None:
    """Why an application on file cannot be accepted for want of a signed paper, or None."""
    for field, paper in SIGNED_PAPERS.items():
        if not getattr(application, field):
            return f"申请人未签署{paper}"
    return None


def _last_objection_at(case: Case) -> datetime.datetime | None:
    log = last_log(case, ("notice_object", "reinvestigate", "send_back", "chief_send_back"))
    return log.at if log else None


# ---------------------------------------------------------------------------------------------------
# Guards and effects declared by the case type
# ---------------------------------------------------------------------------------------------------


def guard_accept(case: Case, user) -> str | None:
    return unsigned_problem(_application_of(case))


def investigation_problem(application: AssistanceApplication, case: Case) -> str | None:
    """Why the investigation is not complete enough for the 公示, or None."""
    latest = _latest_investigation(application.pk)
    if latest is None:
        return "未完成入户调查"
    objected_at = _last_objection_at(case)
    if objected_at is not None and latest.recorded_at <= objected_at:
        return "公示异议或退回后尚未重新入户调查"
    if latest.visitors.count() < MIN_VISITORS:
        return f"入户调查人员不足{MIN_VISITORS}人"
    if latest.economic_check_result == Investigation.EconomicCheck.PENDING:
        return "家庭经济状况核对结果尚未反馈"
    if application.staff_relative and not application.investigations.filter(district_visit=True).exists():
        # 民发〔2021〕57号 第二十七条: relatives of staff or village cadres get a county-level home visit.
        return "本申请为工作人员或村（社区）干部近亲属备案申请，须经区级入户核查"
    return None


def guard_investigation_done(case: Case, user) -> str | None:
    return investigation_problem(_application_of(case), case)


def guard_notice_passed(case: Case, user) -> str | None:
    reason = require_notice_passed(case, user)
    if reason:
        return reason
    notice = latest_notice(case)
    latest = _latest_investigation(case.pk)
    if latest is not None and notice is not None and notice.created_at < latest.recorded_at:
        return "入户调查在公示之后有更新，须重新公示"
    return None


def covered_problem(household: Household, action: str = "认定") -> str | None:
    """Why the household cannot be granted 低保 again (it already is, from next month on), or None."""
    covering = entitlement_covering(
        BENEFIT_TYPE_CODE, household=household, first_month=add_months(month_start(timezone.localdate()), 1)
    )
    return entitlement_covered_message(covering, action=action) if covering is not None else None


def assets_problem(household: Household) -> str | None:
    """Why a confirmation today is refused on the household's assets: the 财产 limits it exceeds with
    their figures (assistance.asset_limits, the records held today), or None when within them."""
    from .asset_limits import asset_limits_check

    try:
        check = asset_limits_check([household], timezone.localdate())[household.pk]
    except BenefitsError as exc:
        return f"无法核对家庭财产：{exc}"
    if check.within:
        return None
    return (
        f"家庭财产超过规定，不能确认批准：{check.summary}。"
        "请作不予批准处理，或核实并更正家庭财产登记（已处置的财产登记处置/注销日期）后再确认"
    )


def guard_approve(case: Case, user) -> str | None:
    reason = guard_notice_passed(case, user)
    if reason:
        return reason
    # The household may have been granted 低保 on another application since this one was entered.
    # The home visit's visitors are refused by the case engine (CaseType.participants), before any guard.
    household = _application_of(case).household
    return covered_problem(household) or assets_problem(household)


def _decide(case: Case, *, approved: bool, actor) -> AssistanceApplication:
    """The decision on the application itself, as every flow records it (the Decision row adds the
    amount and the entitlement): the engine has closed the case and mirrored `is_open`."""
    application = AssistanceApplication.objects.select_for_update().get(case_id=case.pk)
    record_decide(application, approved=approved, reasons=last_comment(case), actor=actor)
    return application


def grant_entitlement(home: Household, /, **entitlement: Any) -> Entitlement:
    """The entitlement an approved assistance application grants (低保, 特困, 两项补贴), in the region and
    area type of the beneficiary's `home` household, which its standard follows. Refused when the beneficiary already has it for one
    of the months (granted a moment ago on another application, or already received): that reason is
    raised as a TransitionError inside the approval's transaction, so nothing is approved."""
    from core.benefits.services import entitlement_create

    try:
        return entitlement_create(region_code=home.region_code, area_type=home.area_type, **entitlement)
    except ValidationError as exc:
        raise TransitionError("；".join(exc.messages)) from None


def effect_approve(*, case: Case, transition, actor, data: dict) -> None:
    """确认批准: the entitlement is paid from the month after confirmation (民发〔2021〕57号 第二十条), on the
    basis this decision fixes (assistance.bases): the household's income and the covered members recorded
    now. Later income or membership edits do not move it; they open a 变化核查 for a review."""
    application = _decide(case, approved=True, actor=actor)
    household = application.household
    single_edge = _single_cover_check(application)
    start_month = add_months(month_start(timezone.localdate()), 1)
    benefit_type = BenefitType.objects.get(code=BENEFIT_TYPE_CODE)
    try:
        computed = bases.compute_on_facts(
            household,
            start_month,
            covered=application.members.values_list("pk", flat=True),
            label=bases.LABEL_APPROVAL,
            case_id=case.pk,
            case_number=case.number,
        )
    except BenefitsError as exc:
        raise TransitionError(f"无法核定低保金额：{exc}") from None
    if computed.result is None:
        # Raised inside the transition's transaction: the approval rolls back.
        raise TransitionError(
            "按家庭现有收入核算，人均收入不低于低保标准，不能确认批准；请核实收入或作不予批准处理"
        )
    params: dict[str, Any] = {
        "application": case.pk,
        "categories": list(application.categories),
        bases.BASES_KEY: [computed.basis],
    }
    if application.poverty_cause:
        params["poverty_cause"] = application.poverty_cause
    if computed.basis["single"]:
        # 单人保: the ledgers and reports list who is covered (the calculator reads the basis).
        params["covered_person_ids"] = list(computed.basis["covered"])
    entitlement = grant_entitlement(
        household,
        benefit_type=benefit_type,
        household=household,
        case=case,
        start_month=start_month,
        params=params,
        actor=actor,
    )
    _register_on_approval(application, case=case, actor=actor, single_edge=single_edge)
    Decision.objects.create(
        application=application,
        approved=True,
        monthly_amount=computed.result.amount,
        start_month=start_month,
        reasons=application.reasons,
        explanation=json.loads(DjangoJSONEncoder().encode(computed.result.explanation)),
        entitlement=entitlement,
        decided_by=actor,
    )


def effect_refuse(*, case: Case, transition, actor, data: dict) -> None:
    """不予批准 with the written reasons the transition required (民发〔2021〕57号 第二十一条). With
    data["recognise"] (dibao_refuse_and_recognise) the same decision recognises the household as 低保边缘
    or 刚性支出困难家庭 — only when the assessment today says it fits."""
    application = _decide(case, approved=False, actor=actor)
    category = (data or {}).get("recognise")
    if category:
        _recognise_on_refusal(application, case=case, actor=actor, category=category)
    Decision.objects.create(
        application=application, approved=False, reasons=application.reasons, decided_by=actor
    )


# --- 低保边缘 / 刚性支出 recognised by the same confirmation; 单人保 (issue 13 items 8 and 2) --------------

_ASSESSMENT_CODE = {Category.EDGE: "dibao_edge", Category.RIGID: "rigid"}


def recognisable_categories(application: AssistanceApplication, on_date: datetime.date) -> list:
    """The categories (低保边缘, 刚性支出) the application's household fits on the date by the assessment
    ("一次申请、一次性确认", seed 003), as CategoryAssessment rows — what the confirmation may recognise."""
    from .low_income.rules import application_assessment

    wanted = {code: category for category, code in _ASSESSMENT_CODE.items()}
    return [a for a in application_assessment(application, on_date) if a.code in wanted and a.fits]


def _recognise_on_refusal(application: AssistanceApplication, *, case: Case, actor, category: str) -> None:
    from .low_income.services import low_income_recognise

    if category not in _ASSESSMENT_CODE:
        raise TransitionError("认定类别须为低保边缘家庭或刚性支出困难家庭")
    fitting = {a.code: a for a in recognisable_categories(application, timezone.localdate())}
    row = fitting.get(_ASSESSMENT_CODE[category])
    if row is None:
        raise TransitionError(
            f"按确认当日的家庭信息评估，该家庭不符合{Category(category).label}条件，不能认定；可作不予批准处理"
        )
    try:
        low_income_recognise(
            household=application.household, category=category, case=case, actor=actor, basis=row.reason
        )
    except ValidationError as exc:
        raise TransitionError("；".join(exc.messages)) from None


def _single_cover_check(application: AssistanceApplication) -> bool | None:
    """At confirmation: a partial member list (单人保) is allowed only for a 低保边缘 household and members
    who meet the condition (DOMAIN.md "单人保"); refused with a TransitionError otherwise. Returns None for
    a whole-household application, else whether the household is already recognised as 边缘."""
    from .low_income.models import LowIncomeCategory
    from .low_income.rules import single_cover_problem
    from .low_income.selectors import household_edge_standing
    from .low_income.services import active_recognition

    today = timezone.localdate()
    covered = list(application.members.all())
    living = _living_members(application.household)
    if {p.pk for p in covered} == {p.pk for p in living}:
        return None
    is_edge, _why = household_edge_standing(application.household, today)
    problem = single_cover_problem(covered, is_edge=is_edge, on_date=today)
    if problem:
        raise TransitionError(problem)
    return active_recognition(application.household, LowIncomeCategory.EDGE, today) is not None


def _register_on_approval(application, *, case: Case, actor, single_edge: bool | None) -> None:
    """The register follows the approval: a whole household granted 低保 is no longer 边缘 or 刚性支出 (its
    recognitions end); a 单人保 approval recognises its household as 低保边缘 by the same decision unless it
    already is."""
    from .low_income.models import LowIncomeCategory
    from .low_income.selectors import household_edge_standing
    from .low_income.services import low_income_end_for_dibao, low_income_recognise

    if single_edge is None:
        low_income_end_for_dibao(household=application.household, case=case, actor=actor)
    elif not single_edge:
        _edge, why = household_edge_standing(application.household, timezone.localdate())
        try:
            low_income_recognise(
                household=application.household,
                category=LowIncomeCategory.EDGE,
                case=case,
                actor=actor,
                basis=f"{why}（单人保审批一并认定）",
            )
        except ValidationError as exc:
            raise TransitionError("；".join(exc.messages)) from None


# ---------------------------------------------------------------------------------------------------
# Application
# ---------------------------------------------------------------------------------------------------


def _living_members(household: Household) -> list[Person]:
    return list(household.members.filter(death_date__isnull=True).order_by("pk"))


@transaction.atomic
def dibao_entry_problem(household: Household) -> str | None:
    """Why no 低保 application can be entered for the household now, or None: it has one in hand, or it is
    already covered. The create page says so as soon as the household is chosen; the service refuses too."""
    open_same = (
        AssistanceApplication.objects.open()
        .filter(household=household, case_type=CASE_TYPE_CODE)
        .select_related("case")
        .first()
    )
    if open_same is not None:
        return f"该家庭已有正在办理的低保申请（{open_same.case.number}），不能重复申请"
    return covered_problem(household, action="申请")


def dibao_application_create(
    *,
    household: Household,
    actor,
    promise_signed: bool,
    authorisation_signed: bool,
    staff_relative: bool = False,
    categories: Iterable[str] = (Category.DIBAO,),
    members: Iterable[Person] | None = None,
    applied_on: datetime.date | None = None,
    poverty_cause: str = "",
    notes: str = "",
    rigid_spending: dict[str, Any] | None = None,
) -> AssistanceApplication:
    """申请登记: a household's written application with its signed 告知承诺 and 核对授权 (民发〔2021〕57号
    第十条). Refuses a second open application of the household and a member already covered by another
    open application. Nothing is saved when anything is refused."""
    household = applicant_lock(Household, household, actor, what="家庭")
    errors: dict[str, str] = {}
    errors.update(unsigned_errors(promise_signed=promise_signed, authorisation_signed=authorisation_signed))
    categories = list(dict.fromkeys(categories or ()))
    valid = set(Category.values)
    if not categories or any(c not in valid for c in categories):
        errors["categories"] = "请选择申请救助类别"
    elif Category.DIBAO not in categories:
        errors["categories"] = "低保审核确认申请须包含“最低生活保障”类别"
    today = timezone.localdate()
    applied_on = applied_on or today
    if applied_on > today:
        errors["applied_on"] = "申请日期不能晚于今天"
    if poverty_cause and poverty_cause not in PovertyCause.values:
        errors["poverty_cause"] = "请选择有效的致贫原因"
    if not household.is_active:
        errors["household"] = "该家庭档案已注销，不能申请"
    living = _living_members(household)
    if members is None:
        chosen = living
    else:
        living_ids = {p.pk for p in living}
        chosen = [p for p in members]
        if any(p.pk not in living_ids for p in chosen):
            errors["members"] = "申请保障成员须为本家庭在世成员"
    if not chosen and "members" not in errors:
        errors["members"] = "该家庭没有可申请保障的成员"
    spending, spending_error = _rigid_spending(rigid_spending)
    if spending_error:
        errors["rigid_spending"] = spending_error
    if "members" not in errors and {p.pk for p in chosen} != {p.pk for p in living}:
        # 单人保 (DOMAIN.md): only a 低保边缘 household's members who meet the condition may be covered alone.
        from .low_income.rules import single_cover_problem
        from .low_income.selectors import household_edge_standing

        is_edge, _why = household_edge_standing(household, today)
        problem = single_cover_problem(chosen, is_edge=is_edge, on_date=today)
        if problem:
            errors["members"] = problem
    if errors:
        raise ValidationError(errors)

    problem = dibao_entry_problem(household)
    if problem:
        raise ValidationError({"household": problem})
    busy = (
        AssistanceApplication.members.through.objects.filter(
            person_id__in=[p.pk for p in chosen], assistanceapplication__is_open=True
        )
        .select_related("person", "assistanceapplication__case")
        .first()
    )
    if busy is not None:
        raise ValidationError(
            {
                "members": f"成员{busy.person.name}已在其他正在办理的申请"
                f"（{busy.assistanceapplication.case.number}）中，不能重复申请"
            }
        )

    comment = "低保申请登记"
    if staff_relative:
        comment += "（工作人员或村（社区）干部近亲属，单独备案）"
    application = workflow_services.application_create(
        AssistanceApplication,
        case_type=CASE_TYPE_CODE,
        household=household,
        applicant_person=household.head,
        actor=actor,
        comment=comment,
        duplicate={"household": "该家庭已有正在办理的低保申请，不能重复申请"},
        # The record's own case_type keeps its model default, "dibao" (one open application per kind).
        categories=categories,
        promise_signed=True,
        authorisation_signed=True,
        staff_relative=bool(staff_relative),
        applied_on=applied_on,
        poverty_cause=poverty_cause,
        notes=(notes or "").strip(),
        rigid_spending=spending,
    )
    application.members.set(chosen)
    return application


def _rigid_spending(values: dict[str, Any] | None) -> tuple[dict[str, str], str]:
    """The 12 months' 刚性支出 by kind as stored ({kind: "123.45"}), and an error text ("" when fine)."""
    from decimal import Decimal, InvalidOperation

    from .low_income.rules import RIGID_SPENDING_KINDS

    if not values:
        return {}, ""
    labels = dict(RIGID_SPENDING_KINDS)
    stored: dict[str, str] = {}
    for key, value in values.items():
        if key not in labels:
            return {}, "刚性支出类别无效"
        if value in (None, ""):
            continue
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return {}, f"{labels[key]}须为金额"
        if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000"):
            return {}, f"{labels[key]}须为0至1000万元之间的金额"
        stored[key] = f"{amount.quantize(Decimal('0.01'))}"
    return stored, ""


def _locked_application(application: AssistanceApplication, actor) -> AssistanceApplication:
    return record_lock(AssistanceApplication, application, actor, related=("case", "household"))


def _transition(application: AssistanceApplication, name: str, actor, comment: str = "") -> Case:
    return workflow_services.case_transition(case=application.case, name=name, actor=actor, comment=comment)


@transaction.atomic
def dibao_application_accept(*, application: AssistanceApplication, actor, comment: str = "") -> Case:
    """受理: the 30-working-day clock starts (Case.accepted_on)."""
    return _transition(application, "accept", actor, comment)


@transaction.atomic
def dibao_application_withdraw(*, application: AssistanceApplication, actor, reason: str) -> Case:
    return _transition(application, "withdraw", actor, reason)


# 延长办理期限 is the section's decision: its 科长 takes it (the 科室经办人 prepares the case, the chief who
# answers for the time limit decides to extend it), in the 低保 case type's section.
EXTEND_ROLE = "科长"
# The steps during which the whole-process limit runs: after 受理, before the decision.
EXTENDABLE_STATUSES = (
    DibaoStatus.INVESTIGATION,
    DibaoStatus.PUBLICITY,
    DibaoStatus.STREET_REVIEW,
    DibaoStatus.CHIEF_CONFIRMATION,
)


@transaction.atomic
def dibao_extend_time_limit(*, application: AssistanceApplication, actor, reason: str):
    """延长办理期限 (民发〔2021〕57号 第二十条): the whole-process limit of dibao.total_working_days (30) from
    受理 becomes dibao.extended_working_days (45), both read on the acceptance date; once per case (the
    extension's primary key is the case), with written reasons, by the section's 科长, while the case is open
    and not past the extended deadline. The current step's due date moves to the extended deadline (later
    steps are cut to it: case_types.within_total_limit); the case's log records the decision."""
    from .models import TimeLimitExtension
    from .selectors import EXTENDED_WORKING_DAYS_PARAMETER, TOTAL_WORKING_DAYS_PARAMETER

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写延长办理期限的理由"})
    case = (
        Case.objects.visible_to(actor)
        .select_for_update()
        .filter(pk=application.pk, case_type=CASE_TYPE_CODE)
        .first()
    )
    if case is None:
        raise ValidationError("案件不存在或不在您的数据范围内")
    ct = case.type_def
    if not has_section_role(actor, ct.section if ct else "", EXTEND_ROLE):
        raise ValidationError("延长办理期限须由本科室科长决定")
    if not case.is_open or case.status not in EXTENDABLE_STATUSES:
        raise ValidationError(f"案件当前为“{case.status_label}”，不能延长办理期限（受理后、确认前方可延长）")
    if TimeLimitExtension.objects.filter(case_id=case.pk).exists():
        raise ValidationError("本案已延长过办理期限，只能延长一次")
    try:
        base = int(parameter_value(TOTAL_WORKING_DAYS_PARAMETER, case.accepted_on))
        extended = int(parameter_value(EXTENDED_WORKING_DAYS_PARAMETER, case.accepted_on))
    except BenefitsError as exc:
        raise ValidationError(f"办理时限参数未设置：{exc}") from None
    if extended <= base:
        raise ValidationError(
            f"延长后总时限（{extended}个工作日）不长于原总时限（{base}个工作日），请检查参数设置"
        )
    deadline = add_working_days(case.accepted_on, extended)
    if timezone.localdate() > deadline:
        raise ValidationError(
            f"已超过延长后的办理期限（受理后{extended}个工作日，{cn_date(deadline)}），不能再延长"
        )
    extension = TimeLimitExtension.objects.create(
        case=case,
        region_code=case.region_code,
        working_days=extended,
        deadline=deadline,
        reason=reason,
        extended_by=actor,
    )
    case.due_date = max(case.due_date, deadline) if case.due_date else deadline
    case.updated_by = actor
    case.save(update_fields=["due_date", "updated_by", "updated_at"])
    case_log_action(
        case=case,
        name="extend_time_limit",
        label="延长办理期限",
        actor=actor,
        comment=reason,
        data={"working_days": extended, "deadline": deadline.isoformat()},
        kind=KIND_OTHER,
    )
    application.case.due_date = case.due_date
    return extension


# ---------------------------------------------------------------------------------------------------
# Investigation (入户调查)
# ---------------------------------------------------------------------------------------------------


def visitor_candidates(application: AssistanceApplication):
    """Staff who may visit this household: active users whose region contains the household's community
    (the community's, the street's and the district's staff)."""
    from django.contrib.auth import get_user_model

    from core.registry.choices import SCOPE_DIGITS

    code = application.region_code
    prefixes = {code[:digits] for digits in SCOPE_DIGITS.values() if digits >= DISTRICT_PREFIX_LENGTH}
    codes = [p.ljust(12, "0") for p in prefixes]
    return (
        get_user_model()
        .objects.filter(is_active=True, region__code__in=codes, groups__name__in=VISITOR_ROLES)
        .distinct()
        .select_related("region")
        .order_by("region__code", "username")
    )


def _is_district_staff(user) -> bool:
    prefix = user_scope_prefix(user)
    return prefix is not None and len(prefix) <= DISTRICT_PREFIX_LENGTH


@transaction.atomic
def investigation_record(
    *,
    application: AssistanceApplication,
    actor,
    visit_date: datetime.date,
    visitors: Iterable[Any],
    findings: str,
    economic_check_result: str,
    economic_check_note: str = "",
    district_visit: bool = False,
) -> Investigation:
    """入户调查 by at least two named staff (民发〔2021〕57号 第十五条); a district-level visit must include
    district staff. Recorded while the case is in its investigation step."""
    if not actor.has_perm("workflow.add_case"):
        raise TransitionError("您没有登记入户调查的权限")
    application = _locked_application(application, actor)
    case = application.case
    if case.status != DibaoStatus.INVESTIGATION:
        raise TransitionError(f"案件当前状态为“{case.status_label}”，不能登记入户调查")
    errors: dict[str, str] = {}
    people = list({u.pk: u for u in visitors}.values())
    allowed = {u.pk for u in visitor_candidates(application)}
    if len(people) < MIN_VISITORS:
        errors["visitors"] = f"入户调查须由不少于{MIN_VISITORS}名工作人员进行"
    elif any(u.pk not in allowed for u in people):
        errors["visitors"] = "调查人员须为负责该家庭所在区域的在职工作人员"
    elif district_visit and not any(_is_district_staff(u) for u in people):
        errors["district_visit"] = "区级入户核查须有区民政局工作人员参加"
    findings = (findings or "").strip()
    if not findings:
        errors["findings"] = "请填写入户调查情况"
    if economic_check_result not in Investigation.EconomicCheck.values:
        errors["economic_check_result"] = "请选择家庭经济状况核对结果"
    today = timezone.localdate()
    problem = step_date_problem(visit_date, label="入户日期", applied_on=application.applied_on, today=today)
    if problem:
        errors["visit_date"] = problem
    if errors:
        raise ValidationError(errors)
    investigation = Investigation.objects.create(
        application=application,
        visit_date=visit_date,
        findings=findings,
        economic_check_result=economic_check_result,
        economic_check_note=(economic_check_note or "").strip(),
        district_visit=bool(district_visit),
        recorded_by=actor,
    )
    investigation.visitors.set(people)
    names = "、".join(str(u) for u in people)
    workflow_services.case_log_action(
        case=case,
        name="investigation_record",
        label="登记入户调查" + ("（区级核查）" if district_visit else ""),
        actor=actor,
        comment=f"{cn_date(visit_date)}入户，调查人员：{names}；"
        f"{investigation.get_economic_check_result_display()}",
        data={"investigation": investigation.pk},
    )
    return investigation


# ---------------------------------------------------------------------------------------------------
# 公示
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def dibao_notice_start(
    *,
    application: AssistanceApplication,
    actor,
    start_date: datetime.date,
    place: str,
    days: int = 7,
) -> PublicNotice:
    """提交公示 and open the 公示 in one step (at least 7 days, 民发〔2021〕57号 第十九条). A previous 公示 with
    an objection that has run to its end is closed first."""
    application = _locked_application(application, actor)
    # The 公示 publishes the home visit's findings: it cannot start before the visit.
    latest = _latest_investigation(application.pk)
    return workflow_services.case_notice_start(
        case=application.case,
        actor=actor,
        start_date=start_date,
        place=place,
        days=days,
        not_before=latest.visit_date if latest is not None else None,
        publicize_from=DibaoStatus.INVESTIGATION,
        publicity_status=DibaoStatus.PUBLICITY,
    )


@transaction.atomic
def dibao_notice_object(*, application: AssistanceApplication, actor, objection: str) -> Case:
    """登记公示异议: the objection is recorded on the 公示 and the case goes back to investigation
    (核查异议); a new 公示 follows the new investigation."""
    application = _locked_application(application, actor)
    return workflow_services.case_notice_object(case=application.case, actor=actor, objection=objection)


@transaction.atomic
def dibao_notice_finish(*, application: AssistanceApplication, actor, comment: str = "") -> Case:
    """公示期满: close the 公示 (期满无异议) and send the case to the street review."""
    application = _locked_application(application, actor)
    return workflow_services.case_notice_finish(case=application.case, actor=actor, comment=comment)


# ---------------------------------------------------------------------------------------------------
# Review and decision
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def dibao_street_review(*, application: AssistanceApplication, actor, comment: str = "") -> Case:
    return _transition(application, "street_review", actor, comment)


@transaction.atomic
def dibao_send_back(*, application: AssistanceApplication, actor, reason: str) -> Case:
    """退回重新调查: by the street reviewer at the street review, by the 科长 at the confirmation."""
    name = "chief_send_back" if application.case.status == DibaoStatus.CHIEF_CONFIRMATION else "send_back"
    return _transition(application, name, actor, reason)


@transaction.atomic
def dibao_approve(*, application: AssistanceApplication, actor, comment: str = "") -> Decision:
    """科长确认批准 (maker-checker enforced by the case engine); creates the entitlement from next month."""
    _transition(application, "approve", actor, comment)
    return Decision.objects.select_related("entitlement").get(application_id=application.pk)


@transaction.atomic
def dibao_refuse(*, application: AssistanceApplication, actor, reasons: str) -> Decision:
    """不予批准 with written reasons (民发〔2021〕57号 第二十一条)."""
    _transition(application, "refuse", actor, reasons)
    return Decision.objects.get(application_id=application.pk)


@transaction.atomic
def dibao_refuse_and_recognise(
    *, application: AssistanceApplication, actor, category: str, reasons: str
) -> Decision:
    """科长确认: 不符合低保 (written reasons) and, by the same decision, 认定为低保边缘家庭 or 刚性支出困难家庭
    when the assessment on the day says the household fits ("一次申请、一次性确认", seed 003). The refusal,
    its reasons and the recognition are one transaction."""
    label = Category(category).label if category in Category.values else category
    reasons = (reasons or "").strip()
    if not reasons:
        raise ValidationError({"reasons": "请填写不予批准低保的理由"})
    workflow_services.case_transition(
        case=application.case,
        name="refuse",
        actor=actor,
        comment=f"{reasons}；认定为{label}",
        data={"recognise": category},
    )
    return Decision.objects.get(application_id=application.pk)


def investigation_visitors(case: Case) -> set[int]:
    """The users who made a home visit of the case (入户调查): the case engine counts them as makers, so none of
    them takes the street review or the 科长's decision (separation of duties, DESIGN.md)."""
    return set(
        Investigation.visitors.through.objects.filter(investigation__application_id=case.pk).values_list(
            "user_id", flat=True
        )
    )
