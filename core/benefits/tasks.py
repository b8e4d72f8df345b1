"""Celery tasks of the benefits engine. They take codes and ids, call services, and are safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from . import services
from .calculators import calculator_class
from .models import BenefitType, PaymentRun
from .months import add_months, month_start, parse_month

logger = logging.getLogger(__name__)


def _summary(run: PaymentRun) -> dict:
    return {
        "run_id": run.pk,
        "benefit_type": run.benefit_type.code,
        "month": run.month.isoformat(),
        "status": run.status,
        "line_count": run.line_count,
        "total_amount": str(run.total_amount),
        "adjustment_total": str(run.adjustment_total),
    }


@shared_task(name="benefits.recalculate_run")
def recalculate_run(benefit_type_code: str, month_iso: str, actor_id: int | None = None) -> dict:
    """Recalculate one benefit type's monthly draft run (month as '2024-03' or '2024-03-01')."""
    benefit_type = BenefitType.objects.get(code=benefit_type_code)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    run = services.payment_run_recalculate(
        benefit_type=benefit_type, month=parse_month(month_iso), actor=actor
    )
    return _summary(run)


@shared_task(name="benefits.recalculate_all_for_next_month")
def recalculate_all_for_next_month() -> list[dict]:
    """Draft next month's run of every monthly benefit type (CELERY_BEAT_SCHEDULE, the 20th of each month).

    A type without a registered calculator, or whose run is already locked, is skipped and logged."""
    month = add_months(month_start(timezone.localdate()), 1)
    results = []
    for benefit_type in services.monthly_benefit_types():
        if calculator_class(benefit_type.code) is None:
            logger.warning("benefit type %s has no calculator; run for %s skipped", benefit_type.code, month)
            continue
        if PaymentRun.objects.filter(
            benefit_type=benefit_type,
            month=month,
            kind=PaymentRun.Kind.MONTHLY,
            status=PaymentRun.Status.LOCKED,
        ).exists():
            logger.info("run %s %s already locked; skipped", benefit_type.code, month)
            continue
        run = services.payment_run_recalculate(benefit_type=benefit_type, month=month)
        results.append(_summary(run))
    return results
