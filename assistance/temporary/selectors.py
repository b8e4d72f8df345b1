"""Reads of the 临时救助 flow. Every page starts from `visible_to(user)`; the 台账 is the case-flow kit's
(`flow.TempFlow`)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType
from core.workflow.services import last_log

from ..models import TempAssistanceCase
from .case_types import TempStatus
from .services import (
    Limits,
    Proposal,
    decision_deadline,
    limits_on,
    proposal_for,
    proposal_problem,
    same_cause_cases,
)


@dataclass
class TempDetail:
    temp: TempAssistanceCase
    proposal_problem: str | None
    deadline: datetime.date | None
    # 拟救助金额 as judged when it was recorded (standard, multiple shown beside, limit, level); None before.
    proposal: Proposal | None = None
    related: list[TempAssistanceCase] = field(default_factory=list)


def _recorded_proposal(temp: TempAssistanceCase) -> Proposal | None:
    """The proposal with the standard and limits in force on the day it was recorded."""
    if temp.proposed_amount is None:
        return None
    log = last_log(temp.case, ("temp_proposal",))
    on_date = timezone.localdate(log.at) if log is not None else timezone.localdate()
    try:
        return proposal_for(temp.kind, temp.proposed_amount, on_date)
    except (BenefitsError, BenefitType.DoesNotExist):
        return None


def temp_case_detail(user, pk: int) -> TempDetail:
    """One case in the user's scope with what its page shows, or TempAssistanceCase.DoesNotExist."""
    temp = (
        TempAssistanceCase.objects.visible_to(user)
        .select_related(
            "case",
            "case__region",
            "person",
            "household",
            "household__region",
            "earlier_case",
            "earlier_case__case",
            "payment_line",
            "payment_line__run",
        )
        .get(pk=pk)
    )
    case = temp.case
    return TempDetail(
        temp=temp,
        proposal_problem=proposal_problem(temp, case) if case.status == TempStatus.INVESTIGATION else None,
        deadline=decision_deadline(temp),
        proposal=_recorded_proposal(temp),
        related=list(same_cause_cases(temp)),
    )


def proposal_limits(temp: TempAssistanceCase) -> Limits | None:
    """The standard, limit and cap in force today for the proposal form's help; None when missing."""
    try:
        return limits_on(temp.kind, timezone.localdate())
    except (BenefitsError, BenefitType.DoesNotExist):
        return None
