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
    KIND_APPROVE,
    KIND_ENTER,
    KIND_OTHER,
    CaseType,
    Transition,
    register_case_type,
    service_hooks,
)

CASE_TYPE_CODE = "tekun"

ACCEPT_WORKING_DAYS = 5
# 民发〔2021〕43号 第十四条: 乡镇人民政府（街道办事处）自受理之日起15个工作日内调查核实.
INVESTIGATION_WORKING_DAYS = 15
# 7 calendar days of 公示 and its closing.
NOTICE_STEP_WORKING_DAYS = 10
# 第十六条: 县级民政部门 confirms within 10 working days.
CONFIRM_WORKING_DAYS = 10


class TekunStatus(models.TextChoices):
    REGISTERED = "registered", "申请登记"
    INVESTIGATION = "investigation", "乡镇（街道）调查"
    PUBLICITY = "publicity", "公示"
    CONFIRMATION = "confirmation", "科长确认"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATUSES = (
    TekunStatus.REGISTERED,
    TekunStatus.INVESTIGATION,
    TekunStatus.PUBLICITY,
    TekunStatus.CONFIRMATION,
)


# Guards and effects live in services (they read and write the application); resolved at call time so
# this module stays importable from AppConfig.ready() before the models are loaded.
_guard, _effect = service_hooks(f"{__package__}.services")


TEKUN = CaseType(
    code=CASE_TYPE_CODE,
    label="特困人员认定",
    number_prefix="TK",
    section="assistance",
    record_model="assistance.TekunApplication",
    statuses=TekunStatus,
    initial_status=TekunStatus.REGISTERED,
    initial_assignee_role="社区经办人",
    initial_due_working_days=ACCEPT_WORKING_DAYS,
    closed_statuses=(TekunStatus.APPROVED, TekunStatus.REFUSED, TekunStatus.WITHDRAWN),
    notice_min_days=7,
    detail_template="assistance/tekun/_case_detail_block.html",
    detail_url_name="assistance:tekun_detail",
    transitions=(
        Transition(
            "accept",
            "受理",
            source=(TekunStatus.REGISTERED,),
            target=TekunStatus.INVESTIGATION,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            guard=_guard("guard_accept"),
            assignee_role="街道审核员",
            due_working_days=INVESTIGATION_WORKING_DAYS,
        ),
        Transition(
            "publicize",
            "提交公示",
            source=(TekunStatus.INVESTIGATION,),
            target=TekunStatus.PUBLICITY,
            permission="workflow.add_publicnotice",
            kind=KIND_ENTER,
            guard=_guard("guard_publicize"),
            assignee_role="社区经办人",
            due_working_days=NOTICE_STEP_WORKING_DAYS,
        ),
        # 第十七条: no 公示 for minors — the investigation goes straight to the county's confirmation.
        Transition(
            "submit_minor",
            "报请确认（未成年人不公示）",
            source=(TekunStatus.INVESTIGATION,),
            target=TekunStatus.CONFIRMATION,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            guard=_guard("guard_submit_minor"),
            assignee_role="科长",
            due_working_days=CONFIRM_WORKING_DAYS,
        ),
        Transition(
            "notice_passed",
            "公示期满无异议，报请确认",
            source=(TekunStatus.PUBLICITY,),
            target=TekunStatus.CONFIRMATION,
            permission="workflow.add_publicnotice",
            kind=KIND_OTHER,
            guard=_guard("guard_notice_passed"),
            assignee_role="科长",
            due_working_days=CONFIRM_WORKING_DAYS,
            style="success",
        ),
        Transition(
            "reinvestigate",
            "公示有异议，重新调查",
            source=(TekunStatus.PUBLICITY,),
            target=TekunStatus.INVESTIGATION,
            permission="workflow.add_publicnotice",
            kind=KIND_OTHER,
            guard=_guard("guard_notice_objected"),
            assignee_role="街道审核员",
            due_working_days=INVESTIGATION_WORKING_DAYS,
            step="异议核查",
            style="warning",
        ),
        Transition(
            "approve",
            "确认批准",
            source=(TekunStatus.CONFIRMATION,),
            target=TekunStatus.APPROVED,
            permission="workflow.approve_case",
            roles=("科长",),
            kind=KIND_APPROVE,
            guard=_guard("guard_approve"),
            effect=_effect("effect_approve"),
            style="success",
        ),
        Transition(
            "refuse",
            "不予批准",
            source=(TekunStatus.CONFIRMATION,),
            target=TekunStatus.REFUSED,
            permission="workflow.approve_case",
            roles=("科长",),
            kind=KIND_APPROVE,
            requires_comment=True,
            effect=_effect("effect_refuse"),
            style="danger",
        ),
        Transition(
            "send_back",
            "退回重新调查",
            source=(TekunStatus.CONFIRMATION,),
            target=TekunStatus.INVESTIGATION,
            permission="workflow.review_case",
            roles=("科长",),
            kind=KIND_OTHER,
            requires_comment=True,
            assignee_role="街道审核员",
            due_working_days=INVESTIGATION_WORKING_DAYS,
            step="补充调查",
            style="outline-secondary",
        ),
        Transition(
            "withdraw",
            "撤回申请",
            source=(TekunStatus.REGISTERED, TekunStatus.INVESTIGATION),
            target=TekunStatus.WITHDRAWN,
            permission="workflow.add_case",
            kind=KIND_OTHER,
            requires_comment=True,
            effect=_effect("effect_close"),
            style="outline-danger",
        ),
    ),
)

register_case_type(TEKUN)
