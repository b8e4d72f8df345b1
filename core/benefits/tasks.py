"""Celery tasks of the benefits engine. They take codes and ids, call services, and are safe to run twice."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from celery import chord, shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from . import services
from .calculators import calculator_class
from .exceptions import BenefitsError
from .models import BenefitType, PaymentLine, PaymentRun
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


@contextmanager
def _recording_failure(**run):
    """A failure of the block is written on the run (services.payment_run_mark_calculation) for its page —
    the Chinese reason of a BenefitsError or refusal, a general message otherwise — then raised as before."""
    try:
        yield
    except (BenefitsError, PermissionDenied) as error:
        services.payment_run_mark_calculation(state=PaymentRun.CalcState.FAILED, error=str(error), **run)
        raise
    except Exception:
        logger.exception("recalculation %s failed", run)
        services.payment_run_mark_calculation(
            state=PaymentRun.CalcState.FAILED, error=services.RECALC_UNEXPECTED_ERROR, **run
        )
        raise


@shared_task(name="benefits.recalculate_run")
def recalculate_run(benefit_type_code: str, month_iso: str, actor_id: int | None = None) -> dict:
    """Recalculate one benefit type's monthly draft run (month as '2024-03' or '2024-03-01'). The run's
    calc_state follows (running, then cleared or failed with the reason), so its page shows the outcome."""
    benefit_type = BenefitType.objects.get(code=benefit_type_code)
    month = parse_month(month_iso)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    where = {"benefit_type": benefit_type, "month": month}
    services.payment_run_mark_calculation(state=PaymentRun.CalcState.RUNNING, **where)
    with _recording_failure(**where):
        run = services.payment_run_recalculate(benefit_type=benefit_type, month=month, actor=actor)
    services.payment_run_mark_calculation(state=PaymentRun.CalcState.IDLE, run_id=run.pk)
    return _summary(run)


@shared_task(name="benefits.recalculate_run_by_street")
def recalculate_run_by_street(benefit_type_code: str, month_iso: str, actor_id: int | None = None) -> dict:
    """Recalculate a monthly draft run street by street on every worker: one `recalculate_run_parts` task
    per settings.BENEFITS_PARTS_PER_TASK parts (a part: consecutive streets of at least
    settings.BENEFITS_PART_SIZE entitlements, in its own transaction; a task's parts pipelined), in parallel, and
    a chord whose callback (`finish_run_parts`) sums the parts, checks them against the run's lines and
    stamps the run. Until then the run cannot be locked (calculated_at is cleared). Returns the run, the
    number of parts and the id of the callback's result."""
    benefit_type = BenefitType.objects.get(code=benefit_type_code)
    # The monthly job passes no actor: it runs as the system, with no section to check.
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    month = parse_month(month_iso)
    with _recording_failure(benefit_type=benefit_type, month=month):
        run, parts = services.payment_run_start_parts(benefit_type=benefit_type, month=month, actor=actor)
    services.payment_run_mark_calculation(state=PaymentRun.CalcState.RUNNING, run_id=run.pk)
    per_task = max(1, settings.BENEFITS_PARTS_PER_TASK)
    groups = [parts[i : i + per_task] for i in range(0, len(parts), per_task)]
    header = [recalculate_run_parts.si(run.pk, group) for group in groups]
    result = chord(header)(finish_run_parts.s(run.pk, actor_id)) if header else None
    if result is None:  # no entitlement at all: an empty run, stamped at once
        finish_run_parts([], run.pk, actor_id)
    return {"run_id": run.pk, "parts": len(parts), "finish_id": result.id if result is not None else None}


@shared_task(name="benefits.recalculate_run_parts")
def recalculate_run_parts(run_id: int, parts: list[list[str]]) -> dict:
    """Several parts of a run, each in its own transaction, the next one starting while the one before
    is stored (services.payment_run_recalculate_parts): the lines written, their totals and their summary
    per community added up, for the chord's callback."""
    with _recording_failure(run_id=run_id):
        return services.payment_run_recalculate_parts(run_id=run_id, parts=parts)


@shared_task(name="benefits.recalculate_run_part")
def recalculate_run_part(run_id: int, part: list[str]) -> dict:
    """One part (a street or several) of a run (services.payment_run_recalculate_part): the lines written,
    their totals and their summary per community, for the chord's callback. (Chords now send
    `recalculate_run_parts`; kept for a part queued before.)"""
    with _recording_failure(run_id=run_id):
        return services.payment_run_recalculate_part(run_id=run_id, part=part)


@shared_task(name="benefits.finish_run_parts")
def finish_run_parts(results: list[dict | int], run_id: int, actor_id: int | None = None) -> dict:
    """The chord's callback: the lines the parts wrote must add up to the run's lines (a street
    recalculated twice or skipped would show here), then the run's totals and summary, added up from the
    parts' results, and its stamp. (A part's result that is a bare count — a task queued before this
    version — makes the totals be read from the lines instead.)"""
    detailed = all(isinstance(result, dict) for result in results)
    written = sum(result["written"] if isinstance(result, dict) else result for result in results)
    stored = PaymentLine.objects.filter(run_id=run_id).count()
    with _recording_failure(run_id=run_id):
        if written != stored:
            raise BenefitsError(
                f"分街道计算结果不一致：各街道共写入 {written} 笔，批次中有 {stored} 笔，请重新计算。"
            )
        actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
        run = services.payment_run_finish_parts(
            run_id=run_id, actor=actor, parts=results if detailed and results else None
        )
    services.payment_run_mark_calculation(state=PaymentRun.CalcState.IDLE, run_id=run_id)
    # parts, not tasks: a task's result counts the parts it recalculated (recalculate_run_parts)
    parts = sum(result.get("parts", 1) if isinstance(result, dict) else 1 for result in results)
    return {**_summary(run), "parts": parts, "tasks": len(results)}


@shared_task(name="benefits.recalculate_all_for_next_month")
def recalculate_all_for_next_month() -> list[dict]:
    """Draft next month's run of every monthly benefit type (CELERY_BEAT_SCHEDULE, the 20th of each month),
    street by street on every worker (recalculate_run_by_street).

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
        started = recalculate_run_by_street(benefit_type.code, month.isoformat())
        results.append({"benefit_type": benefit_type.code, "month": month.isoformat(), **started})
    return results
