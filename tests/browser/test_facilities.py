"""A street reviewer registers a meal site in the browser, records a district inspection with one hazard
(two inspectors), sees it on the facility page with the 整改通知书 link, and records its rectification."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from core.facilities.models import Facility, FacilityKind, Hazard
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def kinds(transactional_db):
    # A transactional test's flush removes the kinds the data migration seeded.
    if not FacilityKind.objects.exists():
        importlib.import_module("core.facilities.migrations.0002_seed_kinds").seed_kinds(apps, None)


def test_register_inspect_and_rectify(page, make_user, regions):
    make_user("街道审核员", region="street1", username="jd_browser", display_name="王审核")
    make_user("社区经办人", region="community11", username="sq_browser", display_name="张经办")

    login(page, "jd_browser")
    page.get_by_role("link", name="设施台账").click()
    page.wait_for_url("**/facilities/")
    page.get_by_role("link", name="登记设施").click()
    page.locator("select[name=kind]").select_option(label="助餐点")
    page.locator("input[name=name]").fill("测试社区老年助餐点")
    page.locator("select[name=region]").select_option(regions["community11"].code)
    page.locator("input[name=address]").fill("正阳街道绿园路18号")
    page.locator("select[name=operator_type]").select_option("public")
    page.locator("input[name=capacity]").fill("60")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/facilities/*/")
    facility = Facility.objects.get(name="测试社区老年助餐点")
    assert facility.region_code == regions["community11"].code

    page.get_by_role("link", name="录入检查").click()
    page.wait_for_url("**/inspections/new/")
    page.locator("select[name=kind]").select_option("district")
    page.get_by_label("王审核").check()
    page.get_by_label("张经办").check()
    row = page.locator("[data-hazard-row]").first
    row.locator("textarea[name$='-description'], input[name$='-description']").fill("燃气管道未设报警装置")
    row.locator("select[name$='-severity']").select_option("major")
    row.locator("input[name$='-deadline']").fill(timezone.localdate().isoformat())
    row.locator("input[name$='-responsible_person']").fill("李厨师长")
    page.get_by_role("button", name="保存检查记录").click()
    page.wait_for_url("**/facilities/*/#inspection-*")
    assert "燃气管道未设报警装置" in page.content()
    assert page.get_by_role("link", name="整改通知书").count() == 1

    page.get_by_role("link", name="登记整改").click()
    page.locator("textarea[name=note]").fill("已加装燃气报警器")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/facilities/*/#hazard-*")
    assert "待复查" in page.content()
    assert Hazard.objects.get().rectified_on == timezone.localdate()
