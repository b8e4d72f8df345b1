"""The 特困人员认定 flow declared on the case-flow kit (core/workflow/flows.py): its 台账 and export columns,
filters, create form, the 调查核实 step, the 公示 services, the detail blocks and the proposed fees."""

from __future__ import annotations

import django_filters
from django.utils import timezone

from core.accounts.templatetags.ui import money
from core.workflow.flows import (
    CASE_DATES,
    PERSON_APPLICANT,
    PERSON_SEARCH_FIELDS,
    PROGRESS,
    CaseFlow,
    Col,
    FlowFilterSet,
    NoticeHooks,
    Proposal,
    Step,
    case_columns,
)

from .. import rules
from .. import selectors as dibao_selectors
from ..models import SupportMode, TekunApplication
from . import selectors, services
from .case_types import TEKUN, TekunStatus
from .forms import SELF_CARE_FIELD_PREFIX, TekunApplicationForm, TekunInvestigationForm


class TekunFilterSet(FlowFilterSet):
    support_mode = django_filters.ChoiceFilter(
        label="供养方式", choices=SupportMode.choices, empty_label="全部供养方式"
    )
    search_fields = PERSON_SEARCH_FIELDS


def _investigation_initial(application: TekunApplication) -> dict:
    initial = {
        "investigated_on": application.investigated_on or timezone.localdate(),
        "unable_to_work_reason": application.unable_to_work_reason
        or services.suggested_unable_to_work_reason(application.person, timezone.localdate()),
        "support_mode": application.support_mode,
        "facility": application.facility_id,
        "findings": application.investigation_findings,
    }
    for key in ("no_income_source", "no_supporter"):
        value = getattr(application, key)
        if value is not None:
            initial[key] = "1" if value else "0"
    for key in rules.SELF_CARE_ITEMS:
        value = (application.self_care_items or {}).get(key)
        if value is not None:
            initial[f"{SELF_CARE_FIELD_PREFIX}{key}"] = "1" if value else "0"
    return initial


def _save_investigation(*, application, actor, form):
    result = services.tekun_investigation_record(
        application=application, actor=actor, **form.service_kwargs()
    )
    return f"调查核实结果已登记，生活自理能力评估为“{result.tier}”", result.warnings


class TekunFlow(CaseFlow):
    name = "tekun"
    namespace = "assistance"
    title = "特困人员"
    model = TekunApplication
    case_type = TEKUN
    filterset = TekunFilterSet
    select_related = ("case", "case__region", "person", "household")
    columns = (
        *case_columns(PERSON_APPLICANT),
        Col("未成年人", "is_minor", kind="bool"),
        *CASE_DATES,
        *PROGRESS,
        Col("无劳动能力情形", "unable_to_work_reason", in_list=False),
        Col("自理能力", "self_care_tier"),
        Col("供养方式", "get_support_mode_display"),
        Col("供养机构", "institution_name", in_list=False),
        Col("起始发放", "start_month", kind="month"),
    )
    create_form = TekunApplicationForm
    create_service = services.tekun_application_create
    create_for = "person"
    create_intro = (
        "特困人员救助供养按人申请（民发〔2021〕43号）：须同时具备无劳动能力、无生活来源、无法定赡养抚养扶养"
        "义务人或其无履行义务能力三项条件。登记后由乡镇（街道）在15个工作日内调查核实；未成年人不公示。"
        "未满18周岁的孤儿纳入儿童福利保障，不在此申请。"
    )
    steps = (
        Step(
            "investigation",
            "登记调查核实结果",
            TekunInvestigationForm,
            save=_save_investigation,
            statuses=(TekunStatus.INVESTIGATION,),
            initial=_investigation_initial,
            form_kwargs=lambda application: {"region_code": application.region_code},
            anchor="investigation",
        ),
    )
    notice = NoticeHooks(
        start=services.tekun_notice_start,
        object_=services.tekun_notice_object,
        finish=services.tekun_notice_finish,
        object_message="已登记公示异议，案件退回调查核实",
        finish_message="公示期满无异议，已报请科长确认",
        finish_label="公示期满无异议，报请确认",
        applies=lambda application: not application.is_minor,
        problem=lambda application: services.investigation_problem(application, application.case),
    )
    blocks = {
        "badges": "assistance/tekun/_badges.html",
        "decision": "assistance/tekun/_decision.html",
        "assessment": "assistance/tekun/_assessment.html",
        "side": "assistance/tekun/_lifecycle.html",
    }
    detail_selector = selectors.tekun_application_detail

    @classmethod
    def create_warning(cls, *, household, person) -> str | None:
        # 特困 for a member of a 低保 household: the overlap is said before the form is filled in.
        return dibao_selectors.tekun_overlap_warning(household, timezone.localdate())

    @classmethod
    def warnings(cls, application, context) -> list[str]:
        warning = dibao_selectors.tekun_overlap_warning(application.household, timezone.localdate())
        return [warning] if warning else []

    @classmethod
    def transition(cls, *, application, name, actor, comment):
        return services.tekun_transition(application=application, name=name, actor=actor, comment=comment)

    @classmethod
    def proposed_amount(cls, application, context) -> Proposal | None:
        fees = context["d"].fees
        if fees is None:
            return Proposal(
                "拟发放（月）", None, note="登记调查核实结果（供养方式、自理能力）后按现行标准计算"
            )
        lines = [
            (f"基本生活费（{fees.basic_tier}）", money(fees.basic) if fees.basic is not None else "—"),
            (f"照料护理费（{fees.care_tier}）", money(fees.care) if fees.care is not None else "—"),
        ]
        return Proposal(
            f"按现行标准拟发放（{fees.month.year}年{fees.month.month}月起，每月）",
            fees.total,
            lines=lines,
            error=fees.error,
        )
