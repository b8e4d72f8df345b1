"""Issue 13 items 8 and 2: 低保边缘 and 刚性支出困难家庭 recognised by the 低保 confirmation (一次申请、一次性确认),
kept in a register with validity and renewal (one active per household and category, also under
concurrency), the 专项救助 referral list per department — and 单人保 allowed only for a 低保边缘 household's
members who meet the condition, refused at entry and again at approval.

Urban 低保标准 600 元 (demo), 低保边缘 up to 1.5 × 600 = 900 元 per capita."""

from __future__ import annotations

import datetime
import io
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance import services
from assistance.case_types import DibaoStatus
from assistance.low_income import rules as low_income_rules
from assistance.low_income.models import LowIncomeRecognition
from assistance.low_income.services import low_income_recognise
from assistance.models import Decision, Investigation
from core.registry.models import IncomeRecord
from core.workflow.models import Case
from core.workflow.services import TransitionError
from tests.concurrency import race_two
from tests.factories import household_with_members

D = datetime.date
EDGE, RIGID = "edge", "rigid"


@pytest.fixture
def people(make_user):
    return {
        "clerk": make_user("社区经办人", region="community11"),
        "clerk_b": make_user("社区经办人", region="community11"),
        "reviewer": make_user("街道审核员", region="street1"),
        "chief": make_user("科长", region="district"),
        "other_street": make_user("街道审核员", region="street2"),
    }


def _household(regions, *, wage: str, size: int = 2):
    household = household_with_members(regions["community11"], size=size)
    IncomeRecord.objects.create(
        household=household,
        person=household.head,
        kind="wage",
        monthly_amount=Decimal(wage),
        period_start=D(2020, 1, 1),
    )
    return household


def _create(household, people, **kwargs):
    return services.dibao_application_create(
        household=household, actor=people["clerk"], promise_signed=True, authorisation_signed=True, **kwargs
    )


def _to_chief(application, people, clock):
    """Accepted, visited and posted ten days ago; today the 公示 has run and the street has reviewed it."""
    clerk = people["clerk"]
    with clock.days_ago(10):
        services.dibao_application_accept(application=application, actor=clerk)
        services.investigation_record(
            application=application,
            actor=clerk,
            visit_date=timezone.localdate(),
            visitors=[clerk, people["clerk_b"]],
            findings="家庭2人，户主务工。",
            economic_check_result=Investigation.EconomicCheck.ELIGIBLE,
        )
        services.dibao_notice_start(
            application=application, actor=clerk, start_date=timezone.localdate(), place="社区公示栏"
        )
    services.dibao_notice_finish(application=application, actor=clerk)
    services.dibao_street_review(application=application, actor=people["reviewer"], comment="同意")
    return application


def _apply_to_chief(household, people, clock, **kwargs):
    with clock.days_ago(10):
        application = _create(household, people, **kwargs)
    return _to_chief(application, people, clock)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _one_year_on(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1) - datetime.timedelta(days=1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28) - datetime.timedelta(days=1)


# --- 刚性支出 inputs decide the category ------------------------------------------------------------------


def test_rigid_spending_entered_on_the_application_decides_the_rigid_category(people, regions):
    # per capita 2,000 / 2 = 1,000 > 900: neither 低保 nor 边缘. Yearly per capita 12,000 < last year's urban
    # disposable income (parameter); spending 15,000 > 50 % of the yearly income 24,000.
    household = _household(regions, wage="2000")
    undeclared = _create(household, people)
    row = {a.code: a for a in low_income_rules.application_assessment(undeclared, timezone.localdate())}[
        "rigid"
    ]
    assert row.fits is None and "无法判断" in row.reason
    services.dibao_application_withdraw(application=undeclared, actor=people["clerk"], reason="重新申请")

    application = _create(
        household,
        people,
        categories=["dibao", RIGID],
        rigid_spending={"medical": "12000", "education": "3000", "rehabilitation": "", "basic_living": None},
    )
    assert application.rigid_spending == {"medical": "12000.00", "education": "3000.00"}
    row = {a.code: a for a in low_income_rules.application_assessment(application, timezone.localdate())}[
        "rigid"
    ]
    assert row.fits is True
    assert "15000.00 元超过家庭年收入 24000.00 元的 50%" in row.reason

    # The same household spending 11,000 (≤ 12,000) does not fit.
    application.rigid_spending = {"medical": "11000"}
    row = {a.code: a for a in low_income_rules.application_assessment(application, timezone.localdate())}[
        "rigid"
    ]
    assert row.fits is False and "未超过" in row.reason


def test_rigid_spending_must_be_an_amount(people, regions):
    household = _household(regions, wage="2000")
    with pytest.raises(ValidationError) as refused:
        _create(household, people, rigid_spending={"medical": "-5"})
    assert "医疗支出须为0至1000万元之间的金额" in refused.value.message_dict["rigid_spending"][0]


# --- recognised by the confirmation --------------------------------------------------------------------


def test_confirmation_recognises_an_edge_household_and_prints_it(people, regions, clock):
    household = _household(regions, wage="1400")  # per capita 700: 600 ≤ 700 ≤ 900
    application = _apply_to_chief(household, people, clock, categories=["dibao", EDGE])
    chief = _client(people["chief"])
    page = chief.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    assert "不予批准低保，认定为低保边缘或刚性支出困难家庭" in page

    form = chief.get(reverse("assistance:dibao_recognise", args=[application.pk])).content.decode()
    assert "低保边缘家庭（家庭月人均收入 700.00 元" in form
    assert 'value="edge"' in form and 'value="rigid"' not in form  # only what the assessment fits
    response = chief.post(
        reverse("assistance:dibao_recognise", args=[application.pk]),
        {"category": EDGE, "reasons": "家庭月人均收入700元，不低于低保标准600元"},
    )
    assert response.status_code == 302

    case = Case.objects.get(pk=application.pk)
    assert case.status == DibaoStatus.REFUSED
    decision = Decision.objects.get(application_id=application.pk)
    assert not decision.approved and "认定为低保边缘家庭" in decision.reasons
    recognition = LowIncomeRecognition.objects.get(household=household)
    today = timezone.localdate()
    assert (recognition.category, recognition.status, recognition.case_id) == (EDGE, "active", case.pk)
    assert (recognition.valid_from, recognition.valid_until) == (today, _one_year_on(today))
    assert "700.00" in recognition.basis

    page = chief.get(reverse("assistance:dibao_detail", args=[application.pk])).content.decode()
    assert "同时认定为低保边缘家庭" in page

    pdf = chief.get(reverse("assistance:dibao_decision_pdf", args=[application.pk]))
    assert pdf.status_code == 200
    path = f"/tmp/h4_edge_{application.pk}.pdf"
    with open(path, "wb") as fh:
        fh.write(pdf.content)
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout
    squeezed = "".join(text.split())
    assert "最低生活保障不予批准决定书" in squeezed
    assert "低保边缘家庭认定" in squeezed and "决定认定为低保边缘家庭" in squeezed
    fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True, check=True).stdout
    assert "Noto" in fonts and "CJK" in fonts


def test_plain_refusal_with_reasons_stays_possible_and_recognises_nothing(people, regions, clock):
    household = _household(regions, wage="1400")
    application = _apply_to_chief(household, people, clock)
    services.dibao_refuse(application=application, actor=people["chief"], reasons="收入超过低保标准")
    assert Case.objects.get(pk=application.pk).status == DibaoStatus.REFUSED
    assert not LowIncomeRecognition.objects.exists()


def test_recognition_refused_when_the_assessment_does_not_fit(people, regions, clock):
    household = _household(regions, wage="1400")  # 边缘, but no 刚性支出 declared
    application = _apply_to_chief(household, people, clock)
    with pytest.raises(TransitionError, match="不符合刚性支出困难家庭条件"):
        services.dibao_refuse_and_recognise(
            application=application, actor=people["chief"], category=RIGID, reasons="不符合低保"
        )
    assert Case.objects.get(pk=application.pk).status == DibaoStatus.CHIEF_CONFIRMATION
    assert not LowIncomeRecognition.objects.exists()
    assert not Decision.objects.filter(application_id=application.pk).exists()


def test_rigid_household_recognised_for_at_most_twelve_months(people, regions, clock):
    household = _household(regions, wage="2000")
    application = _apply_to_chief(
        household, people, clock, categories=["dibao", RIGID], rigid_spending={"medical": "15000"}
    )
    services.dibao_refuse_and_recognise(
        application=application, actor=people["chief"], category=RIGID, reasons="人均收入高于低保边缘上限"
    )
    recognition = LowIncomeRecognition.objects.get(household=household)
    assert recognition.category == RIGID
    assert recognition.valid_until == _one_year_on(recognition.valid_from)


def test_renewal_by_a_new_decision_and_the_end_on_dibao(people, regions, clock):
    household = _household(regions, wage="1400")
    first = _apply_to_chief(household, people, clock)
    services.dibao_refuse_and_recognise(
        application=first, actor=people["chief"], category=EDGE, reasons="不符合"
    )
    old = LowIncomeRecognition.objects.get()
    # Nearing its end: listed 待续期
    LowIncomeRecognition.objects.filter(pk=old.pk).update(
        valid_from=timezone.localdate() - datetime.timedelta(days=350),
        valid_until=timezone.localdate() + datetime.timedelta(days=10),
    )
    old.refresh_from_db()
    assert old.state_on(timezone.localdate()) == "待续期"

    second = _apply_to_chief(household, people, clock)
    services.dibao_refuse_and_recognise(
        application=second, actor=people["chief"], category=EDGE, reasons="不符合"
    )
    old.refresh_from_db()
    new = LowIncomeRecognition.objects.get(status="active")
    assert old.status == "renewed" and second.case.number in old.end_reason
    assert new.renews_id == old.pk and new.case_id == second.pk

    # Income falls: the household is granted 低保 as a whole, and is no longer 边缘.
    IncomeRecord.objects.filter(household=household).update(monthly_amount=Decimal("400"))
    third = _apply_to_chief(household, people, clock)
    services.dibao_approve(application=third, actor=people["chief"])
    new.refresh_from_db()
    assert new.status == "ended" and "纳入最低生活保障" in new.end_reason
    assert not LowIncomeRecognition.objects.filter(status="active").exists()


# --- one active recognition per household and category --------------------------------------------------


def test_the_database_keeps_one_active_recognition_per_household_and_category(people, regions):
    household = _household(regions, wage="1400")
    case = _create(household, people).case
    common = {
        "household": household,
        "case": case,
        "region_code": household.region_code,
        "valid_from": D(2026, 1, 1),
        "valid_until": D(2026, 12, 31),
        "decided_by": people["chief"],
    }
    LowIncomeRecognition.objects.create(category=EDGE, **common)
    LowIncomeRecognition.objects.create(category=RIGID, **common)  # another category: allowed
    LowIncomeRecognition.objects.create(category=EDGE, status="renewed", **common)  # not active: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        LowIncomeRecognition.objects.create(category=EDGE, **common)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_recognitions_make_one_and_the_other_the_chinese_error(regions, make_user):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    clerk = make_user("社区经办人", region="community11")
    chief = make_user("科长", region="district")
    household = _household(regions, wage="1400")
    with transaction.atomic():
        case = services.dibao_application_create(
            household=household, actor=clerk, promise_signed=True, authorisation_signed=True
        ).case

    def recognise():
        return low_income_recognise(household=household, category=EDGE, case=case, actor=chief, basis="并发")

    outcomes = race_two(recognise)

    assert isinstance(outcomes["first"], LowIncomeRecognition), outcomes
    assert isinstance(outcomes["second"], ValidationError), outcomes
    assert "该家庭已有有效的低保边缘家庭认定" in outcomes["second"].messages[0]
    assert LowIncomeRecognition.objects.filter(household=household, status="active").count() == 1


# --- 单人保 (item 2) -------------------------------------------------------------------------------------


def _severely_disabled(household):
    member = household.members.exclude(pk=household.head_id).get()
    member.disability_category = "physical"
    member.disability_grade = 1
    member.birth_date = D(1980, 5, 1)
    member.save(update_fields=["disability_category", "disability_grade", "birth_date"])
    return member


def test_single_cover_refused_for_a_household_that_is_not_edge(people, regions):
    household = _household(regions, wage="400")  # per capita 200: a 低保 household, not 边缘
    member = _severely_disabled(household)
    with pytest.raises(ValidationError) as refused:
        _create(household, people, members=[member])
    assert "须为低保边缘家庭" in refused.value.message_dict["members"][0]
    assert not Case.objects.exists()


def test_single_cover_refused_for_a_member_without_the_condition(people, regions):
    household = _household(regions, wage="1400")  # 边缘
    head = household.head
    with pytest.raises(ValidationError) as refused:
        _create(household, people, members=[head])
    assert f"{head.name}不符合单人保条件" in refused.value.message_dict["members"][0]


def test_single_cover_error_shown_beside_the_members_field(people, regions):
    household = _household(regions, wage="400")
    member = _severely_disabled(household)
    response = _client(people["clerk"]).post(
        reverse("assistance:dibao_create") + f"?household={household.pk}",
        {
            "members": [member.pk],
            "categories": ["dibao"],
            "applied_on": timezone.localdate().isoformat(),
            "poverty_cause": "disability",
            "promise_signed": "on",
            "authorisation_signed": "on",
        },
    )
    assert response.status_code == 400 or response.status_code == 200
    form = response.context["form"]
    assert "须为低保边缘家庭" in form.errors["members"][0]
    assert not Case.objects.exists()


def test_single_cover_of_an_edge_households_severely_disabled_member(people, regions, clock):
    household = _household(regions, wage="1400")  # per capita 700: 边缘; the wage is the head's
    member = _severely_disabled(household)
    application = _apply_to_chief(household, people, clock, members=[member])
    decision = services.dibao_approve(application=application, actor=people["chief"])
    # A one-person household on the member's own income (none): 补差 600 + 重度残疾 30 % × 600 = 780.
    assert decision.monthly_amount == Decimal("780.00")
    assert decision.entitlement.params["covered_person_ids"] == [member.pk]
    assert decision.explanation["single_cover"]
    # The same decision recognises the household as 低保边缘.
    recognition = LowIncomeRecognition.objects.get(household=household)
    assert (recognition.category, recognition.case_id, recognition.status) == (EDGE, application.pk, "active")


def test_single_cover_refused_again_at_approval_when_no_longer_edge(people, regions, clock):
    household = _household(regions, wage="1400")
    member = _severely_disabled(household)
    application = _apply_to_chief(household, people, clock, members=[member])
    IncomeRecord.objects.filter(household=household).update(monthly_amount=Decimal("3000"))  # 1,500 > 900
    with pytest.raises(TransitionError, match="须为低保边缘家庭"):
        services.dibao_approve(application=application, actor=people["chief"])
    assert Case.objects.get(pk=application.pk).status == DibaoStatus.CHIEF_CONFIRMATION
    assert not Decision.objects.filter(application_id=application.pk).exists()
    assert not LowIncomeRecognition.objects.exists()


def test_single_cover_for_a_household_recognised_in_the_register(people, regions, clock):
    """A household recognised 边缘 earlier stays 边缘 for 单人保 while the recognition is in force."""
    household = _household(regions, wage="1400")
    first = _apply_to_chief(household, people, clock)
    services.dibao_refuse_and_recognise(
        application=first, actor=people["chief"], category=EDGE, reasons="不符合"
    )
    member = _severely_disabled(household)
    application = _create(household, people, members=[member])
    assert list(application.members.all()) == [member]


# --- the register and the referral lists ---------------------------------------------------------------


def _recognised(household, people, *, category=EDGE, until_days=200):
    case = _create(household, people).case
    today = timezone.localdate()
    return LowIncomeRecognition.objects.create(
        household=household,
        category=category,
        case=case,
        region_code=household.region_code,
        valid_from=today - datetime.timedelta(days=30),
        valid_until=today + datetime.timedelta(days=until_days),
        decided_by=people["chief"],
    )


def test_register_lists_filters_exports_and_is_scoped(people, regions):
    soon = _recognised(_household(regions, wage="1400"), people, until_days=10)
    later = _recognised(_household(regions, wage="2000"), people, category=RIGID)
    chief = _client(people["chief"])
    url = reverse("assistance:low_income_list")
    page = chief.get(url).content.decode()
    assert soon.household.number in page and later.household.number in page
    assert "待续期" in page

    page = chief.get(url, {"expiring": "on"}).content.decode()
    assert soon.household.number in page and later.household.number not in page
    page = chief.get(url, {"category": RIGID}).content.decode()
    assert later.household.number in page and soon.household.number not in page

    export = chief.get(url, {"state": "renewal", "export": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(export.content)).active.values)
    numbers = [row[0] for row in rows[1:]]
    assert soon.household.number in numbers and later.household.number not in numbers

    # Another street sees none of them.
    page = _client(people["other_street"]).get(url).content.decode()
    assert soon.household.number not in page and later.household.number not in page


def test_referral_list_per_department(people, regions):
    household = _household(regions, wage="1400", size=3)
    head, spouse, child = list(household.members.order_by("pk"))
    today = timezone.localdate()
    head.birth_date, head.labour_capacity = D(today.year - 40, 1, 1), "full"
    spouse.birth_date, spouse.disability_category, spouse.disability_grade = (
        D(today.year - 38, 1, 1),
        "physical",
        2,
    )
    child.birth_date = D(today.year - 10, 1, 1)
    for person in (head, spouse, child):
        person.save()
    _recognised(household, people)
    not_recognised = _household(regions, wage="1400")
    chief = _client(people["chief"])
    url = reverse("assistance:referrals_list")

    def names(**params) -> set[str]:
        response = chief.get(url, {**params, "export": "xlsx"})
        rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
        return {row[0] for row in rows[1:]}

    assert names() == {head.name, spouse.name, child.name}
    assert not_recognised.head.name not in names()
    assert names(department="medical") == {spouse.name}
    assert names(department="education") == {child.name}
    assert names(department="housing") == {head.name}
    assert names(department="employment") == {head.name}
    page = chief.get(url).content.decode()
    assert "医疗救助（医保部门）" in page and "就业救助（人社部门）" in page
    assert _client(people["other_street"]).get(url, {"export": "xlsx"}).status_code == 200
    assert head.name not in _client(people["other_street"]).get(url).content.decode()
