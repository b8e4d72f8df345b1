"""拟停保告知 (issue 13 item 12): a 低保 review whose outcome is 停发 first tells the household of the intended
stop, its reasons, and its right to state its case (陈述、申辩) within a period — Parameter
review.stop_notice_working_days, in working days of the official calendar (7 in the demo), counted from
the day after the notice is issued (《中华人民共和国行政处罚法》第四十四、四十五条 by analogy: a party is
told the facts, reasons and basis before an adverse decision and heard). The caseworker issues it and
records the response; the 科长 confirms the 停发 only after the period has ended or once the response —
none, an express waiver, or a statement with its consideration (处理意见) — is recorded (guard_confirm in
services.py)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.accounts.templatetags.ui import cn_date
from core.benefits.exceptions import ParameterNotFound
from core.benefits.selectors import parameter_value
from core.workflow import services as workflow_services
from core.workflow.calendar import add_working_days
from core.workflow.services import TransitionError

from ..models import DibaoReview
from .case_types import ReviewStatus
from .models import StopPreNotice

NOTICE_DAYS_PARAMETER = "review.stop_notice_working_days"
OPEN_STATUSES = (ReviewStatus.REVIEWING, ReviewStatus.CHIEF_CONFIRMATION)


def prenotice_of(review: DibaoReview) -> StopPreNotice | None:
    return StopPreNotice.objects.filter(review_id=review.pk).first()


def confirm_refusal(review: DibaoReview, on_date: datetime.date) -> str | None:
    """Why the 停发 of `review` cannot be confirmed on `on_date` yet (None: it can, or it is no 停发)."""
    if review.outcome != DibaoReview.Outcome.STOP:
        return None
    notice = prenotice_of(review)
    if notice is None:
        return "停发前须先向家庭发出拟停保告知，告知期满或登记家庭意见后方可确认停发"
    if notice.response or on_date > notice.deadline:
        return None
    return f"拟停保告知的陈述申辩期至{cn_date(notice.deadline)}止，期满或登记家庭意见并提出处理意见后方可确认停发"


def _locked(review: DibaoReview, actor, what: str) -> DibaoReview:
    review = workflow_services.record_lock(
        DibaoReview, review, actor, related=("case", "household"), what="复核"
    )
    if not actor.has_perm("workflow.add_case"):
        raise TransitionError(f"您没有{what}的权限")
    if review.case.status not in OPEN_STATUSES:
        raise TransitionError(f"复核当前状态为“{review.case.status_label}”，不能{what}")
    return review


@transaction.atomic
def stop_prenotice_issue(*, review: DibaoReview, actor, reasons: str = "") -> StopPreNotice:
    """发出拟停保告知: once per review, after the 停发 outcome is recorded. The period is the parameter in
    force on the day of issue; the reasons default to the outcome's."""
    review = _locked(review, actor, "发出拟停保告知")
    if review.outcome != DibaoReview.Outcome.STOP:
        raise ValidationError("复核结论为停发的，才需发出拟停保告知")
    if StopPreNotice.objects.filter(review_id=review.pk).exists():
        raise ValidationError("该复核已发出拟停保告知")
    reasons = (reasons or "").strip() or review.reasons
    today = timezone.localdate()
    try:
        days = int(parameter_value(NOTICE_DAYS_PARAMETER, today))
    except ParameterNotFound as exc:
        raise ValidationError(str(exc)) from None
    if days < 1:
        raise ValidationError(f"陈述申辩期参数（{NOTICE_DAYS_PARAMETER}）应至少为1个工作日")
    notice = StopPreNotice.objects.create(
        review=review,
        region_code=review.region_code,
        issued_on=today,
        deadline=add_working_days(today, days),
        working_days=days,
        reasons=reasons,
        issued_by=actor,
    )
    workflow_services.case_log_action(
        case=review.case,
        name="prenotice_issue",
        label="发出拟停保告知",
        actor=actor,
        comment=f"陈述申辩期{days}个工作日，至{cn_date(notice.deadline)}止。理由：{reasons}",
        data={"deadline": notice.deadline.isoformat(), "working_days": days},
    )
    return notice


@transaction.atomic
def stop_prenotice_response_record(
    *, review: DibaoReview, actor, response: str, statement: str = "", consideration: str = ""
) -> StopPreNotice:
    """登记家庭意见: an express waiver (明确表示无异议) or a statement (陈述申辩) with its text and the
    caseworker's consideration of it (处理意见). Recorded once; a household that says nothing needs no
    record — the period's end lets the 停发 be confirmed."""
    review = _locked(review, actor, "登记家庭意见")
    notice = StopPreNotice.objects.select_for_update().filter(review_id=review.pk).first()
    if notice is None:
        raise ValidationError("尚未发出拟停保告知")
    if notice.response:
        raise ValidationError("家庭意见已登记")
    statement = (statement or "").strip()
    consideration = (consideration or "").strip()
    errors = {}
    if response not in (StopPreNotice.Response.WAIVED, StopPreNotice.Response.STATEMENT):
        errors["response"] = "请选择家庭意见"
    elif response == StopPreNotice.Response.STATEMENT:
        if not statement:
            errors["statement"] = "请填写家庭陈述申辩的内容"
        if not consideration:
            errors["consideration"] = "请填写对陈述申辩的处理意见"
    if errors:
        raise ValidationError(errors)
    notice.response = response
    notice.statement = statement
    notice.consideration = consideration
    notice.responded_on = timezone.localdate()
    notice.response_by = actor
    notice.save(update_fields=["response", "statement", "consideration", "responded_on", "response_by"])
    detail = (
        f"：{statement}。处理意见：{consideration}"
        if statement
        else (f"。{consideration}" if consideration else "")
    )
    workflow_services.case_log_action(
        case=review.case,
        name="prenotice_response",
        label="登记家庭意见",
        actor=actor,
        comment=f"{notice.get_response_display()}{detail}",
        data={"response": response},
    )
    return notice
