"""A community caseworker imports the community's 户籍台账: downloads the template from 家庭档案, fills it
in, uploads a file with a wrong row (nothing imported, the error list downloaded and read), corrects it,
uploads again (imported, the 户编号 list downloaded), then uploads the same file a second time (refused:
everyone is registered already). A 局领导 (no right to register households) sees no 批量导入."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.registry.models import Household, Person
from tests.browser.conftest import login
from tests.factories import valid_id_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _download(page, name: str):
    with page.expect_download() as info:
        page.get_by_role("link", name=name).first.click()
    return load_workbook(io.BytesIO(info.value.path().read_bytes()))


def test_caseworker_imports_a_ledger_after_correcting_it(page, make_user, regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user("社区经办人", region="community11", username="sq_import")
    make_user("局领导", region="district", username="ld_import")
    community = regions["community11"]

    login(page, "ld_import")
    page.goto(page.base_url + "/registry/households/")
    expect(page.get_by_role("heading", name="家庭档案")).to_be_visible()
    expect(page.get_by_role("link", name="批量导入")).to_have_count(0)
    page.context.clear_cookies()

    login(page, "sq_import")
    page.goto(page.base_url + "/registry/households/")
    page.get_by_role("link", name="批量导入").click()
    page.wait_for_url("**/reports/new/household_import/")
    expect(page.get_by_role("heading", name="户籍台账导入")).to_be_visible()
    workbook = _download(page, "下载导入模板")
    assert [row[0] for row in workbook["区划代码"].iter_rows(min_row=2, values_only=True)] == [community.code]

    sheet = workbook["家庭成员"]
    head, wrong = valid_id_number(), valid_id_number()
    wrong = wrong[:17] + ("1" if wrong[17] != "1" else "2")  # a wrong check digit
    sheet.append(
        ["A", community.code, "幸福路3号", None, "周一", None, head, "户主", None, None, None, "13911112222"]
    )
    sheet.append(["A", None, None, None, "周二", None, wrong, "子女"])
    path = tmp_path / "台账.xlsx"
    workbook.save(path)

    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url(page.base_url + "/reports/")
    expect(page.get_by_text("导入失败：共 2 行，其中 1 行有误，未导入任何数据")).to_be_visible()
    assert not Person.objects.filter(name__in=["周一", "周二"]).exists()
    errors = list(_download(page, "错误明细").active.iter_rows(values_only=True))
    assert errors[0] == ("行号", "户序号", "姓名", "错误说明")
    assert errors[1][:3] == (3, "A", "周二") and "校验" in errors[1][3]

    sheet.cell(row=3, column=7, value=valid_id_number())
    workbook.save(path)
    page.goto(page.base_url + "/reports/new/household_import/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url(page.base_url + "/reports/")
    expect(page.get_by_text("“户籍台账导入（台账.xlsx）”已导入 2 条")).to_be_visible()
    household = Household.objects.get(members__name="周一")
    assert household.living_members == 2 and household.phone == "13911112222"
    result = list(_download(page, "导入结果").active.iter_rows(values_only=True))
    assert result[1][:5] == ("A", household.number, community.name, "周一", 2)

    # the same file again: both people are registered now, so nothing is written twice
    page.goto(page.base_url + "/reports/new/household_import/")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url(page.base_url + "/reports/")
    expect(page.get_by_role("alert")).to_contain_text("导入失败：共 2 行，其中 2 行有误，未导入任何数据")
    assert Household.objects.filter(members__name="周一").count() == 1

    page.goto(page.base_url + "/registry/households/?q=周一")
    expect(page.get_by_role("link", name=household.number)).to_be_visible()


def test_a_file_that_is_not_a_workbook_is_refused_on_the_form(page, make_user, tmp_path):
    make_user("社区经办人", region="community11", username="sq_import2")
    login(page, "sq_import2")
    page.goto(page.base_url + "/reports/new/household_import/")
    path = tmp_path / "台账.csv"
    path.write_bytes(io.BytesIO(b"a,b\n").getvalue())
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_text("只能导入 .xlsx 格式的 Excel 文件")).to_be_visible()
