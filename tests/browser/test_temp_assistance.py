"""临时救助 decided in 元 to the fen, in the browser (issue 13 item 5): a community caseworker registers a 急难型
case (fire), accepts it and enters the amount 1,000.01 元 — one fen above the township's 1,000 元 limit —
on the proposal form, which shows the standard (600 元/月), the limit and the cap beside the amount; the case
can only go to the district; the 科长 approves; the decision and the one-off line pay 1,000.01 元."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import expect

from assistance.models import TempAssistanceCase
from tests.browser.conftest import login
from tests.factories import household_with_members

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def person(regions):
    # Transactional tests flush what the data migrations created: put the standards and parameters back.
    importlib.import_module("assistance.migrations.0001_benefit_types_and_parameters").seed(apps, None)
    importlib.import_module("assistance.migrations.0008_classified_parameters_temp_amounts").seed(apps, None)
    return household_with_members(regions["community11"], size=2).head


def _act(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def test_temp_assistance_amount_in_yuan_to_the_fen(page, make_user, person):
    make_user("社区经办人", region="community11", username="sq_temp", display_name="刘经办")
    make_user("科长", region="district", username="kz_temp", display_name="吴科长")

    login(page, "sq_temp")
    page.goto(page.base_url + f"/assistance/temporary/new/?person={person.pk}")
    page.get_by_label("救助类型").select_option("emergency")
    page.get_by_label("困难原因").select_option("fire")
    page.get_by_label("困难情况说明").fill("住房失火，衣物被褥等生活用品全部烧毁。")
    _act(page, "登记申请")
    temp = TempAssistanceCase.objects.get(person=person)
    detail_url = page.base_url + f"/assistance/temporary/{temp.pk}/"
    _act(page, "受理")

    # The proposal form: the amount in 元, the standard and the limits beside it
    page.goto(page.base_url + f"/assistance/temporary/{temp.pk}/proposal/")
    form = page.locator("main")
    expect(form).to_contain_text("城市低保月标准 600.00 元/月")
    expect(form).to_contain_text("急难型乡镇（街道）审批上限 1,000.00 元/人")
    page.get_by_label("调查核实情况").fill("经入户核实，住房烧毁，家中无其他收入来源。")
    page.get_by_label("拟救助金额（元）").fill("1000.01")
    _act(page, "保存")
    assert page.url.startswith(detail_url)
    expect(page.locator("body")).to_contain_text("¥1,000.01")
    expect(page.locator("body")).to_contain_text(
        "超过急难型乡镇（街道）审批上限 1,000.00 元/人，由区民政局审批"
    )

    # One fen above the limit: only the district path is open
    expect(page.get_by_role("button", name="报乡镇（街道）审批", exact=True)).to_be_disabled()
    _act(page, "超出乡镇审批权限，报区民政局审批")

    page.context.clear_cookies()
    login(page, "kz_temp")
    page.goto(detail_url)
    page.fill("#comment-approve", "同意救助")
    _act(page, "区民政局审批同意")
    page.goto(detail_url)
    expect(page.locator("#decision")).to_contain_text("¥1,000.01")

    temp.refresh_from_db()
    assert temp.approved and temp.approved_amount == Decimal("1000.01")
    assert temp.payment_line.amount == Decimal("1000.01")
