"""The 残疾人两项补贴 flow declared on the case-flow kit (core/workflow/flows.py): its 台账 and export columns,
filters, create form (for one member of a household), the 残联审核 step, the 公示 services, the detail blocks
and the proposed monthly subsidy. The monthly comparison (应补尽补、应退尽退) and its 停发 are the flow's own
pages (`extra_urls`)."""

from __future__ import annotations

from dataclasses import replace

import django_filters
from django.urls import path

from core.accounts.templatetags.ui import money
from core.benefits.months import month_start
from core.registry.choices import DisabilityCategory, DisabilityGrade
from core.workflow.flows import (
    APPLIED_ON,
    HOUSEHOLD_NUMBER,
    PERSON_APPLICANT,
    PROGRESS,
    CaseFlow,
    Col,
    FlowFilterSet,
    NoticeHooks,
    Proposal,
    Step,
    case_columns,
    save_form,
)

from ..models import DisabilitySubsidy, DisabilitySubsidyApplication
from . import selectors, services, views
from .case_types import DISABILITY_SUBSIDY, DisabilityStatus
from .forms import DisabilityApplicationForm, FederationCheckForm

SUBSIDY_LABELS = dict(DisabilitySubsidy.choices)
CATEGORY_LABELS = dict(DisabilityCategory.choices)
GRADE_LABELS = dict(DisabilityGrade.choices)


class DisabilityFilterSet(FlowFilterSet):
    subsidy = django_filters.ChoiceFilter(
        label="补贴类别", choices=DisabilitySubsidy.choices, empty_label="全部补贴", method="filter_subsidy"
    )
    search_fields = ("case__number__istartswith", "person__name__contains", "cert_no__istartswith")

    class Meta:
        # Only for the order of the form: 补贴类别 before the kit's 状态.
        model = DisabilitySubsidyApplication
        fields = ["q", "street", "community", "subsidy", "status"]

    def filter_subsidy(self, queryset, name, value):
        return queryset.filter(subsidies__contains=[value])


def _subsidies(application) -> list[str]:
    return [SUBSIDY_LABELS.get(s, s) for s in application.subsidies]


def _start_month(application):
    """批准后自申请当月起发放: the first month paid, once a subsidy is granted."""
    if application.living_entitlement_id or application.care_entitlement_id:
        return month_start(application.applied_on)
    return None


class DisabilityFlow(CaseFlow):
    name = "disability"
    namespace = "assistance"
    title = "两项补贴"
    export_title = "残疾人两项补贴台账"
    model = DisabilitySubsidyApplication
    case_type = DISABILITY_SUBSIDY
    filterset = DisabilityFilterSet
    search_placeholder = "案件编号 / 申请人 / 残疾人证号"
    select_related = ("case", "case__region", "person", "household")
    columns = (
        *case_columns(PERSON_APPLICANT, replace(HOUSEHOLD_NUMBER, in_list=False)),
        Col("申请补贴", _subsidies),
        Col("残疾人证号", "cert_no", in_list=False),
        Col(
            "残疾类别",
            lambda a: CATEGORY_LABELS.get(a.disability_category, a.disability_category),
            in_list=False,
        ),
        Col("残疾等级", lambda a: GRADE_LABELS.get(a.disability_grade, a.disability_grade)),
        APPLIED_ON,
        *PROGRESS,
        Col("审批结果", lambda a: {True: "批准", False: "不予批准"}.get(a.approved, ""), in_list=False),
        Col("起始发放月份", _start_month, kind="month", in_list=False),
    )
    create_form = DisabilityApplicationForm
    create_service = services.disability_application_create
    create_for = "person"
    create_intro = (
        "依据《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号），"
        "申请人须持第二代或第三代《中华人民共和国残疾人证》。受理后由残联核定残疾等级、民政部门核对家庭情况，"
        "经公示和审批后自申请当月起按月发放。"
    )
    steps = (
        Step(
            "federation_check",
            "登记残联审核意见",
            FederationCheckForm,
            save=save_form(
                services.disability_federation_check, "已登记残联审核意见，请民政部门核对家庭情况"
            ),
            statuses=(DisabilityStatus.FEDERATION_REVIEW,),
            initial=lambda application: {"grade": application.disability_grade},
            anchor="eligibility",
        ),
    )
    # The step's form takes the move (it needs the grade); no bare button for it.
    hidden_transitions = ("federation_check",)
    notice = NoticeHooks(
        start=services.disability_notice_start,
        object_=services.disability_notice_object,
        finish=services.disability_notice_finish,
        object_message="已登记公示异议，案件退回民政审核重新核对",
        finish_message="公示期满无异议，已报科长审批",
        finish_label="公示期满无异议，报科长审批",
        objection_hint="登记后退回民政审核重新核对",
        start_statuses=(DisabilityStatus.PUBLICITY,),
    )
    blocks = {
        "summary": "assistance/disability/_summary.html",
        "decision": "assistance/disability/_decision.html",
        "assessment": "assistance/disability/_eligibility.html",
        "tabs": "assistance/disability/_tabs.html",
    }
    detail_selector = selectors.disability_application_detail
    # A decided case lands on its decision; a withdrawn one has neither a next step nor a decision.
    status_anchors = {
        DisabilityStatus.APPROVED: "decision",
        DisabilityStatus.REFUSED: "decision",
        DisabilityStatus.WITHDRAWN: "",
    }
    extra_urls = (
        path("comparison/", views.disability_comparison, name="disability_comparison"),
        path("comparison/<int:pk>/stop/", views.disability_stop, name="disability_stop"),
    )

    @classmethod
    def create_initial(cls, request) -> dict:
        # From a comparison line: the subsidy the person lacks.
        subsidy = request.GET.get("subsidy", "")
        return {"subsidies": [subsidy]} if subsidy in DisabilitySubsidy.values else {}

    @classmethod
    def transition(cls, *, application, name, actor, comment):
        return services.disability_transition(
            application=application, name=name, actor=actor, comment=comment
        )

    @classmethod
    def detail_context(cls, application, user) -> dict:
        return {
            **super().detail_context(application, user),
            "subsidy_labels": _subsidies(application),
            "grade_label": GRADE_LABELS.get(application.disability_grade, application.disability_grade),
            "start_month": month_start(application.applied_on),
        }

    @classmethod
    def proposed_amount(cls, application, context) -> Proposal | None:
        d = context["d"]
        start = context["start_month"]
        note = f"批准后自{start.year}年{start.month}月（申请当月）起按月发放"
        label = f"按现行标准拟发放（{d.month.year}年{d.month.month}月标准，每月）"
        if d.amount_error:
            return Proposal(label, None, error=d.amount_error)
        if not d.amounts:
            return Proposal(label, None, note="申请的补贴目前均不符合条件，见“补贴资格审核”")
        lines = [(f"{a.label}（{a.tier}）" if a.tier else a.label, money(a.amount)) for a in d.amounts]
        refused = [c.label for c in d.checks if not c.fits]
        if refused:
            note += f"；{'、'.join(refused)}不符合条件，不予发放"
        return Proposal(label, d.monthly_total, lines=lines, note=note)
