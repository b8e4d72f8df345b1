"""Changing a standard (调整标准, e.g. 提标): a decision of the benefit type's section, taken by its 科长.

A standard is never edited in place: the new amount is a new row from its effective date, and the row in
force before it ends the day before. A change dated in a locked month is allowed (a retroactive 提标); the
next run's recalculation pays the difference as 补发 lines."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.accounts.models import Role
from core.accounts.sections import has_section_role

from .exceptions import SectionRoleRequired
from .models import BenefitType, Standard

logger = logging.getLogger(__name__)

STANDARD_ROLES: tuple[str, ...] = (Role.SECTION_CHIEF.value,)


def standard_section_refusal(benefit_type: BenefitType, user) -> str:
    """Why `user` may not change the standards of `benefit_type`, or "" if they may: the permission, and the
    科长 role in the type's section (a type that names no section needs the permission alone)."""
    if not user.has_perm("benefits.add_standard"):
        return "您没有调整待遇标准的权限"
    if benefit_type.section_id is None or has_section_role(user, benefit_type.section.code, *STANDARD_ROLES):
        return ""
    return f"您不是{benefit_type.section.name}的科长，不能调整{benefit_type.name}标准"


@transaction.atomic
def standard_change(
    *,
    benefit_type: BenefitType,
    area_type: str,
    tier: str,
    amount: Decimal,
    unit: str,
    effective_from: datetime.date,
    source: str,
    actor,
) -> Standard:
    """A new standard of (type, 城乡, 档次) from `effective_from`; the one in force before it ends the day
    before. Refused when a standard of the same kind already starts on or after that date (enter the
    changes in date order), for a negative amount, or without the 依据文件."""
    refusal = standard_section_refusal(benefit_type, actor)
    if refusal:
        raise SectionRoleRequired(refusal)
    errors: dict[str, str] = {}
    if amount is None or amount < 0:
        errors["amount"] = "金额不能为负数"
    if not (source or "").strip():
        errors["source"] = "请填写依据文件（文号）"
    if errors:
        raise ValidationError(errors)
    same_kind = Standard.objects.select_for_update().filter(
        benefit_type=benefit_type, area_type=area_type, tier=tier
    )
    later = same_kind.filter(effective_from__gte=effective_from).order_by("effective_from").first()
    if later is not None:
        raise ValidationError(
            {
                "effective_from": f"该标准已有{later.effective_from:%Y年%m月%d日}起的记录，"
                "新标准的生效日期须晚于现有各条记录"
            }
        )
    previous_end = effective_from - datetime.timedelta(days=1)
    # The rows ended here change from the new standard's first day on (what a recalculation re-checks
    # in locked months, core.benefits.services._recheck_plan).
    same_kind.filter(Q(effective_to__isnull=True) | Q(effective_to__gt=previous_end)).update(
        effective_to=previous_end, changed_from=effective_from, updated_at=timezone.now()
    )
    standard = Standard.objects.create(
        benefit_type=benefit_type,
        area_type=area_type,
        tier=tier,
        amount=amount,
        unit=unit,
        effective_from=effective_from,
        source=source.strip(),
        created_by=actor,
    )
    logger.info(
        "standard %s %s %s set to %s from %s by %s",
        benefit_type.code,
        area_type,
        tier,
        amount,
        effective_from,
        actor,
    )
    return standard
