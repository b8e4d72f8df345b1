"""Every write of the district's 抽查 of the 低保 approvals its streets confirmed (委托乡镇/街道确认).

Which approvals a street confirmed is read from the case log: the engine records on the 确认批准 row the
Parameter value that decided who took the step (TransitionLog.data["by_parameter"], see
core.workflow.engine.ByParameter) — delegation.dibao = 1 there means the street confirmed. So a case
confirmed by the 科长 before or after the delegation never enters the sample."""

from __future__ import annotations

import datetime
import math
import random
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.accounts.sections import has_section_role
from core.benefits.exceptions import ParameterNotFound
from core.benefits.months import add_months, month_start
from core.benefits.selectors import parameter_value
from core.workflow.models import Case, TransitionLog
from core.workflow.services import TransitionError

from ..case_types import CASE_TYPE_CODE, DELEGATION_PARAMETER
from ..models import Decision, DibaoReview
from ..review.services import dibao_review_open
from .models import DelegationCheck, DelegationSample

SAMPLE_RATE_PARAMETER = "delegation.sample_rate"
SECTION = "assistance"
CHECKER_ROLE = "科长"
# The value of delegation.dibao under which the street confirms, as the case log records it.
DELEGATED = "1"


def require_checker(actor) -> None:
    """The 抽查 is the district's: the section's 科长 draws it and records each result."""
    if not getattr(actor, "is_authenticated", False) or not has_section_role(actor, SECTION, CHECKER_ROLE):
        raise ValidationError("委托确认抽查由社会救助科科长办理")


def _month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(month, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(add_months(month, 1), datetime.time.min, tzinfo=tz)
    return start, end


def street_confirmed_approvals(prefix: str, month: datetime.date) -> QuerySet:
    """The 确认批准 log rows of 低保 cases in the region `prefix` taken by a street under delegation in
    `month` (a case approved once has one such row)."""
    start, end = _month_bounds(month_start(month))
    return TransitionLog.objects.filter(
        case__case_type=CASE_TYPE_CODE,
        case__region_code__startswith=prefix,
        transition="approve",
        at__gte=start,
        at__lt=end,
        data__by_parameter__key=DELEGATION_PARAMETER,
        data__by_parameter__value=DELEGATED,
    )


def sample_size(population: int, rate: Decimal) -> int:
    """How many cases a sample of `rate` takes from `population`: rounded up, so a street's few approvals
    are never left unchecked for a month (at least one when there is any)."""
    if population <= 0:
        return 0
    return min(population, max(1, math.ceil(Decimal(population) * rate)))


def sample_case_ids(case_ids: list[int], *, seed: int, rate: Decimal) -> list[int]:
    """The cases a sample with `seed` draws from `case_ids` at `rate`: the same ids, seed and rate always
    give the same cases (the ids are sorted first, so the order they were read in does not matter)."""
    population = sorted(set(case_ids))
    chosen = random.Random(seed).sample(population, sample_size(len(population), rate))
    return sorted(chosen)


@transaction.atomic
def delegation_sample_draw(*, month: datetime.date, actor) -> DelegationSample:
    """抽取 the month's sample for the actor's district: the approvals its streets confirmed in that month,
    at the rate in force today (delegation.sample_rate), with a new recorded seed. One sample per district
    and month: drawing again returns the sample already drawn."""
    require_checker(actor)
    region = actor.region
    if region is None:
        raise ValidationError("您的账号没有所属区划，不能抽取")
    month = month_start(month)
    if month >= month_start(timezone.localdate()):
        raise ValidationError({"month": "只能抽查已结束月份的街道确认案件"})
    existing = DelegationSample.objects.filter(month=month, region_code=region.code).first()
    if existing is not None:
        return existing
    try:
        rate = parameter_value(SAMPLE_RATE_PARAMETER, timezone.localdate())
    except ParameterNotFound as exc:
        raise ValidationError(str(exc)) from None
    if not Decimal(0) < rate <= Decimal(1):
        raise ValidationError(f"抽查比例参数（{SAMPLE_RATE_PARAMETER}）应大于0且不超过1，现为{rate}")
    approvals = dict(
        street_confirmed_approvals(region.scope_prefix, month)
        .values_list("case_id", "actor_id")
        .order_by("id")
    )
    seed = secrets.randbits(63)
    chosen = sample_case_ids(list(approvals), seed=seed, rate=rate)
    try:
        with transaction.atomic():
            sample = DelegationSample.objects.create(
                month=month,
                region=region,
                region_code=region.code,
                rate=rate,
                seed=seed,
                population=len(approvals),
                drawn_by=actor,
            )
    except IntegrityError:
        # Drawn a moment ago by another request: that one is the month's sample.
        return DelegationSample.objects.get(month=month, region_code=region.code)
    regions = dict(Case.objects.filter(pk__in=chosen).values_list("pk", "region_code"))
    DelegationCheck.objects.bulk_create(
        [
            DelegationCheck(
                sample=sample,
                case_id=case_id,
                region_code=regions[case_id],
                confirmed_by_id=approvals[case_id],
            )
            for case_id in chosen
        ]
    )
    return sample


def sample_redrawn(sample: DelegationSample) -> list[int]:
    """The cases the recorded seed and rate draw from the month's street approvals as they stand now: equal
    to the recorded checks while nothing was approved later in that month's log (it cannot be: the log is
    immutable and the month has ended)."""
    ids = list(
        street_confirmed_approvals(sample.region.scope_prefix, sample.month).values_list("case_id", flat=True)
    )
    return sample_case_ids(ids, seed=sample.seed, rate=sample.rate)


@transaction.atomic
def delegation_check_record(*, check: DelegationCheck, actor, result: str, note: str = "") -> DelegationCheck:
    """登记抽查结果: 符合, or 不符合 with a note — which opens a 低保 dynamic review of the household (its
    reason the note), or names the review already open."""
    require_checker(actor)
    locked = DelegationCheck.objects.visible_to(actor).select_for_update().filter(pk=check.pk).first()
    if locked is None:
        raise ValidationError("抽查案件不存在或不在您的数据范围内")
    if locked.result:
        raise ValidationError("该案件的抽查结果已登记")
    note = (note or "").strip()
    if result not in DelegationCheck.Result.values:
        raise ValidationError({"result": "请选择抽查结果"})
    if result == DelegationCheck.Result.NONCONFORMING and not note:
        raise ValidationError({"note": "抽查结果为不符合的，请填写不符合的情形"})
    if result == DelegationCheck.Result.NONCONFORMING:
        locked.review = _review_for(locked, actor, note)
    locked.result = result
    locked.note = note
    locked.checked_by = actor
    locked.checked_at = timezone.now()
    locked.save(update_fields=["result", "note", "checked_by", "checked_at", "review"])
    return locked


def _review_for(check: DelegationCheck, actor, note: str) -> DibaoReview | None:
    decision = (
        Decision.objects.select_related("entitlement")
        .filter(application__case_id=check.case_id, approved=True, entitlement__isnull=False)
        .first()
    )
    if decision is None:
        raise ValidationError("未找到该案件批准的低保资格，无法发起复核")
    entitlement = decision.entitlement
    open_review = DibaoReview.objects.filter(entitlement=entitlement, is_open=True).first()
    if open_review is not None:
        return open_review
    if entitlement.end_month is not None:
        return None  # already ending (停发 or 渐退 decided): nothing left to review
    try:
        return dibao_review_open(
            entitlement=entitlement,
            actor=actor,
            comment=f"委托确认抽查不符合：{note}",
            permission="workflow.approve_case",
        )
    except TransitionError as exc:
        raise ValidationError(str(exc)) from None
