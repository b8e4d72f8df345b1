"""Reads of the 特困人员认定 flow. Every list and page starts from `visible_to(user)`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.selectors import standard_in_force
from core.workflow.models import PublicNotice

from .. import rules
from ..models import TekunApplication, TekunCareAgreement, TekunTask, TekunTermination
from .case_types import TekunStatus
from .services import (
    BASIC_BENEFIT_CODE,
    CARE_BENEFIT_CODE,
    SUPPORT_MODE_TIER,
    care_warning,
    eligibility_problem,
    investigation_problem,
)


@dataclass
class FeePreview:
    """The monthly basic living fee and care fee the standards give (shown before and after approval)."""

    month: datetime.date
    basic_tier: str
    basic: Decimal | None
    care_tier: str
    care: Decimal | None
    error: str = ""

    @property
    def total(self) -> Decimal | None:
        if self.basic is None or self.care is None:
            return None
        return self.basic + self.care


@dataclass
class TekunDetail:
    application: TekunApplication
    notices: list[PublicNotice]
    investigation_problem: str | None
    eligibility_problem: str | None
    care_warning: str
    self_care_rows: list[tuple[str, bool | None]]
    fees: FeePreview | None
    payment_lines: list[PaymentLine] = field(default_factory=list)
    # After approval (assistance/tekun/lifecycle.py): to-dos, the 终止 decision, care agreements and the
    # care tier paid next month (a re-assessment may have changed it).
    tasks: list[TekunTask] = field(default_factory=list)
    termination: TekunTermination | None = None
    agreements: list[TekunCareAgreement] = field(default_factory=list)
    care_tier_next: str = ""
    supported: bool = False


def fee_preview(application: TekunApplication, month: datetime.date) -> FeePreview | None:
    if not (application.support_mode and application.self_care_tier):
        return None
    basic_tier = SUPPORT_MODE_TIER[application.support_mode]
    preview = FeePreview(month, basic_tier, None, application.self_care_tier, None)
    area = application.household.area_type
    try:
        basic_type = BenefitType.objects.get(code=BASIC_BENEFIT_CODE)
        care_type = BenefitType.objects.get(code=CARE_BENEFIT_CODE)
        preview.basic = standard_in_force(basic_type, area, basic_tier, month).amount
        preview.care = standard_in_force(care_type, area, application.self_care_tier, month).amount
    except (BenefitsError, BenefitType.DoesNotExist) as exc:
        preview.error = str(exc) or "特困人员供养标准未设置"
    return preview


def tekun_application_detail(user, pk: int) -> TekunDetail:
    application = (
        TekunApplication.objects.visible_to(user)
        .select_related(
            "case",
            "case__region",
            "person",
            "household",
            "household__region",
            "created_by",
            "basic_entitlement",
            "care_entitlement",
        )
        .get(pk=pk)
    )
    case = application.case
    notices = list(
        PublicNotice.objects.filter(case_id=application.pk)
        .select_related("created_by", "closed_by")
        .order_by("-start_date", "-id")
    )
    items = application.self_care_items or {}
    rows = [(label, items.get(key)) for key, label in rules.SELF_CARE_ITEMS.items()]
    month = application.start_month or add_months(month_start(timezone.localdate()), 1)
    lines: list[PaymentLine] = []
    entitlement_ids = [i for i in (application.basic_entitlement_id, application.care_entitlement_id) if i]
    if entitlement_ids:
        lines = list(
            PaymentLine.objects.filter(entitlement_id__in=entitlement_ids)
            .select_related("run", "run__benefit_type")
            .order_by("-for_month", "run__benefit_type__sort_order", "-id")[:24]
        )
    in_investigation = case.status == TekunStatus.INVESTIGATION
    after = {}
    if application.approved:
        from .lifecycle import care_tier_in_force, supported

        today = timezone.localdate()
        after = {
            "tasks": list(
                TekunTask.objects.filter(application=application)
                .select_related("closed_by")
                .order_by("-opened_on", "-pk")[:20]
            ),
            "termination": TekunTermination.objects.filter(application=application).first(),
            "agreements": list(TekunCareAgreement.objects.filter(application=application)[:10]),
            "care_tier_next": care_tier_in_force(application, add_months(month_start(today), 1)),
            "supported": supported(today).filter(pk=application.pk).exists(),
        }
    return TekunDetail(
        application=application,
        notices=notices,
        investigation_problem=investigation_problem(application, case) if in_investigation else None,
        eligibility_problem=eligibility_problem(application)
        if case.is_open and application.investigated_on
        else None,
        care_warning=care_warning(application.self_care_tier, application.support_mode),
        self_care_rows=rows,
        fees=fee_preview(application, month),
        payment_lines=lines,
        **after,
    )
