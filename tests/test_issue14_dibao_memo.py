"""The 低保 calculator keeps an entitlement's result across the months of one recalculation (issue 14, item 1:
a 提标 re-checks three locked months of every household). Whatever it keeps, every month must come out
exactly as computed afresh: same amounts, same explanation — across a 提标, members turning 18/60/70 and a
death, over two years of a small generated city."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.benefits.calculators import get_calculator
from core.benefits.models import BenefitType, Standard
from core.benefits.months import add_months
from core.benefits.selectors import entitlements_in_force_between, row_in_force, standards_in_force_by_month
from core.benefits.standards import standard_change
from core.registry.models import Person
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2025, 1, 1)
MONTHS = [add_months(FIRST, n) for n in range(24)]


def _results(calculator, rows_by_month, facts_by_month, standards_by_month, *, memo: bool) -> dict:
    out = {}
    for month, rows in rows_by_month.items():
        facts = facts_by_month[month]
        if not memo:
            facts = {k: v for k, v in facts.items() if k not in ("memo", "parameters_key")}
        for row in rows:
            result = calculator.compute(row, facts, standards_by_month[month], month)
            out[(row["id"], month)] = (
                None
                if result is None
                else (
                    result.amount,
                    result.base_amount,
                    result.increment_amount,
                    result.covered_persons,
                    result.explanation,
                )
            )
    return out


def test_kept_results_equal_fresh_ones_month_by_month():
    call_command("generate_city", people=1500, first_district=61, seed=61, stdout=open("/dev/null", "w"))  # noqa: SIM115
    dibao = BenefitType.objects.get(code="dibao")
    chief = UserFactory(roles=["科长"], region=None)
    # A 提标 in the middle of the two years, and a covered member's death a year in.
    for standard in Standard.objects.filter(benefit_type=dibao, effective_to__isnull=True):
        standard_change(
            benefit_type=dibao,
            area_type=standard.area_type,
            tier=standard.tier,
            amount=standard.amount + Decimal(50),
            unit=standard.unit,
            effective_from=MONTHS[14],
            source="测试提标",
            actor=chief,
        )
    rows = entitlements_in_force_between(dibao, MONTHS[0], MONTHS[-1])
    calculator = get_calculator(dibao)
    some = rows[0]
    covered = calculator._bases(some)[-1].covered
    Person.objects.filter(pk=covered[0]).update(death_date=MONTHS[12] + datetime.timedelta(days=9))

    rows_by_month = {month: [r for r in rows if row_in_force(r, month)] for month in MONTHS}
    standards_by_month = standards_in_force_by_month(dibao, MONTHS)
    facts_by_month = calculator.load_facts_by_month(rows_by_month)
    kept = _results(calculator, rows_by_month, facts_by_month, standards_by_month, memo=True)
    fresh = _results(get_calculator(dibao), rows_by_month, facts_by_month, standards_by_month, memo=False)

    assert kept == fresh
    # The memo did its work (fewer entries than computations) without smearing months together: some
    # entitlement's amount or explanation changes from one month to another (提标, ages, the death).
    memo = facts_by_month[MONTHS[0]]["memo"]
    assert 0 < len(memo) < len(kept) / 2
    assert kept[(some["id"], MONTHS[12])] != kept[(some["id"], MONTHS[13])]
    changed_by_age = [
        key
        for key, value in kept.items()
        if value is not None
        and key[1] not in (MONTHS[0], MONTHS[14])
        and (previous := kept.get((key[0], add_months(key[1], -1)))) is not None
        and previous[2] != value[2]
    ]
    assert changed_by_age, "no member's 分类施保 changed with age: the test would not catch a stale result"
    assert any(
        value[4].get("change_cause") == "低保标准调整（提标）"
        for key, value in kept.items()
        if value and key[1] == MONTHS[14]
    )
