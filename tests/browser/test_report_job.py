"""A district 科长 requests the monthly statistical report (民政统计月报) in the report centre, watches its
row until the progress bar has finished, downloads the workbook and opens it with openpyxl."""

import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun
from reports import tasks
from reports.models import ReportJob
from tests.browser.conftest import login
from tests.factories import household_with_members

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONTH = datetime.date(2026, 10, 1)


@pytest.fixture
def dibao_household(regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Transactional tests flush the rows the data migrations created: put back the one benefit type used.
    dibao, _ = BenefitType.objects.get_or_create(code="dibao", defaults={"name": "最低生活保障"})
    household = household_with_members(regions["community11"], size=3)
    entitlement = Entitlement.objects.create(
        benefit_type=dibao,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=MONTH,
    )
    run = PaymentRun.objects.create(benefit_type=dibao, month=MONTH, status=PaymentRun.Status.LOCKED)
    PaymentLine.objects.create(
        run=run,
        entitlement=entitlement,
        household=household,
        region_code=household.region_code,
        for_month=MONTH,
        covered_persons=3,
        base_amount=Decimal("825.00"),
        amount=Decimal("825.00"),
    )
    return household


def test_chief_requests_the_monthly_report_and_downloads_it(
    page, make_user, dibao_household, tmp_path, monkeypatch
):
    make_user("科长", region="district", username="kz_report")
    # Hold the queued build back (instead of eager Celery finishing it inside the request), so the page
    # first shows the job queued with its progress bar and then — by htmx polling — finished.
    queued = []
    monkeypatch.setattr(tasks.build_report, "delay", lambda *args: queued.append(args))

    login(page, "kz_report")
    page.goto(page.base_url + "/reports/")
    page.get_by_role("button", name="生成报表").click()
    page.get_by_role("link", name="民政统计月报").click()
    page.wait_for_url("**/reports/new/monthly_statistics/")
    page.locator("input[name=month]").fill("2026-10")
    page.get_by_role("button", name="提交生成").click()
    page.wait_for_url(page.base_url + "/reports/")
    expect(page.get_by_text("已提交“民政统计月报（2026年10月）”")).to_be_visible()

    job = ReportJob.objects.get(report_type="monthly_statistics")
    row = page.locator(f"#job-{job.pk}")
    expect(row.get_by_role("progressbar")).to_be_visible()
    expect(row.get_by_text("排队中")).to_be_visible()
    assert queued == [(job.pk, 1)]  # the job and its attempt

    tasks.build_report(job.pk)  # the worker's turn, as Celery would run it

    # The row polls (htmx, every 2 s) until the job is finished: the bar goes, the badge and link come.
    expect(row.get_by_role("progressbar")).to_have_count(0, timeout=20000)
    expect(row.get_by_text("已完成")).to_be_visible()

    with page.expect_download() as download_info:
        row.get_by_role("link", name="下载").click()
    download = download_info.value
    assert download.suggested_filename == "民政统计月报_2026年10月_绿园区.xlsx"

    saved = tmp_path / download.suggested_filename  # openpyxl goes by the .xlsx extension
    download.save_as(saved)
    workbook = load_workbook(saved)
    assert workbook.sheetnames == ["城乡低保", "特困人员", "临时救助", "两项补贴"]
    sheet = workbook["城乡低保"]
    assert sheet["A1"].value == "城乡最低生活保障情况月报表"
    assert sheet["A2"].value == "填报单位：绿园区"
    assert [sheet.cell(6, c).value for c in (1, 2, 3)] == ["合计", 1, 3]  # 1 household, 3 persons
    assert [sheet.cell(6, c).value for c in (19, 20)] == [1, 3]  # all of them new this month
