"""低保动态管理 (flow 6): scheduling (set-based, idempotent), recording a review, 科长 confirmation
(maker-checker), and each outcome reaching the next month's payment run — amounts computed by hand.

The households: urban (低保标准 600 元/月 since 2021-07-01, 保底 20 %), two members aged 30–50 with no
disability (no 分类施保), so the 补差 is (600 − per-capita income) × 2."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assistance.models import DibaoReview
from assistance.review import rules, services
from assistance.review.case_types import ReviewStatus
from assistance.review.prenotice import stop_prenotice_issue, stop_prenotice_response_record
from assistance.review.tasks import schedule_dibao_reviews
from core.benefits.models import BenefitType, Entitlement, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.services import payment_run_recalculate
from core.registry.choices import IncomeKind, LabourCapacity, Relation
from core.registry.models import IncomeRecord, Membership
from core.registry.services import asset_record_add, income_record_add
from core.workflow.models import Case
from core.workflow.selectors import todo_for
from core.workflow.services import TransitionError
from tests.factories import HouseholdFactory, PersonFactory, dibao_entitlement

D = datetime.date
Outcome = DibaoReview.Outcome


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "section": make_user("科室经办人", region="district"),
        "chief": make_user("科长", region="district"),
        "leader": make_user("局领导", region="district"),
        "clerk21": make_user("社区经办人", region="community21"),
    }


@pytest.fixture
def dibao(db):
    return BenefitType.objects.get(code="dibao")


ADULTS = (D(1980, 5, 1), D(1984, 3, 2))


def _household(region, *, births=ADULTS, labour=LabourCapacity.FULL):
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    for i, birth in enumerate(births):
        relation = Relation.HEAD if i == 0 else Relation.SPOUSE
        person = PersonFactory(
            household=household, relation=relation, birth_date=birth, labour_capacity=labour
        )
        Membership.objects.create(
            person=person, household=household, relation=relation, joined_on=D(2020, 1, 1)
        )
        if i == 0:
            household.head = person
            household.save(update_fields=["head"])
    return household


def _entitle(dibao, household, start_month):
    return dibao_entitlement(household, start_month)


def _income(household, actor, kind, amount, person=None):
    return income_record_add(
        household=household,
        kind=kind,
        monthly_amount=Decimal(amount),
        period_start=D(2020, 1, 1),
        person=person,
        actor=actor,
    )


@pytest.fixture
def paid(regions, people, dibao):
    """A household paid 800.00 this month: wage 400 → per capita 200 → (600 − 200) × 2 = 800."""
    today = timezone.localdate()
    household = _household(regions["community11"])
    _income(household, people["clerk"], IncomeKind.WAGE, "400", household.head)
    entitlement = _entitle(dibao, household, add_months(month_start(today), -7))
    run = payment_run_recalculate(benefit_type=dibao, month=month_start(today))
    assert PaymentLine.objects.get(run=run, entitlement=entitlement).amount == Decimal("800.00")
    (review,) = services.dibao_reviews_schedule(on_date=today, actor=people["section"])
    return household, entitlement, review


def _next_month_amount(dibao, entitlement, months_ahead=1):
    month = add_months(month_start(timezone.localdate()), months_ahead)
    run = payment_run_recalculate(benefit_type=dibao, month=month)
    line = PaymentLine.objects.filter(
        run=run, entitlement=entitlement, line_type=PaymentLine.LineType.REGULAR
    ).first()
    return None if line is None else line.amount


def _decide_and_confirm(review, people, outcome, reasons="经入户复核", taper_months=None):
    services.dibao_review_decide(
        review=review,
        actor=people["clerk"],
        findings="入户核查家庭收入情况",
        outcome=outcome,
        reasons=reasons,
        taper_months=taper_months,
    )
    if outcome == Outcome.STOP:  # 拟停保告知 first (issue 13 item 12); the household waives its statement
        stop_prenotice_issue(review=review, actor=people["clerk"])
        stop_prenotice_response_record(review=review, actor=people["clerk"], response="waived")
    services.dibao_review_submit(review=review, actor=people["clerk"])
    services.dibao_review_confirm(review=review, actor=people["chief"], comment="同意")
    review.refresh_from_db()
    return review


# --- frequency rule -----------------------------------------------------------------------------------


def test_frequency_rule(regions, people):
    today = timezone.localdate()
    working = _household(regions["community11"])
    elderly = _household(regions["community11"], births=(D(1950, 1, 1), D(1952, 1, 1)))
    disabled_adults = _household(regions["community11"], labour=LabourCapacity.NONE)
    elderly_with_wage = _household(regions["community11"], births=(D(1950, 1, 1),))
    _income(elderly_with_wage, people["clerk"], IncomeKind.BUSINESS, "300")
    # Income that does not come from work (a pension) keeps a household stable.
    _income(elderly, people["clerk"], IncomeKind.PENSION_EMPLOYEE, "900")
    result = rules.review_frequencies(
        [working.pk, elderly.pk, disabled_adults.pk, elderly_with_wage.pk], today
    )
    assert result == {
        working.pk: "half_yearly",
        elderly.pk: "yearly",
        disabled_adults.pk: "yearly",
        elderly_with_wage.pk: "half_yearly",
    }
    assert rules.review_due_on(D(2026, 8, 31), "half_yearly") == D(2027, 2, 28)
    assert rules.review_due_on(D(2026, 1, 1), "yearly") == D(2027, 1, 1)


# --- scheduling ---------------------------------------------------------------------------------------


def test_schedule_opens_due_reviews_once(regions, people, dibao):
    today = timezone.localdate()
    this_month = month_start(today)
    half_due = _entitle(dibao, _household(regions["community11"]), add_months(this_month, -6))
    yearly_not_due = _entitle(
        dibao, _household(regions["community11"], births=(D(1950, 1, 1),)), add_months(this_month, -7)
    )
    yearly_due = _entitle(
        dibao, _household(regions["community12"], births=(D(1950, 1, 1),)), add_months(this_month, -13)
    )
    recent = _entitle(dibao, _household(regions["community11"]), add_months(this_month, -2))
    ended = _entitle(dibao, _household(regions["community11"]), add_months(this_month, -20))
    Entitlement.objects.filter(pk=ended.pk).update(end_month=this_month, status=Entitlement.Status.ENDED)
    other_street = _entitle(dibao, _household(regions["community21"]), add_months(this_month, -13))

    # A street reviewer of street 1 schedules their street only.
    street_reviewer = people["section"].__class__.objects.get(pk=people["section"].pk)
    opened = services.dibao_reviews_schedule(on_date=today, actor=street_reviewer)
    assert {r.entitlement_id for r in opened} == {half_due.pk, yearly_due.pk, other_street.pk}

    review = DibaoReview.objects.select_related("case").get(entitlement=half_due)
    assert review.frequency == "half_yearly"
    assert review.due_on == rules.review_due_on(half_due.start_month, "half_yearly")
    case = review.case
    assert case.case_type == "dibao_review" and case.status == ReviewStatus.REVIEWING
    assert case.assignee_role == "社区经办人" and case.due_date == review.due_on
    assert case.number.startswith(f"FH{today.year}")
    assert case.transitions.get().label == "发起复核"
    assert DibaoReview.objects.get(entitlement=yearly_due).frequency == "yearly"
    assert not DibaoReview.objects.filter(entitlement__in=[yearly_not_due, recent, ended]).exists()

    # Idempotent: a second run opens nothing.
    assert services.dibao_reviews_schedule(on_date=today, actor=people["section"]) == []
    assert DibaoReview.objects.count() == 3
    # The task does the same (and finds its own account when none is given).
    assert schedule_dibao_reviews(today.isoformat(), people["section"].pk) == 0
    assert schedule_dibao_reviews() == 0


def test_schedule_task_is_registered_with_the_worker_app():
    from config.celery_app import app

    assert "assistance.schedule_dibao_reviews" in app.tasks


def test_schedule_is_scoped_and_needs_permission(regions, people, dibao, make_user):
    this_month = month_start(timezone.localdate())
    mine = _entitle(dibao, _household(regions["community11"]), add_months(this_month, -13))
    _entitle(dibao, _household(regions["community21"]), add_months(this_month, -13))
    opened = services.dibao_reviews_schedule(on_date=timezone.localdate(), actor=people["clerk"])
    assert [r.entitlement_id for r in opened] == [mine.pk]
    with pytest.raises(TransitionError, match="权限"):
        services.dibao_reviews_schedule(on_date=timezone.localdate(), actor=people["chief"])


def test_schedule_is_set_based(regions, people, dibao):
    """The number of queries does not grow with the number of households."""
    this_month = month_start(timezone.localdate())

    def run_with(count):
        for _ in range(count):
            _entitle(dibao, _household(regions["community11"]), add_months(this_month, -13))
        with CaptureQueriesContext(connection) as ctx:
            opened = services.dibao_reviews_schedule(on_date=timezone.localdate(), actor=people["section"])
        assert len(opened) == count
        return len(ctx.captured_queries)

    run_with(0)  # warm up: the number sequence row and the actor's permission cache
    assert run_with(2) == run_with(8)


def test_due_and_overdue_reviews_are_on_the_todo_list(regions, people, dibao):
    today = timezone.localdate()
    _entitle(dibao, _household(regions["community11"]), add_months(month_start(today), -13))
    (review,) = services.dibao_reviews_schedule(on_date=today, actor=people["section"])
    todo = list(todo_for(people["clerk"], today=today))
    assert [c.pk for c in todo] == [review.pk]
    assert todo[0].is_overdue  # fell due a month ago
    assert not list(todo_for(people["clerk21"], today=today))


# --- outcomes reach the next run ------------------------------------------------------------------------


def test_keep(paid, people, dibao):
    household, entitlement, review = paid
    review = _decide_and_confirm(review, people, Outcome.KEEP, "家庭收入无变化")
    assert (review.previous_amount, review.new_amount) == (Decimal("800.00"), Decimal("800.00"))
    assert not review.is_open and review.case.status == ReviewStatus.CONFIRMED
    assert _next_month_amount(dibao, entitlement) == Decimal("800.00")


def test_a_household_over_an_asset_limit_is_reviewed_to_a_stop_naming_the_limit(paid, people):
    household, entitlement, review = paid
    # Deposits of 30,000 for two: 15,000 per capita > 600 × 24 = 14,400 (assets.financial_months)
    asset_record_add(
        household=household,
        kind="deposit",
        value="30000",
        recorded_on=timezone.localdate(),
        actor=people["clerk"],
    )
    with pytest.raises(ValidationError, match="家庭财产超过规定：.*14,400.00 元，应作停发处理"):
        services.dibao_review_decide(
            review=review,
            actor=people["clerk"],
            findings="入户核查",
            outcome=Outcome.KEEP,
            reasons="收入无变化",
        )
    review.refresh_from_db()
    assert review.outcome == ""
    services.dibao_review_decide(
        review=review,
        actor=people["clerk"],
        findings="入户核查",
        outcome=Outcome.STOP,
        reasons="存款超过规定",
    )


def test_decrease(paid, people, dibao):
    household, entitlement, review = paid
    # The spouse found work: +200 → 600 ÷ 2 = 300 per capita → (600 − 300) × 2 = 600.
    spouse = household.members.exclude(pk=household.head_id).get()
    services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.WAGE,
        monthly_amount="200",
        period_start=timezone.localdate(),
        person=spouse,
    )
    with pytest.raises(ValidationError, match="应作减发"):
        services.dibao_review_decide(
            review=review, actor=people["clerk"], findings="x", outcome=Outcome.KEEP, reasons="y"
        )
    with pytest.raises(ValidationError, match="不能增发"):
        services.dibao_review_decide(
            review=review, actor=people["clerk"], findings="x", outcome=Outcome.INCREASE, reasons="y"
        )
    review = _decide_and_confirm(review, people, Outcome.DECREASE, "配偶就业，收入增加")
    assert (review.previous_amount, review.new_amount) == (Decimal("800.00"), Decimal("600.00"))
    assert review.effective_month == add_months(month_start(timezone.localdate()), 1)
    assert _next_month_amount(dibao, entitlement) == Decimal("600.00")
    assert review.case.transitions.filter(transition="income_add").exists()


def test_increase(paid, people, dibao):
    household, entitlement, review = paid
    # Social insurance paid by the head (扣减) 100 → net 300 → 150 per capita → (600 − 150) × 2 = 900.
    services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.SOCIAL_INSURANCE,
        monthly_amount="100",
        period_start=timezone.localdate(),
        person=household.head,
    )
    review = _decide_and_confirm(review, people, Outcome.INCREASE, "个人缴纳社会保险费应予扣减")
    assert (review.previous_amount, review.new_amount) == (Decimal("800.00"), Decimal("900.00"))
    assert _next_month_amount(dibao, entitlement) == Decimal("900.00")


def test_stop(paid, people, dibao):
    household, entitlement, review = paid
    services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.WAGE,
        monthly_amount="1200",
        period_start=timezone.localdate(),
        person=household.head,
    )
    with pytest.raises(ValidationError, match="应作停发或渐退"):
        services.dibao_review_decide(
            review=review, actor=people["clerk"], findings="x", outcome=Outcome.DECREASE, reasons="y"
        )
    review = _decide_and_confirm(review, people, Outcome.STOP, "户主就业，家庭月人均收入800元超过低保标准")
    assert review.new_amount == Decimal("0")
    entitlement.refresh_from_db()
    assert entitlement.end_month == month_start(timezone.localdate())
    assert entitlement.status == Entitlement.Status.ENDED
    # Next month: only the 停发 marker line (0.00) against this month's 800.
    assert _next_month_amount(dibao, entitlement) == Decimal("0.00")
    line = PaymentLine.objects.get(entitlement=entitlement, for_month=add_months(entitlement.end_month, 1))
    assert line.change == PaymentLine.Change.STOPPED


def test_taper(paid, people, dibao):
    household, entitlement, review = paid
    services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.WAGE,
        monthly_amount="1200",
        period_start=timezone.localdate(),
        person=household.head,
    )
    with pytest.raises(ValidationError) as exc:
        services.dibao_review_decide(
            review=review,
            actor=people["clerk"],
            findings="x",
            outcome=Outcome.TAPER,
            reasons="y",
            taper_months=7,
        )
    assert exc.value.message_dict["taper_months"] == ["渐退期应为1至6个月"]
    review = _decide_and_confirm(review, people, Outcome.TAPER, "户主就业，给予渐退期", taper_months=3)
    first = add_months(month_start(timezone.localdate()), 1)
    until = add_months(first, 2)
    entitlement.refresh_from_db()
    assert entitlement.params["taper_until"] == until.isoformat()
    assert entitlement.params["taper_amount"] == "800.00"
    assert entitlement.end_month == until
    # Paid the old amount for three months although the income is now above the line, then nothing.
    assert _next_month_amount(dibao, entitlement, 1) == Decimal("800.00")
    assert _next_month_amount(dibao, entitlement, 3) == Decimal("800.00")
    line = PaymentLine.objects.get(entitlement=entitlement, for_month=until)
    assert "渐退期" in line.explanation["formula"]
    assert _next_month_amount(dibao, entitlement, 4) in (None, Decimal("0.00"))
    assert "渐退期3个月" in review.case.transitions.get(transition="decide").comment


def test_taper_needs_work_income(paid, people):
    household, entitlement, review = paid
    services.dibao_review_income_add(
        review=review,
        actor=people["clerk"],
        kind=IncomeKind.SUPPORT,
        monthly_amount="1200",
        period_start=timezone.localdate(),
    )
    # Given the rise comes from support payments only (the old wage ended long ago; test setup)
    IncomeRecord.objects.filter(household=household, kind=IncomeKind.WAGE).update(period_end=D(2020, 12, 31))
    with pytest.raises(ValidationError, match="渐退仅适用于"):
        services.dibao_review_decide(
            review=review,
            actor=people["clerk"],
            findings="x",
            outcome=Outcome.TAPER,
            reasons="y",
            taper_months=3,
        )


# --- maker-checker and refusals -------------------------------------------------------------------------


def test_maker_checker_and_guards(paid, people, make_user):
    household, entitlement, review = paid
    both = make_user("社区经办人", "科长", region="district")
    with pytest.raises(TransitionError, match="尚未登记复核结论"):
        services.dibao_review_submit(review=review, actor=people["clerk"])
    with pytest.raises(TransitionError, match="权限"):
        services.dibao_review_decide(
            review=review, actor=people["chief"], findings="x", outcome=Outcome.KEEP, reasons="y"
        )
    with pytest.raises(ValidationError) as exc:
        services.dibao_review_decide(review=review, actor=both, findings="", outcome=Outcome.KEEP, reasons="")
    assert set(exc.value.message_dict) == {"findings", "reasons"}
    services.dibao_review_decide(
        review=review, actor=both, findings="无变化", outcome=Outcome.KEEP, reasons="无变化"
    )
    services.dibao_review_submit(review=review, actor=people["clerk"])
    with pytest.raises(TransitionError, match="审批分离"):
        services.dibao_review_confirm(review=review, actor=both)
    with pytest.raises(TransitionError, match="权限"):
        services.dibao_review_confirm(review=review, actor=people["clerk"])
    # The chief sends it back; it is the caseworker's again.
    services.dibao_review_send_back(review=review, actor=people["chief"], reason="请补充就业情况")
    case = Case.objects.get(pk=review.pk)
    assert case.status == ReviewStatus.REVIEWING and case.assignee_role == "社区经办人"


def test_confirm_refused_when_income_changed_after_decision(paid, people):
    household, entitlement, review = paid
    services.dibao_review_decide(
        review=review, actor=people["clerk"], findings="无变化", outcome=Outcome.KEEP, reasons="无变化"
    )
    services.dibao_review_submit(review=review, actor=people["clerk"])
    _income(household, people["clerk"], IncomeKind.WAGE, "200")
    with pytest.raises(TransitionError, match="请退回重新复核"):
        services.dibao_review_confirm(review=review, actor=people["chief"])
    assert Case.objects.get(pk=review.pk).status == ReviewStatus.CHIEF_CONFIRMATION


def test_one_open_review_per_entitlement(paid, people):
    household, entitlement, review = paid
    with pytest.raises(TransitionError, match="已有正在办理的复核"):
        services.dibao_review_open(entitlement=entitlement, actor=people["clerk"])


# --- views --------------------------------------------------------------------------------------------


def test_pages_scope_and_permission(client, paid, people, django_assert_max_num_queries):
    household, entitlement, review = paid
    client.force_login(people["clerk"])
    with django_assert_max_num_queries(15):
        response = client.get(reverse("assistance:review_list"))
    assert response.status_code == 200 and review.case.number in response.content.decode()
    response = client.get(reverse("assistance:review_list") + "?status=overdue&export=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    response = client.get(reverse("assistance:review_detail", args=[review.pk]))
    assert response.status_code == 200
    assert "800.00" in response.content.decode()

    # Record the conclusion through the page, submit it, and let the chief confirm it.
    response = client.post(
        reverse("assistance:review_decide", args=[review.pk]),
        {
            "findings": "入户核查，家庭情况无变化",
            "outcome": "keep",
            "reasons": "收入无变化",
            "taper_months": "",
        },
    )
    assert response.status_code == 302
    client.post(reverse("assistance:review_transition", args=[review.pk]), {"name": "submit"})
    assert Case.objects.get(pk=review.pk).status == ReviewStatus.CHIEF_CONFIRMATION
    client.force_login(people["chief"])
    assert client.get(reverse("assistance:review_decide", args=[review.pk])).status_code == 403
    client.post(reverse("assistance:review_transition", args=[review.pk]), {"name": "confirm"})
    assert Case.objects.get(pk=review.pk).status == ReviewStatus.CONFIRMED

    client.force_login(people["clerk21"])
    assert client.get(reverse("assistance:review_detail", args=[review.pk])).status_code == 404
    assert client.get(reverse("assistance:review_income_add", args=[review.pk])).status_code == 404
    assert review.case.number not in client.get(reverse("assistance:review_list")).content.decode()


def test_wrong_outcome_is_shown_beside_the_field(client, paid, people):
    household, entitlement, review = paid
    client.force_login(people["clerk"])
    response = client.post(
        reverse("assistance:review_decide", args=[review.pk]),
        {"findings": "x", "outcome": "increase", "reasons": "y"},
    )
    assert response.status_code == 400
    assert "不能增发" in response.content.decode()
    assert not DibaoReview.objects.get(pk=review.pk).outcome


# --- the review on the case-flow kit --------------------------------------------------------------------


def test_detail_page_proposes_the_recomputed_amount_and_says_why_submit_waits(client, paid, people):
    household, entitlement, review = paid
    # A wage rise found in the review: 400 → 600 → per capita 300 → (600 − 300) × 2 = 600.00.
    client.force_login(people["clerk"])
    response = client.post(
        reverse("assistance:review_income_add", args=[review.pk]),
        {
            "kind": IncomeKind.WAGE,
            "person": household.head.pk,
            "monthly_amount": "200",
            "period_start": timezone.localdate().isoformat(),
            "period_end": "",
            "note": "",
        },
    )
    assert response.status_code == 302 and response.url.endswith("#incomes")
    page = client.get(reverse("assistance:review_detail", args=[review.pk])).content.decode()
    proposal = page.split('id="proposal"', 1)[1].split('id="next"', 1)[0]
    assert "按现有收入重新核算" in proposal
    assert "¥600.00" in proposal and "¥800.00" in proposal and "-¥200.00" in proposal
    # Submitting waits for the conclusion, and the page says so beside the disabled button.
    assert "disabled>提交科长确认</button>" in page and "尚未登记复核结论" in page
    assert "户主" in page and "应复核日期" in page and "申请日期" not in page
    assert reverse("assistance:review_decide", args=[review.pk]) in page


def test_decision_lands_on_the_next_step_and_a_bad_move_is_refused(client, paid, people):
    household, entitlement, review = paid
    client.force_login(people["clerk"])
    response = client.post(
        reverse("assistance:review_decide", args=[review.pk]),
        {
            "findings": "入户核查，家庭情况无变化",
            "outcome": "keep",
            "reasons": "收入无变化",
            "taper_months": "",
        },
    )
    assert response.status_code == 302 and response.url.endswith("#next")
    page = client.get(response.url).content.decode()
    assert "复核结论已登记，请提交科长确认" in page and 'id="outcome"' in page
    response = client.post(
        reverse("assistance:review_transition", args=[review.pk]), {"name": "approve"}, follow=True
    )
    assert "低保动态复核没有“approve”这一操作" in response.content.decode()
    assert Case.objects.get(pk=review.pk).status == ReviewStatus.REVIEWING


def test_list_filters_overdue_and_confirmed_outcome_and_exports_the_columns(client, paid, people):
    import io

    from openpyxl import load_workbook

    household, entitlement, review = paid
    Case.objects.filter(pk=review.pk).update(due_date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(people["clerk"])
    url = reverse("assistance:review_list")
    page = client.get(url).content.decode()
    assert "系统在应复核日期前30天自动发起复核" in page and review.case.number in page
    assert review.case.number in client.get(url + "?status=overdue").content.decode()
    assert review.case.number not in client.get(url + "?outcome=keep").content.decode()
    _decide_and_confirm(review, people, Outcome.KEEP)
    assert review.case.number not in client.get(url + "?status=overdue").content.decode()
    assert review.case.number in client.get(url + "?outcome=keep").content.decode()
    response = client.get(url + "?outcome=keep&export=xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("案件编号", "户主", "户编号") and "新月保障金额（元）" in rows[0]
    assert rows[1][0] == review.case.number and "维持" in rows[1] and "经入户复核" in rows[1]
