"""The 残疾人两项补贴 case type: 申请登记 → 乡镇受理 → 残联审核（核定残疾等级）→ 民政审核（核对家庭情况）→ 公示 →
科长审批 → 批准/不予批准.

Rules (国发〔2015〕52号): 困难残疾人生活补贴 for disabled persons of 低保 households; 重度残疾人护理补贴 for
grade 1–2 needing long-term care (≥ 6 months); a 2nd/3rd-generation certificate (《中华人民共和国残疾人证》)
is required; paid monthly from the month of application.
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

CASE_TYPE_CODE = "disability_subsidy"

# Working-day limits of each step (the policy leaves them to the provinces; demo values).
ACCEPT_WORKING_DAYS = 5
FEDERATION_WORKING_DAYS = 10
HOUSEHOLD_CHECK_WORKING_DAYS = 10
NOTICE_STEP_WORKING_DAYS = 10
APPROVAL_WORKING_DAYS = 5


class DisabilityStatus(models.TextChoices):
    REGISTERED = "registered", "申请登记"
    FEDERATION_REVIEW = "federation_review", "残联审核"
    HOUSEHOLD_CHECK = "household_check", "民政审核"
    PUBLICITY = "publicity", "公示"
    CHIEF_APPROVAL = "chief_approval", "科长审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATUSES = (
    DisabilityStatus.REGISTERED,
    DisabilityStatus.FEDERATION_REVIEW,
    DisabilityStatus.HOUSEHOLD_CHECK,
    DisabilityStatus.PUBLICITY,
    DisabilityStatus.CHIEF_APPROVAL,
)


# Guards and effects live in services (they read and write the application); resolved at call time so
# this module stays importable from AppConfig.ready() before the models are loaded.
_guard, _effect = service_hooks(f"{__package__}.services")


DISABILITY_SUBSIDY = CaseType(
    code=CASE_TYPE_CODE,
    label="残疾人两项补贴",
    number_prefix="CB",
    section="assistance",
    record_model="assistance.DisabilitySubsidyApplication",
    statuses=DisabilityStatus,
    initial_status=DisabilityStatus.REGISTERED,
    initial_assignee_role="社区经办人",
    initial_due_working_days=ACCEPT_WORKING_DAYS,
    closed_statuses=(DisabilityStatus.APPROVED, DisabilityStatus.REFUSED, DisabilityStatus.WITHDRAWN),
    notice_min_days=7,
    detail_url_name="assistance:disability_detail",
    transitions=(
        Transition(
            "accept",
            "乡镇（街道）受理",
            source=(DisabilityStatus.REGISTERED,),
            target=DisabilityStatus.FEDERATION_REVIEW,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            assignee_role="社区经办人",
            due_working_days=FEDERATION_WORKING_DAYS,
            step="残联核定残疾等级",
        ),
        Transition(
            "federation_check",
            "登记残联审核意见",
            source=(DisabilityStatus.FEDERATION_REVIEW,),
            target=DisabilityStatus.HOUSEHOLD_CHECK,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            required_data=("grade",),
            effect=_effect("effect_federation_check"),
            assignee_role="街道审核员",
            due_working_days=HOUSEHOLD_CHECK_WORKING_DAYS,
            step="民政核对家庭情况",
        ),
        Transition(
            "household_check",
            "民政审核通过，提交公示",
            source=(DisabilityStatus.HOUSEHOLD_CHECK,),
            target=DisabilityStatus.PUBLICITY,
            permission="workflow.review_case",
            roles=("街道审核员",),
            kind=KIND_REVIEW,
            guard=_guard("guard_household_check"),
            effect=_effect("effect_household_check"),
            assignee_role="社区经办人",
            due_working_days=NOTICE_STEP_WORKING_DAYS,
        ),
        Transition(
            "notice_passed",
            "公示期满无异议，报科长审批",
            source=(DisabilityStatus.PUBLICITY,),
            target=DisabilityStatus.CHIEF_APPROVAL,
            permission="workflow.add_publicnotice",
            kind=KIND_OTHER,
            guard=_guard("guard_notice_passed"),
            assignee_role="科长",
            due_working_days=APPROVAL_WORKING_DAYS,
            style="success",
        ),
        Transition(
            "reinvestigate",
            "公示有异议，重新核对",
            source=(DisabilityStatus.PUBLICITY,),
            target=DisabilityStatus.HOUSEHOLD_CHECK,
            permission="workflow.add_publicnotice",
            kind=KIND_OTHER,
            requires_comment=True,
            assignee_role="街道审核员",
            due_working_days=HOUSEHOLD_CHECK_WORKING_DAYS,
            step="异议核查",
            style="warning",
        ),
        Transition(
            "approve",
            "审批通过",
            source=(DisabilityStatus.CHIEF_APPROVAL,),
            target=DisabilityStatus.APPROVED,
            permission="workflow.approve_case",
            roles=("科长",),
            kind=KIND_APPROVE,
            guard=_guard("guard_notice_passed"),
            effect=_effect("effect_approve"),
            style="success",
        ),
        Transition(
            "refuse",
            "不予批准",
            source=(
                DisabilityStatus.FEDERATION_REVIEW,
                DisabilityStatus.HOUSEHOLD_CHECK,
                DisabilityStatus.CHIEF_APPROVAL,
            ),
            target=DisabilityStatus.REFUSED,
            permission="workflow.approve_case",
            roles=("科长",),
            kind=KIND_APPROVE,
            requires_comment=True,
            effect=_effect("effect_refuse"),
            style="danger",
        ),
        Transition(
            "send_back",
            "退回重新核对",
            source=(DisabilityStatus.CHIEF_APPROVAL,),
            target=DisabilityStatus.HOUSEHOLD_CHECK,
            permission="workflow.review_case",
            roles=("科长",),
            kind=KIND_OTHER,
            requires_comment=True,
            assignee_role="街道审核员",
            due_working_days=HOUSEHOLD_CHECK_WORKING_DAYS,
            step="补充核对",
            style="outline-secondary",
        ),
        Transition(
            "withdraw",
            "撤回申请",
            source=(
                DisabilityStatus.REGISTERED,
                DisabilityStatus.FEDERATION_REVIEW,
                DisabilityStatus.HOUSEHOLD_CHECK,
            ),
            target=DisabilityStatus.WITHDRAWN,
            permission="workflow.add_case",
            kind=KIND_OTHER,
            requires_comment=True,
            style="outline-danger",
        ),
    ),
)

register_case_type(DISABILITY_SUBSIDY)
