"""The 临时救助 case type (国发〔2014〕47号, 民发〔2018〕23号): 申请登记 → 受理 → 调查核实 (amount proposed) →
乡镇（街道）审批 within the township's limit, or 区民政局审批 above it → 批准 (one-off payment) / 不予救助.

The same person with the same cause is helped once per calendar year: a second application is recorded,
linked to the earlier case and refused at once (`reject_duplicate`). 先行救助 (help first, paperwork after)
is recorded on the case without changing its status. Investigation to decision ≤ 15 working days from
acceptance: every step's time limit is what remains of those 15 days.
"""

from __future__ import annotations

import datetime

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

CASE_TYPE_CODE = "temp_assistance"
ACCEPT_WORKING_DAYS = 3
# 民发〔2018〕23号: 乡镇（街道）/ county decision within 15 working days of acceptance (DOMAIN.md).
DECISION_WORKING_DAYS = 15


class TempStatus(models.TextChoices):
    REGISTERED = "registered", "申请登记"
    INVESTIGATION = "investigation", "调查核实"
    TOWNSHIP_APPROVAL = "township_approval", "乡镇（街道）审批"
    DISTRICT_APPROVAL = "district_approval", "区民政局审批"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予救助"
    WITHDRAWN = "withdrawn", "已撤回"


def remaining_decision_days(case, on_date: datetime.date) -> int:
    """Working days left of the 15 counted from acceptance (the whole limit before acceptance)."""
    if case is None or case.accepted_on is None:
        return DECISION_WORKING_DAYS
    from core.workflow.calendar import add_working_days, working_days_between

    deadline = add_working_days(case.accepted_on, DECISION_WORKING_DAYS)
    return max(working_days_between(on_date, deadline), 0)


# Guards and effects live in services (they read and write the application); resolved at call time so
# this module stays importable from AppConfig.ready() before the models are loaded.
_guard, _effect = service_hooks(f"{__package__}.services")


APPROVAL_STATUSES = (TempStatus.TOWNSHIP_APPROVAL, TempStatus.DISTRICT_APPROVAL)

TEMP_ASSISTANCE = CaseType(
    code=CASE_TYPE_CODE,
    label="临时救助",
    number_prefix="LS",
    section="assistance",
    record_model="assistance.TempAssistanceCase",
    statuses=TempStatus,
    initial_status=TempStatus.REGISTERED,
    initial_assignee_role="社区经办人",
    initial_due_working_days=ACCEPT_WORKING_DAYS,
    closed_statuses=(TempStatus.APPROVED, TempStatus.REFUSED, TempStatus.WITHDRAWN),
    detail_url_name="assistance:temp_detail",
    transitions=(
        Transition(
            "accept",
            "受理",
            source=(TempStatus.REGISTERED,),
            target=TempStatus.INVESTIGATION,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            guard=_guard("guard_accept"),
            assignee_role="社区经办人",
            due_working_days=remaining_decision_days,
        ),
        Transition(
            "submit_township",
            "报乡镇（街道）审批",
            source=(TempStatus.INVESTIGATION,),
            target=TempStatus.TOWNSHIP_APPROVAL,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            guard=_guard("guard_submit_township"),
            assignee_role="街道审核员",
            due_working_days=remaining_decision_days,
        ),
        Transition(
            "submit_district",
            "超出乡镇审批权限，报区民政局审批",
            source=(TempStatus.INVESTIGATION,),
            target=TempStatus.DISTRICT_APPROVAL,
            permission="workflow.add_case",
            kind=KIND_ENTER,
            guard=_guard("guard_submit_district"),
            assignee_role="科长",
            due_working_days=remaining_decision_days,
        ),
        # The township decides within its limit and files it with the district (seed 004).
        Transition(
            "township_approve",
            "乡镇（街道）审批同意",
            source=(TempStatus.TOWNSHIP_APPROVAL,),
            target=TempStatus.APPROVED,
            permission="workflow.review_case",
            roles=("街道审核员",),
            kind=KIND_APPROVE,
            guard=_guard("guard_approve"),
            effect=_effect("effect_approve"),
            style="success",
        ),
        Transition(
            "township_refuse",
            "乡镇（街道）不予救助",
            source=(TempStatus.TOWNSHIP_APPROVAL,),
            target=TempStatus.REFUSED,
            permission="workflow.review_case",
            roles=("街道审核员",),
            kind=KIND_APPROVE,
            requires_comment=True,
            effect=_effect("effect_refuse"),
            style="danger",
        ),
        Transition(
            "approve",
            "区民政局审批同意",
            source=(TempStatus.DISTRICT_APPROVAL,),
            target=TempStatus.APPROVED,
            permission="workflow.approve_case",
            roles=("科长",),
            kind=KIND_APPROVE,
            guard=_guard("guard_approve"),
            effect=_effect("effect_approve"),
            style="success",
        ),
        Transition(
            "refuse",
            "区民政局不予救助",
            source=(TempStatus.DISTRICT_APPROVAL,),
            target=TempStatus.REFUSED,
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
            source=APPROVAL_STATUSES,
            target=TempStatus.INVESTIGATION,
            permission="workflow.review_case",
            kind=KIND_OTHER,
            requires_comment=True,
            assignee_role="社区经办人",
            due_working_days=remaining_decision_days,
            step="补充调查",
            style="outline-secondary",
        ),
        # 同一对象同一原因一年一次: recorded, linked to the earlier case and refused with that reason.
        Transition(
            "reject_duplicate",
            "同年同因不予重复救助",
            source=(TempStatus.REGISTERED,),
            target=TempStatus.REFUSED,
            permission="workflow.add_case",
            kind=KIND_OTHER,
            requires_comment=True,
            guard=_guard("guard_duplicate"),
            effect=_effect("effect_refuse"),
            style="danger",
        ),
        Transition(
            "withdraw",
            "撤回申请",
            source=(TempStatus.REGISTERED, TempStatus.INVESTIGATION),
            target=TempStatus.WITHDRAWN,
            permission="workflow.add_case",
            kind=KIND_OTHER,
            requires_comment=True,
            style="outline-danger",
        ),
    ),
)

register_case_type(TEMP_ASSISTANCE)
