"""A 低保 dynamic review ending in a 减发 decision, clicked through in Chromium, and its printed notice (issue
13, "Must hold"). The household of two adults (urban standard 600.00) was approved on a wage of 400.00:

    per-capita income 400 ÷ 2 = 200.00 → 补差 (600 − 200) × 2 = 800.00 a month

The community caseworker records in the review that the spouse now earns 200.00 a month:

    per-capita income 600 ÷ 2 = 300.00 → (600 − 300) × 2 = 600.00 a month

and records 减发 with the reasons; the 科长 — another user — confirms. The decided review's page links the
减发决定书; the PDF downloaded from it names 减发 and both amounts, with the appeal rights, in embedded
Noto CJK fonts; the caseworker records its 送达 on the page."""

import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assistance.models import DibaoReview
from assistance.review import services as review_services
from core.workflow.models import DecisionDelivery
from tests.browser.conftest import login
from tests.test_issue13_notices import paid_household

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _act(page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def test_review_decrease_decided_and_its_notice_printed(page, make_user, regions, tmp_path):
    clerk = make_user("社区经办人", region="community11", username="sq_review", display_name="刘经办")
    make_user("科长", region="district", username="kz_review", display_name="吴科长")
    section = make_user("科室经办人", region="district", username="ks_review")
    household, _ = paid_household(regions["community11"], clerk)
    (review,) = review_services.dibao_reviews_schedule(on_date=timezone.localdate(), actor=section)
    spouse = household.members.exclude(pk=household.head_id).get()
    detail_url = page.base_url + f"/assistance/dibao/reviews/{review.pk}/"

    # The community caseworker records the spouse's new wage in the review
    login(page, "sq_review")
    page.goto(detail_url)
    expect(page.locator("#proposal")).to_contain_text("¥800.00")
    page.locator("#next").get_by_role("link", name="登记收入").click()
    page.get_by_label("收入类型").select_option("wage")
    page.get_by_label("成员").select_option(str(spouse.pk))
    page.get_by_label("月均金额（元）").fill("200")
    page.get_by_label("起始日期").fill("2020-01-01")
    _act(page, "保存")
    # The recomputed amount is lower
    expect(page.locator("#proposal")).to_contain_text("¥600.00")

    # 减发 with the written reasons, then to the 科长
    page.goto(detail_url)
    page.locator("#next").get_by_role("link", name="登记复核结论").click()
    page.get_by_label("复核情况").fill("入户核查：配偶在社区超市务工，月工资约200元。")
    page.get_by_label("复核结论").select_option("decrease")
    page.get_by_label("理由").fill("配偶新增务工收入每月200元，家庭月人均收入提高至300元。")
    _act(page, "保存")
    page.goto(detail_url)
    page.fill("#comment-submit", "请科长确认")
    _act(page, "提交科长确认")
    review.refresh_from_db()
    assert review.outcome == DibaoReview.Outcome.DECREASE

    # The 科长 (another user: maker and checker differ) confirms
    page.context.clear_cookies()
    login(page, "kz_review")
    page.goto(detail_url)
    page.fill("#comment-confirm", "同意减发")
    _act(page, "确认复核结论")
    review.refresh_from_db()
    assert not review.is_open and review.case.status == "confirmed"
    assert (review.previous_amount, review.new_amount) == (Decimal("800.00"), Decimal("600.00"))

    # The decided review links its notice; the printed PDF names 减发 and both amounts
    page.goto(detail_url)
    link = page.get_by_role("link", name="打印减发决定书")
    expect(link).to_be_visible()
    response = page.request.get(page.base_url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.body())
    for tool in ("pdftotext", "pdffonts"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: .ci/run installs poppler-utils")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    text = "".join(text.split())
    assert "最低生活保障减发决定书" in text and "减发" in text
    assert "800.00" in text and "600.00" in text
    month = review.effective_month
    assert f"{month.year}年{month.month}月起" in text
    assert "配偶新增务工收入每月200元" in text
    assert "行政复议" in text and "行政诉讼" in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts

    # The caseworker records its 送达 on the page
    page.context.clear_cookies()
    login(page, "sq_review")
    page.goto(detail_url)
    form = page.locator("#delivery-form")
    form.get_by_label("送达方式").select_option("direct")
    form.get_by_role("button", name="登记送达").click()
    page.wait_for_load_state()
    expect(page.locator("#delivery")).to_contain_text("直接送达")
    delivery = DecisionDelivery.objects.get(case_id=review.pk)
    assert delivery.delivered_on == timezone.localdate()
    assert delivery.document_label == "最低生活保障减发决定书"
