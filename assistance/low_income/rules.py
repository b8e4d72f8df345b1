"""The rules of 低保边缘 / 刚性支出 recognition, 单人保 and the 专项救助 referral lists (DOMAIN.md "低保边缘家庭",
"刚性支出困难家庭", "单人保"). The numbers are dated Parameters (seeded by assistance/migrations/0012), never
constants here."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.db.models import F, Q

from core.benefits.selectors import parameter_value
from core.registry.choices import AreaType, DisabilityCategory

from .. import rules
from ..models import AssistanceApplication

# Validity of a recognition in months from the decision (刚性支出: "valid ≤ 12 months", DOMAIN.md).
P_EDGE_VALID_MONTHS = "edge.valid_months"
P_RIGID_VALID_MONTHS = "rigid.valid_months"
RIGID_MAX_MONTHS = 12
# Last year's local per-capita disposable income (元/年), one row per year effective from 1 January, by
# area type: urban and rural residents' figures differ by half and the statistics bureau publishes both.
P_DISPOSABLE_INCOME = {
    AreaType.URBAN: "rigid.disposable_income_last_year.urban",
    AreaType.RURAL: "rigid.disposable_income_last_year.rural",
}

# 刚性支出 of the past 12 months, by kind (DOMAIN.md: medical, education, disability rehabilitation, basic
# living) — the application's `rigid_spending` keys.
RIGID_SPENDING_KINDS = (
    ("medical", "医疗支出"),
    ("education", "教育支出"),
    ("rehabilitation", "残疾康复支出"),
    ("basic_living", "基本生活必需支出"),
)


def rigid_spending_total(spending: Mapping[str, str] | None) -> Decimal | None:
    """The 12 months' rigid spending declared on an application (元), or None when nothing was declared."""
    if not spending:
        return None
    total = Decimal("0")
    for key, _label in RIGID_SPENDING_KINDS:
        try:
            total += Decimal(str(spending.get(key) or "0"))
        except InvalidOperation:
            continue
    return total


def disposable_income_last_year(area_type: str, on_date: datetime.date) -> Decimal | None:
    """上年度当地居民人均可支配收入 in force on a date for the household's area type, or None unset."""
    from core.benefits.exceptions import BenefitsError

    key = P_DISPOSABLE_INCOME.get(area_type, P_DISPOSABLE_INCOME[AreaType.URBAN])
    try:
        return parameter_value(key, on_date)
    except BenefitsError:
        return None


def application_assessment(application: AssistanceApplication, on_date: datetime.date) -> list:
    """assess_categories for an application with its 刚性支出 inputs (the spending declared on it, last
    year's disposable income of its area type). 低保边缘, 特困 and 刚性支出 are judged on the whole household
    (all living members); for a 单人保 application (a partial member list) the 低保 row judges the covered
    members on their own income, as the basis computes it (assistance.bases)."""
    household = application.household
    listed = list(application.members.all())
    living = list(household.members.filter(death_date__isnull=True).order_by("pk"))
    spending = rigid_spending_total(application.rigid_spending)
    income = disposable_income_last_year(household.area_type, on_date) if spending is not None else None
    whole = rules.assess_categories(
        household, living, on_date, rigid_spending_12m=spending, last_year_disposable_income=income
    )
    listed_ids = {p.pk for p in listed if p.death_date is None or p.death_date > on_date}
    if not listed_ids or listed_ids == {p.pk for p in living}:
        return whole
    return [single_cover_row(household, [p for p in living if p.pk in listed_ids], on_date), *whole[1:]]


def single_cover_row(household, covered, on_date: datetime.date) -> rules.CategoryAssessment:
    """The 低保 row of a 单人保 application: the covered members as a household of their own, on their own
    income (DOMAIN.md "单人保": assessed as a one-person household on their own income)."""
    from core.benefits.models import BenefitType
    from core.benefits.selectors import standard_in_force

    facts = rules.household_income_facts([household.pk], on_date)[household.pk]
    own = facts.of_persons([p.pk for p in covered])
    per_capita = own.net / len(covered)
    standard = standard_in_force(
        BenefitType.objects.get(code="dibao"), household.area_type, "", on_date
    ).amount
    names = "、".join(p.name for p in covered)
    fits = per_capita < standard
    reason = (
        f"单人保：{names}参照单人户，本人月人均收入 {rules.display_money(per_capita)} 元"
        f"{'低于' if fits else '不低于'}低保标准 {rules.display_money(standard)} 元"
    )
    return rules.CategoryAssessment("dibao", "最低生活保障", fits, reason, tuple(p.pk for p in covered))


# --- 单人保 ------------------------------------------------------------------------------------------


def single_cover_problem(covered, *, is_edge: bool, on_date: datetime.date) -> str | None:
    """Why covering only these members (单人保) is not allowed, or None: the household must be a recognised
    低保边缘 household and each covered member meet the condition (grade 1–2 disability, grade 3
    intellectual/mental, recognised serious illness — 民发〔2020〕69号, DOMAIN.md "单人保")."""
    if not is_edge:
        return (
            "只申请部分家庭成员（单人保）须为低保边缘家庭：该家庭未认定为低保边缘家庭，"
            "按家庭月人均收入也不在低保边缘范围内，请按全体家庭成员申请"
        )
    lacking = [p.name for p in covered if not rules.MemberFacts.from_person(p).single_cover_condition]
    if lacking:
        return (
            f"{'、'.join(lacking)}不符合单人保条件（须持一、二级残疾证，或三级智力、精神残疾证，或患重病），"
            "不能单独纳入低保，请按全体家庭成员申请"
        )
    return None


# --- 专项救助 referral (转介) ---------------------------------------------------------------------------

# The departments a member of a recognised household is referred to, and the rule that qualifies them.
# Decided here (DOMAIN.md gives the departments, not the rules) and written on the page:
REFERRAL_DEPARTMENTS = (
    ("medical", "医疗救助（医保部门）", "患重病，或持残疾证"),
    ("education", "教育救助（教育部门）", "年满3周岁、不满23周岁（学前教育至本科阶段的一般年龄）"),
    ("housing", "住房救助（住建部门）", "每户一人（户主），按户转介"),
    (
        "employment",
        "就业救助（人社部门）",
        "16至59周岁、有劳动能力、无一二级残疾及三级智力精神残疾、未患重病",
    ),
)
SCHOOL_AGE_FROM, SCHOOL_AGE_UNTIL = 3, 23
WORK_AGE_FROM, WORK_AGE_UNTIL = 16, 60


def _years_before(on_date: datetime.date, years: int) -> datetime.date:
    try:
        return on_date.replace(year=on_date.year - years)
    except ValueError:  # 29 February
        return on_date.replace(year=on_date.year - years, day=28)


def referral_q(department: str, on_date: datetime.date) -> Q:
    """The persons a department's referral list holds, as a filter on Person (ages in full years on the date:
    born on or before the date `n` years back is aged ≥ n)."""
    if department == "medical":
        return Q(serious_illness=True) | Q(disability_grade__isnull=False)
    if department == "education":
        return Q(birth_date__lte=_years_before(on_date, SCHOOL_AGE_FROM)) & Q(
            birth_date__gt=_years_before(on_date, SCHOOL_AGE_UNTIL)
        )
    if department == "housing":
        return Q(household__head_id=F("pk"))
    if department == "employment":
        severe_mind = Q(disability_grade=3) & Q(
            disability_category__in=[DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL]
        )
        return (
            Q(birth_date__lte=_years_before(on_date, WORK_AGE_FROM))
            & Q(birth_date__gt=_years_before(on_date, WORK_AGE_UNTIL))
            & Q(labour_capacity="full")
            & Q(serious_illness=False)
            & ~Q(disability_grade__in=[1, 2])
            & ~severe_mind
        )
    raise ValueError(department)


def referrals_of(person, on_date: datetime.date) -> list[str]:
    """The departments a person qualifies for (the rules of referral_q, on one loaded Person)."""
    age = rules.age_on(person.birth_date, on_date)
    found = []
    if person.serious_illness or person.disability_grade is not None:
        found.append("medical")
    if SCHOOL_AGE_FROM <= age < SCHOOL_AGE_UNTIL:
        found.append("education")
    if person.household is not None and person.household.head_id == person.pk:
        found.append("housing")
    severe_mind = person.disability_grade == 3 and person.disability_category in (
        DisabilityCategory.INTELLECTUAL,
        DisabilityCategory.MENTAL,
    )
    if (
        WORK_AGE_FROM <= age < WORK_AGE_UNTIL
        and person.labour_capacity == "full"
        and not person.serious_illness
        and person.disability_grade not in (1, 2)
        and not severe_mind
    ):
        found.append("employment")
    return found
