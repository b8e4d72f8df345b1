"""Every write of the 特困人员认定 flow (民发〔2021〕43号): one keyword-only, atomic function per action.

Status changes go through `core.workflow.services.case_transition` (guard, maker-checker, audit row); the
guards and effects the case type declares (tekun/case_types.py) are defined here because they read and
write the application. Errors are Chinese: `ValidationError` for bad input (field-keyed where a form field
is to blame), `TransitionError` for a refused case action.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.accounts.templatetags.ui import cn_date
from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement
from core.benefits.months import add_months, month_start
from core.benefits.selectors import (
    entitlement_covered_message,
    entitlement_covering,
    parameter_value,
    standard_in_force,
)
from core.facilities.models import Facility
from core.registry.choices import Relation
from core.registry.models import Person
from core.workflow import services as workflow_services
from core.workflow.guards import require_notice_passed
from core.workflow.models import Case, PublicNotice
from core.workflow.services import (
    TransitionError,
    applicant_person_lock,
    applicant_person_problem,
    case_log_action,
    last_comment,
    last_log,
    latest_notice,
    record_decide,
    record_lock,
    step_date_problem,
)

from .. import rules
from ..models import SupportMode, TekunApplication
from ..services import grant_entitlement, unsigned_errors, unsigned_problem
from .case_types import CASE_TYPE_CODE, TekunStatus

BASIC_BENEFIT_CODE = "tekun_basic"
CARE_BENEFIT_CODE = "tekun_care"
# Tiers of the tekun_basic standard are the support-mode labels (assistance/calculators.py).
SUPPORT_MODE_TIER = dict(SupportMode.choices)
# Facility kinds (core.facilities) a 特困 person may be placed in for 集中供养: the bureau's own 特困供养服务设施
# (敬老院, seeded by assistance 0013), 养老机构, and 儿童福利机构 for minors.
TEKUN_FACILITY_KINDS = ("tekun_institution", "elder_institution", "child_welfare_institution")
# Care tiers that mean self-care is partly or wholly lost (民发〔2021〕43号 第十八条: such persons are
# placed in institutions first).
LOST_SELF_CARE_TIERS = (rules.TIER_PARTIAL_CARE, rules.TIER_FULL_CARE)


def tekun_facilities(region_code: str):
    """The institutions of the district (first 6 digits of the region code) that 集中供养 may name."""
    return Facility.objects.filter(
        is_active=True, kind__code__in=TEKUN_FACILITY_KINDS, region_code__startswith=region_code[:6]
    ).order_by("name")


def _application_of(case: Case) -> TekunApplication:
    return TekunApplication.objects.select_related("person").get(case_id=case.pk)


def _last_log_at(case: Case, names: tuple[str, ...]) -> datetime.datetime | None:
    log = last_log(case, names)
    return log.at if log else None


# ---------------------------------------------------------------------------------------------------
# Rules of the application
# ---------------------------------------------------------------------------------------------------


def is_minor(person: Person, on_date: datetime.date) -> bool:
    """未成年人 (《民法典》第十七条): under 18 on the application date — no 公示 (民发〔2021〕43号 第十七条)."""
    return rules.age_on(person.birth_date, on_date) < rules.ADULT_AGE


def _registered_parents(person: Person) -> list[Person]:
    """The person's parents as the household register shows them (relation to the head), or [] when the
    register does not say (a grandchild with several children of the head in the household, …)."""
    if person.household_id is None:
        return []
    members = Person.objects.filter(household_id=person.household_id).exclude(pk=person.pk)
    if person.relation == Relation.CHILD:
        return list(members.filter(relation__in=(Relation.HEAD, Relation.SPOUSE)))
    if person.relation == Relation.HEAD:
        return list(members.filter(relation=Relation.PARENT))
    return []


def orphan_reason(person: Person, on_date: datetime.date, *, declared_orphan: bool = False) -> str | None:
    """Why this applicant is an orphan child (孤儿) to be covered by children's welfare, or None.

    DOMAIN.md: a child who is both 特困 and 孤儿 is covered as 孤儿, not as 特困 (民发〔2021〕43号 第十条;
    《国务院办公厅关于加强孤儿保障工作的意见》国办发〔2010〕54号). 孤儿 = under 18 with both parents dead or
    untraceable: declared on the form, or both registered parents dead in the household register."""
    if not is_minor(person, on_date):
        return None
    if declared_orphan:
        basis = "经申报父母双方均已死亡或下落不明"
    else:
        parents = _registered_parents(person)
        if len(parents) < 2 or any(p.death_date is None for p in parents):
            return None
        basis = "户籍登记显示父母双方均已死亡"
    age = rules.age_on(person.birth_date, on_date)
    return (
        f"申请人{person.name}未满18周岁（{age}岁），{basis}，属于孤儿。按规定孤儿纳入儿童福利保障，"
        "不按特困人员认定；请引导其监护人向儿童福利科申请孤儿基本生活保障。"
    )


def suggested_unable_to_work_reason(person: Person, on_date: datetime.date) -> str:
    """The 无劳动能力 reason the register supports (民发〔2021〕43号 第六条), or "" — a form default only."""
    try:
        minor_age = int(parameter_value(rules.P_TEKUN_MINOR_AGE, on_date))
    except BenefitsError:
        minor_age = 16
    return rules.MemberFacts.from_person(person).unable_to_work(on_date, minor_age)


def investigation_problem(application: TekunApplication, case: Case) -> str | None:
    """Why the investigation is not complete enough to go on (公示 or confirmation), or None."""
    recorded_at = _last_log_at(case, ("tekun_investigation",))
    if recorded_at is None:
        return "未登记调查核实结果"
    objected_at = _last_log_at(case, ("notice_object", "reinvestigate", "send_back"))
    if objected_at is not None and recorded_at <= objected_at:
        return "公示异议或退回后尚未重新调查核实"
    if not application.self_care_tier:
        return "未完成生活自理能力评估"
    if not application.support_mode:
        return "未确定供养方式"
    return None


def eligibility_problem(application: TekunApplication) -> str | None:
    """Why the investigation's findings do not support 特困 (民发〔2021〕43号 第六条至第十一条), or None."""
    missing = []
    if not application.unable_to_work_reason:
        missing.append("无劳动能力")
    if not application.no_income_source:
        missing.append("无生活来源")
    if not application.no_supporter:
        missing.append("无法定赡养、抚养、扶养义务人或其无履行义务能力")
    if missing:
        return f"调查结论不符合特困人员认定条件（未认定：{'、'.join(missing)}），请作不予批准处理"
    return None


def care_warning(tier: str, support_mode: str) -> str:
    """民发〔2021〕43号 第十八条: persons who lost self-care (partly or wholly) are placed in institutions
    first. A warning, not a refusal: dispersed support stays possible when the person so chooses."""
    if tier in LOST_SELF_CARE_TIERS and support_mode == SupportMode.DISPERSED:
        return (
            f"申请人生活自理能力评估为“{tier}”（部分或完全丧失生活自理能力），应优先安排集中供养；"
            "选择分散供养的，请在调查情况中写明原因并落实照料服务。"
        )
    return ""


# ---------------------------------------------------------------------------------------------------
# Guards and effects declared by the case type
# ---------------------------------------------------------------------------------------------------


def guard_accept(case: Case, user) -> str | None:
    return unsigned_problem(_application_of(case))


def guard_publicize(case: Case, user) -> str | None:
    application = _application_of(case)
    if application.is_minor:
        return "申请人为未成年人，不予公示，请直接报请确认"
    return investigation_problem(application, case)


def guard_submit_minor(case: Case, user) -> str | None:
    application = _application_of(case)
    if not application.is_minor:
        return "申请人已成年，须经公示后方可报请确认"
    return investigation_problem(application, case)


def guard_notice_passed(case: Case, user) -> str | None:
    reason = require_notice_passed(case, user)
    if reason:
        return reason
    notice = latest_notice(case)
    recorded_at = _last_log_at(case, ("tekun_investigation",))
    if notice is not None and recorded_at is not None and notice.created_at < recorded_at:
        return "调查核实结果在公示之后有更新，须重新公示"
    return None


def guard_approve(case: Case, user) -> str | None:
    application = _application_of(case)
    if not application.is_minor:
        reason = guard_notice_passed(case, user)
        if reason:
            return reason
    return (
        investigation_problem(application, case)
        or eligibility_problem(application)
        # Supported on another application since this one was entered.
        or covered_problem(application.person)
    )


def _for_decision(case: Case) -> TekunApplication:
    return TekunApplication.objects.select_for_update().select_related("person").get(case_id=case.pk)


def effect_approve(*, case: Case, transition, actor, data: dict) -> None:
    """确认批准: two entitlements from the next month (民发〔2021〕43号 第十六条) — the basic living fee by
    support mode and the care fee by self-care tier, paid as separate lines (Seed 003)."""
    application = _for_decision(case)
    person = application.person
    household = application.household
    start_month = add_months(month_start(timezone.localdate()), 1)
    mode_tier = SUPPORT_MODE_TIER[application.support_mode]
    basic_type = BenefitType.objects.get(code=BASIC_BENEFIT_CODE)
    care_type = BenefitType.objects.get(code=CARE_BENEFIT_CODE)
    try:
        # The standards must exist for the first month paid; otherwise the run could not pay it.
        standard_in_force(basic_type, household.area_type, mode_tier, start_month)
        standard_in_force(care_type, household.area_type, application.self_care_tier, start_month)
    except BenefitsError as exc:
        raise TransitionError(str(exc)) from None
    common = {"person": person, "case": case, "start_month": start_month, "actor": actor}
    basic = grant_entitlement(
        household,
        benefit_type=basic_type,
        params={
            "tier": mode_tier,
            "application": case.pk,
            **({"institution": application.institution_name} if application.institution_name else {}),
            # 集中供养: the basic living fee is paid to the institution (the roster names it as payee).
            **(
                {"payee": application.facility.name, "payee_facility": application.facility_id}
                if application.support_mode == SupportMode.CENTRALISED and application.facility_id
                else {}
            ),
        },
        **common,
    )
    care = grant_entitlement(
        household,
        benefit_type=care_type,
        params={
            "tier": application.self_care_tier,
            "self_care_items": dict(application.self_care_items),
            "application": case.pk,
        },
        **common,
    )
    record_decide(
        application,
        approved=True,
        reasons=last_comment(case),
        actor=actor,
        start_month=start_month,
        basic_entitlement=basic,
        care_entitlement=care,
    )


def effect_refuse(*, case: Case, transition, actor, data: dict) -> None:
    """不予批准 with the written reasons the transition required (民发〔2021〕43号 第十六条)."""
    record_decide(_for_decision(case), approved=False, reasons=last_comment(case), actor=actor)


# ---------------------------------------------------------------------------------------------------
# Application
# ---------------------------------------------------------------------------------------------------


def _active_tekun(person: Person, from_month: datetime.date) -> Entitlement | None:
    """The person's 特困 entitlement (basic living fee, the care fee goes with it) covering `from_month` or
    a later month — suspended ones included — or None."""
    return entitlement_covering(BASIC_BENEFIT_CODE, person=person, first_month=from_month)


def covered_problem(person: Person) -> str | None:
    """Why the person cannot be granted 特困 again (already supported from next month on), or None."""
    next_month = add_months(month_start(timezone.localdate()), 1)
    for code in (BASIC_BENEFIT_CODE, CARE_BENEFIT_CODE):
        covering = entitlement_covering(code, person=person, first_month=next_month)
        if covering is not None:
            return entitlement_covered_message(covering)
    return None


@transaction.atomic
def tekun_application_create(
    *,
    person: Person,
    actor,
    promise_signed: bool,
    authorisation_signed: bool,
    is_orphan: bool = False,
    applied_on: datetime.date | None = None,
) -> TekunApplication:
    """申请登记 of one person (民发〔2021〕43号 第十二条). Refuses an orphan child with a pointer to children's
    welfare, a second open application and a person already supported. Nothing is saved when refused."""
    person = applicant_person_lock(person, actor)
    household = person.household
    today = timezone.localdate()
    applied_on = applied_on or today
    errors: dict[str, str] = {}
    problem = applicant_person_problem(person)
    if problem:
        errors["person"] = problem
    elif not household.is_active:
        errors["person"] = "该人员所在家庭档案已注销，不能申请"
    errors.update(unsigned_errors(promise_signed=promise_signed, authorisation_signed=authorisation_signed))
    if applied_on > today:
        errors["applied_on"] = "申请日期不能晚于今天"
    elif applied_on < person.birth_date:
        errors["applied_on"] = "申请日期不能早于出生日期"
    if errors:
        raise ValidationError(errors)
    orphan = orphan_reason(person, applied_on, declared_orphan=is_orphan)
    if orphan:
        raise ValidationError({"is_orphan": orphan})
    open_same = TekunApplication.objects.filter(person=person, is_open=True).select_related("case").first()
    if open_same is not None:
        raise ValidationError(
            {"person": f"{person.name}已有正在办理的特困人员申请（{open_same.case.number}），不能重复申请"}
        )
    if _active_tekun(person, add_months(month_start(today), 1)) is not None:
        raise ValidationError({"person": f"{person.name}已纳入特困人员救助供养，不能重复申请"})

    minor = is_minor(person, applied_on)
    return workflow_services.application_create(
        TekunApplication,
        case_type=CASE_TYPE_CODE,
        household=household,
        applicant_person=person,
        actor=actor,
        comment="特困人员申请登记" + ("（未成年人，不公示）" if minor else ""),
        duplicate={"person": f"{person.name}已有正在办理的特困人员申请，不能重复申请"},
        person=person,
        applied_on=applied_on,
        promise_signed=True,
        authorisation_signed=True,
        is_minor=minor,
        unable_to_work_reason=suggested_unable_to_work_reason(person, applied_on),
    )


def _locked_application(application: TekunApplication, actor) -> TekunApplication:
    return record_lock(TekunApplication, application, actor, related=("case", "person", "household"))


# Transitions a caseworker may trigger from the application page with just a comment.
PAGE_TRANSITIONS = ("accept", "submit_minor", "approve", "refuse", "send_back", "withdraw")


@transaction.atomic
def tekun_transition(*, application: TekunApplication, name: str, actor, comment: str = "") -> Case:
    """受理, 报请确认 (minors), 确认批准, 不予批准 (written reasons), 退回重新调查, 撤回 — through the case engine,
    which checks the guard, the permission, the scope and maker-checker."""
    if name not in PAGE_TRANSITIONS:
        raise TransitionError("请求无效，请重试")
    application = _locked_application(application, actor)
    return workflow_services.case_transition(
        case=application.case, name=name, actor=actor, comment=(comment or "").strip()
    )


# ---------------------------------------------------------------------------------------------------
# Investigation (乡镇（街道）调查核实)
# ---------------------------------------------------------------------------------------------------


@dataclass
class InvestigationResult:
    application: TekunApplication
    tier: str
    warnings: list[str] = field(default_factory=list)


@transaction.atomic
def tekun_investigation_record(
    *,
    application: TekunApplication,
    actor,
    investigated_on: datetime.date | None,
    unable_to_work_reason: str,
    no_income_source: bool | None,
    no_supporter: bool | None,
    self_care_items: Mapping[str, bool],
    support_mode: str,
    facility: Facility | None = None,
    findings: str,
    institution_name: str = "",
) -> InvestigationResult:
    """调查核实 within 15 working days (民发〔2021〕43号 第十四条): the three conditions, the six-item self-care
    assessment (→ 全自理/半护理/全护理, rules.self_care_tier) and the support mode. 集中供养 names an institution
    of the facility register (`facility`, one of TEKUN_FACILITY_KINDS in the district — its basic living fee
    is paid to it); `institution_name` is not taken as free text any more. A person who lost self-care but
    is to be supported at home gets a warning (第十八条). Recording again replaces the findings."""
    if not actor.has_perm("workflow.add_case"):
        raise TransitionError("您没有登记调查核实结果的权限")
    application = _locked_application(application, actor)
    case = application.case
    if case.status != TekunStatus.INVESTIGATION:
        raise TransitionError(f"案件当前状态为“{case.status_label}”，不能登记调查核实结果")
    errors: dict[str, str] = {}
    reason = (unable_to_work_reason or "").strip()
    if not reason:
        errors["unable_to_work_reason"] = "请填写无劳动能力情形（如年满60周岁、残疾等级等）"
    elif len(reason) > 100:
        errors["unable_to_work_reason"] = "无劳动能力情形不超过100字"
    if no_income_source is None:
        errors["no_income_source"] = "请选择是否无生活来源"
    if no_supporter is None:
        errors["no_supporter"] = "请选择法定义务人情况"
    items = {key: bool(value) for key, value in (self_care_items or {}).items()}
    tier = ""
    try:
        tier = rules.self_care_tier(items)
    except ValueError as exc:
        errors["self_care_items"] = str(exc)
    if support_mode not in SupportMode.values:
        errors["support_mode"] = "请选择供养方式"
    institution = ""
    if support_mode == SupportMode.CENTRALISED:
        if facility is None:
            errors["facility"] = "集中供养须选择供养机构（服务设施登记中的机构）"
        elif not tekun_facilities(application.region_code).filter(pk=facility.pk).exists():
            errors["facility"] = "所选机构不是本区在用的特困供养、养老或儿童福利机构"
        else:
            institution = facility.name
    else:
        facility = None
    findings = (findings or "").strip()
    if not findings:
        errors["findings"] = "请填写调查情况"
    today = timezone.localdate()
    problem = step_date_problem(
        investigated_on, label="调查日期", applied_on=application.applied_on, today=today
    )
    if problem:
        errors["investigated_on"] = problem
    if errors:
        raise ValidationError(errors)

    application.unable_to_work_reason = reason
    application.no_income_source = bool(no_income_source)
    application.no_supporter = bool(no_supporter)
    application.self_care_items = items
    application.self_care_tier = tier
    application.support_mode = support_mode
    application.institution_name = institution
    application.facility = facility
    application.investigation_findings = findings
    application.investigated_on = investigated_on
    application.save(
        update_fields=[
            "unable_to_work_reason",
            "no_income_source",
            "no_supporter",
            "self_care_items",
            "self_care_tier",
            "support_mode",
            "institution_name",
            "facility",
            "investigation_findings",
            "investigated_on",
        ]
    )
    warnings = [w for w in (care_warning(tier, support_mode), eligibility_problem(application)) if w]
    impossible = [rules.SELF_CARE_ITEMS[k] for k in rules.SELF_CARE_ITEMS if not items.get(k)]
    mode = SUPPORT_MODE_TIER[support_mode] + (f"（{institution}）" if institution else "")
    case_log_action(
        case=case,
        name="tekun_investigation",
        label="登记调查核实结果",
        actor=actor,
        comment=f"{cn_date(investigated_on)}调查；无劳动能力：{reason}；"
        f"无生活来源：{'是' if no_income_source else '否'}；无履行能力的法定义务人：{'是' if no_supporter else '否'}；"
        f"自理能力：{tier}"
        + (f"（不能{'、'.join(impossible)}）" if impossible else "")
        + f"；{mode}"
        + ("".join(f"\n提示：{w}" for w in warnings)),
        data={"tier": tier, "support_mode": support_mode, "self_care_items": items},
    )
    return InvestigationResult(application=application, tier=tier, warnings=warnings)


# ---------------------------------------------------------------------------------------------------
# 公示 (adults only)
# ---------------------------------------------------------------------------------------------------


@transaction.atomic
def tekun_notice_start(
    *, application: TekunApplication, actor, start_date: datetime.date, place: str, days: int = 7
) -> PublicNotice:
    """提交公示 and open it in one step (7 days, 民发〔2021〕43号 第十五条); never for a minor (第十七条). A
    previous objected 公示 that has run to its end is closed first."""
    application = _locked_application(application, actor)
    if application.is_minor:
        raise TransitionError("申请人为未成年人，不予公示，请直接报请确认")
    # The 公示 publishes the investigation's findings: it cannot start before the investigation.
    return workflow_services.case_notice_start(
        case=application.case,
        actor=actor,
        start_date=start_date,
        place=place,
        days=days,
        not_before=application.investigated_on,
        publicize_from=TekunStatus.INVESTIGATION,
        publicity_status=TekunStatus.PUBLICITY,
    )


@transaction.atomic
def tekun_notice_object(*, application: TekunApplication, actor, objection: str) -> Case:
    """登记公示异议: recorded on the 公示; the case goes back to the investigation (异议核查)."""
    application = _locked_application(application, actor)
    return workflow_services.case_notice_object(case=application.case, actor=actor, objection=objection)


@transaction.atomic
def tekun_notice_finish(*, application: TekunApplication, actor, comment: str = "") -> Case:
    """公示期满无异议: close the 公示 and send the case to the 科长 for confirmation."""
    application = _locked_application(application, actor)
    return workflow_services.case_notice_finish(case=application.case, actor=actor, comment=comment)
