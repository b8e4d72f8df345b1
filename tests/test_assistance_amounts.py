"""社会救助 amounts exact to the rule: 低保 补差 + 分类施保 + 保底, 单人保, 特困, 残疾人两项补贴.

Every expected amount below is computed BY HAND from DOMAIN.md "社会救助" and the demo values seeded by
assistance/migrations/0001 (core/portal/demo_data.py): urban 低保 550 → 600 and rural 340 → 410 from
2021-07-01; 分类施保 (assistance/migrations/0007, dibao.classified.*) 重度残疾 30 %, 重病 30 %,
60+/未成年 10 %, 70+ 20 % of the standard (highest only, added: mode 0); 保底 20 % of the standard per
covered person; rounding ROUND_HALF_UP to 分. The arithmetic is in the comment of each row;
the code under test never produces an expected value.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assistance import rules
from core.benefits.calculators import explanation_steps
from core.benefits.exceptions import CalculationError
from core.benefits.models import BenefitType, Parameter, PaymentLine
from core.benefits.services import entitlement_create, payment_run_recalculate
from core.registry.models import IncomeRecord, Person
from tests.factories import dibao_entitlement, household_with_members, valid_id_number

D = datetime.date
MARCH_2024 = D(2024, 3, 1)
ADULT = D(1980, 5, 10)  # 43 on 2024-03-01, 41 in 2021: no 分类施保 by age


@dataclass(frozen=True)
class M:
    """A household member: birth date, disability (category, grade), serious illness, death date."""

    birth: datetime.date = ADULT
    disability: tuple[str, int] | None = None
    ill: bool = False
    died: datetime.date | None = None


@dataclass(frozen=True)
class Inc:
    """An income record: kind, monthly amount, member index (None = household-level), period."""

    kind: str
    amount: str
    who: int | None = None
    start: datetime.date = D(2020, 1, 1)
    end: datetime.date | None = None


@dataclass(frozen=True)
class Row:
    name: str
    region: str  # community11 = urban, community22 = rural
    members: tuple[M, ...]
    incomes: tuple[Inc, ...] = ()
    month: datetime.date = MARCH_2024
    covered: tuple[int, ...] | None = None  # 单人保: member indices
    # expected (base, increment, amount, covered persons) — None: nothing payable, no line
    expected: tuple[str, str, str, int] | None = field(default=None)


DIBAO_ROWS = [
    # 1. urban, 3 adults, wage 900: per capita 900/3 = 300; (600 − 300) × 3 = 900.00.
    Row(
        "urban_plain",
        "community11",
        (M(), M(), M()),
        (Inc("wage", "900"),),
        expected=("900.00", "0.00", "900.00", 3),
    ),
    # 2. rural, 2 adults, 种养殖 300: per capita 150; (410 − 150) × 2 = 520.00.
    Row(
        "rural_plain",
        "community22",
        (M(), M()),
        (Inc("agriculture", "300"),),
        expected=("520.00", "0.00", "520.00", 2),
    ),
    # 3. urban, wage 800 counted; 优待抚恤金 500 and 城乡居民基础养老金 150 NOT counted:
    #    per capita 800/2 = 400; (600 − 400) × 2 = 400.00.
    Row(
        "excluded_incomes",
        "community11",
        (M(), M()),
        (
            Inc("wage", "800", who=0),
            Inc("merit_pension", "500", who=1),
            Inc("pension_resident", "150", who=1),
        ),
        expected=("400.00", "0.00", "400.00", 2),
    ),
    # 4. urban, wage 1,100 less 个人缴纳社保费 230.50 = 869.50; per capita 434.75;
    #    (600 − 434.75) × 2 = 330.50.
    Row(
        "deducted_social_insurance",
        "community11",
        (M(), M()),
        (Inc("wage", "1100", who=0), Inc("social_insurance", "230.50", who=0)),
        expected=("330.50", "0.00", "330.50", 2),
    ),
    # 5. urban; head born 1951-06-01 (72 on 2024-03-01) with a grade-1 physical disability: meets 重度残疾
    #    30 %, 70+ 20 % and 60+ 10 % → only the highest, 0.30 × 600 = 180.00 (not 180 + 120 + 60).
    #    Wage 700: per capita 350; (600 − 350) × 2 = 500.00; total 500 + 180 = 680.00.
    Row(
        "overlap_72_severely_disabled",
        "community11",
        (M(D(1951, 6, 1), disability=("physical", 1)), M()),
        (Inc("wage", "700"),),
        expected=("500.00", "180.00", "680.00", 2),
    ),
    # 6. urban; head seriously ill (0.30 × 600 = 180), child born 2015-01-01 (9, minor: 0.10 × 600 = 60);
    #    wage 1,200: per capita 400; (600 − 400) × 3 = 600.00; increments 240.00; total 840.00.
    Row(
        "ill_and_minor",
        "community11",
        (M(ill=True), M(), M(D(2015, 1, 1))),
        (Inc("wage", "1200"),),
        expected=("600.00", "240.00", "840.00", 3),
    ),
    # 7. rural; born 1950-01-01 (74: 70+ 0.20 × 410 = 82) and 1962-05-01 (61: 60+ 0.10 × 410 = 41);
    #    赡养费 180 counted, 基础养老金 200 not: per capita 90; (410 − 90) × 2 = 640.00;
    #    increments 82 + 41 = 123.00; total 763.00.
    Row(
        "rural_elderly",
        "community22",
        (M(D(1950, 1, 1)), M(D(1962, 5, 1))),
        (Inc("support", "180"), Inc("pension_resident", "200", who=0)),
        expected=("640.00", "123.00", "763.00", 2),
    ),
    # 8. urban floor: wage 1,000, per capita 500, gap 100 < floor 0.20 × 600 = 120 → 120 × 2 = 240.00.
    Row(
        "floor_urban",
        "community11",
        (M(), M()),
        (Inc("wage", "1000"),),
        expected=("240.00", "0.00", "240.00", 2),
    ),
    # 9. rural floor: wage 400 less 个人所得税 20 = 380, gap 410 − 380 = 30 < 0.20 × 410 = 82 → 82.00.
    Row(
        "floor_rural_after_tax",
        "community22",
        (M(),),
        (Inc("wage", "400"), Inc("income_tax", "20")),
        expected=("82.00", "0.00", "82.00", 1),
    ),
    # 10. urban, wage 1,300: per capita 650 ≥ 600 → not eligible, no line (and no floor, no increment).
    Row("above_standard", "community11", (M(ill=True), M()), (Inc("wage", "1300"),), expected=None),
    # 11. half-up: in 2023 the 60+/minor ratio is 0.1125 (fixture). Rural, born 1960-01-01 (63),
    #     no income: base 410.00; increment 0.1125 × 410 = 46.125 → 46.13 (ROUND_HALF_UP; half-even would
    #     give 46.12); total 456.13.
    Row(
        "half_up_rounding",
        "community22",
        (M(D(1960, 1, 1)),),
        month=D(2023, 1, 1),
        expected=("410.00", "46.13", "456.13", 1),
    ),
    # 12. no drift from a repeating per capita: wage 1,000 / 3 = 333.333…; exact (600 − 333.333…) × 3 =
    #     1,800 − 1,000 = 800.00 (rounding the per capita first would give 266.67 × 3 = 800.01).
    Row(
        "repeating_per_capita",
        "community11",
        (M(), M(), M()),
        (Inc("wage", "1000"),),
        expected=("800.00", "0.00", "800.00", 3),
    ),
    # 13. June 2021 under the old urban standard 550: wage 500, per capita 250; (550 − 250) × 2 = 600.00.
    Row(
        "standard_june_2021",
        "community11",
        (M(), M()),
        (Inc("wage", "500"),),
        month=D(2021, 6, 1),
        expected=("600.00", "0.00", "600.00", 2),
    ),
    # 14. the same household in July 2021 under the new standard 600: (600 − 250) × 2 = 700.00.
    Row(
        "standard_july_2021",
        "community11",
        (M(), M()),
        (Inc("wage", "500"),),
        month=D(2021, 7, 1),
        expected=("700.00", "0.00", "700.00", 2),
    ),
    # 15. 单人保 (urban): household per capita (1,500 + 300) / 3 = 600 — not 低保, a 低保边缘 household.
    #     The grade-2 intellectually disabled spouse is covered alone "参照单人户": own income 0, so
    #     600 − 0 = 600.00; 重度残疾 0.30 × 600 = 180.00; total 780.00, 1 person.
    Row(
        "single_cover_disabled",
        "community11",
        (M(), M(disability=("intellectual", 2)), M(D(2003, 6, 1))),
        (Inc("wage", "1500", who=0), Inc("wage", "300", who=2)),
        covered=(1,),
        expected=("600.00", "180.00", "780.00", 1),
    ),
    # 16. 单人保 (rural): household per capita (900 + 100) / 2 = 500 ≥ 410. The seriously ill member's own
    #     income: 职工养老金 100 counted, 优待抚恤金 200 not → 410 − 100 = 310.00; 重病 0.30 × 410 = 123.00;
    #     total 433.00.
    Row(
        "single_cover_ill_own_income",
        "community22",
        (M(), M(ill=True)),
        (
            Inc("wage", "900", who=0),
            Inc("pension_employee", "100", who=1),
            Inc("merit_pension", "200", who=1),
        ),
        covered=(1,),
        expected=("310.00", "123.00", "433.00", 1),
    ),
    # 17. deaths: of 4 members one died 2024-02-10 (not counted in March) and one dies 2024-03-15 (alive on
    #     2024-03-01, counted this month): 3 members, wage 900, per capita 300; (600 − 300) × 3 = 900.00.
    Row(
        "deaths",
        "community11",
        (M(), M(), M(died=D(2024, 2, 10)), M(died=D(2024, 3, 15))),
        (Inc("wage", "900"),),
        expected=("900.00", "0.00", "900.00", 3),
    ),
    # 18. income periods on 2024-03-01: wage 500 ended 2024-02-29 (no), business 200 from 2024-03-01
    #     (yes), wage 300 from 2024-03-02 (no): per capita 200; 600 − 200 = 400.00.
    Row(
        "income_periods",
        "community11",
        (M(),),
        (
            Inc("wage", "500", end=D(2024, 2, 29)),
            Inc("business", "200", start=D(2024, 3, 1)),
            Inc("wage", "300", start=D(2024, 3, 2)),
        ),
        expected=("400.00", "0.00", "400.00", 1),
    ),
    # 19. deductions above income: wage 100 − 社保 150 → net max(0, −50) = 0; 600 − 0 = 600.00.
    Row(
        "deductions_exceed_income",
        "community11",
        (M(),),
        (Inc("wage", "100"), Inc("social_insurance", "150")),
        expected=("600.00", "0.00", "600.00", 1),
    ),
    # 20. birthdays on the 1st: born 1964-03-01 is 60 on 2024-03-01 (+0.10 × 600 = 60); born 2006-03-01 is
    #     18 that day, no longer a minor (nothing). No income: 600 × 2 = 1,200.00; total 1,260.00.
    Row(
        "birthday_boundaries",
        "community11",
        (M(D(1964, 3, 1)), M(D(2006, 3, 1))),
        expected=("1200.00", "60.00", "1260.00", 2),
    ),
    # 21. rural 重度残疾 grade 2 mental (0.30 × 410 = 123.00) beside a grade-3 physical (no increment):
    #     wage 600, per capita 300; (410 − 300) × 2 = 220.00; total 343.00.
    Row(
        "rural_severe_vs_grade3",
        "community22",
        (M(disability=("mental", 2)), M(disability=("physical", 3))),
        (Inc("wage", "600"),),
        expected=("220.00", "123.00", "343.00", 2),
    ),
    # 22. issue 13 item 4: a single seriously ill person without income got twice the standard (重病 was
    #     100 %). Urban, no income: 600 − 0 = 600.00; 重病 0.30 × 600 = 180.00; total 780.00.
    Row(
        "single_seriously_ill_no_income",
        "community11",
        (M(ill=True),),
        expected=("600.00", "180.00", "780.00", 1),
    ),
    # 23. all four rules at once — seriously ill, grade-1 disability, 75 years old (born 1948-06-01):
    #     30 %, 30 %, 20 %, 10 % → the highest once, 0.30 × 410 = 123.00 (the sum would be 369.00).
    #     Rural, no income: 410.00; total 533.00.
    Row(
        "every_rule_highest_once",
        "community22",
        (M(D(1948, 6, 1), disability=("physical", 1), ill=True),),
        expected=("410.00", "123.00", "533.00", 1),
    ),
]


@pytest.fixture
def parameters_history(db):
    """The bureau's parameters also in force before the demo date (so June 2021 can be computed), and a
    local adjustment of the 60+/minor ratio to 0.1125 for 2023 only (back to 0.10 from 2024-01-01)."""
    for p in Parameter.objects.filter(key__in=rules.DIBAO_AMOUNT_PARAMETERS, effective_from=D(2021, 7, 1)):
        Parameter.objects.create(
            key=p.key, name=p.name, value=p.value, effective_from=D(2019, 1, 1), effective_to=D(2021, 6, 30)
        )
    Parameter.objects.filter(key=rules.P_AGE60_OR_MINOR, effective_from=D(2021, 7, 1)).update(
        effective_to=D(2022, 12, 31)
    )
    Parameter.objects.create(
        key=rules.P_AGE60_OR_MINOR,
        name="低保分类施保：60岁以上或未成年",
        value=Decimal("0.1125"),
        effective_from=D(2023, 1, 1),
        effective_to=D(2023, 12, 31),
    )
    Parameter.objects.create(
        key=rules.P_AGE60_OR_MINOR,
        name="低保分类施保：60岁以上或未成年",
        value=Decimal("0.10"),
        effective_from=D(2024, 1, 1),
    )


def build(regions, region: str, members: tuple[M, ...], incomes: tuple[Inc, ...] = ()):
    """A household of the given members (ID numbers match the birth dates) with its income records."""
    household = household_with_members(regions[region], size=len(members))
    people = list(Person.objects.filter(household=household).order_by("id"))
    for person, spec in zip(people, members, strict=True):
        category, grade = spec.disability or ("", None)
        Person.objects.filter(pk=person.pk).update(
            birth_date=spec.birth,
            id_number=valid_id_number(spec.birth),
            disability_category=category,
            disability_grade=grade,
            serious_illness=spec.ill,
            death_date=spec.died,
        )
    for inc in incomes:
        IncomeRecord.objects.create(
            household=household,
            person=people[inc.who] if inc.who is not None else None,
            kind=inc.kind,
            monthly_amount=Decimal(inc.amount),
            period_start=inc.start,
            period_end=inc.end,
        )
    return household, people


def _dibao_entitlement(household, people, month, covered=None):
    return dibao_entitlement(
        household, month, covered=[people[i].pk for i in covered] if covered is not None else None
    )


@pytest.mark.django_db
@pytest.mark.parametrize("row", DIBAO_ROWS, ids=lambda r: r.name)
def test_dibao_amount_table(regions, parameters_history, row: Row):
    # Given a household, its incomes and its 低保 entitlement
    household, people = build(regions, row.region, row.members, row.incomes)
    entitlement = _dibao_entitlement(household, people, row.month, row.covered)

    # When the month is recalculated
    run = payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=row.month)

    # Then the line carries exactly the hand-computed amounts
    line = PaymentLine.objects.filter(run=run, entitlement=entitlement).first()
    if row.expected is None:
        assert line is None
        return
    base, increment, amount, covered = row.expected
    assert (line.base_amount, line.increment_amount, line.amount) == (
        Decimal(base),
        Decimal(increment),
        Decimal(amount),
    )
    assert line.covered_persons == covered
    assert explanation_steps(line.explanation)[-1] == ["合计", f"{base} + {increment} = {amount} 元"]


@pytest.mark.django_db
def test_explanation_reads_line_by_line(regions, parameters_history):
    household, people = build(
        regions, "community11", (M(D(1951, 6, 1), disability=("physical", 1)), M()), (Inc("wage", "700"),)
    )
    _dibao_entitlement(household, people, MARCH_2024)
    run = payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=MARCH_2024)
    explanation = PaymentLine.objects.get(run=run).explanation
    labels = [label for label, _ in explanation_steps(explanation)]
    assert labels[:3] == ["低保标准", "核定依据", "计入收入"]
    assert "月人均收入" in labels and "补差" in labels and "保底" in labels and labels[-1] == "合计"
    steps = dict(explanation_steps(explanation))
    assert steps["低保标准"] == "600.00 元/月（城镇，2021年7月1日起执行）"
    assert steps["核定依据"].startswith("审批确认核定，2024年3月起执行；此后金额仅随低保标准调整")
    assert steps["补差"] == "(600.00 − 350.00) × 2 = 500.00 元"
    increment_step = steps[f"分类施保：{people[0].name}（72岁）"]
    assert increment_step.startswith("重度残疾（一、二级）：600.00 × 30% = 180.00 元")
    assert "取最高一项" in increment_step and "70周岁以上 20%" in increment_step
    assert explanation["per_capita_income"] == "350.00"
    assert explanation["increments"][0]["rule"] == "dibao.classified.severe_disability"
    assert explanation["classified_mode"] == "addition"
    # The line stores the figures, not the sentences: they are rendered when the line is shown
    assert "steps" not in explanation and explanation["steps_from"] == "dibao"


@pytest.mark.django_db
def test_caseworker_reads_the_steps_on_the_line_page(client, make_user, regions, parameters_history):
    household, people = build(regions, "community11", (M(), M(), M()), (Inc("wage", "1000"),))
    _dibao_entitlement(household, people, MARCH_2024)
    run = payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=MARCH_2024)
    client.force_login(make_user("科长", region="district"))
    page = client.get(reverse("benefits:line_detail", args=[PaymentLine.objects.get(run=run).pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "月人均收入：(1000.00 − 0.00) ÷ 3 = 333.33 元（显示保留两位小数，计算使用精确值）" in text
    assert "补差：(600.00 − 333.33) × 3，即 600.00 × 3 − 1000.00 = 800.00 元" in text
    assert "合计：800.00 + 0.00 = 800.00 元" in text
    # Figures kept only to render the steps are not listed again as raw keys
    assert "gap_each" not in text and "steps_from" not in text


def test_stored_steps_win_and_unknown_renderers_show_nothing():
    stored = {"steps": [["待遇标准", "600.00"]], "steps_from": "dibao"}
    assert explanation_steps(stored) == [["待遇标准", "600.00"]]  # lines written before the renderer
    assert explanation_steps({"steps_from": "no_such_rule", "total": "1.00"}) == []
    assert explanation_steps(None) == []


# --- 特困 and 残疾人两项补贴 (fixed standards) -------------------------------------------------------------

SIX_OK = {"eat": True, "dress": True, "bed": True, "toilet": True, "walk": True, "bathe": True}

FIXED_ROWS = [
    # benefit, region, params, expected amount — the seeded demo standards in force on 2024-03-01
    ("tekun_basic", "community11", {"tier": "集中供养"}, "1100.00"),  # urban 集中 1,100
    ("tekun_basic", "community11", {"tier": "分散供养"}, "780.00"),  # urban 分散 1.3 × 600 = 780
    ("tekun_basic", "community22", {"tier": "集中供养"}, "680.00"),  # rural 集中 680
    ("tekun_basic", "community22", {"tier": "分散供养"}, "533.00"),  # rural 分散 1.3 × 410 = 533
    ("tekun_care", "community11", {"tier": "全自理"}, "188.00"),  # 1,880 × 1/10 = 188.00
    ("tekun_care", "community22", {"tier": "全护理"}, "626.67"),  # 1,880 / 3 = 626.666… → 626.67
    # two of six impossible → 半护理: 1,880 / 6 = 313.333… → 313.33
    ("tekun_care", "community11", {"self_care_items": {**SIX_OK, "bathe": False, "walk": False}}, "313.33"),
    ("disability_living", "community11", {}, "100.00"),
    ("disability_care", "community11", {"tier": "一级"}, "100.00"),
    ("disability_care", "community22", {"tier": "二级"}, "80.00"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "region", "params", "expected"), FIXED_ROWS)
def test_fixed_standard_benefits(regions, code, region, params, expected):
    household, people = build(regions, region, (M(D(1950, 1, 1)),))
    benefit = BenefitType.objects.get(code=code)
    entitlement = entitlement_create(
        benefit_type=benefit,
        person=people[0],
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=MARCH_2024,
        params=params,
    )
    run = payment_run_recalculate(benefit_type=benefit, month=MARCH_2024)
    line = PaymentLine.objects.get(run=run, entitlement=entitlement)
    assert line.amount == line.base_amount == Decimal(expected)


@pytest.mark.django_db
def test_tekun_invalid_tier_is_a_clear_error(regions):
    from core.benefits.exceptions import CalculationError

    household, people = build(regions, "community11", (M(D(1950, 1, 1)),))
    benefit = BenefitType.objects.get(code="tekun_basic")
    entitlement_create(
        benefit_type=benefit,
        person=people[0],
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=MARCH_2024,
        params={"tier": "半护理"},
    )
    with pytest.raises(CalculationError, match="集中供养、分散供养"):
        payment_run_recalculate(benefit_type=benefit, month=MARCH_2024)


# --- self-care tier ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("impossible", "tier"),
    [(0, "全自理"), (1, "半护理"), (3, "半护理"), (4, "全护理"), (6, "全护理")],
)
def test_self_care_tier(impossible, tier):
    items = {key: i >= impossible for i, key in enumerate(SIX_OK)}
    assert rules.self_care_tier(items) == tier


def test_self_care_tier_needs_all_six_items():
    with pytest.raises(ValueError, match="自主洗澡"):
        rules.self_care_tier({k: True for k in ("eat", "dress", "bed", "toilet", "walk")})


# --- member facts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (D(1964, 3, 1), D(2024, 3, 1), 60),
        (D(1964, 3, 2), D(2024, 3, 1), 59),
        (D(2000, 2, 29), D(2021, 2, 28), 20),
    ],
)
def test_age_in_full_years(birth, on, age):
    assert rules.age_on(birth, on) == age


@pytest.mark.parametrize(
    ("birth", "disability", "unable"),
    [
        (D(1964, 3, 1), None, True),  # 60 on the day
        (D(1964, 3, 2), None, False),  # 59
        (D(2008, 3, 2), None, True),  # 15: under 16
        (D(2008, 3, 1), None, False),  # 16 on the day
        (ADULT, ("intellectual", 3), True),
        (ADULT, ("mental", 3), True),
        (ADULT, ("physical", 2), True),
        (ADULT, ("physical", 3), False),
        (ADULT, ("visual", 1), True),
        (ADULT, ("visual", 2), False),
        (ADULT, ("hearing", 1), False),
    ],
)
def test_unable_to_work_for_tekun(birth, disability, unable):
    category, grade = disability or ("", None)
    member = rules.MemberFacts(1, 1, "测试", birth, category, grade)
    assert bool(member.unable_to_work(MARCH_2024, minor_age=16)) is unable


# --- assess_categories ----------------------------------------------------------------------------


def _assess(regions, region, members, incomes, **kwargs):
    household, _ = build(regions, region, members, incomes)
    household.refresh_from_db()
    result = rules.assess_categories(
        household, Person.objects.filter(household=household), MARCH_2024, **kwargs
    )
    return {a.code: a for a in result}


@pytest.mark.django_db
def test_assess_dibao(regions):
    # per capita 1,200 / 3 = 400 < 600
    result = _assess(regions, "community11", (M(), M(), M()), (Inc("wage", "1200"),))
    assert result["dibao"].fits is True
    assert "家庭月人均收入 400.00 元低于低保标准 600.00 元" in result["dibao"].reason
    assert result["dibao_edge"].fits is False
    assert result["tekun"].fits is False
    assert result["rigid"].fits is False


@pytest.mark.django_db
def test_assess_edge_with_single_cover_candidate(regions):
    # per capita 1,400 / 2 = 700: 600 ≤ 700 ≤ 1.5 × 600 = 900 → 低保边缘; grade-3 mental member → 单人保
    result = _assess(regions, "community11", (M(), M(disability=("mental", 3))), (Inc("wage", "1400"),))
    assert result["dibao"].fits is False
    edge = result["dibao_edge"]
    assert edge.fits is True
    assert "600.00 × 1.5 = 900.00" in edge.reason and "单人保" in edge.reason
    assert len(edge.person_ids) == 1


@pytest.mark.django_db
def test_assess_edge_upper_bound(regions):
    # per capita 1,802 / 2 = 901 > 900 → neither 低保 nor 边缘
    result = _assess(regions, "community11", (M(), M()), (Inc("wage", "1802"),))
    assert result["dibao_edge"].fits is False
    assert result["rigid"].fits is None  # no rigid-spending inputs


@pytest.mark.django_db
def test_assess_tekun(regions):
    # one person aged 74, 基础养老金 150 not counted: per capita 0 < 600, unable to work (≥ 60)
    result = _assess(regions, "community11", (M(D(1950, 1, 1)),), (Inc("pension_resident", "150"),))
    tekun = result["tekun"]
    assert tekun.fits is True
    assert "年满60周岁（74岁）" in tekun.reason
    assert len(tekun.person_ids) == 1
    assert result["dibao"].fits is True  # one application, every category


@pytest.mark.django_db
def test_assess_tekun_needs_no_income_source(regions):
    result = _assess(regions, "community11", (M(D(1950, 1, 1)), M()), (Inc("wage", "1300"),))
    assert result["tekun"].fits is False
    assert "不属于无生活来源" in result["tekun"].reason


@pytest.mark.django_db
@pytest.mark.parametrize(("spending", "fits"), [("15000", True), ("12000", False)])
def test_assess_rigid_spending(regions, spending, fits):
    # per capita 2,000 / 2 = 1,000 > 900 (not 边缘); 12 × 1,000 = 12,000 < 40,000 last-year disposable
    # income; household income 12 × 2,000 = 24,000 × 50 % = 12,000: 15,000 > 12,000 fits, 12,000 does not.
    result = _assess(
        regions,
        "community11",
        (M(), M()),
        (Inc("wage", "2000"),),
        rigid_spending_12m=Decimal(spending),
        last_year_disposable_income=Decimal("40000"),
    )
    assert result["rigid"].fits is fits
    assert "12000.00" in result["rigid"].reason


# --- set-based: the query count does not grow with the number of households ---------------------------


@pytest.mark.django_db
def test_recalculation_queries_do_not_grow(regions, parameters_history):
    dibao = BenefitType.objects.get(code="dibao")

    def add(n):
        for i in range(n):
            members = (M(D(1950, 1, 1), ill=i % 2 == 0), M(D(2015, 1, 1)), M())
            household, people = build(
                regions, "community11" if i % 3 else "community22", members, (Inc("wage", "300"),)
            )
            _dibao_entitlement(household, people, MARCH_2024, covered=(0,) if i % 5 == 4 else None)

    add(5)
    payment_run_recalculate(benefit_type=dibao, month=MARCH_2024)  # creates the run
    with CaptureQueriesContext(connection) as five:
        run = payment_run_recalculate(benefit_type=dibao, month=MARCH_2024)
    assert run.line_count == 5
    add(35)
    with CaptureQueriesContext(connection) as forty:
        run = payment_run_recalculate(benefit_type=dibao, month=MARCH_2024)
    assert run.line_count == 40
    assert len(forty.captured_queries) == len(five.captured_queries)


@pytest.mark.django_db
def test_explanation_of_a_repeating_per_capita_adds_up_by_hand(regions, parameters_history):
    # wage 1,000 / 3 = 333.333…: the step shows the rounded per capita and the exact form 1,800 − 1,000.
    household, people = build(regions, "community11", (M(), M(), M()), (Inc("wage", "1000"),))
    _dibao_entitlement(household, people, MARCH_2024)
    run = payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=MARCH_2024)
    steps = dict(explanation_steps(PaymentLine.objects.get(run=run).explanation))
    assert steps["月人均收入"] == "(1000.00 − 0.00) ÷ 3 = 333.33 元（显示保留两位小数，计算使用精确值）"
    assert steps["补差"] == "(600.00 − 333.33) × 3，即 600.00 × 3 − 1000.00 = 800.00 元"


# --- 分类施保 as a floor (the variant "not below 75 % of the standard", dibao.classified.mode = 1) ------


def _floor_mode_from(month):
    Parameter.objects.create(
        key=rules.P_CLASSIFIED_MODE, name="分类施保方式", value=Decimal("1"), effective_from=month
    )


@pytest.mark.django_db
def test_classified_floor_mode_tops_up_to_the_share(regions, parameters_history):
    # Given the bureau switches to the floor variant from March 2024 (floor share 0.75 seeded)
    _floor_mode_from(MARCH_2024)
    # A: urban, seriously ill head + an adult, wage 700: per capita 350; 补差 (600 − 350) × 2 = 500.00,
    #    250 each; the ill member not below 0.75 × 600 = 450 → top-up 200.00; total 700.00.
    a, a_people = build(regions, "community11", (M(ill=True), M()), (Inc("wage", "700"),))
    # B: urban, one grade-2 disabled person, no income: 补差 600 ≥ 450 → no top-up; total 600.00.
    b, b_people = build(regions, "community11", (M(disability=("physical", 2)),))
    # C: the same household as A in February (mode 0, addition): 500 + 0.30 × 600 = 680.00.
    ent_a = _dibao_entitlement(a, a_people, D(2024, 2, 1))
    ent_b = _dibao_entitlement(b, b_people, MARCH_2024)
    dibao = BenefitType.objects.get(code="dibao")

    run = payment_run_recalculate(benefit_type=dibao, month=MARCH_2024)

    line_a = PaymentLine.objects.get(run=run, entitlement=ent_a)
    assert (line_a.base_amount, line_a.increment_amount, line_a.amount) == (
        Decimal("500.00"),
        Decimal("200.00"),
        Decimal("700.00"),
    )
    steps = dict(explanation_steps(line_a.explanation))
    assert steps[f"分类施保：{a_people[0].name}（43岁）"] == (
        "重病：不低于标准的 75%，每人补差 250.00 元，补足 200.00 元"
    )
    assert line_a.explanation["classified_mode"] == "floor"
    line_b = PaymentLine.objects.get(run=run, entitlement=ent_b)
    assert (line_b.base_amount, line_b.increment_amount, line_b.amount) == (
        Decimal("600.00"),
        Decimal("0.00"),
        Decimal("600.00"),
    )
    february = payment_run_recalculate(benefit_type=dibao, month=D(2024, 2, 1))
    assert PaymentLine.objects.get(run=february, entitlement=ent_a).amount == Decimal("680.00")


@pytest.mark.django_db
def test_classified_parameters_are_read_on_the_month(regions, parameters_history):
    # A 重病 share raised to 0.35 from April 2024: March pays 0.30 × 600 = 180, April 0.35 × 600 = 210.
    Parameter.objects.create(
        key=rules.P_SERIOUS_ILLNESS, name="重病", value=Decimal("0.35"), effective_from=D(2024, 4, 1)
    )
    household, people = build(regions, "community11", (M(ill=True),))
    entitlement = _dibao_entitlement(household, people, MARCH_2024)
    dibao = BenefitType.objects.get(code="dibao")
    march = payment_run_recalculate(benefit_type=dibao, month=MARCH_2024)
    april = payment_run_recalculate(benefit_type=dibao, month=D(2024, 4, 1))
    assert PaymentLine.objects.get(run=march, entitlement=entitlement).increment_amount == Decimal("180.00")
    assert PaymentLine.objects.get(run=april, entitlement=entitlement).increment_amount == Decimal("210.00")


@pytest.mark.django_db
def test_an_invalid_classified_mode_is_a_clear_error(regions, parameters_history):
    _floor_mode_from(MARCH_2024)
    Parameter.objects.filter(key=rules.P_CLASSIFIED_MODE, effective_from=MARCH_2024).update(value=2)
    household, people = build(regions, "community11", (M(ill=True),))
    _dibao_entitlement(household, people, MARCH_2024)
    with pytest.raises(CalculationError, match="dibao.classified.mode"):
        payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=MARCH_2024)
