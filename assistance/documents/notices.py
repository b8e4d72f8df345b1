"""Decision notices (决定书) of 特困, 临时救助, 两项补贴 and the 低保 dynamic review — one builder per flow.

Each builder takes an application the user may see (the views in common.py fetch it from the flow's scoped
queryset) and returns what its notice prints, or None while nothing is decided. A refusal, a reduction and
a stop print their written reasons; every notice prints the appeal rights (_appeal_rights.html)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.models import Entitlement
from core.benefits.months import add_months, month_start
from core.benefits.selectors import standard_in_force
from core.registry.choices import DisabilityGrade
from core.workflow.delivery import DecisionNotice

from ..disability.services import SUBSIDY_OF
from ..models import (
    DibaoReview,
    DisabilitySubsidy,
    DisabilitySubsidyApplication,
    TekunApplication,
    TempAssistanceCase,
)
from ..tekun.selectors import fee_preview
from .common import NoticeDocument

DOCUMENT = "decision"  # one decision notice per case
Outcome = DibaoReview.Outcome


def _decided_on(moment: datetime.datetime | None) -> datetime.date:
    return timezone.localdate(moment) if moment is not None else timezone.localdate()


def _notice(title: str, decided_at, recipient: str) -> DecisionNotice:
    return DecisionNotice(DOCUMENT, title, _decided_on(decided_at), recipient)


# -- 特困人员救助供养 ------------------------------------------------------------------------------------


def tekun_notice(application: TekunApplication) -> NoticeDocument | None:
    """批准: support mode (and institution), the basic living fee and the care fee at the standards of the
    first month paid, from that month; 不予批准: the written reasons (民发〔2021〕43号 第十六条)."""
    if application.approved is None:
        return None
    kind = "批准决定书" if application.approved else "不予批准决定书"
    notice = _notice(f"特困人员救助供养{kind}", application.decided_at, application.person.name)
    context = {}
    if application.approved:
        context["fees"] = fee_preview(application, application.start_month)
    return NoticeDocument(notice, "assistance/print/tekun_decision.html", context)


# -- 临时救助 -------------------------------------------------------------------------------------------


def temp_notice(temp: TempAssistanceCase) -> NoticeDocument | None:
    """批准: the amount decided (to the fen), the 先行救助 already given and what is paid now; 不予批准: the
    written reasons (a same-cause application of the same year names the earlier case)."""
    if temp.approved is None:
        return None
    kind = "批准决定书" if temp.approved else "不予批准决定书"
    notice = _notice(f"临时救助{kind}", temp.decided_at, temp.person.name)
    context = {}
    if temp.approved and temp.approved_amount is not None:
        advance = temp.advance_amount if temp.is_advance and temp.advance_amount else Decimal(0)
        context["advance"] = advance
        context["paid_now"] = max(temp.approved_amount - advance, Decimal(0))
    return NoticeDocument(notice, "assistance/print/temp_decision.html", context)


# -- 残疾人两项补贴 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsidyRow:
    """One applied subsidy on the notice: granted with its tier and monthly amount, or refused with why."""

    label: str
    granted: bool
    tier: str = ""
    amount: Decimal | None = None
    reason: str = ""


def _subsidy_rows(application: DisabilitySubsidyApplication, start: datetime.date) -> list[SubsidyRow]:
    labels = dict(DisabilitySubsidy.choices)
    granted = {
        SUBSIDY_OF.get(e.benefit_type.code): e
        for e in Entitlement.objects.filter(case_id=application.pk).select_related("benefit_type")
    }
    area = application.household.area_type
    rows = []
    for subsidy in application.subsidies:
        label = labels.get(subsidy, subsidy)
        entitlement = granted.get(subsidy)
        if entitlement is None:
            reason = (application.eligibility or {}).get(subsidy, {}).get("reason", "")
            rows.append(SubsidyRow(label, False, reason=reason))
            continue
        tier = (entitlement.params or {}).get("tier", "")
        try:
            amount = standard_in_force(entitlement.benefit_type, area, tier, start).amount
        except BenefitsError:
            amount = None
        rows.append(SubsidyRow(label, True, tier=tier, amount=amount))
    return rows


def disability_notice(application: DisabilitySubsidyApplication) -> NoticeDocument | None:
    """批准: each subsidy granted with its tier (残疾等级) and monthly amount from the month of application
    (国发〔2015〕52号), each one refused with its reason; 不予批准: the written reasons."""
    if application.approved is None:
        return None
    kind = "批准决定书" if application.approved else "不予批准决定书"
    notice = _notice(f"残疾人两项补贴{kind}", application.decided_at, application.person.name)
    start = month_start(application.applied_on)
    grade = application.disability_grade
    context = {"start_month": start, "grade_label": dict(DisabilityGrade.choices).get(grade, grade)}
    if application.approved:
        rows = _subsidy_rows(application, start)
        context["rows"] = rows
        context["granted"] = [r for r in rows if r.granted]
        context["refused"] = [r for r in rows if not r.granted]
    return NoticeDocument(notice, "assistance/print/disability_decision.html", context)


# -- 低保动态复核 ---------------------------------------------------------------------------------------

REVIEW_TITLES = {
    Outcome.KEEP: "最低生活保障复核结果通知书",
    Outcome.INCREASE: "最低生活保障增发决定书",
    Outcome.DECREASE: "最低生活保障减发决定书",
    Outcome.STOP: "最低生活保障停发决定书",
    Outcome.TAPER: "最低生活保障渐退决定书",
}


def review_notice(review: DibaoReview) -> NoticeDocument | None:
    """Once the 科长 confirmed it: 维持/增发/减发/停发/渐退 with the old and the new monthly amount, the month
    the change takes effect (the last month of a 渐退期) and the written reasons (民发〔2021〕57号)."""
    case = review.case
    if case.is_open or not review.outcome:
        return None
    notice = _notice(REVIEW_TITLES[review.outcome], case.closed_at, case.applicant_name)
    context = {"outcome_label": review.get_outcome_display()}
    if review.outcome == Outcome.TAPER and review.effective_month and review.taper_months:
        context["taper_until"] = add_months(review.effective_month, review.taper_months - 1)
    if review.outcome == Outcome.STOP:
        # The 停发 decision says the household was told beforehand and how its statement was weighed.
        from ..review.prenotice import prenotice_of

        context["prenotice"] = prenotice_of(review)
    return NoticeDocument(notice, "assistance/print/review_decision.html", context)
