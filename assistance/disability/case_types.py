"""The 残疾人两项补贴 case type: 申请登记 → 乡镇受理 → 残联审核（核定残疾等级）→ 民政审核（核对家庭情况）→ 公示 →
科长审批 → 批准/不予批准.

Rules (国发〔2015〕52号): 困难残疾人生活补贴 for disabled persons of 低保 households; 重度残疾人护理补贴 for
grade 1–2 needing long-term care (≥ 6 months); a 2nd/3rd-generation certificate (《中华人民共和国残疾人证》)
is required; paid monthly from the month of application.
"""

from __future__ import annotations

from django.db import models

from core.workflow.engine import (
    NOTICE_PASSED,
    accept_transition,
    application_case_type,
    decision_transitions,
    notice_outcomes,
    register_case_type,
    review_transition,
    send_back_transition,
    service_hooks,
    submit_transition,
    withdraw_transition,
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


_guard, _effect = service_hooks(f"{__package__}.services")


DISABILITY_SUBSIDY = application_case_type(
    code=CASE_TYPE_CODE,
    label="残疾人两项补贴",
    number_prefix="CB",
    section="assistance",
    record_model="assistance.DisabilitySubsidyApplication",
    notice_figures="assistance.published.disability_notice_figures",  # 公示名单: 家庭人口, 拟保障金额
    statuses=DisabilityStatus,
    accept_working_days=ACCEPT_WORKING_DAYS,
    notice_min_days=7,
    detail_url_name="assistance:disability_detail",
    transitions=(
        accept_transition(
            label="乡镇（街道）受理",
            source=DisabilityStatus.REGISTERED,
            target=DisabilityStatus.FEDERATION_REVIEW,
            assignee_role="社区经办人",
            due_working_days=FEDERATION_WORKING_DAYS,
            step="残联核定残疾等级",
        ),
        submit_transition(
            "federation_check",
            "登记残联审核意见",
            source=DisabilityStatus.FEDERATION_REVIEW,
            target=DisabilityStatus.HOUSEHOLD_CHECK,
            required_data=("grade",),
            effect=_effect("effect_federation_check"),
            assignee_role="街道审核员",
            due_working_days=HOUSEHOLD_CHECK_WORKING_DAYS,
            step="民政核对家庭情况",
        ),
        review_transition(
            "household_check",
            "民政审核通过，提交公示",
            source=DisabilityStatus.HOUSEHOLD_CHECK,
            target=DisabilityStatus.PUBLICITY,
            role="街道审核员",
            guard=_guard("guard_household_check"),
            effect=_effect("effect_household_check"),
            assignee_role="社区经办人",
            due_working_days=NOTICE_STEP_WORKING_DAYS,
        ),
        # An objection is not registered as such here: the caseworker's comment says what it was.
        *notice_outcomes(
            publicity=DisabilityStatus.PUBLICITY,
            passed_to=DisabilityStatus.CHIEF_APPROVAL,
            passed_label="公示期满无异议，报科长审批",
            passed_role="科长",
            passed_due_working_days=APPROVAL_WORKING_DAYS,
            objected_to=DisabilityStatus.HOUSEHOLD_CHECK,
            objected_label="公示有异议，重新核对",
            objected_guard=None,
            objected_requires_comment=True,
            objected_role="街道审核员",
            objected_due_working_days=HOUSEHOLD_CHECK_WORKING_DAYS,
        ),
        # The federation or the household check may already show the applicant does not qualify.
        *decision_transitions(
            source=DisabilityStatus.CHIEF_APPROVAL,
            refusable_from=(
                DisabilityStatus.FEDERATION_REVIEW,
                DisabilityStatus.HOUSEHOLD_CHECK,
                DisabilityStatus.CHIEF_APPROVAL,
            ),
            approved=DisabilityStatus.APPROVED,
            refused=DisabilityStatus.REFUSED,
            approve_label="审批通过",
            approve_guard=NOTICE_PASSED,
            approve_effect=_effect("effect_approve"),
            refuse_effect=_effect("effect_refuse"),
        ),
        send_back_transition(
            label="退回重新核对",
            step="补充核对",
            sources=(DisabilityStatus.CHIEF_APPROVAL,),
            target=DisabilityStatus.HOUSEHOLD_CHECK,
            roles=("科长",),
            assignee_role="街道审核员",
            due_working_days=HOUSEHOLD_CHECK_WORKING_DAYS,
        ),
        withdraw_transition(
            sources=(
                DisabilityStatus.REGISTERED,
                DisabilityStatus.FEDERATION_REVIEW,
                DisabilityStatus.HOUSEHOLD_CHECK,
            ),
            target=DisabilityStatus.WITHDRAWN,
        ),
    ),
)

register_case_type(DISABILITY_SUBSIDY)
