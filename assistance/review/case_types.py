"""The 低保动态复核 case type: 复核中 (社区经办人) → 科长确认 → 已确认.

A review is a workflow Case, so due and overdue reviews appear on the to-do lists like any other case.
The first step's time limit is the review due date itself (set when the review is opened, see
services.dibao_reviews_schedule); the chief's confirmation has the 低保 confirmation limit
(Parameter dibao.confirm_working_days, 民发〔2021〕57号 第二十条)."""

from __future__ import annotations

from django.db import models

from core.workflow.engine import (
    KIND_APPROVE,
    CaseType,
    Transition,
    register_case_type,
    send_back_transition,
    service_hooks,
    submit_transition,
)

CASE_TYPE_CODE = "dibao_review"
ASSIGNEE_ROLE = "社区经办人"
REWORK_WORKING_DAYS = 10


class ReviewStatus(models.TextChoices):
    REVIEWING = "reviewing", "复核中"
    CHIEF_CONFIRMATION = "chief_confirmation", "科长确认"
    CONFIRMED = "confirmed", "已确认"


_guard, _effect = service_hooks(f"{__package__}.services")


DIBAO_REVIEW = CaseType(
    code=CASE_TYPE_CODE,
    label="低保动态复核",
    number_prefix="FH",
    section="assistance",
    record_model="assistance.DibaoReview",
    statuses=ReviewStatus,
    initial_status=ReviewStatus.REVIEWING,
    initial_assignee_role=ASSIGNEE_ROLE,
    closed_statuses=(ReviewStatus.CONFIRMED,),
    detail_url_name="assistance:review_detail",
    transitions=(
        submit_transition(
            "submit",
            "提交科长确认",
            source=ReviewStatus.REVIEWING,
            target=ReviewStatus.CHIEF_CONFIRMATION,
            guard=_guard("guard_submit"),
            assignee_role="科长",
            due_working_days="dibao.confirm_working_days",
        ),
        Transition(
            "confirm",
            "确认复核结论",
            source=(ReviewStatus.CHIEF_CONFIRMATION,),
            target=ReviewStatus.CONFIRMED,
            permission="workflow.approve_case",
            roles=("科长",),
            kind=KIND_APPROVE,
            guard=_guard("guard_confirm"),
            effect=_effect("effect_confirm"),
            style="success",
        ),
        send_back_transition(
            label="退回重新复核",
            step="重新复核",
            permission="workflow.approve_case",
            sources=(ReviewStatus.CHIEF_CONFIRMATION,),
            target=ReviewStatus.REVIEWING,
            roles=("科长",),
            assignee_role=ASSIGNEE_ROLE,
            due_working_days=REWORK_WORKING_DAYS,
        ),
    ),
)

register_case_type(DIBAO_REVIEW)
