"""Locked months re-checked only for what changed since they were calculated (issue 14, item 1).

A small generated city (低保 with dated bases, 特困, the 残疾人 subsidies) gets six locked months calculated
30 days ago (the test clock); then one change happens now and December is recalculated twice: with the
full re-check of every entitlement of every locked month (settings.BENEFITS_FULL_RECHECK, the old way) and
with the incremental one. Both must write exactly the same lines; each change must produce a 补发/扣回 (so
a re-check that missed it would fail), and nothing changed must recompute no locked month at all."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from assistance import bases
from core.benefits import selectors, services
from core.benefits.calculators import Calculator, get_calculator
from core.benefits.models import (
    BenefitType,
    Entitlement,
    Parameter,
    PaymentLine,
    PaymentRun,
    PaymentRunSummary,
    Standard,
)
from core.benefits.months import add_months
from core.benefits.standards import standard_change
from core.benefits.summaries import summarize_run
from core.registry.models import Household, Person, Region
from core.registry.services import person_record_death
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2026, 12, 1)
LOCKED = [add_months(MONTH, -n) for n in range(6, 0, -1)]  # 2026-06 … 2026-11
LT = PaymentLine.LineType
TYPES = ["dibao", "tekun_basic", "tekun_care", "disability_living", "disability_care"]


@pytest.fixture
def city(clock):
    """The city and six locked months of every type, all 30 days ago."""
    # The types, standards and parameters the migrations entered (at the real time), and the city, a day
    # before the runs: further back than the margin taken off each run's start (600 s).
    clock.shift(-31)
    for model in (BenefitType, Standard, Parameter):
        model.objects.update()  # a bulk update sets updated_at (TouchingQuerySet)
    call_command("generate_city", people=600, first_district=60, seed=60, stdout=open("/dev/null", "w"))  # noqa: SIM115
    clock.shift(-30)
    for month in LOCKED:
        for code in TYPES:
            run = services.payment_run_recalculate(
                benefit_type=BenefitType.objects.get(code=code), month=month
            )
            PaymentRun.objects.filter(pk=run.pk).update(
                status=PaymentRun.Status.LOCKED, locked_at=run.calculated_at
            )
    clock.shift(0)
    return clock


def lines(run) -> set[tuple]:
    return set(
        PaymentLine.objects.filter(run=run).values_list(
            "entitlement_id",
            "line_type",
            "for_month",
            "amount",
            "base_amount",
            "increment_amount",
            "other_amount",
            "covered_persons",
            "change",
            "region_code",
        )
    )


def both(code: str, monkeypatch) -> tuple[set, set, int]:
    """December of `code` recalculated in full, then incrementally: (full lines, incremental lines, the
    rows the incremental run computed for locked months)."""
    benefit_type = BenefitType.objects.get(code=code)
    with override_settings(BENEFITS_FULL_RECHECK=True):
        full = lines(services.payment_run_recalculate(benefit_type=benefit_type, month=MONTH))
    computed: list[datetime.date] = []
    cls = type(get_calculator(benefit_type))
    original = cls.compute

    def counting(self, row, facts, standards, month):
        computed.append(month)
        return original(self, row, facts, standards, month)

    monkeypatch.setattr(cls, "compute", counting)
    incremental = lines(services.payment_run_recalculate(benefit_type=benefit_type, month=MONTH))
    monkeypatch.setattr(cls, "compute", original)
    return full, incremental, sum(1 for m in computed if m != MONTH)


def adjustments(found: set) -> set:
    return {line for line in found if line[1] != LT.REGULAR}


def line_region(line: PaymentLine) -> str:
    """The district holding the line: whose 科长 sees it."""
    return line.region_code[:6].ljust(12, "0")


def raise_rural_standard() -> BenefitType:
    """A 提标 of 低保's rural standard (+50) three months back, entered now by a 科长; returns 低保."""
    dibao = BenefitType.objects.get(code="dibao")
    current = Standard.objects.filter(benefit_type=dibao, area_type="rural", effective_to__isnull=True).get()
    standard_change(
        benefit_type=dibao,
        area_type="rural",
        tier="",
        amount=current.amount + 50,
        unit=current.unit,
        effective_from=add_months(MONTH, -3),
        source="测试提标",
        actor=UserFactory(roles=["科长"], region=None),
    )
    return dibao


def dibao_household(**filters) -> Entitlement:
    return (
        Entitlement.objects.filter(benefit_type__code="dibao", end_month__isnull=True, **filters)
        .order_by("pk")
        .first()
    )


@pytest.mark.parametrize("code", TYPES)
def test_nothing_changed_recomputes_no_locked_month(city, monkeypatch, code):
    full, incremental, locked_rows = both(code, monkeypatch)
    assert full == incremental
    assert adjustments(full) == set()
    assert locked_rows == 0


def test_standard_raised_three_months_back(city, monkeypatch):
    # The generated district 220160 is rural (its villages): the rural standard is raised.
    dibao = raise_rural_standard()
    full, incremental, locked_rows = both("dibao", monkeypatch)
    assert full == incremental
    back_pay = adjustments(full)
    assert back_pay and {line[2] for line in back_pay} == set(LOCKED[-3:])
    assert {line[1] for line in back_pay} == {LT.BACK_PAY}
    rural = Entitlement.objects.filter(benefit_type=dibao, area_type="rural").count()
    assert 0 < locked_rows <= 3 * rural  # the rural households of the three months, not of six
    # The totals stamped on the run (summed as the lines were written) are its stored lines' totals
    run = PaymentRun.objects.get(benefit_type=dibao, month=MONTH, kind=PaymentRun.Kind.MONTHLY)
    stored = run.lines.aggregate(
        lines=Count("pk", filter=~Q(amount=0)),
        total=Sum("amount"),
        adjustment_total=Sum("amount", filter=~Q(line_type=LT.REGULAR)),
    )
    assert stored["adjustment_total"] > 0
    assert (run.line_count, run.total_amount, run.adjustment_total) == (
        stored["lines"],
        stored["total"],
        stored["adjustment_total"],
    )
    # The other types' months are not touched by 低保's standard
    assert both("disability_living", monkeypatch)[2] == 0


def test_back_pay_explanations_stored_by_difference_restore_to_the_full_ones(city, monkeypatch, client):
    """A 补发 line keeps only what its recomputed month's explanation has different from the regular line of
    the same run; the pages put it back (selectors.restore_recomputed). Restored, every adjustment line's
    explanation equals the one written in full — for a 提标 (regular line beside it) and a death (a 扣回
    with no regular line: stored in full)."""
    dibao = raise_rural_standard()
    dead = dibao_household(area_type="rural")
    covered = bases.bases_of({"id": dead.pk, "params": dead.params})[-1].covered
    for person in Person.objects.filter(pk__in=covered):
        person_record_death(person=person, death_date=LOCKED[1] + datetime.timedelta(days=3), actor=None)

    def adjustment_explanations(run, *, restore: bool) -> dict:
        found = list(run.lines.exclude(line_type=LT.REGULAR))
        if restore:
            selectors.restore_recomputed(found)
        return {(line.entitlement_id, line.line_type, line.for_month): line.explanation for line in found}

    run = services.payment_run_recalculate(benefit_type=dibao, month=MONTH)
    stored = adjustment_explanations(run, restore=False)
    restored = adjustment_explanations(run, restore=True)
    by_difference = [key for key, e in stored.items() if e.get(selectors.RECOMPUTED_FROM_REGULAR)]
    in_full = [key for key, e in stored.items() if not e.get(selectors.RECOMPUTED_FROM_REGULAR)]
    assert by_difference and in_full
    assert {key[0] for key in in_full} == {dead.pk}

    # The line's page shows the recomputed month in full: its change cause (the 提标) and its standard.
    key = next(k for k in by_difference if restored[k]["recomputed"].get("change_cause"))
    line = run.lines.get(entitlement_id=key[0], line_type=key[1], for_month=key[2])
    client.force_login(UserFactory(roles=["科长"], region=Region.objects.get(code=line_region(line))))
    response = client.get(reverse("benefits:line_detail", args=[line.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "重新计算过程" in page and "低保标准调整（提标）" in page
    assert restored[key]["recomputed"]["standard_source"] in page
    # So does the fragment the run's page loads when the row is opened, in a fixed number of queries.
    with CaptureQueriesContext(connection) as fragment_queries:
        fragment = client.get(reverse("benefits:line_explanation", args=[line.pk]))
    assert fragment.status_code == 200
    fragment_text = fragment.content.decode()
    assert "重新计算过程" in fragment_text and "低保标准调整（提标）" in fragment_text
    assert restored[key]["recomputed"]["standard_source"] in fragment_text
    assert len([q for q in fragment_queries.captured_queries if "benefits_paymentline" in q["sql"]]) == 2

    monkeypatch.setattr(
        services, "_recomputed_by_difference", lambda explanation, reference: {"recomputed": explanation}
    )
    full = adjustment_explanations(
        services.payment_run_recalculate(benefit_type=dibao, month=MONTH), restore=False
    )
    assert restored.keys() == full.keys()
    for key, explanation in full.items():
        assert restored[key] == explanation, key
    # What it saves: the stored differences are a fraction of the full explanations (a member's age that
    # changed between the months keeps that member's increments in the difference).
    size = lambda explanations: sum(len(json.dumps(e, ensure_ascii=False)) for e in explanations)  # noqa: E731
    assert size(stored[k] for k in by_difference) < 0.5 * size(full[k] for k in by_difference)


@pytest.mark.parametrize("code", TYPES)
def test_run_summary_summed_while_writing_equals_the_lines_aggregate(city, code):
    """The one-transaction run sums its summary per community and 城乡 as it writes (summaries.SummarySums):
    the same rows summarize_run aggregates from the stored lines — with 补发 (a 提标), 扣回 and 停发 (a
    death) among them."""
    raise_rural_standard()
    for entitlement in Entitlement.objects.filter(benefit_type__code=code, end_month__isnull=True).order_by(
        "pk"
    )[:2]:
        person = entitlement.person or entitlement.household.members.order_by("pk").first()
        person_record_death(person=person, death_date=LOCKED[2] + datetime.timedelta(days=3), actor=None)

    def summary(run) -> set:
        return set(
            PaymentRunSummary.objects.filter(run=run).values_list(
                "region_code",
                "area_type",
                "lines",
                "total",
                "base",
                "increment",
                "other",
                "adjust",
                "one_off",
            )
        )

    run = services.payment_run_recalculate(benefit_type=BenefitType.objects.get(code=code), month=MONTH)
    summed = summary(run)
    kinds = set(run.lines.values_list("line_type", flat=True))
    assert LT.RECOVERY in kinds or LT.BACK_PAY in kinds
    summarize_run(run)
    assert summed == summary(run)
    assert sum(row[2] for row in summed) == run.lines.count()


def test_death_recorded_after_its_month_was_locked(city, monkeypatch):
    entitlement = dibao_household()
    covered = bases.bases_of({"id": entitlement.pk, "params": entitlement.params})[-1].covered
    person = Person.objects.get(pk=covered[0])
    person_record_death(person=person, death_date=LOCKED[2] + datetime.timedelta(days=3), actor=None)
    full, incremental, locked_rows = both("dibao", monkeypatch)
    assert full == incremental
    recovered = adjustments(full)
    assert recovered and {line[0] for line in recovered} == {entitlement.pk}
    assert {line[2] for line in recovered} == set(LOCKED[3:])  # from the month after the death
    assert 0 < locked_rows <= len(LOCKED)  # that household's months, not the city's


def test_person_entitlement_of_a_death_is_recovered(city, monkeypatch):
    entitlement = (
        Entitlement.objects.filter(benefit_type__code="disability_living", end_month__isnull=True)
        .order_by("pk")
        .first()
    )
    person_record_death(
        person=entitlement.person, death_date=LOCKED[1] + datetime.timedelta(days=9), actor=None
    )
    full, incremental, locked_rows = both("disability_living", monkeypatch)
    assert full == incremental
    assert {(line[0], line[1], line[2]) for line in adjustments(full)} == {
        (entitlement.pk, LT.RECOVERY, month) for month in LOCKED[2:]
    }
    assert locked_rows == 0  # not in force in those months any more: recovered from what was paid


def test_entitlement_ended_retroactively(city, monkeypatch):
    entitlement = (
        Entitlement.objects.filter(benefit_type__code="tekun_care", end_month__isnull=True)
        .order_by("pk")
        .first()
    )
    services.entitlement_end(entitlement=entitlement, last_month=LOCKED[3], reason="迁出本区")
    full, incremental, _ = both("tekun_care", monkeypatch)
    assert full == incremental
    assert {(line[0], line[2]) for line in adjustments(full)} == {(entitlement.pk, m) for m in LOCKED[4:]}


def test_new_basis_from_a_review(city, monkeypatch):
    entitlement = dibao_household()
    current = entitlement.params[bases.BASES_KEY][-1]
    review = {
        **current,
        "from": LOCKED[4].isoformat(),
        "label": "复核增发",
        "counted": f"{max(Decimal(current['counted']) - Decimal('200'), Decimal('0')):.2f}",
    }
    services.entitlement_update_params(
        entitlement=entitlement, changes={bases.BASES_KEY: bases.with_basis(entitlement.params, review)}
    )
    full, incremental, locked_rows = both("dibao", monkeypatch)
    assert full == incremental
    assert {(line[0], line[1], line[2]) for line in adjustments(full)} == {
        (entitlement.pk, LT.BACK_PAY, month) for month in LOCKED[4:]
    }
    assert locked_rows <= len(LOCKED)  # that one entitlement


def test_entitlement_granted_backdated(city, monkeypatch):
    dibao = BenefitType.objects.get(code="dibao")
    household = (
        Household.objects.exclude(entitlements__benefit_type=dibao)
        .filter(members__death_date__isnull=True)
        .order_by("pk")
        .first()
    )
    basis = bases.bases_from_facts({household.pk: None}, LOCKED[2], label=bases.LABEL_APPROVAL)[household.pk]
    basis["counted"] = "0.00"  # poor enough to be paid whatever the generated incomes
    entitlement = services.entitlement_create(
        benefit_type=dibao,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=LOCKED[2],
        params={bases.BASES_KEY: [basis]},
    )
    full, incremental, _ = both("dibao", monkeypatch)
    assert full == incremental
    assert {(line[0], line[1], line[2]) for line in adjustments(full)} == {
        (entitlement.pk, LT.BACK_PAY, month) for month in LOCKED[2:]
    }


def test_by_street_path_re_checks_the_same(city):
    from core.benefits import tasks

    entitlement = dibao_household()
    services.entitlement_end(entitlement=entitlement, last_month=LOCKED[3], reason="迁出本区")
    dibao = BenefitType.objects.get(code="dibao")
    with override_settings(BENEFITS_FULL_RECHECK=True):
        full = lines(services.payment_run_recalculate(benefit_type=dibao, month=MONTH))
    tasks.recalculate_run_by_street.delay("dibao", MONTH.isoformat(), None).get()
    by_street = lines(PaymentRun.objects.get(benefit_type=dibao, month=MONTH))
    assert by_street == full
    assert {(line[0], line[2]) for line in adjustments(full)} == {(entitlement.pk, m) for m in LOCKED[4:]}


def test_a_calculator_that_cannot_tell_re_checks_everything(city, monkeypatch):
    # The engine's default hook: None → every locked month in full (the old way), the same lines.
    monkeypatch.setattr(
        type(get_calculator(BenefitType.objects.get(code="dibao"))), "changed_since", Calculator.changed_since
    )
    full, incremental, locked_rows = both("dibao", monkeypatch)
    assert full == incremental
    assert locked_rows > 0


def test_recheck_queries_do_not_depend_on_changes(city):
    """One query more or less whatever changed: the plan reads the changed rows set-based."""
    dibao = BenefitType.objects.get(code="dibao")
    ended = Entitlement.objects.filter(benefit_type=dibao, end_month__isnull=True).order_by("-pk")
    # One ended in both measurements: its 停发 line reads the stopped entitlements (one query more).
    services.entitlement_end(entitlement=ended[0], last_month=LOCKED[3], reason="迁出本区")
    services.payment_run_recalculate(benefit_type=dibao, month=MONTH)
    with CaptureQueriesContext(connection) as quiet:
        services.payment_run_recalculate(benefit_type=dibao, month=MONTH)
    for entitlement in Entitlement.objects.filter(benefit_type=dibao, end_month__isnull=True).order_by("pk")[
        :20
    ]:
        services.entitlement_end(entitlement=entitlement, last_month=LOCKED[3], reason="迁出本区")
    with CaptureQueriesContext(connection) as busy:
        services.payment_run_recalculate(benefit_type=dibao, month=MONTH)
    assert len(busy.captured_queries) == len(quiet.captured_queries)


def test_entitlements_no_longer_due_from_the_parts_rows_equal_the_query(city):
    """_adjustment_lines learns what a line needs of an entitlement paid but maybe not due from the
    part's rows (the open-ended ones among them) and asks the database only for the rest: the answer is
    the one a query for every id gives, and the ended, the suspended and those not among the rows are
    the ones asked."""
    dibao = BenefitType.objects.get(code="dibao")
    open_ended = list(
        Entitlement.objects.filter(benefit_type=dibao, end_month__isnull=True).order_by("pk")[:6]
    )
    ended, suspended, not_read = open_ended[3:]
    services.entitlement_end(entitlement=ended, last_month=LOCKED[3], reason="迁出本区")
    Entitlement.objects.filter(pk=suspended.pk).update(status=Entitlement.Status.SUSPENDED)
    rows = [
        row
        for row in selectors.entitlements_in_force_between(dibao, LOCKED[0], MONTH)
        if row["id"] != not_read.pk
    ]
    ids = [e.pk for e in open_ended]
    with CaptureQueriesContext(connection) as ctx:
        answer = services._entitlements_no_longer_due(iter(ids), rows)
    assert answer == services._entitlements_no_longer_due(ids)  # every id asked of the database
    assert answer[ended.pk]["end_reason"] == "迁出本区"
    assert answer[suspended.pk]["status"] == Entitlement.Status.SUSPENDED
    assert len(ctx.captured_queries) == 1
    asked = re.search(r"ANY\('\{([\d,]*)\}'|IN \(([\d, ]*)\)", ctx.captured_queries[0]["sql"])
    assert asked, ctx.captured_queries[0]["sql"]
    assert {int(pk) for pk in re.findall(r"\d+", asked.group(1) or asked.group(2))} == {
        ended.pk,
        suspended.pk,
        not_read.pk,
    }
