"""The 低保审核确认 flow declared on the case-flow kit (core/workflow/flows.py): its 台账 and export columns,
filters, create form, the 入户调查 step, the 公示 services, the detail blocks and the proposed monthly
amount. The 低保保障对象 list (entitlements, not cases) is one of its extra pages (filters.py, on the list kit)."""

from __future__ import annotations

from django.db import transaction
from django.urls import path
from django.utils import timezone

from core.accounts.templatetags.ui import cn_date
from core.benefits.calculators import explanation_steps
from core.workflow.flows import (
    CASE_DATES,
    PROGRESS,
    CaseFlow,
    Col,
    NoticeHooks,
    Proposal,
    Step,
    case_columns,
)
from core.workflow.services import TransitionError, case_log_action, case_transition

from . import documents, selectors, services
from .case_types import DIBAO, DibaoStatus
from .filters import DibaoEntitlementList, DibaoFilterSet
from .forms import DibaoApplicationForm, InvestigationForm, RecogniseForm, TimeLimitExtensionForm
from .models import AssistanceApplication, Category, TimeLimitExtension


def _decision(application):
    return getattr(application, "decision", None)


def _monthly_amount(application):
    decision = _decision(application)
    return decision.monthly_amount if decision is not None else None


def _start_month(application):
    decision = _decision(application)
    return decision.start_month if decision is not None else None


def _save_investigation(*, application, actor, form):
    data = form.cleaned_data
    services.investigation_record(
        application=application,
        actor=actor,
        visit_date=data["visit_date"],
        visitors=list(data["visitors"]),
        findings=data["findings"],
        economic_check_result=data["economic_check_result"],
        economic_check_note=data["economic_check_note"],
        district_visit=data["district_visit"],
    )
    return "入户调查已登记"


def _save_extension(*, application, actor, form):
    extension = services.dibao_extend_time_limit(
        application=application, actor=actor, reason=form.cleaned_data["reason"]
    )
    return f"已延长办理期限：受理后{extension.working_days}个工作日内（{cn_date(extension.deadline)}前）办结"


@transaction.atomic
def _notice_start(*, application, actor, start_date, days, place, acknowledged_warning: str = ""):
    """提交公示: the service, and — when the caseworker went on despite the 不符合 warning
    (selectors.dibao_go_on_warning, ticked in the start form) — a log row saying what was acknowledged."""
    notice = services.dibao_notice_start(
        application=application, actor=actor, start_date=start_date, days=days, place=place
    )
    if acknowledged_warning:
        case_log_action(
            case=application.case,
            name="acknowledge_ineligible",
            label="已知悉评估结果为不符合条件，仍继续办理",
            actor=actor,
            comment=acknowledged_warning,
        )
    return notice


def _go_on_warning(application) -> str | None:
    detail = getattr(application, "detail_today", None)  # the detail page's, when it asks
    return selectors.dibao_go_on_warning(application, timezone.localdate(), detail=detail)


def _fitting_categories(application) -> list:
    """低保边缘 / 刚性支出 rows the household fits today — from the detail page's assessment when it has one."""
    detail = getattr(application, "detail_today", None)
    if detail is not None:
        return [a for a in detail.assessment if a.code in ("dibao_edge", "rigid") and a.fits]
    return services.recognisable_categories(application, timezone.localdate())


def _save_recognition(*, application, actor, form):
    data = form.cleaned_data
    services.dibao_refuse_and_recognise(
        application=application, actor=actor, category=data["category"], reasons=data["reasons"]
    )
    return f"已确认：不予批准低保，认定为{Category(data['category']).label}，已列入低收入家庭认定台账"


def _not_extended(application) -> bool:
    return not TimeLimitExtension.objects.filter(case_id=application.pk).exists()


def _transition(*, application, name, actor, comment):
    """The flow's service of each declared transition (they check more than the engine does)."""
    if name in ("send_back", "chief_send_back"):
        return services.dibao_send_back(application=application, actor=actor, reason=comment)
    if name == "refuse":
        return services.dibao_refuse(application=application, actor=actor, reasons=comment)
    if name == "withdraw":
        return services.dibao_application_withdraw(application=application, actor=actor, reason=comment)
    if name in DibaoFlow.notice.transitions:
        raise TransitionError("公示的发布、异议和期满请在“办理”栏的公示表单中办理")
    action = {
        "accept": services.dibao_application_accept,
        "street_review": services.dibao_street_review,
        "approve": services.dibao_approve,
    }.get(name)
    if action is None:
        return case_transition(case=application.case, name=name, actor=actor, comment=comment)
    return action(application=application, actor=actor, comment=comment)


class DibaoFlow(CaseFlow):
    name = "dibao"
    namespace = "assistance"
    title = "低保申请"
    model = AssistanceApplication
    case_type = DIBAO
    filterset = DibaoFilterSet
    select_related = ("case", "case__region", "household", "decision")
    export_title = "低保申请台账"
    columns = (
        *case_columns(),
        Col("救助类别", "category_labels"),
        *CASE_DATES,
        *PROGRESS,
        Col("近亲属备案", "staff_relative", kind="bool"),
        Col("月保障金额（元）", _monthly_amount, kind="money"),
        Col("起始发放月份", _start_month, kind="month", in_list=False),
    )
    create_form = DibaoApplicationForm
    create_service = services.dibao_application_create
    create_for = "household"
    create_intro = (
        "申请人须书面提出申请，并签署告知承诺书和家庭经济状况核对授权书（民发〔2021〕57号）。"
        "登记后由社区（村）受理并组织入户调查。"
    )
    steps = (
        Step(
            "investigation",
            "登记入户调查",
            InvestigationForm,
            save=_save_investigation,
            statuses=(DibaoStatus.INVESTIGATION,),
            form_kwargs=lambda application: {"application": application},
            template="assistance/dibao/investigation_form.html",
        ),
        # 延长办理期限: the section's 科长 (approve_case; the service checks the role in the section).
        Step(
            "extend",
            "延长办理期限",
            TimeLimitExtensionForm,
            save=_save_extension,
            statuses=services.EXTENDABLE_STATUSES,
            permission="workflow.approve_case",
            applies=_not_extended,
            anchor="time-limit",
        ),
        # 一次申请、一次性确认 (issue 13 item 8): at the 科长's confirmation, a household the assessment finds
        # 低保边缘 or 刚性支出 is refused 低保 and recognised as that by the same decision.
        Step(
            "recognise",
            "不予批准低保，认定为低保边缘或刚性支出困难家庭",
            RecogniseForm,
            save=_save_recognition,
            statuses=(DibaoStatus.CHIEF_CONFIRMATION,),
            permission="workflow.approve_case",
            applies=lambda application: bool(_fitting_categories(application)),
            form_kwargs=lambda application: {"fitting": _fitting_categories(application)},
            anchor="decision",
        ),
    )
    notice = NoticeHooks(
        start=_notice_start,
        object_=services.dibao_notice_object,
        finish=services.dibao_notice_finish,
        object_message="已登记公示异议，案件退回入户调查核实",
        finish_message="公示期满无异议，已报街道审核",
        finish_label="公示期满无异议，报街道审核",
        problem=lambda application: services.investigation_problem(application, application.case),
        start_warning=_go_on_warning,
    )
    blocks = {
        "badges": "assistance/dibao/_badges.html",
        "documents": "assistance/dibao/_documents.html",
        "summary": "assistance/dibao/_summary.html",
        "decision": "assistance/dibao/_decision.html",
        "assessment": "assistance/dibao/_assessment.html",
        "tabs": "assistance/dibao/_tabs.html",
    }
    extra_urls = (
        DibaoEntitlementList.list_path("entitlements/", name="dibao_entitlements"),
        path("<int:pk>/form.pdf", documents.dibao_form_pdf, name="dibao_form_pdf"),
        path("<int:pk>/decision.pdf", documents.dibao_decision_pdf, name="dibao_decision_pdf"),
    )

    @classmethod
    def queryset(cls, user):
        return selectors.applications_visible_to(user).select_related(*cls.select_related)

    @classmethod
    def create_problem(cls, *, household, person) -> str | None:
        return services.dibao_entry_problem(household)

    @classmethod
    def create_warning(cls, *, household, person) -> str | None:
        return selectors.dibao_overlap_warning(household, timezone.localdate())

    @classmethod
    def warnings(cls, application, context) -> list[str]:
        warning = selectors.dibao_overlap_warning(
            application.household, timezone.localdate(), members=application.members.all()
        )
        return [warning] if warning else []

    @classmethod
    def transition(cls, *, application, name, actor, comment):
        _transition(application=application, name=name, actor=actor, comment=comment)
        application.case.refresh_from_db()
        return application.case

    @classmethod
    def detail_context(cls, application, user) -> dict:
        return {"d": selectors.dibao_application_detail(application)}

    @classmethod
    def proposed_amount(cls, application, context) -> Proposal | None:
        """The amount and, first, the eligibility result (收入 and 财产) — at investigation, street review
        and confirmation alike (selectors.PROPOSAL_STATUSES)."""
        detail = context["d"]
        proposal = detail.proposal
        if proposal is None:
            return None
        month = proposal.month
        label = f"按现行标准拟保障（{month.year}年{month.month}月起，每月）"
        if proposal.error:
            return Proposal(label, None, error=proposal.error)
        dibao = next((a for a in detail.assessment if a.code == "dibao"), None)
        if dibao is not None and dibao.limits:
            return Proposal(
                label,
                None,
                lines=[("评估结果", "不符合低保条件"), *(("超过财产限额", text) for text in dibao.limits)],
                note="家庭财产超过规定，不符合低保条件，不予拟定保障金额",
            )
        if proposal.amount is None:
            return Proposal(
                label,
                None,
                lines=[("评估结果", "不符合低保条件")],
                note="按家庭现有收入核算，月人均收入不低于低保标准，不符合低保条件",
            )
        result = "符合低保条件" if dibao is None or dibao.fits else "不符合低保条件"
        return Proposal(
            label,
            proposal.amount,
            lines=[("评估结果", result), *(tuple(step) for step in explanation_steps(proposal.explanation))],
            note="按申请保障成员和当前登记的收入、财产计算，确认批准时按确认当日的家庭信息重新核算",
        )
