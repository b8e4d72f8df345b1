"""Demo data of the 低保边缘 / 刚性支出 register (called by assistance.demo.seed_assistance_demo): one household
recognised as 低保边缘 and one as 刚性支出困难家庭, each by a 低保 application taken through the services to the
科长's confirmation (不予批准低保，认定为 …), so the register and the referral list open with rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.benefits.models import Entitlement
from core.portal.demo import demo_today
from core.registry.models import Household, IncomeRecord

from .. import rules, services
from ..asset_limits import asset_limits_check
from ..models import AssistanceApplication
from .models import LowIncomeCategory, LowIncomeRecognition
from .rules import disposable_income_last_year

STANDARD_RATIO_EDGE = (Decimal("1.0"), Decimal("1.5"))
DAYS_AGO = {LowIncomeCategory.EDGE: 40, LowIncomeCategory.RIGID: 25}


def _households(district: str):
    busy = AssistanceApplication.objects.values("household_id")
    covered = Entitlement.objects.filter(household__isnull=False).values("household_id")
    return list(
        Household.objects.filter(region_code__startswith=district, is_active=True, head__isnull=False)
        .exclude(pk__in=busy)
        .exclude(pk__in=covered)
        .select_related("region", "head")
        .order_by("pk")
    )


def _pick(households, category: str, today: datetime.date, standards: dict):
    """A household whose income fits the category as it stands, else one given a demo wage that does."""
    members = rules.living_members([h.pk for h in households], today)
    households = [h for h in households if members.get(h.pk)]
    # Recognised by the 科长's confirmation, which checks the 财产 limits: only households within them.
    checks = asset_limits_check(households, today)
    households = [h for h in households if checks[h.pk].within]
    facts = rules.household_income_facts([h.pk for h in households], today, members_by_household=members)
    for household in households:
        standard = standards[household.area_type]
        per_capita = facts[household.pk].per_capita
        if category == LowIncomeCategory.EDGE and standard <= per_capita <= standard * Decimal("1.4"):
            return household, members[household.pk]
        if category == LowIncomeCategory.RIGID and standard * Decimal("1.6") <= per_capita <= standard * 3:
            return household, members[household.pk]
    if not households:
        return None, []
    # None fits as it stands: the first free household earns a wage that puts it there (demo only).
    household = households[0]
    size = len(members[household.pk])
    ratio = Decimal("1.2") if category == LowIncomeCategory.EDGE else Decimal("2")
    IncomeRecord.objects.filter(household=household).delete()
    IncomeRecord.objects.create(
        household=household,
        person=household.head,
        kind="wage",
        monthly_amount=(standards[household.area_type] * ratio * size).quantize(Decimal("1")),
        period_start=today.replace(day=1) - datetime.timedelta(days=365),
    )
    return household, members[household.pk]


@transaction.atomic
def seed_low_income(*, users, days, district: str, advance, dates_of, write) -> None:
    """`advance` and `dates_of` are assistance.demo's (an application taken through every event's day)."""
    if LowIncomeRecognition.objects.filter(region_code__startswith=district).exists():
        return
    from core.benefits.models import BenefitType
    from core.benefits.selectors import standard_in_force

    today = timezone.localdate()
    dibao = BenefitType.objects.get(code="dibao")
    standards = {area: standard_in_force(dibao, area, "", today).amount for area in ("urban", "rural")}
    chief, companion = users["kezhang"], users["keshi"]
    made = []
    for category in (LowIncomeCategory.EDGE, LowIncomeCategory.RIGID):
        household, living = _pick(_households(district), category, today, standards)
        if household is None:
            continue
        from ..demo import _staff  # the community caseworker and street reviewer of the household

        staff = _staff(household, users)
        if staff is None:
            continue
        clerk, reviewer = staff
        decided_on = days.on_or_before(today - datetime.timedelta(days=DAYS_AGO[category]))
        dates = dates_of("chief_confirmation", decided_on, days)
        application = advance(household, dates, clerk, reviewer, chief, companion)
        if category == LowIncomeCategory.RIGID:
            facts = rules.household_income_facts([household.pk], today)[household.pk]
            income = disposable_income_last_year(household.area_type, today)
            if income is None:
                continue
            spending = (facts.net * 12 * Decimal("0.7")).quantize(Decimal("1"))
            AssistanceApplication.objects.filter(pk=application.pk).update(
                categories=["dibao", "rigid"],
                rigid_spending={"medical": f"{spending * 2 / 3:.2f}", "education": f"{spending / 3:.2f}"},
            )
            application.refresh_from_db()
        with demo_today(decided_on, hour=16):
            services.dibao_refuse_and_recognise(
                application=application,
                actor=chief,
                category=category,
                reasons="家庭月人均收入不低于低保标准，不符合最低生活保障条件",
            )
        made.append(LowIncomeCategory(category).label)
    if made:
        write(f"低保边缘和刚性支出困难家庭：认定 {'、'.join(made)} 各 1 户")
