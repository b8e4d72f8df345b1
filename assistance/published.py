"""What the bureau supplies to the lists posted in the community (reports/notices.py):

- the 公示名单's figures for each case in 公示 — 家庭人口 and the proposed monthly amount on the day the list
  is printed — through each case type's `notice_figures` hook (core.workflow.links.NoticeFigures);
- the rows of the 保障对象张榜名单: households with a 低保 entitlement in force and persons with a 特困
  entitlement in force, with household size and monthly amount (reports masks the names).

Every function is set-based: a fixed number of queries however many cases or households the list holds (a
whole district's)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from core.benefits.calculators import get_calculator
from core.benefits.exceptions import BenefitsError
from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun
from core.benefits.months import add_months, month_start
from core.benefits.selectors import standards_in_force_map
from core.workflow.links import NoticeFigures
from reports.notices import PostedRow, register_posted_source

from . import rules
from .models import AssistanceApplication, DisabilitySubsidy, DisabilitySubsidyApplication, TekunApplication

DIBAO = "dibao"
TEKUN_BASIC = "tekun_basic"
TEKUN_CARE = "tekun_care"
DISABILITY_TYPES = {DisabilitySubsidy.LIVING: "disability_living", DisabilitySubsidy.CARE: "disability_care"}
DISABILITY_CARE_TIER = {1: "一级", 2: "二级"}  # assistance.disability.services.CARE_TIER


def _household_sizes(household_ids, on_date: datetime.date) -> dict[int, int]:
    """{household id: living members on `on_date`} — one query."""
    return {hid: len(members) for hid, members in rules.living_members(household_ids, on_date).items()}


def _proposal_month(on_date: datetime.date) -> datetime.date:
    # A confirmation on the day pays from the next month (民发〔2021〕57号), as the case pages propose.
    return add_months(month_start(on_date), 1)


# ---------------------------------------------------------------------------------------------------
# 公示名单: the case types' notice_figures hooks
# ---------------------------------------------------------------------------------------------------


def dibao_notice_figures(cases, on_date: datetime.date) -> dict[int, NoticeFigures]:
    """家庭人口 and the proposed 低保 amount of each application in 公示: the registered calculator on a basis
    built from the facts recorded now, exactly as the case page proposes it (selectors.dibao_proposed_amount)
    — for all the applications at once."""
    from . import bases

    month = _proposal_month(on_date)
    applications = list(
        AssistanceApplication.objects.filter(case_id__in=[c.pk for c in cases])
        .select_related("household")
        .prefetch_related("members")
    )
    if not applications:
        return {}
    household_ids = [a.household_id for a in applications]
    members = rules.living_members(household_ids, month)
    sizes = {hid: len(living) for hid, living in members.items()}
    units = {}
    for application in applications:
        living = {m.person_id for m in members[application.household_id]}
        wanted = {p.pk for p in application.members.all()}
        units[application.household_id] = sorted(wanted & living) if living - wanted else None
    result: dict[int, NoticeFigures] = {}
    try:
        benefit_type = BenefitType.objects.get(code=DIBAO)
        calculator = get_calculator(benefit_type)
        standards = standards_in_force_map(benefit_type, month)
        basis_of = bases.bases_from_facts(units, month, label=bases.LABEL_APPROVAL, start=month)
        rows = {
            a.pk: {
                "id": 0,
                "household_id": a.household_id,
                "person_id": None,
                "area_type": a.household.area_type,
                "region_code": a.household.region_code,
                "params": {bases.BASES_KEY: [basis_of[a.household_id]]},
            }
            for a in applications
        }
        facts = calculator.load_facts(list(rows.values()), month)
    except (BenefitsError, BenefitType.DoesNotExist) as exc:
        note = str(exc) or "低保标准未设置，无法计算"
        return {a.pk: NoticeFigures(sizes.get(a.household_id), None, note) for a in applications}
    for application in applications:
        size = sizes.get(application.household_id)
        try:
            line = calculator.compute(rows[application.pk], facts, standards, month)
        except BenefitsError as exc:
            result[application.pk] = NoticeFigures(size, None, str(exc))
            continue
        if line is None or line.amount <= 0:
            result[application.pk] = NoticeFigures(size, None, "不符合条件")
        else:
            result[application.pk] = NoticeFigures(size, line.amount)
    return result


def tekun_notice_figures(cases, on_date: datetime.date) -> dict[int, NoticeFigures]:
    """家庭人口 and the proposed 特困 monthly fees (基本生活费 + 照料护理费 at the standards in force next
    month, by support mode and care tier), as the case page proposes them."""
    from .tekun.services import SUPPORT_MODE_TIER

    month = _proposal_month(on_date)
    applications = list(
        TekunApplication.objects.filter(case_id__in=[c.pk for c in cases]).select_related("household")
    )
    sizes = _household_sizes([a.household_id for a in applications], month)
    try:
        basic = standards_in_force_map(BenefitType.objects.get(code=TEKUN_BASIC), month)
        care = standards_in_force_map(BenefitType.objects.get(code=TEKUN_CARE), month)
    except BenefitType.DoesNotExist:
        basic = care = None
    result = {}
    for a in applications:
        amount = None
        if basic is not None and a.support_mode and a.self_care_tier:
            area = a.household.area_type
            basic_value = basic.get_for(area, SUPPORT_MODE_TIER[a.support_mode])
            care_value = care.get_for(area, a.self_care_tier)
            if basic_value is not None and care_value is not None:
                amount = basic_value.amount + care_value.amount
        result[a.pk] = NoticeFigures(sizes.get(a.household_id), amount)
    return result


def disability_notice_figures(cases, on_date: datetime.date) -> dict[int, NoticeFigures]:
    """家庭人口 and the monthly 两项补贴 of each application in 公示: the subsidies the household check found
    fitting (application.eligibility) at the standards in force this month (paid from the month of
    application)."""
    month = month_start(on_date)
    applications = list(
        DisabilitySubsidyApplication.objects.filter(case_id__in=[c.pk for c in cases]).select_related(
            "household"
        )
    )
    sizes = _household_sizes([a.household_id for a in applications], month)
    standards = {
        bt.code: standards_in_force_map(bt, month)
        for bt in BenefitType.objects.filter(code__in=list(DISABILITY_TYPES.values()))
    }
    result = {}
    for a in applications:
        amount = None
        fitting = [s for s, check in (a.eligibility or {}).items() if check.get("fits")]
        for subsidy in fitting:
            in_force = standards.get(DISABILITY_TYPES.get(subsidy, ""))
            tier = (
                DISABILITY_CARE_TIER.get(a.disability_grade, "") if subsidy == DisabilitySubsidy.CARE else ""
            )
            value = in_force.get_for(a.household.area_type, tier) if in_force is not None else None
            if value is not None:
                amount = (amount or Decimal("0")) + value.amount
        result[a.pk] = NoticeFigures(sizes.get(a.household_id), amount)
    return result


# ---------------------------------------------------------------------------------------------------
# 保障对象张榜名单: households and persons with an entitlement in force
# ---------------------------------------------------------------------------------------------------


def _in_force(user, codes, community_code: str, month: datetime.date):
    """Entitlements of `codes` in force and paid in `month` in the user's scope, each with the amount of its
    latest regular monthly line up to `month` (the amount the last decision fixed, as paid)."""
    line = PaymentLine.objects.filter(
        entitlement_id=OuterRef("pk"),
        run__kind=PaymentRun.Kind.MONTHLY,
        line_type=PaymentLine.LineType.REGULAR,
        for_month__lte=month,
    ).order_by("-for_month", "-id")
    qs = (
        Entitlement.objects.visible_to(user)
        .filter(
            Q(end_month__isnull=True) | Q(end_month__gte=month),
            benefit_type__code__in=codes,
            status=Entitlement.Status.ACTIVE,
            start_month__lte=month,
        )
        .annotate(
            month_amount=Subquery(line.values("amount")[:1]),
            covered=Subquery(line.values("covered_persons")[:1]),
            beneficiary_household=Coalesce("household_id", "person__household_id"),
        )
    )
    if community_code:
        qs = qs.filter(region_code=community_code)
    return qs


def posted_beneficiaries(user, community_code: str, on_date: datetime.date) -> list[PostedRow]:
    """The rows of the 张榜名单 on `on_date`: every 低保 household (户主's name, living members, covered
    members, monthly amount) and every 特困 person (基本生活费 + 照料护理费) with an entitlement in force this
    month, in the user's scope. Four queries."""
    month = month_start(on_date)
    dibao = list(
        _in_force(user, [DIBAO], community_code, month)
        .filter(household__isnull=False)
        .values("pk", "region_code", "household__head__name", "household_id", "month_amount", "covered")
    )
    tekun = list(
        _in_force(user, [TEKUN_BASIC, TEKUN_CARE], community_code, month)
        .filter(person__isnull=False)
        .values("region_code", "person_id", "person__name", "beneficiary_household", "month_amount")
    )
    sizes = _household_sizes(
        {r["household_id"] for r in dibao}
        | {r["beneficiary_household"] for r in tekun if r["beneficiary_household"]},
        on_date,
    )
    rows = [
        PostedRow(
            region_code=r["region_code"],
            category="低保",
            name=r["household__head__name"] or "",
            household_size=sizes.get(r["household_id"]),
            covered=r["covered"],
            monthly_amount=r["month_amount"],
        )
        for r in dibao
    ]
    persons: dict[int, dict] = defaultdict(dict)
    for r in tekun:
        person = persons[r["person_id"]]
        person.setdefault("region_code", r["region_code"])
        person["name"] = r["person__name"]
        person["household"] = r["beneficiary_household"]
        if r["month_amount"] is not None:
            person["amount"] = person.get("amount", Decimal("0")) + r["month_amount"]
    rows += [
        PostedRow(
            region_code=p["region_code"],
            category="特困",
            name=p["name"],
            household_size=sizes.get(p["household"]) if p["household"] else 1,
            covered=1,
            monthly_amount=p.get("amount"),
        )
        for p in persons.values()
    ]
    return rows


register_posted_source("assistance", posted_beneficiaries)
