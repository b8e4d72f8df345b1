"""The 低保审核确认 case type: 申请登记 → 受理 → 入户调查 → 公示 → 街道审核 → 科长确认 → 批准/不予批准.

Rules (《最低生活保障审核确认办法》民发〔2021〕57号): home visit by at least two staff (第十五条); 公示 7 days
in the community (第十九条), an objection sends the case back to re-investigation and a new 公示 follows;
confirmation within 10 working days after the 公示 (第二十条), paid from the month after confirmation;
refusal with written reasons (第二十一条). Applications from relatives of staff or village cadres are
registered separately and get a district-level home visit (第二十七条).
"""

from __future__ import annotations

import datetime
from dataclasses import replace

from django.db import models

from core.workflow.engine import (
    ByParameter,
    accept_transition,
    application_case_type,
    decision_transitions,
    notice_outcomes,
    publicize_transition,
    register_case_type,
    review_transition,
    send_back_transition,
    service_hooks,
    withdraw_transition,
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


def within_total_limit(days: int):
    """A step's limit of `days` working days, cut to what is left of the whole-process limit counted from
    受理 (dibao.total_working_days, or the extended limit once 延长办理期限 was decided — see
    selectors.case_total_deadline): a step never ends after the case's overall deadline, so a case past it
    shows overdue on the to-do list, the 台账 and the dashboard."""

    def limit(case, on_date: datetime.date) -> int:
        if case is None or case.accepted_on is None:
            return days
        from core.workflow.calendar import working_days_between

        from .selectors import case_total_deadline

        deadline = case_total_deadline(case)
        if deadline is None:
            return days
        return max(0, min(days, working_days_between(on_date, deadline)))

    limit.__name__ = f"within_total_limit_{days}"
    return limit


# 委托乡镇/街道确认 (issue 13 item 11): where the district has so decided (民发〔2021〕57号: the county's
# civil-affairs department may entrust the township/street with the 审核确认 and checks its decisions),
# the street confirms 低保 itself. A dated Parameter per case type (delegation.dibao: 1 = the street
# confirms, 0 = the section's 科长), read on the day of each move: the street review then hands the case to
# another 街道审核员 (the one who reviewed may not confirm — separation of duties), who approves, refuses
# or sends it back in the 科长's place. The district samples those decisions afterwards
# (assistance/delegation: 抽查).
DELEGATION_PARAMETER = "delegation.dibao"
STREET_CONFIRMER = "街道审核员"
STREET_CONFIRMS = ByParameter(
    DELEGATION_PARAMETER, {1: {"roles": (STREET_CONFIRMER,), "permission": "workflow.review_case"}}
)
STREET_CONFIRMATION_STEP = ByParameter(
    DELEGATION_PARAMETER, {1: {"assignee_role": STREET_CONFIRMER, "step": "街道确认（委托）"}}
)


def _street_may_confirm(transitions):
    return tuple(replace(t, by_parameter=STREET_CONFIRMS) for t in transitions)


class DibaoStatus(models.TextChoices):
    REGISTERED = "registered", "申请登记"
    INVESTIGATION = "investigation", "入户调查"
    PUBLICITY = "publicity", "公示"
    STREET_REVIEW = "street_review", "街道审核"
    CHIEF_CONFIRMATION = "chief_confirmation", "科长确认"
    APPROVED = "approved", "已批准"
    REFUSED = "refused", "不予批准"
    WITHDRAWN = "withdrawn", "已撤回"


_guard, _effect = service_hooks(f"{__package__}.services")


DIBAO = application_case_type(
    code=CASE_TYPE_CODE,
    label="低保审核确认",
    number_prefix="DB",
    section="assistance",
    record_model="assistance.AssistanceApplication",
    participants="assistance.services.investigation_visitors",
    notice_figures="assistance.published.dibao_notice_figures",  # 公示名单: 家庭人口, 拟保障金额
    statuses=DibaoStatus,
    accept_working_days=ACCEPT_WORKING_DAYS,
    notice_min_days=7,  # 第十九条
    detail_url_name="assistance:dibao_detail",
    transitions=(
        accept_transition(
            source=DibaoStatus.REGISTERED,
            target=DibaoStatus.INVESTIGATION,
            guard=_guard("guard_accept"),
            assignee_role="社区经办人",
            due_working_days=within_total_limit(INVESTIGATION_WORKING_DAYS),
        ),
        publicize_transition(
            source=DibaoStatus.INVESTIGATION,
            target=DibaoStatus.PUBLICITY,
            guard=_guard("guard_investigation_done"),
            due_working_days=within_total_limit(NOTICE_STEP_WORKING_DAYS),
        ),
        *notice_outcomes(
            publicity=DibaoStatus.PUBLICITY,
            passed_to=DibaoStatus.STREET_REVIEW,
            passed_label="公示期满无异议，报街道审核",
            passed_guard=_guard("guard_notice_passed"),
            passed_role="街道审核员",
            passed_due_working_days=within_total_limit(STREET_REVIEW_WORKING_DAYS),
            objected_to=DibaoStatus.INVESTIGATION,
            objected_role="社区经办人",
            objected_due_working_days=within_total_limit(INVESTIGATION_WORKING_DAYS),
        ),
        replace(
            review_transition(
                "street_review",
                "街道审核通过",
                source=DibaoStatus.STREET_REVIEW,
                target=DibaoStatus.CHIEF_CONFIRMATION,
                role="街道审核员",
                guard=_guard("guard_notice_passed"),
                assignee_role="科长",
                due_working_days=within_total_limit(CONFIRM_WORKING_DAYS),
            ),
            by_parameter=STREET_CONFIRMATION_STEP,
        ),
        *_street_may_confirm(
            decision_transitions(
                source=DibaoStatus.CHIEF_CONFIRMATION,
                approved=DibaoStatus.APPROVED,
                refused=DibaoStatus.REFUSED,
                approve_guard=_guard("guard_approve"),
                approve_effect=_effect("effect_approve"),
                refuse_effect=_effect("effect_refuse"),
            )
        ),
        send_back_transition(
            sources=(DibaoStatus.STREET_REVIEW,),
            target=DibaoStatus.INVESTIGATION,
            roles=("街道审核员",),
            assignee_role="社区经办人",
            due_working_days=within_total_limit(INVESTIGATION_WORKING_DAYS),
        ),
        *_street_may_confirm(
            (
                send_back_transition(
                    name="chief_send_back",
                    sources=(DibaoStatus.CHIEF_CONFIRMATION,),
                    target=DibaoStatus.INVESTIGATION,
                    roles=("科长",),
                    assignee_role="社区经办人",
                    due_working_days=within_total_limit(INVESTIGATION_WORKING_DAYS),
                ),
            )
        ),
        withdraw_transition(
            sources=(DibaoStatus.REGISTERED, DibaoStatus.INVESTIGATION), target=DibaoStatus.WITHDRAWN
        ),
    ),
)

register_case_type(DIBAO)
