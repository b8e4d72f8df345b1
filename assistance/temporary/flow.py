"""The 临时救助 flow declared on the case-flow kit (core/workflow/flows.py): its 台账 and export columns,
filters, create form (for one person), the 拟救助方案 and 先行救助 steps, the detail blocks and the proposed
amount. No 公示: the township decides within its limit, the district above it."""

from __future__ import annotations

import django_filters
from django.urls import path

from core.accounts.templatetags.ui import money
from core.workflow.flows import (
    CASE_DATES,
    PERSON_SEARCH_FIELDS,
    PROGRESS,
    CaseFlow,
    Col,
    FlowFilterSet,
    Proposal,
    Step,
    case_columns,
    save_form,
)

from ..models import TempAssistanceCase, TempAssistanceKind
from . import selectors, services, views
from .case_types import TEMP_ASSISTANCE, TempStatus
from .forms import TempAdvanceForm, TempCaseForm, TempProposalForm

STEP_TEMPLATE = "assistance/temporary/step_form.html"
OPEN_STATUSES = (
    TempStatus.REGISTERED,
    TempStatus.INVESTIGATION,
    TempStatus.TOWNSHIP_APPROVAL,
    TempStatus.DISTRICT_APPROVAL,
)


class TempFilterSet(FlowFilterSet):
    kind = django_filters.ChoiceFilter(
        label="救助类型", choices=TempAssistanceKind.choices, empty_label="全部类型"
    )
    approval_level = django_filters.ChoiceFilter(
        label="审批层级", choices=TempAssistanceCase.Level.choices, empty_label="全部层级"
    )
    search_fields = PERSON_SEARCH_FIELDS


class TempFlow(CaseFlow):
    name = "temp"
    namespace = "assistance"
    title = "临时救助"
    model = TempAssistanceCase
    case_type = TEMP_ASSISTANCE
    filterset = TempFilterSet
    select_related = ("case", "case__region", "person", "household", "earlier_case__case")
    search_placeholder = "案件编号 / 救助对象 / 户编号"
    columns = (
        *case_columns(Col("救助对象", "person.name")),
        Col("救助类型", "get_kind_display"),
        Col("困难原因", "get_cause_display"),
        *CASE_DATES,
        *PROGRESS,
        Col("审批层级", "get_approval_level_display"),
        Col("先行救助", "is_advance", kind="bool", in_export=False),
        Col("拟救助金额（元）", "proposed_amount", kind="money"),
        Col(
            "先行救助金额（元）",
            lambda t: t.advance_amount if t.is_advance else None,
            kind="money",
            in_list=False,
        ),
        Col("批准金额（元）", "approved_amount", kind="money"),
        Col("同年同因前次救助", "earlier_case.case.number", in_list=False),
    )
    create_form = TempCaseForm
    create_service = services.temp_case_create
    create_for = "person"
    create_intro = (
        "临时救助分急难型和支出型（国发〔2014〕47号、民发〔2018〕23号）。同一救助对象同一原因在同一年度内只救助一次。"
        "情况紧急的可先行救助，事后补办手续；自受理之日起15个工作日内作出决定。"
    )
    steps = (
        Step(
            "proposal",
            "登记调查核实情况和拟救助金额",
            TempProposalForm,
            save=save_form(
                services.temp_proposal_record,
                lambda proposal: f"拟救助金额：{proposal.explanation}",
                record="temp",
            ),
            statuses=(TempStatus.INVESTIGATION,),
            initial=lambda application: {"amount": application.proposed_amount},
            form_kwargs=lambda application: {"limits": selectors.proposal_limits(application)},
            template=STEP_TEMPLATE,
            anchor="proposal",
        ),
        Step(
            "advance",
            "登记先行救助",
            TempAdvanceForm,
            save=save_form(services.temp_advance_record, "先行救助已登记，请补办审批手续", record="temp"),
            statuses=OPEN_STATUSES,
            template=STEP_TEMPLATE,
            anchor="advance",
            applies=lambda application: not application.is_advance,
        ),
    )
    blocks = {
        "badges": "assistance/temporary/_badges.html",
        "summary": "assistance/temporary/_summary.html",
        "decision": "assistance/temporary/_decision.html",
        "assessment": "assistance/temporary/_assessment.html",
        "side": "assistance/temporary/_side.html",
    }
    detail_selector = selectors.temp_case_detail
    # 急难发生地: a person without a household in the district, registered on this page with the case.
    extra_urls = (path("new/nonresident/", views.nonresident_create, name="temp_create_nonresident"),)
    # 同年同因: the create service refuses a repeated application at once; nobody takes it by hand.
    hidden_transitions = ("reject_duplicate",)

    @classmethod
    def created_message(cls, application) -> tuple[str, str]:
        if application.earlier_case_id:
            return "warning", f"已登记 {application.case.number}：{application.reasons}"
        return super().created_message(application)

    @classmethod
    def transition(cls, *, application, name, actor, comment):
        return services.temp_transition(temp=application, name=name, actor=actor, comment=comment)

    @classmethod
    def proposed_amount(cls, application, context) -> Proposal | None:
        d = context["d"]
        temp = d.temp
        if temp.proposed_amount is None:
            return Proposal(
                "拟救助金额",
                None,
                note="登记调查核实情况后按元确定（精确到分），可按城市低保月标准的倍数辅助计算",
            )
        lines = []
        if d.proposal is not None:
            lines.append(("城市低保月标准", f"{money(d.proposal.standard)}/月"))
        lines += [
            ("约为标准的", f"{temp.standard_multiple.normalize():f} 倍"),
            ("审批层级", temp.get_approval_level_display()),
        ]
        if temp.is_advance and temp.advance_amount:
            lines += [
                ("已先行救助", money(temp.advance_amount)),
                ("批准后另行发放", money(max(temp.proposed_amount - temp.advance_amount, 0))),
            ]
        return Proposal(
            "拟救助金额（一次性）",
            temp.proposed_amount,
            lines=lines,
            note=d.proposal.explanation if d.proposal is not None else "",
        )
