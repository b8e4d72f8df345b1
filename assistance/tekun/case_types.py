"""The 特困人员认定 case type (民发〔2021〕43号): 申请登记 → 受理 → 乡镇（街道）调查 → 公示 → 科长确认 →
批准/不予批准.

Rules: the township investigates within 15 working days (第十四条); the result is publicised for 7 days in
the community (第十五条) — but not for minors (第十七条), whose case goes from the investigation straight to
confirmation; the county confirms within 10 working days (第十六条) and pays from the next month; a refusal
gets written reasons (第十六条). An objection during the 公示 sends the case back to the investigation.
"""

from __future__ import annotations

from django.db import models

from core.workflow.engine import (
    accept_transition,
    application_case_type,
    decision_transitions,
    notice_outcomes,
    publicize_transition,
    register_case_type,
    send_back_transition,
    service_hooks,
    submit_transition,
    withdraw_transition,
)

CASE_TYPE_CODE = "tekun"

ACCEPT_WORKING_DAYS = 5
# 民发〔2021〕43号 第十四条: 乡镇人民政府（街道办事处）自受理之日起15个工作日内调查核实.
INVESTIGATION_WORKING_DAYS = 15
# 7 calendar days of 公示 and its closing.
NOTICE_STEP_WORKING_DAYS = 10
# 第十六条: 县级民政部门 confirms within 10 working days.
CONFIRM_WORKING_DAYS = 10
# The township (街道) investigates: its reviewer has the case during the investigation.
INVESTIGATOR = "街道审核员"


class TekunStatus(models.TextChoices):
    REGISTERED = "registered", "申请登记"
    INVESTIGATION = "investigation", "乡镇（街道）调查"
    PUBLICITY = "publicity", "公示"
    CONFIRMATION = "confirmation", "科长确认"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


_guard, _effect = service_hooks(f"{__package__}.services")


TEKUN = application_case_type(
    code=CASE_TYPE_CODE,
    label="特困人员认定",
    number_prefix="TK",
    section="assistance",
    record_model="assistance.TekunApplication",
    notice_figures="assistance.published.tekun_notice_figures",  # 公示名单: 家庭人口, 拟保障金额
    statuses=TekunStatus,
    accept_working_days=ACCEPT_WORKING_DAYS,
    notice_min_days=7,  # 第十五条
    detail_url_name="assistance:tekun_detail",
    transitions=(
        accept_transition(
            source=TekunStatus.REGISTERED,
            target=TekunStatus.INVESTIGATION,
            guard=_guard("guard_accept"),
            assignee_role=INVESTIGATOR,
            due_working_days=INVESTIGATION_WORKING_DAYS,
        ),
        publicize_transition(
            source=TekunStatus.INVESTIGATION,
            target=TekunStatus.PUBLICITY,
            guard=_guard("guard_publicize"),
            due_working_days=NOTICE_STEP_WORKING_DAYS,
        ),
        # 第十七条: no 公示 for minors — the investigation goes straight to the county's confirmation.
        submit_transition(
            "submit_minor",
            "报请确认（未成年人不公示）",
            source=TekunStatus.INVESTIGATION,
            target=TekunStatus.CONFIRMATION,
            guard=_guard("guard_submit_minor"),
            assignee_role="科长",
            due_working_days=CONFIRM_WORKING_DAYS,
        ),
        *notice_outcomes(
            publicity=TekunStatus.PUBLICITY,
            passed_to=TekunStatus.CONFIRMATION,
            passed_label="公示期满无异议，报请确认",
            passed_guard=_guard("guard_notice_passed"),
            passed_role="科长",
            passed_due_working_days=CONFIRM_WORKING_DAYS,
            objected_to=TekunStatus.INVESTIGATION,
            objected_role=INVESTIGATOR,
            objected_due_working_days=INVESTIGATION_WORKING_DAYS,
        ),
        *decision_transitions(
            source=TekunStatus.CONFIRMATION,
            approved=TekunStatus.APPROVED,
            refused=TekunStatus.REFUSED,
            approve_guard=_guard("guard_approve"),
            approve_effect=_effect("effect_approve"),
            refuse_effect=_effect("effect_refuse"),
        ),
        send_back_transition(
            sources=(TekunStatus.CONFIRMATION,),
            target=TekunStatus.INVESTIGATION,
            roles=("科长",),
            assignee_role=INVESTIGATOR,
            due_working_days=INVESTIGATION_WORKING_DAYS,
        ),
        withdraw_transition(
            sources=(TekunStatus.REGISTERED, TekunStatus.INVESTIGATION),
            target=TekunStatus.WITHDRAWN,
        ),
    ),
)

register_case_type(TEKUN)
