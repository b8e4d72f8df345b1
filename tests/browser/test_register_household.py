"""A community caseworker logs in, registers a household with two members in the browser (the ID number
fills birth date and sex), and finds it again by ID number. A caseworker of another street cannot."""

import datetime

import pytest

from core.registry.crypto import id_number_q
from core.registry.models import Household, Person
from tests.browser.conftest import login
from tests.factories import valid_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill_member(row, *, name, relation, id_number):
    row.locator("input[name$='-name']").fill(name)
    row.locator("select[name$='-relation']").select_option(relation)
    row.locator("input[name$='-id_number']").fill(id_number)


def test_register_household_and_find_it(page, make_user, regions):
    make_user("社区经办人", region="community11", username="sq_browser")
    make_user("社区经办人", region="community21", username="sq_other")
    head_id = valid_id_number(datetime.date(1975, 3, 14), male=True)
    wife_id = valid_id_number(datetime.date(1978, 9, 2), male=False)

    login(page, "sq_browser")
    page.goto(page.base_url + "/registry/households/new/")
    page.locator("input[name=address]").fill("正阳街道绿园路18号3单元502室")

    rows = page.locator("[data-member-row]:visible")
    _fill_member(rows.nth(0), name="张建国", relation="head", id_number=head_id)
    # Typing the ID filled birth date and sex in the browser.
    assert rows.nth(0).locator("input[name$='-birth_date']").input_value() == "1975-03-14"
    assert rows.nth(0).locator("select[name$='-sex']").input_value() == "M"

    page.locator("[data-add-member]").first.click()
    _fill_member(rows.nth(1), name="李秀英", relation="spouse", id_number=wife_id.lower())
    assert rows.nth(1).locator("select[name$='-sex']").input_value() == "F"

    page.get_by_role("button", name="保存家庭").click()
    page.wait_for_url("**/registry/households/*/")
    assert "张建国" in page.content()

    household = Household.objects.get(id_number_q(head_id, "head__"))
    assert household.region_code == regions["community11"].code
    assert set(Person.objects.filter(household=household).values_list("id_number", flat=True)) == {
        head_id,
        wife_id,
    }
    # The full ID number is masked on the page.
    assert wife_id not in page.content()

    # Find it again by ID number from the header search box.
    page.locator("header input[name=q]").fill(wife_id)
    page.locator("header input[name=q]").press("Enter")
    page.wait_for_url("**/registry/search/**")
    assert "李秀英" in page.content()
    assert household.number in page.content()

    # A caseworker of another street finds nothing, and the household's URL is a 404.
    page.context.clear_cookies()
    login(page, "sq_other")
    page.goto(page.base_url + f"/registry/search/?q={wife_id}")
    assert "李秀英" not in page.content()
    response = page.goto(page.base_url + f"/registry/households/{household.pk}/")
    assert response.status == 404
    assert "页面不存在" in page.content()


def test_wrong_check_digit_is_refused_beside_the_field(page, make_user, regions, tmp_path):
    screenshot_dir = tmp_path
    make_user("社区经办人", region="community11", username="sq_browser2")
    good = valid_id_number(datetime.date(1980, 1, 1), male=True)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")

    login(page, "sq_browser2")
    page.goto(page.base_url + "/registry/households/new/")
    page.locator("input[name=address]").fill("测试地址1号")
    row = page.locator("[data-member-row]:visible").nth(0)
    _fill_member(row, name="王五", relation="head", id_number=bad)
    assert "校验位" in row.locator("[data-id-hint]").inner_text()
    page.get_by_role("button", name="保存家庭").click()
    page.wait_for_load_state()
    id_field = row.locator("input[name$='-id_number']")
    assert "is-invalid" in id_field.get_attribute("class")
    assert "校验位错误" in id_field.locator("xpath=..").inner_text()
    page.screenshot(path=str(screenshot_dir / "household_form_error.png"), full_page=True)
    assert not Household.objects.exists()
