"""The 低保审核确认 case type: 申请登记 → 受理 → 入户调查 → 公示 → 街道审核 → 科长确认 → 批准/不予批准.

Rules (《最低生活保障审核确认办法》民发〔2021〕57号): home visit by at least two staff (第十五条); 公示 7 days
in the community (第十九条), an objection sends the case back to re-investigation and a new 公示 follows;
confirmation within 10 working days after the 公示 (第二十条), paid from the month after confirmation;
refusal with written reasons (第二十一条). Applications from relatives of staff or village cadres are
registered separately and get a district-level home visit (第二十七条).
"""

from __future__ import annotations

from django.db import models

from core.workflow.engine import (
    KIND_APPROVE,
    KIND_ENTER,
    KIND_OTHER,
    KIND_REVIEW,
    CaseType,
    Transition,
    register_case_type,
    service_hooks,
)

CASE_TYPE_CODE = "dibao"

# Working-day limits of each step. The legal figures are Parameters (dibao.confirm_working_days = 10,
# dibao.total_working_days = 30); a Transition declaration is static, so the split is fixed here:
# 受理 within 5, investigation 10 (57号 leaves it to the township within the 30-day total), the 公示
# step 10 (7 calendar days + closing), and the 10 working days after the 公示 shared by the street review
# (5) and the chief's confirmation (5) — 第二十条.
ACCEPT_WORKING_DAYS = 5
INVESTIGATION_WORKING_DAYS = 10
NOTICE_STEP_WORKING_DAYS = 10
STREET_REVIEW_WORKING_DAYS = 5
CONFIRM_WORKING_DAYS = 5


class DibaoStatus(models.TextChoices):
    REGISTERED = "registered", "申请登记"
    INVESTIGATION = "investigation", "入户调查"
    PUBLICITY = "publicity", "公示"
    STREET_REVIEW = "street_review", "街道审核"
    CHIEF_CONFIRMATION = "chief_confirmation", "科长确认"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATUSES = (
    DibaoStatus.REGISTERED,
    DibaoStatus.INVESTIGATION,
    DibaoStatus.PUBLICITY,
    DibaoStatus.STREET_REVIEW,
    DibaoStatus.CHIEF_CONFIRMATION,
)


# Guards and effects live in services (they read and write the application); resolved at call time so
# this module stays importable from AppConfig.ready() before the models are loaded.
_guard, _effect = service_hooks(f"{__package__}.services")


DIBAO = CaseType(
    code=CASE_TYPE_CODE,
    label="低保审核确认",
    number_prefix="DB",
    section="assistance",
    record_model="assistance.AssistanceApplication",
    statuses=DibaoStatus,
    initial_status=DibaoStatus.REGISTERED,
    initial_assignee_role="社区经办人",
    initial_due_working_days=ACCEPT_WORKING_DAYS,
    closed_statuses=(DibaoStatus.APPROVED, DibaoStatus.REFUSED, DibaoStatus.WITHDRAWN),
    notice_min_days=7,
    detail_url_name="assistance:dibao_detail",
    transitions=(
        Transition(
            "accept",
            "受理",
            source=(DibaoStatus.REGISTERED,),
            target=DibaoStatus.INVESTIGATION,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            guard=_guard("guard_accept"),
            assignee_role="社区经办人",
            due_working_days=INVESTIGATION_WORKING_DAYS,
        ),
        Transition(
            "publicize",
            "提交公示",
            source=(DibaoStatus.INVESTIGATION,),
            target=DibaoStatus.PUBLICITY,
            permission="workflow.add_publicnotice",
            kind=KIND_ENTER,
            guard=_guard("guard_investigation_done"),
            assignee_role="社区经办人",
            due_working_days=NOTICE_STEP_WORKING_DAYS,
        ),
        Transition(
            "notice_passed",
            "公示期满无异议，报街道审核",
            source=(DibaoStatus.PUBLICITY,),
            target=DibaoStatus.STREET_REVIEW,
            permission="workflow.add_publicnotice",
            kind=KIND_OTHER,
            guard=_guard("guard_notice_passed"),
            assignee_role="街道审核员",
            due_working_days=STREET_REVIEW_WORKING_DAYS,
            style="success",
        ),
        Transition(
            "reinvestigate",
            "公示有异议，重新调查",
            source=(DibaoStatus.PUBLICITY,),
            target=DibaoStatus.INVESTIGATION,
            permission="workflow.add_publicnotice",
            kind=KIND_OTHER,
            guard=_guard("guard_notice_objected"),
            assignee_role="社区经办人",
            due_working_days=INVESTIGATION_WORKING_DAYS,
            step="异议核查",
            style="warning",
        ),
        Transition(
            "street_review",
            "街道审核通过",
            source=(DibaoStatus.STREET_REVIEW,),
            target=DibaoStatus.CHIEF_CONFIRMATION,
            permission="workflow.review_case",
            roles=("街道审核员",),
            kind=KIND_REVIEW,
            guard=_guard("guard_notice_passed"),
            assignee_role="科长",
            due_working_days=CONFIRM_WORKING_DAYS,
        ),
        Transition(
            "approve",
            "确认批准",
            source=(DibaoStatus.CHIEF_CONFIRMATION,),
            target=DibaoStatus.APPROVED,
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
            source=(DibaoStatus.CHIEF_CONFIRMATION,),
            target=DibaoStatus.REFUSED,
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
            source=(DibaoStatus.STREET_REVIEW,),
            target=DibaoStatus.INVESTIGATION,
            permission="workflow.review_case",
            roles=("街道审核员",),
            kind=KIND_OTHER,
            requires_comment=True,
            assignee_role="社区经办人",
            due_working_days=INVESTIGATION_WORKING_DAYS,
            step="补充调查",
            style="outline-secondary",
        ),
        Transition(
            "chief_send_back",
            "退回重新调查",
            source=(DibaoStatus.CHIEF_CONFIRMATION,),
            target=DibaoStatus.INVESTIGATION,
            permission="workflow.review_case",
            roles=("科长",),
            kind=KIND_OTHER,
            requires_comment=True,
            assignee_role="社区经办人",
            due_working_days=INVESTIGATION_WORKING_DAYS,
            step="补充调查",
            style="outline-secondary",
        ),
        Transition(
            "withdraw",
            "撤回申请",
            source=(DibaoStatus.REGISTERED, DibaoStatus.INVESTIGATION),
            target=DibaoStatus.WITHDRAWN,
            permission="workflow.add_case",
            kind=KIND_OTHER,
            requires_comment=True,
            style="outline-danger",
        ),
    ),
)

register_case_type(DIBAO)
