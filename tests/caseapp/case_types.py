"""The "generic" case type: 录入 → 街道审核 → 科长审批, with 退回 and 不予批准."""

from django.db import models

from core.workflow.engine import KIND_APPROVE, KIND_ENTER, KIND_OTHER, KIND_REVIEW, CaseType, Transition


class Status(models.TextChoices):
    DRAFT = "draft", "录入中"
    STREET_REVIEW = "street_review", "街道审核"
    CHIEF_APPROVAL = "chief_approval", "科长审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


GENERIC = CaseType(
    code="generic",
    label="通用申请",
    number_prefix="TY",
    statuses=Status,
    initial_status=Status.DRAFT,
    initial_assignee_role="社区经办人",
    initial_due_working_days=5,
    closed_statuses=(Status.APPROVED, Status.REJECTED, Status.WITHDRAWN),
    transitions=(
        Transition(
            "submit",
            "提交审核",
            source=(Status.DRAFT,),
            target=Status.STREET_REVIEW,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            assignee_role="街道审核员",
            due_working_days=15,
        ),
        Transition(
            "review",
            "审核通过",
            source=(Status.STREET_REVIEW,),
            target=Status.CHIEF_APPROVAL,
            permission="workflow.review_case",
            kind=KIND_REVIEW,
            assignee_role="科长",
            due_working_days=10,
        ),
        Transition(
            "approve",
            "批准",
            source=(Status.CHIEF_APPROVAL,),
            target=Status.APPROVED,
            permission="workflow.approve_case",
            kind=KIND_APPROVE,
            style="success",
        ),
        Transition(
            "reject",
            "不予批准",
            source=(Status.CHIEF_APPROVAL,),
            target=Status.REJECTED,
            permission="workflow.approve_case",
            kind=KIND_APPROVE,
            requires_comment=True,
            style="danger",
        ),
        Transition(
            "send_back",
            "退回",
            source=(Status.STREET_REVIEW, Status.CHIEF_APPROVAL),
            target=Status.DRAFT,
            permission="workflow.review_case",
            kind=KIND_OTHER,
            assignee_role="社区经办人",
            due_working_days=5,
            requires_comment=True,
            step="补充材料",
            style="outline-secondary",
        ),
        Transition(
            "withdraw",
            "撤回申请",
            source=(Status.DRAFT,),
            target=Status.WITHDRAWN,
            permission="workflow.add_case",
            kind=KIND_OTHER,
            requires_comment=True,
            style="outline-danger",
        ),
    ),
)
