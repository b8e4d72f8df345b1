"""Writes of the holiday one-off payment: one keyword-only, atomic function.

A one-off run (PaymentRun kind "one_off") of its own benefit type, identified by its month and title: one
line per active 低保 household (its dibao entitlement) and per active 特困 person (tekun_basic), line type
"one_off". Rerunning a draft replaces its lines (idempotent); a locked run never changes. Set-based: the
entitlements are read with values() in one query per benefit type and the lines written in bulk."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.accounts.models import Section
from core.benefits.exceptions import PaymentRunLocked
from core.benefits.models import BenefitType, PaymentLine, PaymentRun
from core.benefits.months import month_start
from core.benefits.selectors import entitlements_in_force
from core.benefits.services import check_may_recalculate

logger = logging.getLogger(__name__)

HOLIDAY_BENEFIT_TYPE = "holiday_allowance"
HOLIDAY_BENEFIT_NAME = "节日一次性生活补贴"
DIBAO_BENEFIT_TYPE = "dibao"
TEKUN_BENEFIT_TYPE = "tekun_basic"
PERMISSION = "benefits.recalculate_paymentrun"
# A guard against a mistyped amount (e.g. 50000 for 500.00); a real holiday payment is a few hundred 元.
MAX_AMOUNT = Decimal("10000")
BATCH_SIZE = 2000


def holiday_benefit_type() -> BenefitType:
    """The benefit type the one-off runs are filed under (not monthly: the monthly run never picks it).
    Created on first use with the demo values, editable in the admin afterwards."""
    benefit_type, _ = BenefitType.objects.get_or_create(
        code=HOLIDAY_BENEFIT_TYPE,
        defaults={
            "name": HOLIDAY_BENEFIT_NAME,
            "bureau": "社会救助科",
            "section": Section.objects.filter(code="assistance").first(),
            "is_monthly": False,
            "rounding": "fen",
            "sort_order": 35,
        },
    )
    return benefit_type


def _check_amount(value, field: str, label: str, errors: dict[str, str]) -> Decimal | None:
    if value is None:
        return None
    amount = Decimal(value)
    if amount <= 0:
        errors[field] = f"{label}须大于0"
    elif amount > MAX_AMOUNT:
        errors[field] = f"{label}不能超过{MAX_AMOUNT:.0f}元，请核对"
    elif amount != amount.quantize(Decimal("0.01")):
        errors[field] = f"{label}最多保留两位小数"
    return amount


@transaction.atomic
def holiday_payment_run(
    *,
    month: datetime.date,
    title: str,
    household_amount: Decimal,
    person_amount: Decimal | None = None,
    actor,
) -> PaymentRun:
    """Create or redo the one-off run `title` of `month`: `household_amount` per active 低保 household,
    `person_amount` (default: the household amount) per active 特困 person. Refuses a locked run."""
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied("您没有生成发放批次的权限")
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = "请填写发放名称，如“2027年元旦春节一次性生活补贴”"
    elif len(title) > 100:
        errors["title"] = "发放名称不能超过100个字"
    if month is None:
        errors["month"] = "请选择发放月份"
    household_amount = _check_amount(household_amount, "household_amount", "每户金额", errors)
    if household_amount is None and "household_amount" not in errors:
        errors["household_amount"] = "请填写每户金额"
    person_amount = _check_amount(person_amount, "person_amount", "特困人员每人金额", errors)
    if errors:
        raise ValidationError(errors)
    month = month_start(month)
    if person_amount is None:
        person_amount = household_amount

    benefit_type = holiday_benefit_type()
    check_may_recalculate(benefit_type, actor)  # the district role in the type's section (社会救助科)
    run = (
        PaymentRun.objects.select_for_update()
        .filter(benefit_type=benefit_type, kind=PaymentRun.Kind.ONE_OFF, month=month, title=title)
        .first()
    )
    if run is None:
        run = PaymentRun.objects.create(
            benefit_type=benefit_type, kind=PaymentRun.Kind.ONE_OFF, month=month, title=title
        )
    elif run.status == PaymentRun.Status.LOCKED:
        raise PaymentRunLocked(f"“{title}”发放批次已锁定，不能重新生成。")

    lines = _lines(run, month, title, household_amount, person_amount)
    PaymentLine.objects.filter(run=run).delete()
    PaymentLine.objects.bulk_create(lines, batch_size=BATCH_SIZE)
    run.line_count = len(lines)
    run.total_amount = sum((line.amount for line in lines), Decimal(0))
    run.adjustment_total = Decimal(0)
    run.calculated_at = timezone.now()
    run.calculated_by = actor
    run.save(
        update_fields=["line_count", "total_amount", "adjustment_total", "calculated_at", "calculated_by"]
    )
    logger.info("holiday run %s (%s): %s lines, total %s", run.pk, title, run.line_count, run.total_amount)
    return run


def _lines(
    run: PaymentRun, month: datetime.date, title: str, household_amount: Decimal, person_amount: Decimal
) -> list[PaymentLine]:
    """One line per 低保 household and per 特困 person whose entitlement is paid in `month`."""
    types = {
        bt.code: bt for bt in BenefitType.objects.filter(code__in=[DIBAO_BENEFIT_TYPE, TEKUN_BENEFIT_TYPE])
    }
    lines: list[PaymentLine] = []
    seen: set[tuple[str, int]] = set()
    for code, amount, target in (
        (DIBAO_BENEFIT_TYPE, household_amount, "低保家庭"),
        (TEKUN_BENEFIT_TYPE, person_amount, "特困人员"),
    ):
        if code not in types:
            continue
        unit = "元/户" if code == DIBAO_BENEFIT_TYPE else "元/人"
        explanation = {
            "formula": f"{title}：{target}每{'户' if code == DIBAO_BENEFIT_TYPE else '人'}{amount:.2f}元",
            "steps": [
                ["发放对象", target],
                ["发放标准", f"{amount:.2f}{unit}"],
                ["发放金额", f"{amount:.2f}"],
            ],
            "total": f"{amount:.2f}",
        }
        for row in entitlements_in_force(types[code], month):
            # One line per household (低保) or person (特困), even if one holds two entitlements.
            key = (code, row["household_id"] if code == DIBAO_BENEFIT_TYPE else row["person_id"])
            if key[1] is None or key in seen:
                continue
            seen.add(key)
            lines.append(
                PaymentLine(
                    run=run,
                    entitlement_id=row["id"],
                    household_id=row["household_id"] or row["person_household_id"],
                    person_id=row["person_id"],
                    region_code=row["region_code"],
                    line_type=PaymentLine.LineType.ONE_OFF,
                    for_month=month,
                    covered_persons=1,
                    base_amount=amount,
                    amount=amount,
                    explanation=explanation,
                )
            )
    return lines
