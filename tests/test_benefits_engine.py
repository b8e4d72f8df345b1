"""The benefits engine: recalculation, locking, 补发/扣回, death stops, change flags, views.

A test calculator is registered here ("test_subsidy": standard × living household members) so the engine
is tested without any bureau app."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.benefits import selectors, services, tasks
from core.benefits.calculators import (
    Calculator,
    FixedStandardCalculator,
    LineResult,
    register_calculator,
    round_amount,
)
from core.benefits.exceptions import (
    BenefitsError,
    CalculationError,
    CalculatorNotRegistered,
    ParameterNotFound,
    PaymentRunLocked,
    StandardNotFound,
)
from core.benefits.models import (
    BenefitType,
    Entitlement,
    Parameter,
    PaymentLine,
    PaymentRun,
    PaymentRunSummary,
    Rounding,
    Standard,
)
from core.benefits.selectors import (
    IdRange,
    entitlement_id_parts,
    entitlements_in_force,
    in_part,
    parameter_value,
    recalculation_parts,
    standard_in_force,
    standards_in_force_map,
)
from core.benefits.summaries import summarize_run
from core.registry import events
from core.registry.models import LifeEvent, Person
from tests.factories import PersonFactory, household_with_members

MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)
MAY = datetime.date(2026, 5, 1)
JUNE = datetime.date(2026, 6, 1)

LT = PaymentLine.LineType
CH = PaymentLine.Change


@register_calculator("test_subsidy")
class SubsidyCalculator(Calculator):
    """Test benefit: the standard × household members alive on the first day of the month."""

    label = "测试补贴"

    def load_facts(self, entitlement_rows, month):
        household_ids = {r["household_id"] or r["person_household_id"] for r in entitlement_rows}
        living = (
            Person.objects.filter(household_id__in=household_ids)
            .filter(Q(death_date__isnull=True) | Q(death_date__gte=month))
            .values("household_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {"living": {r["household_id"]: r["n"] for r in living}}

    def compute(self, row, facts, standards, month):
        standard = standards.require(self.benefit_type.name, row["area_type"])
        members = facts["living"].get(row["household_id"], 0)
        if members == 0:
            return None
        amount = self.round(standard.amount * members)
        return LineResult(
            amount=amount,
            base_amount=amount,
            covered_persons=members,
            explanation={
                "formula": f"标准 {standard.amount:.2f} × 在世成员 {members} 人",
                "steps": [
                    ["待遇标准", f"{standard.amount:.2f}"],
                    ["在世成员数", members],
                    ["合计", f"{amount:.2f}"],
                ],
                "living_members": members,
                **standard.as_explanation(),
            },
        )


@register_calculator("test_fixed")
class FixedCalculator(FixedStandardCalculator):
    label = "测试定额"


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def subsidy(db):
    bt = BenefitType.objects.create(code="test_subsidy", name="测试补贴", bureau="测试科")
    Standard.objects.create(
        benefit_type=bt, area_type="urban", amount=Decimal("600"), effective_from=datetime.date(2020, 1, 1)
    )
    Standard.objects.create(
        benefit_type=bt, area_type="rural", amount=Decimal("410"), effective_from=datetime.date(2020, 1, 1)
    )
    return bt


@pytest.fixture
def fixed(db):
    bt = BenefitType.objects.create(code="test_fixed", name="测试定额", rounding=Rounding.YUAN)
    Standard.objects.create(
        benefit_type=bt, tier="A", amount=Decimal("100"), effective_from=datetime.date(2020, 1, 1)
    )
    Standard.objects.create(
        benefit_type=bt, tier="B", amount=Decimal("300.5"), effective_from=datetime.date(2020, 1, 1)
    )
    return bt


@pytest.fixture
def chief(make_user):
    return make_user("科长", region="district")


def household_entitlement(bt, region, *, size=1, start=MARCH):
    household = household_with_members(region, size=size)
    entitlement = services.entitlement_create(
        benefit_type=bt,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=start,
        params={},
        actor=None,
    )
    return household, entitlement


def person_entitlement(bt, region, *, tier="A", start=MARCH):
    household = household_with_members(region, size=2)
    person = household.head
    entitlement = services.entitlement_create(
        benefit_type=bt,
        person=person,
        region_code=person.region_code,
        area_type=household.area_type,
        start_month=start,
        params={"tier": tier},
        actor=None,
    )
    return person, entitlement


def record_death(person, day, actor):
    """Through the registry service when it exists, else a LifeEvent published directly."""
    try:
        from core.registry.services import person_record_death
    except ImportError:  # the registry service not written yet
        person_record_death = None
    if person_record_death is not None:
        return person_record_death(person=person, death_date=day, actor=actor)
    with transaction.atomic():
        Person.objects.filter(pk=person.pk).update(death_date=day)
        event = LifeEvent.objects.create(person=person, kind="death", event_date=day, recorded_by=actor)
        events.publish(event, actor)
        return event


def snapshot(run):
    return list(
        PaymentLine.objects.filter(run=run)
        .order_by("entitlement_id", "line_type", "for_month")
        .values_list(
            "entitlement_id",
            "household_id",
            "person_id",
            "region_code",
            "line_type",
            "for_month",
            "covered_persons",
            "base_amount",
            "increment_amount",
            "other_amount",
            "amount",
            "change",
            "explanation",
        )
    )


def recalc(bt, month, actor=None):
    return services.payment_run_recalculate(benefit_type=bt, month=month, actor=actor)


def lines_of(run, entitlement, **filters):
    return list(PaymentLine.objects.filter(run=run, entitlement=entitlement, **filters).order_by("for_month"))


# --- selectors ------------------------------------------------------------------------------------


def test_standards_and_parameters_by_effective_date(subsidy):
    Standard.objects.filter(benefit_type=subsidy, area_type="urban").update(
        effective_to=datetime.date(2026, 2, 28)
    )
    Standard.objects.create(benefit_type=subsidy, area_type="urban", amount=650, effective_from=MARCH)
    Standard.objects.create(benefit_type=subsidy, area_type="", tier="x", amount=1, effective_from=MARCH)

    assert standard_in_force(subsidy, "urban", "", datetime.date(2026, 2, 28)).amount == 600
    assert standard_in_force(subsidy, "urban", "", MARCH).amount == 650
    assert standard_in_force(subsidy, "rural", "x", MARCH).amount == 1  # falls back to 不分城乡
    with pytest.raises(StandardNotFound, match="没有有效的待遇标准"):
        standard_in_force(subsidy, "urban", "nope", MARCH)
    assert set(standards_in_force_map(subsidy, MARCH)) == {("urban", ""), ("rural", ""), ("", "x")}

    Parameter.objects.create(
        key="floor_ratio", name="保底比例", value=Decimal("0.2"), effective_from=datetime.date(2024, 1, 1)
    )
    assert parameter_value("floor_ratio", MARCH) == Decimal("0.2")
    with pytest.raises(ParameterNotFound, match="floor_ratio"):
        parameter_value("floor_ratio", datetime.date(2023, 12, 31))


def test_entitlements_in_force_by_month(subsidy, regions):
    _, open_ended = household_entitlement(subsidy, regions["community11"], start=MARCH)
    _, later = household_entitlement(subsidy, regions["community11"], start=MAY)
    _, ended = household_entitlement(subsidy, regions["community11"], start=MARCH)
    services.entitlement_end(entitlement=ended, last_month=APRIL, reason="收入超标", actor=None)
    _, suspended = household_entitlement(subsidy, regions["community11"], start=MARCH)
    Entitlement.objects.filter(pk=suspended.pk).update(status=Entitlement.Status.SUSPENDED)

    ids = lambda month: {r["id"] for r in entitlements_in_force(subsidy, month)}  # noqa: E731
    assert ids(APRIL) == {open_ended.pk, ended.pk}
    assert ids(MAY) == {open_ended.pk, later.pk}


def test_round_half_up_to_unit():
    assert round_amount(Decimal("300.5"), Rounding.YUAN) == Decimal("301.00")
    assert round_amount(Decimal("0.125"), Rounding.FEN) == Decimal("0.13")


@pytest.mark.parametrize("rounding", [Rounding.FEN, Rounding.YUAN])
@pytest.mark.parametrize(
    "value", [Decimal("0.125"), Decimal("-2.675"), Decimal("300.5"), Decimal("7"), 12, "4.005"]
)
def test_calculator_round_is_round_amount(rounding, value):
    calculator = SubsidyCalculator(BenefitType(code="x", name="x", rounding=rounding))
    rounded = calculator.round(value)
    assert rounded == round_amount(value, rounding) and str(rounded) == str(round_amount(value, rounding))
    assert rounded.as_tuple().exponent == -2  # two places, always: the engine writes str(total)


def test_unregistered_benefit_type_is_refused(db):
    bt = BenefitType.objects.create(code="nobody_knows", name="未知待遇")
    with pytest.raises(CalculatorNotRegistered, match="没有登记计算规则"):
        recalc(bt, MARCH)


# --- recalculation --------------------------------------------------------------------------------


def test_recalculation_is_idempotent(subsidy, fixed, regions):
    # Given
    for size in (1, 2, 3):
        household_entitlement(subsidy, regions["community11"], size=size)
    household_entitlement(subsidy, regions["community22"], size=2)  # rural: 410
    # When
    run = recalc(subsidy, MARCH)
    first = snapshot(run)
    again = recalc(subsidy, MARCH)
    # Then
    assert again.pk == run.pk
    assert snapshot(again) == first
    assert len(first) == 4
    assert again.line_count == 4
    assert again.total_amount == Decimal(600 * 6 + 410 * 2)
    assert PaymentRun.objects.filter(benefit_type=subsidy, month=MARCH).count() == 1
    line = PaymentLine.objects.filter(run=run, covered_persons=3).get()
    assert line.amount == Decimal("1800.00")
    assert line.change == CH.NEW
    assert line.explanation["living_members"] == 3
    assert line.explanation["standard"] == "600.0000"


def test_fixed_standard_calculator_rounds_to_yuan(fixed, regions):
    _, a = person_entitlement(fixed, regions["community11"], tier="A")
    _, b = person_entitlement(fixed, regions["community11"], tier="B")
    run = recalc(fixed, MARCH)
    assert lines_of(run, a)[0].amount == Decimal("100.00")
    assert lines_of(run, b)[0].amount == Decimal("301.00")  # 300.5 ROUND_HALF_UP to 元


def test_cycle_collector_is_off_while_a_run_is_computed_and_back_on_after(fixed, regions, monkeypatch):
    """core.memory.cyclic_gc_paused around the run: off during the computation (it cost half a city's 低保 CPU), on
    again after a run, after a failed run, and left off when it was off before."""
    import gc

    _, a = person_entitlement(fixed, regions["community11"], tier="A")
    seen = []
    original = FixedCalculator.compute

    def compute(self, row, facts, standards, month):
        seen.append(gc.isenabled())
        return original(self, row, facts, standards, month)

    monkeypatch.setattr(FixedCalculator, "compute", compute)
    assert gc.isenabled()
    recalc(fixed, MARCH)
    assert seen == [False] and gc.isenabled()

    def failing(self, row, facts, standards, month):
        raise CalculationError("测试：计算失败")

    monkeypatch.setattr(FixedCalculator, "compute", failing)
    with pytest.raises(CalculationError):
        recalc(fixed, APRIL)
    assert gc.isenabled()

    monkeypatch.setattr(FixedCalculator, "compute", compute)
    gc.disable()
    try:
        recalc(fixed, APRIL)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_locked_run_is_never_changed(subsidy, regions, chief):
    # Given a locked March run
    household, entitlement = household_entitlement(subsidy, regions["community11"], size=2)
    march = recalc(subsidy, MARCH)
    services.payment_run_lock(run=march, actor=chief)
    locked_lines = list(PaymentLine.objects.filter(run=march).values())
    # When facts and standards change and later months are recalculated
    PersonFactory(household=household)
    Standard.objects.filter(benefit_type=subsidy).update(amount=700)
    recalc(subsidy, APRIL)
    # Then March is untouched, refuses recalculation and a second lock
    with pytest.raises(PaymentRunLocked, match="已锁定"):
        recalc(subsidy, MARCH)
    with pytest.raises(PaymentRunLocked):
        services.payment_run_lock(run=march, actor=chief)
    march.refresh_from_db()
    assert march.status == PaymentRun.Status.LOCKED
    assert march.total_amount == Decimal("1200.00")
    assert list(PaymentLine.objects.filter(run=march).values()) == locked_lines


def test_back_pay_after_retroactive_standard_change(subsidy, regions, chief):
    # Given March paid at 600 and locked
    _, entitlement = household_entitlement(subsidy, regions["community11"], size=1)
    services.payment_run_lock(run=recalc(subsidy, MARCH), actor=chief)
    # When the standard is raised to 650 from March (decided in April)
    Standard.objects.filter(benefit_type=subsidy, area_type="urban").update(
        effective_to=datetime.date(2026, 2, 28)
    )
    Standard.objects.create(benefit_type=subsidy, area_type="urban", amount=650, effective_from=MARCH)
    april = recalc(subsidy, APRIL)
    # Then April pays 650 and a +50 补发 for March
    (regular,) = lines_of(april, entitlement, line_type=LT.REGULAR)
    (back_pay,) = lines_of(april, entitlement, line_type=LT.BACK_PAY)
    assert regular.amount == Decimal("650.00")
    assert regular.change == CH.CHANGED
    assert back_pay.amount == Decimal("50.00")
    assert back_pay.base_amount == Decimal("50.00")
    assert back_pay.for_month == MARCH
    assert back_pay.explanation["paid"] == "600.00"
    # Stored by difference from April's regular line (both 650.00: the total is not repeated), restored whole
    assert "total" not in back_pay.explanation["recomputed"]
    selectors.restore_recomputed([back_pay])
    assert back_pay.explanation["recomputed"]["total"] == "650.00"
    assert back_pay.explanation["recomputed"]["month"] == MARCH.isoformat()
    assert "补发 50.00 元" in back_pay.explanation["formula"]
    assert april.adjustment_total == Decimal("50.00")
    assert april.total_amount == Decimal("700.00")
    # and the back pay, once locked, is not paid again in May
    assert snapshot(recalc(subsidy, APRIL)) == snapshot(april)
    services.payment_run_lock(run=april, actor=chief)
    may = recalc(subsidy, MAY)
    assert lines_of(may, entitlement, line_type__in=[LT.BACK_PAY, LT.RECOVERY]) == []
    assert may.total_amount == Decimal("650.00")


def test_death_stops_entitlement_from_next_month(fixed, subsidy, regions, chief):
    # Given a person entitlement, and the person's household on a household benefit
    person, entitlement = person_entitlement(fixed, regions["community11"], tier="A")
    _, household_ent = (
        person.household,
        services.entitlement_create(
            benefit_type=subsidy,
            household=person.household,
            region_code=person.region_code,
            area_type="urban",
            start_month=MARCH,
            actor=None,
        ),
    )
    # When the death is recorded in March (before any run)
    record_death(person, datetime.date(2026, 3, 15), chief)
    # Then the entitlement ends with March
    entitlement.refresh_from_db()
    assert entitlement.end_month == MARCH
    assert entitlement.status == Entitlement.Status.ENDED
    household_ent.refresh_from_db()
    assert household_ent.end_month is None  # household benefits count living members instead
    march = recalc(fixed, MARCH)
    assert lines_of(march, entitlement)[0].amount == Decimal("100.00")
    # April: nothing paid, only a 停发 marker with the reason
    april = recalc(fixed, APRIL)
    (stop,) = lines_of(april, entitlement)
    assert stop.amount == 0
    assert stop.change == CH.STOPPED
    assert "享受人死亡" in stop.explanation["stop_reason"]
    assert april.line_count == 0
    assert april.total_amount == 0
    # May: no line at all
    assert lines_of(recalc(fixed, MAY), entitlement) == []
    # The household benefit drops to the living member from April
    assert lines_of(recalc(subsidy, MARCH), household_ent)[0].covered_persons == 2
    (household_april,) = lines_of(recalc(subsidy, APRIL), household_ent)
    assert household_april.covered_persons == 1
    assert household_april.change == CH.CHANGED


def test_late_reported_death_is_recovered(fixed, subsidy, regions, chief):
    # Given March and April paid and locked for a person and their household
    person, entitlement = person_entitlement(fixed, regions["community11"], tier="A")
    household_ent = services.entitlement_create(
        benefit_type=subsidy,
        household=person.household,
        region_code=person.region_code,
        area_type="urban",
        start_month=MARCH,
        actor=None,
    )
    for bt in (fixed, subsidy):
        for month in (MARCH, APRIL):
            services.payment_run_lock(run=recalc(bt, month), actor=chief)
    # When a death in March is reported in May
    record_death(person, datetime.date(2026, 3, 20), chief)
    may = recalc(fixed, MAY)
    # Then May recovers April's payment, pays nothing, and marks the stop
    (recovery,) = lines_of(may, entitlement, line_type=LT.RECOVERY)
    assert recovery.amount == Decimal("-100.00")
    assert recovery.for_month == APRIL
    assert "享受人死亡" in recovery.explanation["adjustment_reason"]
    assert "扣回 100.00 元" in recovery.explanation["formula"]
    (stop,) = lines_of(may, entitlement, line_type=LT.REGULAR)
    assert stop.amount == 0 and stop.change == CH.STOPPED
    assert may.total_amount == Decimal("-100.00")
    # The household benefit recovers one member's share for April
    may_household = recalc(subsidy, MAY)
    (household_recovery,) = lines_of(may_household, household_ent, line_type=LT.RECOVERY)
    assert household_recovery.amount == Decimal("-600.00")
    assert household_recovery.for_month == APRIL
    (regular,) = lines_of(may_household, household_ent, line_type=LT.REGULAR)
    assert regular.amount == Decimal("600.00")
    # Rerunning changes nothing
    assert snapshot(recalc(fixed, MAY)) == snapshot(may)


def test_change_flags_against_previous_month(subsidy, regions):
    # Given March: A, B and C paid
    _, a = household_entitlement(subsidy, regions["community11"], size=1)
    household_b, b = household_entitlement(subsidy, regions["community11"], size=1)
    _, c = household_entitlement(subsidy, regions["community11"], size=1)
    recalc(subsidy, MARCH)
    # When B gains a member, C ends with March and D starts in April
    PersonFactory(household=household_b)
    services.entitlement_end(entitlement=c, last_month=MARCH, reason="自愿退出", actor=None)
    _, d = household_entitlement(subsidy, regions["community11"], size=1, start=APRIL)
    april = recalc(subsidy, APRIL)
    # Then
    flags = dict(PaymentLine.objects.filter(run=april).values_list("entitlement_id", "change"))
    assert flags == {a.pk: CH.UNCHANGED, b.pk: CH.CHANGED, c.pk: CH.STOPPED, d.pk: CH.NEW}
    assert lines_of(april, b)[0].explanation["previous_amount"] == "600.00"
    assert april.line_count == 3
    assert april.total_amount == Decimal("600") + Decimal("1200") + Decimal("600")


def test_recalculation_query_count_does_not_grow(subsidy, regions, chief):
    small = BenefitType.objects.create(code="test_subsidy_small", name="小")
    register_calculator("test_subsidy_small")(SubsidyCalculator)
    Standard.objects.create(
        benefit_type=small, area_type="urban", amount=600, effective_from=datetime.date(2020, 1, 1)
    )
    for bt, count in ((small, 5), (subsidy, 50)):
        for _ in range(count):
            household_entitlement(bt, regions["community11"], size=2)
        services.payment_run_lock(run=recalc(bt, MARCH), actor=chief)  # a locked month to re-check
    # Make half of them differ so adjustment lines are written too
    Standard.objects.filter(area_type="urban").update(amount=610)

    counts, inserts = {}, {}
    for bt in (small, subsidy):
        with CaptureQueriesContext(connection) as ctx:
            run = recalc(bt, APRIL)
        # Line inserts are bulk (COPY on PostgreSQL, not even logged; batched bulk_create on SQLite,
        # whose batch size Django caps by SQLite's variable limit): count them apart.
        line_inserts = [
            q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "benefits_paymentline"')
        ]
        counts[bt.code] = len(ctx.captured_queries) - len(line_inserts)
        inserts[bt.code] = len(line_inserts)
        assert PaymentLine.objects.filter(run=run, line_type=LT.BACK_PAY).count() == (
            5 if bt == small else 50
        )
    assert counts["test_subsidy_small"] == counts["test_subsidy"]
    # On PostgreSQL 3 of them set the line constraints IMMEDIATE and back; issue 14 added the run summary
    # (the entitlements' 城乡, the old summary deleted, the new one inserted), the paid sums in two queries and
    # the entitlements paid but no longer due (asked even when there are none).
    assert counts["test_subsidy"] <= 27
    assert inserts["test_subsidy"] <= 2  # 100 lines


def test_tasks_recalculate_and_next_month(subsidy, regions, chief):
    _, entitlement = household_entitlement(
        subsidy, regions["community11"], size=1, start=datetime.date(2020, 1, 1)
    )
    result = tasks.recalculate_run.delay("test_subsidy", "2026-03", chief.pk).get()
    assert result["line_count"] == 1
    assert result["total_amount"] == "600.00"
    run = PaymentRun.objects.get(pk=result["run_id"])
    assert run.calculated_by == chief

    # The monthly job recalculates next month street by street (eager here: the chord runs inline)
    first = tasks.recalculate_all_for_next_month.delay().get()
    (mine,) = [r for r in first if r["benefit_type"] == "test_subsidy"]
    next_run = PaymentRun.objects.get(pk=mine["run_id"])
    assert mine["parts"] == 1 and next_run.calculated_at is not None
    assert (next_run.line_count, next_run.total_amount) == (1, Decimal("600.00"))
    second = tasks.recalculate_all_for_next_month.delay().get()
    (again,) = [r for r in second if r["benefit_type"] == "test_subsidy"]
    assert again["run_id"] == mine["run_id"]
    assert PaymentLine.objects.filter(run=next_run).count() == 1


# --- per street (Celery chord) ---------------------------------------------------------------------


def summary_rows(run) -> set:
    fields = ["region_code", "area_type", "lines", "total", "base", "increment", "other", "adjust", "one_off"]
    return set(PaymentRunSummary.objects.filter(run=run).values_list(*fields))


def _by_street(bt, month, actor=None):
    started = tasks.recalculate_run_by_street.delay(bt.code, month.isoformat(), getattr(actor, "pk", None))
    return PaymentRun.objects.get(pk=started.get()["run_id"]), started.get()["parts"]


def _april_with_every_kind_of_line(subsidy, regions, chief):
    """March locked for households in both streets, then in April: a raised standard (补发), a household
    that stopped (停发), one that moved to the other street, and a new one."""
    households = {}
    for key in ("community11", "community12", "community21", "community22"):
        households[key] = household_entitlement(subsidy, regions[key], size=2)
    services.payment_run_lock(run=recalc(subsidy, MARCH), actor=chief)
    Standard.objects.filter(benefit_type=subsidy, area_type="urban").update(
        effective_to=datetime.date(2026, 2, 28)
    )
    Standard.objects.create(benefit_type=subsidy, area_type="urban", amount=650, effective_from=MARCH)
    services.entitlement_end(
        entitlement=households["community12"][1], last_month=MARCH, reason="收入超标", actor=None
    )
    Entitlement.objects.filter(pk=households["community22"][1].pk).update(
        region_code=regions["community11"].code
    )
    household_entitlement(subsidy, regions["community21"], size=1, start=APRIL)


@pytest.mark.parametrize("part_size,parts_expected", [(1, 2), (2000, 1)])
def test_recalculation_by_street_equals_the_whole_run(
    subsidy, regions, chief, settings, part_size, parts_expected
):
    settings.BENEFITS_PART_SIZE = part_size  # one street per task, or both streets in one
    _april_with_every_kind_of_line(subsidy, regions, chief)

    # When April is calculated in one transaction, then street by street
    whole = snapshot(recalc(subsidy, APRIL))
    whole_run = PaymentRun.objects.get(benefit_type=subsidy, month=APRIL)
    totals = (whole_run.line_count, whole_run.total_amount, whole_run.adjustment_total)
    run, parts = _by_street(subsidy, APRIL, chief)

    # Then: the same lines, the same totals, stamped by the chord's callback
    assert parts == parts_expected
    assert run.pk == whole_run.pk
    assert snapshot(run) == whole
    assert (run.line_count, run.total_amount, run.adjustment_total) == totals
    # and the summary per community the callback added up from the parts' results is the lines' own
    assert run.summary_of == run.calculated_at
    added_up = summary_rows(run)
    assert added_up and sum(row[2] for row in added_up) == run.lines.count()
    summarize_run(run)
    assert summary_rows(run) == added_up
    assert run.calculated_by == chief and run.calculated_at is not None
    assert {line[4] for line in whole} >= {LT.REGULAR, LT.BACK_PAY}
    assert any(line[11] == CH.STOPPED for line in whole)


def _spy_on_parts(monkeypatch, fail_part=None):
    """Record which thread recalculates each part and how many are in flight at once; `fail_part` raises."""
    import threading

    real = services.payment_run_recalculate_part
    seen = {"threads": [], "started": [], "in_flight": 0, "most": 0}
    lock = threading.Lock()

    def spy(*, run_id, part):
        with lock:
            seen["threads"].append(threading.current_thread().name)
            seen["started"].append(part)
            seen["in_flight"] += 1
            seen["most"] = max(seen["most"], seen["in_flight"])
        try:
            if part == fail_part:
                raise BenefitsError("测试：该部分计算失败")
            return real(run_id=run_id, part=part)
        finally:
            with lock:
                seen["in_flight"] -= 1

    monkeypatch.setattr(services, "payment_run_recalculate_part", spy)
    return seen


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pipelined on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_parts_pipelined_on_their_own_connections_equal_the_whole_run(subsidy, regions, chief, monkeypatch):
    # Given April with regular, 补发, 停发 and moved lines, calculated in one transaction
    _april_with_every_kind_of_line(subsidy, regions, chief)
    whole = snapshot(recalc(subsidy, APRIL))
    whole_run = PaymentRun.objects.get(benefit_type=subsidy, month=APRIL)
    totals = (whole_run.line_count, whole_run.total_amount, whole_run.adjustment_total)
    # When one task recalculates it in four parts (a community each), pipelined
    run, _ = services.payment_run_start_parts(benefit_type=subsidy, month=APRIL)
    parts = [[regions[key].code] for key in ("community11", "community12", "community21", "community22")]
    seen = _spy_on_parts(monkeypatch)
    result = services.payment_run_recalculate_parts(run_id=run.pk, parts=parts)
    run = services.payment_run_finish_parts(run_id=run.pk, parts=[result])
    # Then each part ran on a thread (its own connection), never more than two at once, and the lines,
    # totals and summary are the whole run's
    assert seen["started"] == parts and all(name.startswith("run-part-") for name in seen["threads"])
    assert seen["most"] <= 2
    assert result["parts"] == 4
    assert result["written"] == len(whole) == PaymentLine.objects.filter(run=run).count()
    assert snapshot(run) == whole
    assert (run.line_count, run.total_amount, run.adjustment_total) == totals
    added_up = summary_rows(run)
    summarize_run(run)
    assert summary_rows(run) == added_up


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pipelined on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_failed_part_stops_the_parts_after_it_and_is_raised(subsidy, regions, chief, monkeypatch):
    _april_with_every_kind_of_line(subsidy, regions, chief)
    run, _ = services.payment_run_start_parts(benefit_type=subsidy, month=APRIL)
    parts = [[regions[key].code] for key in ("community11", "community12", "community21", "community22")]
    seen = _spy_on_parts(monkeypatch, fail_part=parts[1])
    with pytest.raises(BenefitsError, match="该部分计算失败"):
        services.payment_run_recalculate_parts(run_id=run.pk, parts=parts)
    # the first part committed (idempotent: the task is run again), the failed one's successors never began
    assert seen["started"] == parts[:2]
    written = set(PaymentLine.objects.filter(run=run).values_list("region_code", flat=True))
    assert regions["community11"].code in written and regions["community21"].code not in written
    # Run again, whole: the lines are the run's
    monkeypatch.undo()
    result = services.payment_run_recalculate_parts(run_id=run.pk, parts=parts)
    assert result["written"] == PaymentLine.objects.filter(run=run).count()


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_a_run_read_in_chunks_equals_one_chunk(subsidy, regions, chief, settings, chunk):
    # Given April with regular, 补发 and 停发 lines, calculated with every entitlement in one chunk
    _april_with_every_kind_of_line(subsidy, regions, chief)
    settings.BENEFITS_RUN_CHUNK = 10_000
    whole = snapshot(recalc(subsidy, APRIL))
    run = PaymentRun.objects.get(benefit_type=subsidy, month=APRIL)
    totals = (run.line_count, run.total_amount, run.adjustment_total)
    # When the run is recalculated reading `chunk` entitlement ids at a time
    settings.BENEFITS_RUN_CHUNK = chunk
    assert len(entitlement_id_parts(subsidy, chunk)) > 1
    again = recalc(subsidy, APRIL)
    # Then the same lines and totals
    assert snapshot(again) == whole
    assert (again.line_count, again.total_amount, again.adjustment_total) == totals
    assert {line[4] for line in whole} >= {LT.REGULAR, LT.BACK_PAY}
    assert any(line[11] == CH.STOPPED for line in whole)


def test_id_parts_hold_every_entitlement(subsidy, regions):
    ids = sorted(household_entitlement(subsidy, regions["community11"])[1].pk for _ in range(5))
    parts = entitlement_id_parts(subsidy, 2)
    assert parts == [IdRange(None, ids[2]), IdRange(ids[2], ids[4]), IdRange(ids[4], None)]
    every = Entitlement.objects.filter(benefit_type=subsidy)
    assert [every.filter(in_part(part)).count() for part in parts] == [2, 2, 1]
    # Open ends: an entitlement added after the parts were cut still lies in the last one
    late = household_entitlement(subsidy, regions["community21"])[1]
    assert every.filter(in_part(parts[-1])).filter(pk=late.pk).exists()
    lines = PaymentLine.objects.filter(in_part(parts[0], "entitlement__region_code"))
    where = str(lines.query).split(" WHERE ")[1].split(" ORDER BY ")[0]
    assert "entitlement_id" in where and "region_code" not in where
    assert entitlement_id_parts(BenefitType.objects.create(code="none", name="无"), 2) == [
        IdRange(None, None)
    ]


def test_run_queries_grow_with_chunks_not_entitlements(subsidy, regions, settings):
    for _ in range(6):
        household_entitlement(subsidy, regions["community11"], size=1)

    def queries(chunk):
        settings.BENEFITS_RUN_CHUNK = chunk
        with CaptureQueriesContext(connection) as ctx:
            recalc(subsidy, MARCH)
        return len(
            [q for q in ctx.captured_queries if not q["sql"].startswith('INSERT INTO "benefits_paymentline"')]
        )

    recalc(subsidy, MARCH)  # the draft run exists: each call below recalculates it
    one, two, three = queries(6), queries(3), queries(2)  # 1, 2 and 3 chunks of entitlement ids
    assert two - one == three - two <= 6  # a fixed number of reads per chunk, never one per entitlement


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_writes_any_text_exactly(subsidy, regions):
    household, entitlement = household_entitlement(subsidy, regions["community11"])
    run = recalc(subsidy, MARCH)
    tricky = {
        "formula": 'a\\b\tc\nd\re "引号" \\N 中文',
        "steps": [["反斜杠\\", Decimal("1.50")], ["日期", MARCH]],
        7: "非字符串键",
    }
    line = {
        "run_id": run.pk,
        "entitlement_id": entitlement.pk,
        "household_id": household.pk,
        "person_id": None,
        "region_code": entitlement.region_code,
        "line_type": LT.BACK_PAY,
        "for_month": datetime.date(2026, 1, 1),
        "covered_persons": 1,
        "base_amount": Decimal("0.10"),
        "increment_amount": Decimal("0"),
        "other_amount": Decimal("-0.05"),
        "amount": Decimal("0.05"),
        "change": CH.NEW,
        "explanation": tricky,
    }
    with transaction.atomic():
        assert services._write_lines(iter([line])) == 1
    stored = PaymentLine.objects.get(run=run, line_type=LT.BACK_PAY)
    assert stored.explanation == {
        "formula": 'a\\b\tc\nd\re "引号" \\N 中文',
        "steps": [["反斜杠\\", "1.50"], ["日期", "2026-03-01"]],
        "7": "非字符串键",
    }
    assert (stored.person_id, stored.other_amount, stored.amount) == (None, Decimal("-0.05"), Decimal("0.05"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_a_line_the_database_refuses_rolls_the_run_back(subsidy, regions):
    # Given a calculated run
    household_entitlement(subsidy, regions["community11"])
    run = recalc(subsidy, MARCH)
    before = snapshot(run)
    (line,) = services._part_lines(run, services.get_calculator(subsidy), None)
    # When its lines are replaced by a COPY batch of valid ones and more, then one whose household does not
    # exist, in the second batch
    valid = [
        {**line, "line_type": LT.BACK_PAY, "for_month": datetime.date(1900 + i // 12, i % 12 + 1, 1)}
        for i in range(services.COPY_BATCH + 100)
    ]
    with pytest.raises(IntegrityError, match="registry_household"), transaction.atomic():
        services._delete_draft_lines(run)
        services._write_lines(iter([*valid, {**line, "household_id": 987_654_321}]))
    # Then Django's IntegrityError, and nothing of it stayed: the run's lines are those it had before
    assert len(valid) > services.COPY_BATCH
    assert snapshot(run) == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_reads_during_a_write_go_before_the_writers_backlog(subsidy, regions, monkeypatch):
    # Given a run's line and a writer given small batches: many COPY statements queued behind the first
    household_entitlement(subsidy, regions["community11"])
    run = recalc(subsidy, MARCH)
    (line,) = services._part_lines(run, services.get_calculator(subsidy), None)
    monkeypatch.setattr(services, "COPY_BATCH", 100)
    monkeypatch.setattr(services, "COPY_BATCH_IDLE", 100)
    lines = [
        {**line, "line_type": LT.BACK_PAY, "for_month": datetime.date(1800 + i // 12, i % 12 + 1, 1)}
        for i in range(4000)
    ]
    stored = PaymentLine.objects.filter(run=run, line_type=LT.BACK_PAY)
    seen = []

    def produced():
        yield from lines[:3600]
        # When the computing thread reads while the writer has a backlog (as a part's reads do)
        with services._reads_before_writes():
            seen.append(stored.count())
            time.sleep(0.5)  # time for several 100-line COPY statements, were the writer not paused
            seen.append(stored.count())
        yield from lines[3600:]

    with transaction.atomic():
        written = services._write_lines(produced())
        # Then no COPY statement ran between its reads — the backlog waited (it was one: not every line
        # queued was stored when the reads began) — and every line was written after them
        assert seen[0] == seen[1] < 3600
        assert written == stored.count() == 4000
    # Outside a write, the block pauses nothing
    with services._reads_before_writes():
        assert stored.count() == 4000


def test_a_run_cannot_be_locked_while_streets_are_calculated(subsidy, regions, chief):
    household_entitlement(subsidy, regions["community11"])
    run = recalc(subsidy, MARCH)
    run, parts = services.payment_run_start_parts(benefit_type=subsidy, month=MARCH)
    assert parts == [[regions["community11"].code[:9]]]
    assert run.calculated_at is None and not services.can_lock(run, chief)
    with pytest.raises(BenefitsError, match="尚未计算"):
        services.payment_run_lock(run=run, actor=chief)
    # A street recalculated twice, or a count that does not add up, stops the callback
    services.payment_run_recalculate_part(run_id=run.pk, part=parts[0])
    with pytest.raises(BenefitsError, match="分街道计算结果不一致"):
        tasks.finish_run_parts([1, 1], run.pk)
    assert tasks.finish_run_parts([1], run.pk)["line_count"] == 1
    # A part of a run that is not being calculated street by street is refused
    with pytest.raises(BenefitsError, match="未处于分街道计算中"):
        services.payment_run_recalculate_part(run_id=run.pk, part=parts[0])


def test_streets_partition_region_codes(subsidy, regions):
    household_entitlement(subsidy, regions["community11"])
    household_entitlement(subsidy, regions["community21"])
    short = household_entitlement(subsidy, regions["community12"])[1]
    Entitlement.objects.filter(pk=short.pk).update(region_code=regions["district"].code[:6])
    parts = recalculation_parts(subsidy)
    assert parts == [[regions["district"].code[:6]], ["220106001"], ["220106002"]]
    every = Entitlement.objects.filter(benefit_type=subsidy)
    counted = [every.filter(in_part(part)).count() for part in parts]
    assert counted == [1, 1, 1]  # the district-level code is its own street, not a prefix of the others
    # Streets grouped in order into parts of at least 2 entitlements; each still counted once
    grouped = recalculation_parts(subsidy, 2)
    assert grouped == [[regions["district"].code[:6], "220106001"], ["220106002"]]
    assert [every.filter(in_part(part)).count() for part in grouped] == [2, 1]
    assert every.filter(in_part([])).count() == 0


def test_street_part_query_count_does_not_grow(subsidy, regions):
    run_id = None
    counts = []
    for size in (3, 30):
        for _ in range(size):
            household_entitlement(subsidy, regions["community11"], size=1)
        run, parts = services.payment_run_start_parts(benefit_type=subsidy, month=MARCH)
        run_id = run.pk
        with CaptureQueriesContext(connection) as ctx:
            services.payment_run_recalculate_part(run_id=run_id, part=parts[0])
        counts.append(
            len(
                [
                    q
                    for q in ctx.captured_queries
                    if not q["sql"].startswith('INSERT INTO "benefits_paymentline"')
                ]
            )
        )
    # 16: the part's lines in the draft run are looked up by id once, then probed and deleted by id
    assert counts[0] == counts[1] <= 16


def test_death_subscriber_is_registered():
    assert services.entitlements_stop_for_death in events.subscribers("death")


# --- views ----------------------------------------------------------------------------------------


@pytest.fixture
def locked_and_draft(subsidy, regions, chief):
    for region in ("community11", "community11", "community21"):
        household_entitlement(subsidy, regions[region], size=2)
    march = recalc(subsidy, MARCH)
    services.payment_run_lock(run=march, actor=chief)
    april = recalc(subsidy, APRIL)
    return march, april


def test_views_need_permissions(client, make_user, locked_and_draft):
    march, april = locked_and_draft
    urls = [
        reverse("benefits:run_list"),
        reverse("benefits:run_detail", args=[april.pk]),
        reverse("benefits:line_detail", args=[april.lines.first().pk]),
    ]
    # anonymous → login
    for url in urls:
        assert client.get(url).status_code == 302
    # 社区经办人 may see standards but not payment runs
    client.force_login(make_user("社区经办人"))
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.get(reverse("benefits:standard_list")).status_code == 200
    assert client.post(reverse("benefits:run_recalculate", args=[april.pk])).status_code == 403
    assert client.post(reverse("benefits:run_lock", args=[april.pk])).status_code == 403


def test_run_list_and_detail(client, chief, locked_and_draft, django_assert_max_num_queries):
    march, april = locked_and_draft
    client.force_login(chief)
    response = client.get(reverse("benefits:run_list"), {"benefit_type": "test_subsidy", "status": "locked"})
    assert response.status_code == 200
    assert list(response.context["page"]) == [march]
    assert client.get(reverse("benefits:run_list"), {"month": "2026-04"}).context["page"][0] == april

    with django_assert_max_num_queries(15):
        response = client.get(reverse("benefits:run_detail", args=[april.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "重新计算" in content and "锁定" in content
    assert "标准 600.00 × 在世成员 2 人" in content
    assert len(response.context["page"]) == 3
    # unfiltered, the pages' count is the summary's (not counted again); filtered, the filter's
    assert response.context["page"].paginator.count == response.context["summary"]["count"] == 3
    assert client.get(reverse("benefits:run_detail", args=[99999])).status_code == 404

    line = april.lines.first()
    number = line.household.number
    response = client.get(reverse("benefits:run_detail", args=[april.pk]), {"q": number})
    assert [x.pk for x in response.context["page"]] == [line.pk]
    assert response.context["page"].paginator.count == 1
    response = client.get(reverse("benefits:run_detail", args=[april.pk]), {"change": "new"})
    assert len(response.context["page"]) == 0
    response = client.get(reverse("benefits:line_detail", args=[line.pk]))
    assert response.status_code == 200
    assert "在世成员数" in response.content.decode()
    # The run's page leaves each line's 计算过程 to be loaded when its row is opened: the fragment
    explained = client.get(reverse("benefits:line_explanation", args=[line.pk]))
    assert explained.status_code == 200
    assert "在世成员数" in explained.content.decode() and "<html" not in explained.content.decode()


def test_lines_are_scoped_to_the_users_region(client, make_user, locked_and_draft):
    march, april = locked_and_draft
    auditor = make_user("街道审核员", region="street2")
    client.force_login(auditor)
    response = client.get(reverse("benefits:run_detail", args=[april.pk]))
    assert {line.region_code[:9] for line in response.context["page"]} == {"220106002"}
    assert (
        response.context["page"].paginator.count
        == april.lines.filter(region_code__startswith="220106002").count()
    )
    outside = april.lines.filter(region_code__startswith="220106001").first()
    assert client.get(reverse("benefits:line_detail", args=[outside.pk])).status_code == 404
    assert client.get(reverse("benefits:line_explanation", args=[outside.pk])).status_code == 404


def test_recalculate_and_lock_buttons(client, make_user, chief, locked_and_draft):
    march, april = locked_and_draft
    clerk = make_user("科室经办人", region="district")
    client.force_login(clerk)
    response = client.post(reverse("benefits:run_recalculate", args=[april.pk]), follow=True)
    assert "计算完成" in response.content.decode()
    assert client.post(reverse("benefits:run_lock", args=[april.pk])).status_code == 403  # no lock permission
    # a locked run refuses recalculation with a Chinese message
    response = client.post(reverse("benefits:run_recalculate", args=[march.pk]), follow=True)
    assert "已锁定" in response.content.decode()
    # a new month's run from the list page
    response = client.post(
        reverse("benefits:run_create"), {"benefit_type": "test_subsidy", "month": "2026-05"}
    )
    may = PaymentRun.objects.get(benefit_type__code="test_subsidy", month=MAY)
    assert response.url == reverse("benefits:run_detail", args=[may.pk])

    client.force_login(chief)
    assert "确认锁定" in client.get(reverse("benefits:run_lock", args=[april.pk])).content.decode()
    client.post(reverse("benefits:run_lock", args=[april.pk]))
    april.refresh_from_db()
    assert april.status == PaymentRun.Status.LOCKED
    assert april.locked_by == chief


def test_standard_list_filters(client, chief, subsidy):
    Standard.objects.filter(benefit_type=subsidy, area_type="urban").update(
        effective_to=datetime.date(2021, 6, 30)
    )
    Standard.objects.create(
        benefit_type=subsidy, area_type="urban", amount=650, effective_from=datetime.date(2021, 7, 1)
    )
    client.force_login(chief)
    response = client.get(
        reverse("benefits:standard_list"), {"benefit_type": "test_subsidy", "state": "current"}
    )
    assert sorted(s.amount for s in response.context["page"]) == [410, 650]
    response = client.get(
        reverse("benefits:standard_list"), {"benefit_type": "test_subsidy", "state": "history"}
    )
    assert [s.amount for s in response.context["page"]] == [600]


def test_navigation_by_permission(make_user, chief):
    from core.accounts.navigation import navigation_for

    def items(user):
        return [i.label for s in navigation_for(user) if s.key == "benefits" for i in s.items]

    assert items(chief) == ["发放批次", "待遇标准"]
    assert items(make_user("社区经办人")) == ["待遇标准"]


def test_fixed_term_entitlement_and_params_update(subsidy, regions):
    """A one-off entitlement ends with its start month; merged params reach the next recalculation."""
    from django.core.exceptions import ValidationError

    from core.benefits.services import entitlement_create, entitlement_update_params

    household = household_with_members(regions["community11"], size=1)
    common = dict(
        benefit_type=subsidy,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=datetime.date(2026, 3, 1),
    )
    one_off = entitlement_create(**common, end_month=datetime.date(2026, 3, 1), params={"a": 1})
    assert one_off.end_month == datetime.date(2026, 3, 1)
    with pytest.raises(ValidationError):
        entitlement_create(**common, end_month=datetime.date(2026, 2, 1))
    updated = entitlement_update_params(entitlement=one_off, changes={"b": "2"})
    assert updated.params == {"a": 1, "b": "2"}
    with pytest.raises(ValidationError):
        entitlement_update_params(entitlement=one_off, changes={})
