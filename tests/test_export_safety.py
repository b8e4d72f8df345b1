"""Exports are safe from formula injection (issue 10, part 3): a name a spreadsheet would take for a formula
(= + - @, a tab or CR first) is written as text in every export — the bank payment roster, the household
export, the 保障对象台账 and the case list — never as a formula. Each file is opened with openpyxl: no cell
is of type "f" and the text is there as entered."""

from __future__ import annotations

import csv
import datetime
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun
from core.benefits.services import entitlement_create
from core.exports import safe_cell, text_safe, write_xlsx, xlsx_response
from core.registry.models import Household, Person
from core.workflow.services import case_create
from reports import services as report_services
from reports.models import ReportJob
from tests.factories import household_with_members

pytestmark = pytest.mark.django_db

NAMES = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tfoo"]


def _cells(workbook):
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def assert_no_formula(workbook, *texts: str) -> None:
    cells = _cells(workbook)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    values = {c.value for c in cells}
    for text in texts:
        assert text in values, f"{text!r} missing from the export"
    for cell in cells:
        if isinstance(cell.value, str) and cell.value in texts:
            assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate


def _households_named(region, names, **fields) -> list[Household]:
    """One household per name, its head so named."""
    households = []
    for name in names:
        household = household_with_members(region, size=2)
        Person.objects.filter(pk=household.head_id).update(name=name)
        if fields:
            Household.objects.filter(pk=household.pk).update(**fields)
        household.refresh_from_db()
        households.append(household)
    return households


# --- the helper itself -------------------------------------------------------------------------------


def test_safe_cell_leaves_numbers_dates_and_plain_text_alone():
    ws = Workbook(write_only=True).create_sheet("x")
    for value in (3, Decimal("1.50"), -2, datetime.date(2026, 1, 1), "王某", "", None, "a=b", "—"):
        assert safe_cell(value, ws) is value
    for value in NAMES + ["\rbar", "=1+1", "-"]:
        cell = safe_cell(value, ws)
        assert cell.value == value and cell.data_type == "s" and cell.quotePrefix


def test_xlsx_response_writes_formula_like_text_as_text():
    response = xlsx_response(
        sheet_title="测试台账",
        header=["姓名", "日期", "金额"],
        rows=([name, datetime.date(2026, 11, 1), Decimal("600.00")] for name in NAMES),
        filename="测试台账-202612011200.xlsx",
        ascii_name='test "ledger"-202612011200.xlsx',
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="test_ledger_-202612011200.xlsx"; '
        "filename*=UTF-8''%E6%B5%8B%E8%AF%95%E5%8F%B0%E8%B4%A6-202612011200.xlsx"
    )
    workbook = load_workbook(io.BytesIO(response.content))
    assert_no_formula(workbook, *NAMES)
    rows = list(workbook.active.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == NAMES
    assert rows[0][1] == datetime.datetime(2026, 11, 1) and rows[0][2] == 600


def test_text_safe_on_an_ordinary_worksheet(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    text_safe(sheet.cell(1, 1, "=1+1"))
    text_safe(sheet.cell(1, 2, "普通"))
    text_safe(sheet.cell(1, 3, 5))
    workbook.save(tmp_path / "t.xlsx")
    loaded = load_workbook(tmp_path / "t.xlsx")
    assert_no_formula(loaded, "=1+1")
    assert [c.value for c in loaded.active[1]] == ["=1+1", "普通", 5]


@pytest.mark.libreoffice
def test_libreoffice_reads_the_text_literally(tmp_path):
    """A real spreadsheet program computes nothing: =1+1 stays "=1+1" (a formula would give 2)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice is missing: .ci/run installs the Debian package libreoffice-calc-nogui")
    source = tmp_path / "names.xlsx"
    names = [*NAMES, "=1+1"]
    with source.open("wb") as output:
        write_xlsx(output, sheet_title="名单", header=["姓名", "人数"], rows=([n, 2] for n in names))
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    text = (tmp_path / "out" / "names.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["姓名", "人数"]
    assert [r[0] for r in rows[1:]] == names
    assert all(r[1] == "2" for r in rows[1:])


# --- the bank payment roster -------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_payment_roster_writes_formula_like_names_and_bank_details_as_text(
    make_user, regions, media, django_capture_on_commit_callbacks
):
    benefit, _ = BenefitType.objects.get_or_create(code="export_safety", defaults={"name": "测试低保"})
    month = datetime.date(2026, 11, 1)
    run = PaymentRun.objects.create(benefit_type=benefit, month=month, status=PaymentRun.Status.LOCKED)
    street = regions["street1"]
    street.name = "=街道"  # an administrator's typo: the street column and its 小计 label stay text
    street.save(update_fields=["name"])
    community = regions["community11"]
    households = _households_named(
        community, NAMES, bank_name="@银行", bank_account="-6217000012345", account_holder="+代领"
    )
    for household in households:
        entitlement = Entitlement.objects.create(
            benefit_type=benefit,
            household=household,
            region_code=community.code,
            area_type=community.area_type,
            start_month=datetime.date(2026, 1, 1),
        )
        PaymentLine.objects.create(
            run=run,
            entitlement=entitlement,
            household=household,
            region_code=community.code,
            for_month=month,
            covered_persons=2,
            base_amount=Decimal("600.00"),
            amount=Decimal("600.00"),
        )
    chief = make_user("科长", region="district")

    with django_capture_on_commit_callbacks(execute=True):
        job = report_services.report_request(
            report_type="payment_roster", params={"run": run.pk, "street": ""}, actor=chief
        )
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE, job.error

    workbook = load_workbook(job.file.path)
    assert_no_formula(workbook, *NAMES, "@银行", "-6217000012345", "+代领", "=街道", "=街道 小计")
    lines = [r for r in workbook.active.iter_rows(min_row=4, values_only=True) if r[2] in NAMES]
    assert len(lines) == len(NAMES)
    assert all(r[6] == 600 and r[9] == 600 for r in lines)  # the amounts are still numbers


# --- the household export (家庭档案) --------------------------------------------------------------------


def test_household_export_writes_formula_like_names_and_addresses_as_text(client, make_user, regions):
    _households_named(regions["community11"], NAMES, address="=地址")
    client.force_login(make_user("社区经办人", region="community11"))

    response = client.get(reverse("registry:household_list"), {"export": "xlsx"})

    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert_no_formula(workbook, *NAMES, "=地址")


# --- the 保障对象台账 ------------------------------------------------------------------------------------


def test_ledger_export_writes_formula_like_names_as_text(client, make_user, regions):
    dibao = BenefitType.objects.get(code="dibao")
    month = timezone.localdate().replace(day=1)
    for household in _households_named(regions["community11"], NAMES):
        entitlement_create(
            benefit_type=dibao,
            household=household,
            region_code=household.region_code,
            area_type=household.area_type,
            start_month=datetime.date(month.year - 1, month.month, 1),
        )
    client.force_login(make_user("科室经办人", region="district"))

    response = client.get(reverse("assistance:ledger"), {"export": "xlsx"})

    assert response.status_code == 200
    assert_no_formula(load_workbook(io.BytesIO(response.content)), *NAMES)


# --- the case list ------------------------------------------------------------------------------------


def test_case_list_export_writes_formula_like_applicants_as_text(client, make_user, regions):
    clerk = make_user("社区经办人", region="community11")
    for household in _households_named(regions["community11"], NAMES):
        case_create(
            case_type="generic", applicant_household=household, region=regions["community11"], actor=clerk
        )
    client.force_login(make_user("科长", region="district"))

    response = client.get(reverse("workflow:case_list"), {"export": "xlsx"})

    assert response.status_code == 200
    assert_no_formula(load_workbook(io.BytesIO(response.content)), *NAMES)
