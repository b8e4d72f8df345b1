"""Issue 13 item 1: the 低保 amount changes only by decision (assistance.bases), and a change recorded after
the decision becomes a 变化核查 to-do (assistance.checks, core.benefits.checks).

The households: urban (低保标准 600 元/月 since 2021-07-01, 保底 20 %), two adults aged 40-odd with a wage
of 400 元/月 → per capita 200 → (600 − 200) × 2 = 800.00 元/月."""

from __future__ import annotations

import datetime
import importlib
import threading
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse

from assistance import bases
from assistance.models import DibaoReview
from core.benefits.checks import change_checks_note
from core.benefits.exceptions import CalculationError
from core.benefits.models import BenefitType, ChangeCheck, PaymentLine, PaymentRun
from core.benefits.services import (
    entitlement_create,
    entitlement_update_params,
    payment_run_lock,
    payment_run_recalculate,
)
from core.benefits.standards import standard_change
from core.registry.choices import IncomeKind, Relation
from core.registry.models import Membership, Person
from core.registry.services import (
    income_record_add,
    person_add_to_household,
    person_record_death,
    person_update,
)
from tests.factories import HouseholdFactory, PersonFactory, dibao_entitlement, valid_id_number

D = datetime.date
JAN, FEB, MAR, APR = D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)
Change = PaymentLine.Change


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk21": make_user("社区经办人", region="community21"),
        "chief": make_user("科长", region="district"),
        "leader": make_user("局领导", region="district"),
    }


@pytest.fixture
def dibao(db):
    return BenefitType.objects.get(code="dibao")


ADULTS = (D(1984, 5, 1), D(1986, 3, 2))


def _household(region, births=ADULTS):
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    for i, birth in enumerate(births):
        relation = Relation.HEAD if i == 0 else Relation.SPOUSE
        person = PersonFactory(household=household, relation=relation, birth_date=birth)
        Membership.objects.create(
            person=person, household=household, relation=relation, joined_on=D(2020, 1, 1)
        )
        if i == 0:
            household.head = person
            household.save(update_fields=["head"])
    return household


@pytest.fixture
def covered(regions, people):
    """A household paid 800.00 from January on the confirmation's basis."""
    household = _household(regions["community11"])
    income_record_add(
        household=household,
        kind=IncomeKind.WAGE,
        monthly_amount=Decimal("400"),
        period_start=D(2025, 1, 1),
        person=household.head,
        actor=people["clerk"],
    )
    entitlement = dibao_entitlement(household, JAN)
    # The income recorded before the grant opened no check: there was no entitlement yet.
    assert not ChangeCheck.objects.exists()
    return household, entitlement


def _run(dibao, month, chief=None, lock=False):
    run = payment_run_recalculate(benefit_type=dibao, month=month)
    if lock:
        payment_run_lock(run=run, actor=chief)
    return run


def _line(run, entitlement, line_type=PaymentLine.LineType.REGULAR, for_month=None):
    lines = PaymentLine.objects.filter(run=run, entitlement=entitlement, line_type=line_type)
    if for_month is not None:
        lines = lines.filter(for_month=for_month)
    return lines.first()


def test_an_income_edit_after_approval_leaves_next_month_unchanged_and_opens_a_check(dibao, covered, people):
    household, entitlement = covered
    jan = _run(dibao, JAN, people["chief"], lock=True)
    assert _line(jan, entitlement).amount == Decimal("800.00")

    # When the caseworker records a new wage of 600 from January (backdated)
    income_record_add(
        household=household,
        kind=IncomeKind.WAGE,
        monthly_amount=Decimal("600"),
        period_start=JAN,
        person=household.head,
        actor=people["clerk"],
    )
    feb = _run(dibao, FEB)

    # Then February pays what the decision fixed, January is not recovered, nothing says 停发
    line = _line(feb, entitlement)
    assert line.amount == Decimal("800.00") and line.change == Change.UNCHANGED
    assert not PaymentLine.objects.filter(run=feb, line_type=PaymentLine.LineType.RECOVERY).exists()
    assert line.explanation["basis_label"] == "审批确认" and line.explanation["counted_income"] == "400.00"
    # And the change is a to-do for the caseworker
    check = ChangeCheck.objects.get(entitlement=entitlement)
    assert check.status == ChangeCheck.Status.OPEN and check.region_code == household.region_code
    assert check.changes[0]["what"] == "登记收入：工资性收入 600.00 元/月（2026-01-01起）"
    assert check.changes[0]["by"] == str(people["clerk"])

    # A second change joins the same open check
    income_record_add(
        household=household,
        kind=IncomeKind.PENSION_EMPLOYEE,
        monthly_amount=Decimal("100"),
        period_start=FEB,
        actor=people["clerk"],
    )
    check.refresh_from_db()
    assert len(check.changes) == 2 and ChangeCheck.objects.count() == 1


def test_a_standard_raise_changes_every_line_from_its_month_flagged_and_backdated_pays_back(
    dibao, regions, people
):
    homes = [_household(regions["community11"]), _household(regions["community12"])]
    entitlements = []
    for home in homes:
        income_record_add(
            household=home, kind=IncomeKind.WAGE, monthly_amount=Decimal("400"), period_start=D(2025, 1, 1),
            actor=people["chief"],
        )  # fmt: skip
        entitlements.append(dibao_entitlement(home, JAN))
    for month in (JAN, FEB, MAR):
        _run(dibao, month, people["chief"], lock=True)

    # 提标 decided in April, effective from March (backdated): 600 → 660
    standard_change(
        benefit_type=dibao, area_type="urban", tier="", amount=Decimal("660"), unit="month",
        effective_from=MAR, source="测试文件〔2026〕1号", actor=people["chief"],
    )  # fmt: skip
    apr = _run(dibao, APR)

    for entitlement in entitlements:
        line = _line(apr, entitlement)
        # (660 − 200) × 2 = 920.00, flagged 调标 against March's 800
        assert line.amount == Decimal("920.00") and line.change == Change.CHANGED
        assert line.get_change_display() == "调标"
        # March was paid on the old standard: 补发 120.00 for it; January and February are untouched
        back = _line(apr, entitlement, PaymentLine.LineType.BACK_PAY, MAR)
        assert back.amount == Decimal("120.00")
        assert back.explanation["recomputed"]["change_cause"] == "低保标准调整（提标）"
        assert not PaymentLine.objects.filter(run=apr, entitlement=entitlement, for_month__lt=MAR).exists()


def test_the_month_the_standard_rises_names_the_raise(dibao, covered, people):
    household, entitlement = covered
    _run(dibao, FEB)
    standard_change(
        benefit_type=dibao, area_type="urban", tier="", amount=Decimal("650"), unit="month",
        effective_from=MAR, source="测试文件〔2026〕2号", actor=people["chief"],
    )  # fmt: skip
    line = _line(_run(dibao, MAR), entitlement)
    assert line.amount == Decimal("900.00") and line.change == Change.CHANGED
    assert line.explanation["change_cause"] == "低保标准调整（提标）"


def test_a_death_drops_the_member_from_the_next_month_without_a_review(dibao, covered, people):
    household, entitlement = covered
    spouse = Person.objects.get(household=household, relation=Relation.SPOUSE)
    person_record_death(person=spouse, death_date=D(2026, 2, 15), actor=people["clerk"])
    assert _line(_run(dibao, FEB), entitlement).amount == Decimal("800.00")  # alive on 1 February
    line = _line(_run(dibao, MAR), entitlement)
    # The decided per-capita income (200) stays; one covered person: (600 − 200) × 1
    assert (line.amount, line.covered_persons) == (Decimal("400.00"), 1)
    assert not ChangeCheck.objects.exists()


def test_an_age_that_changes_an_increment_moves_the_amount_on_its_month(dibao, regions, people):
    household = _household(regions["community11"], births=(D(1966, 3, 15), D(1986, 3, 2)))
    income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount=Decimal("400"), period_start=D(2025, 1, 1),
        actor=people["clerk"],
    )  # fmt: skip
    entitlement = dibao_entitlement(household, JAN)
    assert _line(_run(dibao, MAR), entitlement).amount == Decimal("800.00")  # 59 on 1 March
    line = _line(_run(dibao, APR), entitlement)
    # 60 on 1 April: + 600 × 10 % = 60.00 (分类施保, dibao.classified.age60_or_minor)
    assert (line.base_amount, line.increment_amount, line.amount) == (
        Decimal("800.00"),
        Decimal("60.00"),
        Decimal("860.00"),
    )


def test_a_new_member_or_a_disability_correction_opens_a_check_and_moves_nothing(dibao, covered, people):
    household, entitlement = covered
    head = household.head
    person_update(
        person=head, data={"disability_category": "physical", "disability_grade": 1}, actor=people["clerk"]
    )
    birth = D(2025, 12, 20)
    person_add_to_household(
        household=household,
        member={
            "name": "新生儿",
            "id_number": valid_id_number(birth, male=True),
            "relation": Relation.CHILD,
            "sex": "M",
            "birth_date": birth,
        },
        actor=people["clerk"],
        joined_on=D(2026, 1, 5),
    )
    line = _line(_run(dibao, FEB), entitlement)
    # Neither the 分类施保 of a newly recorded disability nor a third member: the review decides them
    assert (line.amount, line.increment_amount, line.covered_persons) == (
        Decimal("800.00"),
        Decimal("0.00"),
        2,
    )
    whats = [c["what"] for c in ChangeCheck.objects.get(entitlement=entitlement).changes]
    assert whats[0].startswith(f"{head.name}的残疾类别、残疾等级变更")
    assert whats[1] == "新增家庭成员：新生儿（2026-01-05）"


def test_a_later_basis_takes_effect_from_its_month_and_locked_months_keep_theirs(dibao, covered, people):
    household, entitlement = covered
    _run(dibao, JAN, people["chief"], lock=True)
    _run(dibao, FEB, people["chief"], lock=True)
    # A review decided in February fixes a basis from March on the income found then (wage 400 + 200)
    income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount=Decimal("200"), period_start=FEB,
        actor=people["clerk"],
    )  # fmt: skip
    new = bases.bases_from_facts({household.pk: None}, MAR, label="复核减发", start=MAR)[household.pk]
    entitlement.refresh_from_db()
    entitlement_update_params(
        entitlement=entitlement,
        changes={"bases": bases.with_basis(entitlement.params, new)},
        actor=people["chief"],
    )
    mar = _run(dibao, MAR)
    line = _line(mar, entitlement)
    # (600 − 300) × 2 = 600.00 from March; January and February were paid on the approval's basis
    assert line.amount == Decimal("600.00") and line.explanation["change_cause"] == "自本月起执行复核减发决定"
    assert not PaymentLine.objects.filter(run=mar, line_type__in=["back_pay", "recovery"]).exists()


def test_an_entitlement_without_a_decided_basis_is_a_clear_error(dibao, regions):
    household = _household(regions["community11"])
    entitlement_create(
        benefit_type=dibao,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=JAN,
    )
    with pytest.raises(CalculationError, match="没有核定金额的决定（审批确认或复核决定），无法计算"):
        _run(dibao, JAN)


def test_a_household_with_a_review_in_hand_gets_no_check(dibao, covered, people, make_user):
    from assistance.review.services import dibao_review_open

    household, entitlement = covered
    section = make_user("科室经办人", region="district")
    dibao_review_open(entitlement=entitlement, actor=section, comment="情况变化")
    income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount=Decimal("50"), period_start=FEB,
        actor=people["clerk"],
    )  # fmt: skip
    assert not ChangeCheck.objects.exists()


def test_the_check_page_opens_a_review_or_closes_with_a_finding(client, dibao, covered, people):
    household, entitlement = covered
    income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount=Decimal("600"), period_start=FEB,
        actor=people["clerk"],
    )  # fmt: skip
    check = ChangeCheck.objects.get()
    client.force_login(people["clerk"])
    listing = client.get(reverse("assistance:checks_list"), {"status": "open", "q": household.number})
    assert listing.status_code == 200 and household.head.name in listing.content.decode()
    detail_url = reverse("assistance:check_detail", args=[check.pk])
    page = client.get(detail_url).content.decode()
    assert "登记收入：工资性收入 600.00 元/月" in page and "审批确认" in page and "发起复核" in page

    # No finding: refused in Chinese beside the field, nothing changes
    refused = client.post(detail_url, {"action": "no_change", "nc-finding": ""})
    assert refused.status_code == 400 and "这个字段是必填项" in refused.content.decode()
    check.refresh_from_db()
    assert check.is_open

    # Another street's caseworker does not see it; 局领导 sees it but cannot act
    client.force_login(people["clerk21"])
    assert client.get(detail_url).status_code == 404
    client.force_login(people["leader"])
    assert "您可以查看" in client.get(detail_url).content.decode()
    client.post(detail_url, {"action": "no_change", "nc-finding": "无需调整"})
    check.refresh_from_db()
    assert check.is_open

    # The caseworker opens a review: the changes are its reason and the check names the case
    client.force_login(people["clerk"])
    response = client.post(detail_url, {"action": "review", "rv-comment": "入户核实工资"})
    assert response.status_code == 302
    check.refresh_from_db()
    review = DibaoReview.objects.get(entitlement=entitlement, is_open=True)
    assert check.status == ChangeCheck.Status.REVIEW and check.review_case_id == review.case_id
    assert "变化核查：登记收入：工资性收入 600.00 元/月" in " ".join(
        review.case.transitions.values_list("comment", flat=True)
    )
    # The same person twice: the second post is refused, nothing is opened again
    client.post(detail_url, {"action": "review", "rv-comment": ""})
    assert DibaoReview.objects.filter(entitlement=entitlement).count() == 1


def test_a_check_closed_with_a_finding(client, covered, people):
    household, entitlement = covered
    income_record_add(
        household=household, kind=IncomeKind.SCHOLARSHIP,
        monthly_amount=Decimal("100"), period_start=FEB, actor=people["clerk"],
    )  # fmt: skip
    check = ChangeCheck.objects.get()
    client.force_login(people["clerk"])
    url = reverse("assistance:check_detail", args=[check.pk])
    assert client.post(url, {"action": "no_change", "nc-finding": "奖学金不计入家庭收入"}).status_code == 302
    check.refresh_from_db()
    assert (check.status, check.finding, check.closed_by) == (
        ChangeCheck.Status.NO_CHANGE,
        "奖学金不计入家庭收入",
        people["clerk"],
    )
    # A later change opens a new check (the closed one stays as it was)
    income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount=Decimal("10"), period_start=FEB,
        actor=people["clerk"],
    )  # fmt: skip
    assert ChangeCheck.objects.filter(status=ChangeCheck.Status.OPEN).count() == 1


def test_existing_entitlements_get_a_basis_from_the_facts_at_the_upgrade(dibao, regions, people):
    household = _household(regions["community11"])
    income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount=Decimal("400"), period_start=D(2025, 1, 1),
        actor=people["clerk"],
    )  # fmt: skip
    entitlement = entitlement_create(
        benefit_type=dibao,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=JAN,
        params={"application": 1},
    )
    importlib.import_module("assistance.migrations.0010_dibao_amount_bases").freeze(django_apps, None)
    entitlement.refresh_from_db()
    (basis,) = entitlement.params["bases"]
    assert basis["from"] == "2026-01-01" and basis["counted"] == "400.00" and basis["members"] == 2
    assert basis["label"] == bases.LABEL_MIGRATED and entitlement.params["application"] == 1
    assert _line(_run(dibao, JAN), entitlement).amount == Decimal("800.00")


@pytest.mark.django_db(transaction=True)
def test_two_changes_at_once_make_one_open_check(regions, people, dibao):
    household = _household(regions["community11"])
    income_record_add(
        household=household, kind=IncomeKind.WAGE, monthly_amount=Decimal("400"), period_start=D(2025, 1, 1),
        actor=people["clerk"],
    )  # fmt: skip
    entitlement = dibao_entitlement(household, JAN)
    barrier = threading.Barrier(2)
    errors = []

    def note(what):
        try:
            barrier.wait(timeout=10)
            change_checks_note([entitlement.pk], what)
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=note, args=(w,)) for w in ("甲变化", "乙变化")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (check,) = ChangeCheck.objects.filter(entitlement=entitlement)
    assert sorted(c["what"] for c in check.changes) == ["乙变化", "甲变化"]
    assert PaymentRun.objects.count() == 0


def test_the_line_page_names_the_deciding_basis_in_words(client, dibao, covered, people):
    household, entitlement = covered
    line = _line(_run(dibao, JAN), entitlement)
    client.force_login(people["chief"])
    text = client.get(reverse("benefits:line_detail", args=[line.pk])).content.decode()
    assert "核定依据：审批确认核定，2026年1月起执行；此后金额仅随低保标准调整" in text
    assert "basis_label" not in text and "basis_from" not in text and "classified_mode" not in text
