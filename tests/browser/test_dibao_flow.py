"""The 低保 main path in the browser (issue 3, "Must hold"): a community caseworker files the application,
accepts it — landing on the application page's 办理 card with the 入户调查 button — records the home visit
and publishes the 公示 (all ten days ago: the test clock), finishes it today; the street reviewer reviews; the 科长 confirms — each in their own login — and next month's payment run
pays the household the amount computed by hand:

    urban standard 600.00; head aged 45 with a wage of 300.00, a child aged 10
    per-capita income 300 ÷ 2 = 150.00 → 补差 (600 − 150) × 2 = 900.00
    分类施保: the child is a minor, 10 % × 600 = 60.00 (the head meets no rule)
    total 960.00
"""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from assistance.models import AssistanceApplication
from core.benefits.models import BenefitType, PaymentLine
from core.benefits.months import add_months, month_start
from core.benefits.services import payment_run_recalculate
from core.registry.choices import IncomeKind, Relation
from core.registry.models import IncomeRecord, Membership
from tests.browser.conftest import login
from tests.factories import HouseholdFactory, PersonFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, month=1, day=1)


@pytest.fixture
def household(regions):
    # Transactional tests flush what the data migrations created: put the 低保 standards back.
    importlib.import_module("assistance.migrations.0001_benefit_types_and_parameters").seed(apps, None)
    importlib.import_module("assistance.migrations.0008_classified_parameters_temp_amounts").seed(apps, None)
    region = regions["community11"]
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    head = PersonFactory(
        household=household, relation=Relation.HEAD, name="孙建华", birth_date=_years_ago(45)
    )
    child = PersonFactory(
        household=household, relation=Relation.CHILD, name="孙小雨", birth_date=_years_ago(10)
    )
    for person in (head, child):
        Membership.objects.create(
            person=person, household=household, relation=person.relation, joined_on=datetime.date(2020, 1, 1)
        )
    household.head = head
    household.save(update_fields=["head"])
    IncomeRecord.objects.create(
        household=household,
        person=head,
        kind=IncomeKind.WAGE,
        monthly_amount=Decimal("300"),
        period_start=datetime.date(2020, 1, 1),
    )
    return household


def _act(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def test_dibao_application_to_payment_run(page, make_user, household, clock):
    make_user("社区经办人", region="community11", username="sq_dibao", display_name="刘经办")
    make_user("社区经办人", region="community11", username="sq_dibao2", display_name="陈经办")
    make_user("街道审核员", region="street1", username="jd_dibao", display_name="周审核")
    make_user("科长", region="district", username="kz_dibao", display_name="吴科长")
    today = timezone.localdate()
    clock.shift(-10)  # the application, the visit and the 公示 ten days ago

    # The community caseworker files the application for the household.
    login(page, "sq_dibao")
    page.goto(page.base_url + f"/assistance/dibao/new/?household={household.pk}")
    page.get_by_label("主要致贫原因").select_option("no_labour")
    page.get_by_label("申请人已签署告知承诺书").check()
    page.get_by_label("申请人已签署家庭经济状况核对授权书").check()
    _act(page, "登记申请")
    expect(page.locator("h1")).to_contain_text("低保审核确认")
    application = AssistanceApplication.objects.get(household=household)
    detail_url = page.base_url + f"/assistance/dibao/{application.pk}/"

    # 受理 lands on the 办理 card, where the home visit by two named staff is entered.
    _act(page, "受理")
    assert page.url.endswith("#next")
    expect(page.locator("#next").get_by_role("link", name="登记入户调查")).to_be_in_viewport()
    page.locator("#next").get_by_role("link", name="登记入户调查").click()
    page.get_by_label("刘经办（测试社区1-1）").check()
    page.get_by_label("陈经办（测试社区1-1）").check()
    page.get_by_label("调查情况").fill("家庭2人，户主灵活就业月收入约300元，子女在读小学，租住平房。")
    page.get_by_label("家庭经济状况核对结果").select_option("eligible")
    _act(page, "保存")
    expect(page.locator("#investigations")).to_contain_text("刘经办")

    # 公示 from that day (the date field), closed without objection today.
    expect(page.locator("#id_start_date")).to_have_value((today - datetime.timedelta(days=10)).isoformat())
    page.fill("#id_place", "测试社区1-1居委会公示栏")
    _act(page, "提交并发布公示")
    expect(page.locator("#notices")).to_contain_text("测试社区1-1居委会公示栏")
    clock.shift(0)
    page.context.clear_cookies()
    login(page, "sq_dibao")
    page.goto(detail_url)
    _act(page, "公示期满无异议，报街道审核")
    expect(page.locator(".badge").first).to_contain_text("街道审核")

    # The street reviewer reviews in a login of their own.
    page.context.clear_cookies()
    login(page, "jd_dibao")
    page.goto(detail_url)
    expect(page.locator("#proposal")).to_contain_text("¥960.00")  # the amount proposed for review
    page.fill("#comment-street_review", "材料齐全，同意上报")
    _act(page, "街道审核通过")
    page.goto(detail_url)
    expect(page.locator(".badge").first).to_contain_text("科长确认")

    # The 科长 confirms.
    page.context.clear_cookies()
    login(page, "kz_dibao")
    page.goto(detail_url)
    page.fill("#comment-approve", "同意")
    _act(page, "确认批准")
    page.goto(detail_url)
    expect(page.locator("#decision")).to_contain_text("¥960.00")
    expect(page.locator("#decision")).to_contain_text("确认批准")

    # Next month's run pays the household the hand-computed amount.
    next_month = add_months(month_start(today), 1)
    run = payment_run_recalculate(benefit_type=BenefitType.objects.get(code="dibao"), month=next_month)
    line = PaymentLine.objects.get(run=run, household=household)
    assert (line.base_amount, line.increment_amount, line.amount) == (
        Decimal("900.00"),
        Decimal("60.00"),
        Decimal("960.00"),
    )
    assert line.covered_persons == 2
