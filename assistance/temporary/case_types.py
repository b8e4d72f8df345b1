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
    KIND_OTHER,
    Transition,
    accept_transition,
    application_case_type,
    decision_transitions,
    register_case_type,
    send_back_transition,
    service_hooks,
    submit_transition,
    withdraw_transition,
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


_guard, _effect = service_hooks(f"{__package__}.services")

TEMP_ASSISTANCE = application_case_type(
    code=CASE_TYPE_CODE,
    label="临时救助",
    number_prefix="LS",
    section="assistance",
    record_model="assistance.TempAssistanceCase",
    statuses=TempStatus,
    accept_working_days=ACCEPT_WORKING_DAYS,
    detail_url_name="assistance:temp_detail",
    transitions=(
        accept_transition(
            source=TempStatus.REGISTERED,
            target=TempStatus.INVESTIGATION,
            guard=_guard("guard_accept"),
            assignee_role="社区经办人",
            due_working_days=remaining_decision_days,
        ),
        submit_transition(
            "submit_township",
            "报乡镇（街道）审批",
            source=TempStatus.INVESTIGATION,
            target=TempStatus.TOWNSHIP_APPROVAL,
            guard=_guard("guard_submit_township"),
            assignee_role="街道审核员",
            due_working_days=remaining_decision_days,
        ),
        submit_transition(
            "submit_district",
            "超出乡镇审批权限，报区民政局审批",
            source=TempStatus.INVESTIGATION,
            target=TempStatus.DISTRICT_APPROVAL,
            guard=_guard("guard_submit_district"),
            assignee_role="科长",
            due_working_days=remaining_decision_days,
        ),
        # The township decides within its limit and files it with the district (seed 004).
        *decision_transitions(
            name_prefix="township_",
            source=TempStatus.TOWNSHIP_APPROVAL,
            approved=TempStatus.APPROVED,
            refused=TempStatus.REFUSED,
            approve_label="乡镇（街道）审批同意",
            refuse_label="乡镇（街道）不予救助",
            roles=("街道审核员",),
            permission="workflow.review_case",
            approve_guard=_guard("guard_approve"),
            approve_effect=_effect("effect_approve"),
            refuse_effect=_effect("effect_refuse"),
        ),
        *decision_transitions(
            source=TempStatus.DISTRICT_APPROVAL,
            approved=TempStatus.APPROVED,
            refused=TempStatus.REFUSED,
            approve_label="区民政局审批同意",
            refuse_label="区民政局不予救助",
            approve_guard=_guard("guard_approve"),
            approve_effect=_effect("effect_approve"),
            refuse_effect=_effect("effect_refuse"),
        ),
        send_back_transition(
            sources=(TempStatus.TOWNSHIP_APPROVAL, TempStatus.DISTRICT_APPROVAL),
            target=TempStatus.INVESTIGATION,
            assignee_role="社区经办人",
            due_working_days=remaining_decision_days,
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
        withdraw_transition(
            sources=(TempStatus.REGISTERED, TempStatus.INVESTIGATION), target=TempStatus.WITHDRAWN
        ),
    ),
)

register_case_type(TEMP_ASSISTANCE)
