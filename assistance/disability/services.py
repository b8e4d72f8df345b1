"""Every write of the 残疾人两项补贴 flow (国发〔2015〕52号): one keyword-only, atomic function per action.

Status changes go through `core.workflow.services.case_transition` (guard, maker-checker, audit row);
the guards and effects declared by the case type (case_types.py) are here because they read and write
the application. `ValidationError` for bad input (field-keyed where a form field is to blame),
`TransitionError` for a refused case action; both carry Chinese messages shown as they are.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.accounts.templatetags.ui import cn_month
from core.benefits.models import BenefitType, Entitlement
from core.benefits.months import add_months, month_start
from core.benefits.selectors import entitlement_covered_message, entitlement_covering
from core.registry.choices import DisabilityGrade
from core.registry.models import Person
from core.workflow import services as workflow_services
from core.workflow.engine import KIND_OTHER
from core.workflow.guards import require_notice_passed
from core.workflow.models import Case, PublicNotice
from core.workflow.services import (
    TransitionError,
    applicant_person_lock,
    applicant_person_problem,
    last_comment,
    last_log,
    record_decide,
    record_lock,
)

from ..models import DisabilitySubsidy, DisabilitySubsidyApplication
from ..services import grant_entitlement
from .case_types import CASE_TYPE_CODE, DisabilityStatus

logger = logging.getLogger(__name__)

DIBAO_BENEFIT_TYPE = "dibao"
LIVING_BENEFIT_TYPE = "disability_living"
CARE_BENEFIT_TYPE = "disability_care"
BENEFIT_TYPE_OF = {DisabilitySubsidy.LIVING: LIVING_BENEFIT_TYPE, DisabilitySubsidy.CARE: CARE_BENEFIT_TYPE}
SUBSIDY_OF = {code: subsidy for subsidy, code in BENEFIT_TYPE_OF.items()}
# 重度残疾人护理补贴: grade 1–2 (国发〔2015〕52号 二（二）); the tier of the care standard by grade.
CARE_GRADES = (1, 2)
CARE_TIER = {1: "一级", 2: "二级"}
DISABILITY_GRADES = (1, 2, 3, 4)
# Only the 2nd and 3rd generation of 《中华人民共和国残疾人证》 are valid for the subsidies; the first
# generation has been replaced (国发〔2015〕52号 三（一）).
VALID_CERT_GENERATIONS = (2, 3)
# Who may stop a subsidy found by the monthly comparison: the district staff who keep the payment roster.
STOP_PERMISSION = "benefits.recalculate_paymentrun"


def dibao_active_q(month: datetime.date, prefix: str = "") -> Q:
    """Q on Entitlement (or through `prefix`, e.g. "household__entitlements__") for an active 低保
    entitlement in `month`: not ended, not suspended, and not ending before the month."""
    return Q(
        **{
            f"{prefix}benefit_type__code": DIBAO_BENEFIT_TYPE,
            f"{prefix}status": Entitlement.Status.ACTIVE,
        }
    ) & (Q(**{f"{prefix}end_month__isnull": True}) | Q(**{f"{prefix}end_month__gte": month}))


def in_force_q(month: datetime.date) -> Q:
    """Q on Entitlement: paid for `month` and not ended or suspended (what a recipient list shows)."""
    return Q(status=Entitlement.Status.ACTIVE, start_month__lte=month) & (
        Q(end_month__isnull=True) | Q(end_month__gte=month)
    )


def household_on_dibao(household_id: int | None, month: datetime.date) -> bool:
    if household_id is None:
        return False
    return Entitlement.objects.filter(dibao_active_q(month), household_id=household_id).exists()


# ---------------------------------------------------------------------------------------------------
# Eligibility per subsidy
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsidyCheck:
    subsidy: str
    label: str
    fits: bool
    reason: str

    def as_dict(self) -> dict:
        return {"fits": self.fits, "reason": self.reason}


def subsidy_eligibility(
    *,
    person: Person,
    grade: int | None,
    long_term_care: bool,
    subsidies: Iterable[str],
    month: datetime.date,
    exclude_case_id: int | None = None,
) -> list[SubsidyCheck]:
    """Whether each applied subsidy fits (国发〔2015〕52号): 生活补贴 — the household has an active 低保
    entitlement; 护理补贴 — grade 1–2 and long-term care of at least 6 months. A subsidy the person already
    receives does not fit again. Two queries at most."""
    labels = dict(DisabilitySubsidy.choices)
    received = Entitlement.objects.filter(
        Q(end_month__isnull=True) | Q(end_month__gte=month),
        person_id=person.pk,
        status=Entitlement.Status.ACTIVE,
        benefit_type__code__in=list(BENEFIT_TYPE_OF.values()),
    )
    if exclude_case_id is not None:
        # The application's own entitlements (once approved) are not "another" grant.
        received = received.exclude(case_id=exclude_case_id)
    receiving = set(received.values_list("benefit_type__code", flat=True))
    checks = []
    for subsidy in DisabilitySubsidy.values:
        if subsidy not in subsidies:
            continue
        label = labels[subsidy]
        if BENEFIT_TYPE_OF[subsidy] in receiving:
            checks.append(SubsidyCheck(subsidy, label, False, "已在享受该项补贴，不能重复申请"))
        elif person.death_date is not None:
            checks.append(SubsidyCheck(subsidy, label, False, "申请人已死亡"))
        elif subsidy == DisabilitySubsidy.LIVING:
            if household_on_dibao(person.household_id, month):
                checks.append(SubsidyCheck(subsidy, label, True, "所在家庭为最低生活保障家庭，符合条件"))
            else:
                checks.append(SubsidyCheck(subsidy, label, False, "所在家庭不是正在享受最低生活保障的家庭"))
        elif grade not in CARE_GRADES:
            checks.append(SubsidyCheck(subsidy, label, False, "残疾等级不是一级或二级（重度残疾）"))
        elif not long_term_care:
            checks.append(SubsidyCheck(subsidy, label, False, "不需要长期照护（6个月以上）"))
        else:
            checks.append(
                SubsidyCheck(subsidy, label, True, f"残疾等级为{CARE_TIER[grade]}，需长期照护，符合条件")
            )
    return checks


def _checks_of(application: DisabilitySubsidyApplication, month: datetime.date) -> list[SubsidyCheck]:
    return subsidy_eligibility(
        person=application.person,
        grade=application.disability_grade,
        long_term_care=application.long_term_care,
        subsidies=application.subsidies,
        month=month,
        exclude_case_id=application.pk,
    )


# ---------------------------------------------------------------------------------------------------
# Guards and effects declared by the case type
# ---------------------------------------------------------------------------------------------------


def _application_of(case: Case) -> DisabilitySubsidyApplication:
    return DisabilitySubsidyApplication.objects.select_related("person").get(case_id=case.pk)


def guard_household_check(case: Case, user) -> str | None:
    application = _application_of(case)
    if not application.federation_checked:
        return "残联尚未核定残疾等级"
    checks = _checks_of(application, month_start(timezone.localdate()))
    if not any(c.fits for c in checks):
        return "申请的补贴均不符合条件：" + "；".join(f"{c.label}：{c.reason}" for c in checks)
    return None


def guard_notice_passed(case: Case, user) -> str | None:
    return require_notice_passed(case, user)


def effect_federation_check(*, case: Case, transition, actor, data: dict) -> None:
    """残联审核: the federation confirms the disability grade; a corrected grade replaces the one on the
    application (eligibility is checked against the confirmed grade)."""
    application = DisabilitySubsidyApplication.objects.select_for_update().get(case_id=case.pk)
    application.federation_checked = True
    application.disability_grade = int(data["grade"])
    application.save(update_fields=["federation_checked", "disability_grade"])


def effect_household_check(*, case: Case, transition, actor, data: dict) -> None:
    """民政审核: the eligibility per subsidy as found when the household was checked."""
    application = (
        DisabilitySubsidyApplication.objects.select_for_update().select_related("person").get(case_id=case.pk)
    )
    checks = _checks_of(application, month_start(timezone.localdate()))
    application.eligibility = {c.subsidy: c.as_dict() for c in checks}
    application.save(update_fields=["eligibility"])


def effect_approve(*, case: Case, transition, actor, data: dict) -> None:
    """审批通过: an entitlement for each applied subsidy that still fits, paid from the month of
    application (国发〔2015〕52号). Months already locked are paid by the next run's 补发 lines."""
    application = (
        DisabilitySubsidyApplication.objects.select_for_update(of=("self",))
        .select_related("person", "person__household", "household")
        .get(case_id=case.pk)
    )
    person = application.person
    household = person.household or application.household
    checks = _checks_of(application, month_start(timezone.localdate()))
    granted = [c for c in checks if c.fits]
    if not granted:
        # Raised inside the transition's transaction: the approval rolls back.
        raise TransitionError(
            "申请的补贴均不符合条件，不能审批通过：" + "；".join(f"{c.label}：{c.reason}" for c in checks)
        )
    start = month_start(application.applied_on)
    types = {bt.code: bt for bt in BenefitType.objects.filter(code__in=list(BENEFIT_TYPE_OF.values()))}
    fields: dict = {"eligibility": {c.subsidy: c.as_dict() for c in checks}}
    for check in granted:
        code = BENEFIT_TYPE_OF[check.subsidy]
        if code not in types:
            raise TransitionError(f"待遇类型“{check.label}”未设置，请联系系统管理员")
        params: dict = {"application": case.pk}
        if check.subsidy == DisabilitySubsidy.CARE:
            params["tier"] = CARE_TIER[application.disability_grade]
        entitlement = grant_entitlement(
            household,
            benefit_type=types[code],
            person=person,
            case=case,
            start_month=start,
            params=params,
            actor=actor,
        )
        fields["living_entitlement" if check.subsidy == DisabilitySubsidy.LIVING else "care_entitlement"] = (
            entitlement
        )
    # A subsidy that does not fit is refused with its reason beside the approval of the others.
    parts = [last_comment(case), *(f"{c.label}不予批准：{c.reason}" for c in checks if not c.fits)]
    record_decide(application, approved=True, reasons="；".join(p for p in parts if p), actor=actor, **fields)


def effect_refuse(*, case: Case, transition, actor, data: dict) -> None:
    application = DisabilitySubsidyApplication.objects.select_for_update().get(case_id=case.pk)
    record_decide(application, approved=False, reasons=last_comment(case), actor=actor)


# ---------------------------------------------------------------------------------------------------
# Application
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def disability_application_create(
    *,
    person: Person,
    actor,
    subsidies: Iterable[str],
    cert_no: str,
    cert_generation: int,
    disability_category: str,
    disability_grade: int,
    long_term_care: bool = False,
    applied_on: datetime.date | None = None,
) -> DisabilitySubsidyApplication:
    """申请登记 with the disability certificate (国发〔2015〕52号): a 2nd/3rd-generation certificate is
    required; one open application per person. Nothing is saved when anything is refused."""
    person = applicant_person_lock(person, actor)
    household = person.household
    errors: dict[str, str] = {}
    subsidies = [s for s in DisabilitySubsidy.values if s in set(subsidies or ())]
    if not subsidies:
        errors["subsidies"] = "请选择申请的补贴"
    cert_no = (cert_no or "").strip().upper()
    if not cert_no:
        errors["cert_no"] = "请填写残疾人证号"
    if cert_generation not in VALID_CERT_GENERATIONS:
        errors["cert_generation"] = "第一代残疾人证已停止使用，须持第二代或第三代残疾人证申请，请先换领"
    if not disability_category:
        errors["disability_category"] = "请选择残疾类别"
    if disability_grade not in DISABILITY_GRADES:
        errors["disability_grade"] = "请选择残疾等级"
    today = timezone.localdate()
    applied_on = applied_on or today
    if applied_on > today:
        errors["applied_on"] = "申请日期不能晚于今天"
    problem = applicant_person_problem(person)
    if problem:
        errors["person"] = problem
    elif not household.is_active:
        errors["person"] = "该人员没有有效的家庭档案，请先登记户籍家庭"
    if errors:
        raise ValidationError(errors)
    open_same = (
        DisabilitySubsidyApplication.objects.filter(person=person, is_open=True)
        .select_related("case")
        .first()
    )
    if open_same is not None:
        raise ValidationError(
            {"person": f"该人员已有正在办理的两项补贴申请（{open_same.case.number}），不能重复申请"}
        )
    # A subsidy is paid from the month of application: one the person already receives in that month or
    # later would be paid twice.
    for subsidy in subsidies:
        covering = entitlement_covering(
            BENEFIT_TYPE_OF[subsidy], person=person, first_month=month_start(applied_on)
        )
        if covering is not None:
            raise ValidationError({"subsidies": entitlement_covered_message(covering, action="申请")})
    labels = dict(DisabilitySubsidy.choices)
    return workflow_services.application_create(
        DisabilitySubsidyApplication,
        case_type=CASE_TYPE_CODE,
        household=household,
        applicant_person=person,
        actor=actor,
        comment="申请" + "、".join(labels[s] for s in subsidies),
        duplicate={"person": "该人员已有正在办理的两项补贴申请，不能重复申请"},
        person=person,
        applied_on=applied_on,
        subsidies=subsidies,
        cert_no=cert_no,
        cert_generation=cert_generation,
        disability_category=disability_category,
        disability_grade=disability_grade,
        long_term_care=bool(long_term_care),
    )


def _locked(application: DisabilitySubsidyApplication, actor) -> DisabilitySubsidyApplication:
    return record_lock(DisabilitySubsidyApplication, application, actor, related=("case", "person"))


def _transition(
    application: DisabilitySubsidyApplication, name: str, actor, comment: str = "", data: dict | None = None
) -> Case:
    return workflow_services.case_transition(
        case=application.case, name=name, actor=actor, comment=comment, data=data
    )


@transaction.atomic
def disability_application_accept(*, application, actor, comment: str = "") -> Case:
    """乡镇（街道）受理; the application goes to the disability federation for the grade."""
    return _transition(_locked(application, actor), "accept", actor, comment)


@transaction.atomic
def disability_federation_check(*, application, actor, grade: int, opinion: str = "") -> Case:
    """残联审核: record the grade the disability federation confirmed (a recorded step of the case)."""
    application = _locked(application, actor)
    if grade not in DISABILITY_GRADES:
        raise ValidationError({"grade": "请选择残联核定的残疾等级"})
    labels = dict(DisabilityGrade.choices)
    comment = f"残联核定残疾等级：{labels[grade]}"
    if grade != application.disability_grade:
        comment += f"（申请时登记为{labels.get(application.disability_grade, application.disability_grade)}）"
    opinion = (opinion or "").strip()
    if opinion:
        comment += f"；{opinion}"
    return _transition(application, "federation_check", actor, comment, {"grade": grade})


@transaction.atomic
def disability_household_check(*, application, actor, comment: str = "") -> Case:
    """民政审核: check the household (低保 status) and the care need; eligibility per subsidy is stored."""
    return _transition(_locked(application, actor), "household_check", actor, comment)


@transaction.atomic
def disability_notice_start(
    *, application, actor, start_date: datetime.date, place: str, days: int = 7
) -> PublicNotice:
    """公示 (at least 7 days) while the case is in its 公示 step; an objected 公示 is replaced."""
    application = _locked(application, actor)
    # The 公示 publishes the civil-affairs check (民政审核): it cannot start before that check.
    checked = last_log(application.case, ("household_check",))
    return workflow_services.case_notice_start(
        case=application.case,
        actor=actor,
        start_date=start_date,
        place=place,
        days=days,
        not_before=timezone.localtime(checked.at).date() if checked is not None else None,
        # The case reaches its 公示 step by the 民政审核 itself: no "publicize" move of its own.
        publicize_from=None,
        publicity_status=DisabilityStatus.PUBLICITY,
    )


@transaction.atomic
def disability_notice_object(*, application, actor, objection: str) -> Case:
    """登记公示异议: the case goes back to the civil-affairs check; a new 公示 follows."""
    application = _locked(application, actor)
    return workflow_services.case_notice_object(case=application.case, actor=actor, objection=objection)


@transaction.atomic
def disability_notice_finish(*, application, actor, comment: str = "") -> Case:
    """公示期满无异议: close the 公示 and send the case to the 科长."""
    application = _locked(application, actor)
    return workflow_services.case_notice_finish(case=application.case, actor=actor, comment=comment)


@transaction.atomic
def disability_approve(*, application, actor, comment: str = "") -> DisabilitySubsidyApplication:
    """科长审批 (maker-checker by the case engine): entitlements from the month of application."""
    _transition(_locked(application, actor), "approve", actor, comment)
    return DisabilitySubsidyApplication.objects.get(pk=application.pk)


@transaction.atomic
def disability_refuse(*, application, actor, reasons: str) -> DisabilitySubsidyApplication:
    _transition(_locked(application, actor), "refuse", actor, reasons)
    return DisabilitySubsidyApplication.objects.get(pk=application.pk)


@transaction.atomic
def disability_transition(*, application, name: str, actor, comment: str = "") -> Case:
    """Any other declared move of the case (send_back, withdraw) from the application page."""
    return _transition(_locked(application, actor), name, actor, comment)


# ---------------------------------------------------------------------------------------------------
# Monthly comparison (应补尽补、应退尽退): stopping a subsidy
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def disability_subsidy_stop(
    *, entitlement: Entitlement, actor, reason: str, today: datetime.date | None = None
) -> Entitlement:
    """停发 a subsidy found by the monthly comparison: paid up to this month, stopped from the next. A
    death ends it with the month of death (months already paid after it are recovered by the next run's
    扣回 lines), as the registry's death event does. Logged on the approving case when there is one."""
    from core.benefits.services import entitlement_end

    if not actor.has_perm(STOP_PERMISSION):
        raise PermissionDenied("您没有停发补贴的权限")
    entitlement = (
        Entitlement.objects.visible_to(actor)
        .select_related("benefit_type", "person")
        .filter(pk=entitlement.pk, benefit_type__code__in=list(BENEFIT_TYPE_OF.values()))
        .first()
    )
    if entitlement is None:
        raise ValidationError("补贴资格不存在或不在您的数据范围内")
    if entitlement.status == Entitlement.Status.ENDED:
        raise ValidationError("该补贴已停发")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写停发原因"})
    last_month = month_start(today or timezone.localdate())
    person = entitlement.person
    if person is not None and person.death_date is not None:
        last_month = min(last_month, month_start(person.death_date))
    if last_month < entitlement.start_month:
        # Never paid a month it should not have been: the entitlement ends before it starts.
        last_month = add_months(entitlement.start_month, -1)
    entitlement = entitlement_end(entitlement=entitlement, last_month=last_month, reason=reason, actor=actor)
    if entitlement.case_id:
        workflow_services.case_log_action(
            case=Case.objects.get(pk=entitlement.case_id),
            name="subsidy_stop",
            label=f"停发{entitlement.benefit_type.name}",
            kind=KIND_OTHER,
            actor=actor,
            comment=f"{reason}；自{cn_month(add_months(last_month, 1))}起停发",
            data={"entitlement": entitlement.pk, "last_month": last_month.isoformat()},
        )
    logger.info("disability subsidy %s stopped after %s by %s: %s", entitlement.pk, last_month, actor, reason)
    return entitlement
