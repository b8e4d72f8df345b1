"""民政统计月报 (monthly statistics workbook) and the dashboard's figures.

The dataset is small and hand-counted (report month October 2026, previous month September):

低保 households (area, members on 2026-10-01)          entitlement
  H1 community11 urban: F 65 disabled no-labour, M 40 partial, F 10 none   2026-01 → open
  H2 community12 urban: M 30 full, F 50 full                               2026-10 → open (new)
  H3 community22 rural: M 70 none (+ a member who died 2026-08-15)        2026-01 → open, 因病
  H4 community21 urban: two members                                       2026-01 → 2026-09 (exited)
  H5 community22 rural: three members, 单人保 of F 45 disabled partial    2026-03 → open
"""

from __future__ import annotations

import csv
import datetime
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assistance import reports as assistance_reports
from assistance.models import TempAssistanceCase
from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun
from core.portal.dashboard import bar_chart
from core.portal.models import FiguresSnapshot
from core.registry.choices import LabourCapacity, Relation
from core.registry.models import Person
from core.workflow import services as workflow_services
from core.workflow.models import Case
from reports import services
from reports.models import ReportJob
from reports.statistics import (
    Col,
    StatisticsTable,
    build_statistics,
    register_statistics_section,
    unregister_statistics_section,
)
from tests.factories import HouseholdFactory, PersonFactory, valid_id_number

M = datetime.date(2026, 10, 1)
SEP = datetime.date(2026, 9, 1)
SHEETS = ["城乡低保", "特困人员", "临时救助", "两项补贴"]


# --- dataset -------------------------------------------------------------------------------------------------


def _person(household, birth: datetime.date, *, female: bool, relation=Relation.OTHER, **kwargs) -> Person:
    return PersonFactory(
        household=household,
        relation=relation,
        birth_date=birth,
        id_number=valid_id_number(birth, male=not female),
        sex="F" if female else "M",
        **kwargs,
    )


def _household(region, members: list[dict]):
    household = HouseholdFactory(region=region, region_code=region.code, area_type=region.area_type)
    people = [_person(household, **m) for m in members]
    household.head = people[0]
    household.save(update_fields=["head"])
    return household, people


def _age(years: int, months: int = 3) -> datetime.date:
    """A birth date giving `years` full years on the report month's first day."""
    return datetime.date(M.year - years, M.month, 1) - datetime.timedelta(days=30 * months)


def _entitlement(code, *, household=None, person=None, start, end=None, area=None, **params):
    holder = household or person.household
    return Entitlement.objects.create(
        benefit_type=BenefitType.objects.get(code=code),
        household=household,
        person=person,
        region_code=holder.region_code,
        area_type=area or holder.area_type,
        start_month=start,
        end_month=end,
        status=Entitlement.Status.ENDED if end else Entitlement.Status.ACTIVE,
        params=params,
    )


def _run(code, month, *, kind=PaymentRun.Kind.MONTHLY, locked=True):
    return PaymentRun.objects.create(
        benefit_type=BenefitType.objects.get(code=code),
        month=month,
        kind=kind,
        status=PaymentRun.Status.LOCKED if locked else PaymentRun.Status.DRAFT,
    )


def _line(run, entitlement, base, increment="0", *, line_type=PaymentLine.LineType.REGULAR, for_month=None):
    base, increment = Decimal(base), Decimal(increment)
    regular = line_type == PaymentLine.LineType.REGULAR
    return PaymentLine.objects.create(
        run=run,
        entitlement=entitlement,
        household=entitlement.household,
        person=entitlement.person,
        region_code=entitlement.region_code,
        line_type=line_type,
        for_month=for_month or run.month,
        base_amount=base if regular else 0,
        increment_amount=increment if regular else 0,
        amount=base + increment,
    )


@pytest.fixture
def dataset(db, regions, make_user):
    r = regions
    none, partial = LabourCapacity.NONE, LabourCapacity.PARTIAL
    h1, _ = _household(
        r["community11"],
        [
            {"birth": _age(65), "female": True, "disability_category": "physical", "labour_capacity": none},
            {"birth": _age(40), "female": False, "labour_capacity": partial},
            {"birth": _age(10), "female": True, "labour_capacity": none},
        ],
    )
    h2, _ = _household(
        r["community12"], [{"birth": _age(30), "female": False}, {"birth": _age(50), "female": True}]
    )
    h3, _ = _household(
        r["community22"],
        [
            {"birth": _age(70), "female": False, "labour_capacity": none},
            {"birth": _age(72), "female": True, "death_date": datetime.date(2026, 8, 15)},
        ],
    )
    h4, _ = _household(
        r["community21"], [{"birth": _age(45), "female": False}, {"birth": _age(44), "female": True}]
    )
    h5, h5_people = _household(
        r["community22"],
        [
            {"birth": _age(48), "female": False},
            {"birth": _age(45), "female": True, "disability_category": "mental", "labour_capacity": partial},
            {"birth": _age(20), "female": False},
        ],
    )
    e1 = _entitlement("dibao", household=h1, start=datetime.date(2026, 1, 1))
    e2 = _entitlement("dibao", household=h2, start=M)
    e3 = _entitlement("dibao", household=h3, start=datetime.date(2026, 1, 1), poverty_cause="illness")
    e4 = _entitlement("dibao", household=h4, start=datetime.date(2026, 1, 1), end=SEP)
    e5 = _entitlement(
        "dibao", household=h5, start=datetime.date(2026, 3, 1), covered_person_ids=[h5_people[1].pk]
    )

    october, september = _run("dibao", M), _run("dibao", SEP)
    _line(october, e1, "900", "60")
    _line(october, e2, "500")
    _line(october, e3, "410", "41")
    _line(october, e5, "300")
    _line(october, e1, "120", line_type=PaymentLine.LineType.BACK_PAY, for_month=SEP)
    _line(september, e1, "900", "60")
    _line(september, e4, "700")
    _line(september, e3, "410", "41")
    one_off = _run("dibao", datetime.date(2026, 2, 1), kind=PaymentRun.Kind.ONE_OFF)
    _line(one_off, e1, "200", line_type=PaymentLine.LineType.ONE_OFF)
    _line(_run("dibao", datetime.date(2025, 12, 1)), e1, "900", "60")  # last year: not in 本年累计

    # 特困: one 集中供养 in the city, one 分散供养 new this month in the village with its care fee.
    _, (t1,) = _household(r["community11"], [{"birth": _age(80), "female": False}])
    _, (t2,) = _household(r["community22"], [{"birth": _age(75), "female": True}])
    tb1 = _entitlement("tekun_basic", person=t1, start=datetime.date(2025, 5, 1), tier="集中供养")
    tb2 = _entitlement("tekun_basic", person=t2, start=M, tier="分散供养")
    tc2 = _entitlement("tekun_care", person=t2, start=M, tier="全自理")
    basic_run, care_run = _run("tekun_basic", M), _run("tekun_care", M)
    _line(basic_run, tb1, "1100")
    _line(basic_run, tb2, "533")
    _line(care_run, tc2, "188")

    # 两项补贴: D1 (city) both subsidies, D2 (village) the care subsidy.
    _, (d1,) = _household(r["community12"], [{"birth": _age(50), "female": False}])
    _, (d2,) = _household(r["community22"], [{"birth": _age(30), "female": True}])
    living_run, care_run = _run("disability_living", M, locked=False), _run("disability_care", M)
    _line(living_run, _entitlement("disability_living", person=d1, start=datetime.date(2026, 6, 1)), "100")
    _line(care_run, _entitlement("disability_care", person=d1, start=datetime.date(2026, 6, 1)), "200")
    _line(care_run, _entitlement("disability_care", person=d2, start=M), "200")

    # 临时救助: 急难型 1,000 (city, closed in October), 支出型 2,400 (village, closed in March), one refused.
    worker = make_user("科室经办人", region="district")
    for person, kind, amount, approved, closed in (
        (t1, "emergency", "1000", True, datetime.datetime(2026, 10, 12, 10, 0)),
        (d2, "expense", "2400", True, datetime.datetime(2026, 3, 3, 10, 0)),
        (t1, "expense", "500", False, datetime.datetime(2026, 10, 20, 10, 0)),
    ):
        region = r["community11"] if person.household.region_code.endswith("001001") else r["community22"]
        case = workflow_services.case_create(
            case_type="generic", applicant_person=person, region=region, actor=worker
        )
        Case.objects.filter(pk=case.pk).update(closed_at=timezone.make_aware(closed))
        TempAssistanceCase.objects.create(
            case=case,
            person=person,
            household=person.household,
            region_code=person.household.region_code,
            kind=kind,
            cause="accident" if kind == "emergency" else "medical",
            cause_detail="测试",
            applied_on=closed.date(),
            year=closed.year,
            approved=approved,
            approved_amount=Decimal(amount),
            created_by=worker,
        )
    return regions


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _request(actor, params, capture):
    with capture(execute=True):
        job = services.report_request(report_type="monthly_statistics", params=params, actor=actor)
    job.refresh_from_db()
    return job


def _cells(sheet) -> dict[str, dict[str, object]]:
    """{row label: {header path: value}} of a statistics sheet: every leaf column named by the labels of
    its header cells from top to bottom, joined by "/" (merged cells resolved to their top-left)."""
    merged = {}
    for rng in sheet.merged_cells.ranges:
        for row in range(rng.min_row, rng.max_row + 1):
            for col in range(rng.min_col, rng.max_col + 1):
                merged[(row, col)] = (rng.min_row, rng.min_col)
    first_data = next(r for r in range(3, 20) if sheet.cell(r, 1).value in ("合计", "测试数据"))
    paths = {}
    for col in range(2, sheet.max_column + 1):
        labels = []
        for row in range(3, first_data):
            value = sheet.cell(*merged.get((row, col), (row, col))).value
            if value and (not labels or labels[-1] != value):
                labels.append(value)
        paths[col] = "/".join(labels)
    result = {}
    for row in range(first_data, sheet.max_row + 1):
        label = sheet.cell(row, 1).value
        if label in ("合计", "城市", "农村", "测试数据"):
            result[label] = {paths[c]: sheet.cell(row, c).value for c in range(2, sheet.max_column + 1)}
    return result


@pytest.fixture
def district_workbook(dataset, make_user, media, django_capture_on_commit_callbacks):
    chief = make_user("科长", region="district")
    job = _request(chief, {"month": "2026-10"}, django_capture_on_commit_callbacks)
    assert job.status == ReportJob.Status.DONE, job.error
    return job, load_workbook(job.file.path)


# --- the workbook -----------------------------------------------------------------------------------------------


def test_workbook_has_one_sheet_per_section_laid_out_as_official_forms(district_workbook):
    job, workbook = district_workbook
    assert job.filename == "民政统计月报_2026年10月_绿园区.xlsx"
    assert job.title == "民政统计月报（2026年10月）" and not job.contains_personal_data
    assert workbook.sheetnames == SHEETS
    sheet = workbook["城乡低保"]
    assert sheet["A1"].value == "城乡最低生活保障情况月报表"
    assert "A1:" in str(sheet.merged_cells)
    info = [c.value for c in sheet[2] if c.value]
    assert info == ["填报单位：绿园区", "报告期：2026年10月", "计量单位：户、人、元"]
    # Multi-level header: 保障人数 spans its six leaves; 按年龄分 spans three; the stub spans three rows.
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A3:A5" in merged
    assert sheet["B3"].value == "保障户数（户）" and "B3:B5" in merged
    assert sheet["C3"].value == "保障人数（人）" and "C3:H3" in merged
    assert sheet["E4"].value == "按年龄分" and "E4:G4" in merged
    assert sheet["E5"].value == "老年人（60周岁及以上）"
    assert [sheet.cell(r, 1).value for r in (6, 7, 8)] == ["合计", "城市", "农村"]
    footer = " ".join(str(c.value) for row in sheet.iter_rows(min_row=9) for c in row if c.value)
    assert "单位负责人：" in footer and "填报日期：" in footer
    assert f"填报人：{job.requested_by.display_name}" in footer
    assert sheet.page_setup.orientation == "landscape" and sheet.freeze_panes == "B6"
    for name in SHEETS[1:]:
        assert workbook[name]["A1"].value.endswith("月报表")
        assert workbook[name]["A2"].value == "填报单位：绿园区"


def test_dibao_figures_are_the_hand_counted_ones(district_workbook):
    _, workbook = district_workbook
    cells = _cells(workbook["城乡低保"])
    city, village, total = cells["城市"], cells["农村"], cells["合计"]
    assert city["保障户数（户）"] == 2 and village["保障户数（户）"] == 2 and total["保障户数（户）"] == 4
    assert city["保障人数（人）/合计"] == 5
    assert village["保障人数（人）/合计"] == 2  # H3's dead member and H5's uncovered members do not count
    assert city["保障人数（人）/其中：女性"] == 3 and village["保障人数（人）/其中：女性"] == 1
    assert city["保障人数（人）/按年龄分/老年人（60周岁及以上）"] == 1
    assert city["保障人数（人）/按年龄分/成年人（18—59周岁）"] == 3
    assert city["保障人数（人）/按年龄分/未成年人（未满18周岁）"] == 1
    assert total["保障人数（人）/其中：残疾人"] == 2
    assert city["按劳动能力分（人）/无劳动能力"] == 2 and village["按劳动能力分（人）/部分丧失劳动能力"] == 1
    assert village["按致贫原因分（户）/因病"] == 1 and village["按致贫原因分（户）/未登记"] == 1
    assert city["按致贫原因分（户）/未登记"] == 2
    assert city["本月新增/户数"] == 1 and city["本月新增/人数"] == 2
    assert city["本月退出/户数"] == 1 and city["本月退出/人数"] == 2 and village["本月退出/户数"] == 0
    assert city["本月支出（元）/合计"] == 1580
    assert city["本月支出（元）/基本保障金"] == 1400 and city["本月支出（元）/分类施保金"] == 60
    assert city["本月支出（元）/补发/扣回"] == 120
    assert city["本年累计支出（元）/合计"] == 3440 and city["本年累计支出（元）/一次性发放"] == 200
    assert village["本年累计支出（元）/合计"] == 1202
    assert total["本月支出（元）/合计"] == 1580 + 751
    assert city["月人均补助水平（元/人）"] == 292 and village["月人均补助水平（元/人）"] == 375.5
    assert city["低保标准（元/人·月）"] == 600 and village["低保标准（元/人·月）"] == 410
    assert total["低保标准（元/人·月）"] == "—"


def test_other_sections_figures(district_workbook):
    _, workbook = district_workbook
    tekun = _cells(workbook["特困人员"])
    assert tekun["合计"]["供养人数（人）/合计"] == 2
    assert tekun["城市"]["供养人数（人）/集中供养"] == 1 and tekun["农村"]["供养人数（人）/分散供养"] == 1
    assert tekun["农村"]["本月新增（人）"] == 1
    assert tekun["农村"]["本月支出（元）/照料护理费/分散供养"] == 188
    assert tekun["合计"]["本月支出（元）/合计"] == 1100 + 533 + 188

    temporary = _cells(workbook["临时救助"])
    assert temporary["合计"]["本月/救助人次/合计"] == 1 and temporary["城市"]["本月/救助人次/急难型"] == 1
    assert temporary["合计"]["本月/救助金额（元）/合计"] == 1000
    assert temporary["合计"]["本年累计/救助人次/合计"] == 2
    assert temporary["农村"]["本年累计/救助金额（元）/支出型"] == 2400

    disability = _cells(workbook["两项补贴"])
    assert disability["合计"]["困难残疾人生活补贴/享受人数（人）"] == 1
    assert disability["合计"]["重度残疾人护理补贴/享受人数（人）"] == 2
    assert disability["农村"]["重度残疾人护理补贴/本月新增（人）"] == 1
    assert disability["合计"]["支出合计（元）/本月"] == 500
    # The living-subsidy run of October is a draft: the sheet says its figures may change.
    notes = " ".join(str(c.value) for row in workbook["两项补贴"].iter_rows() for c in row if c.value)
    assert "困难残疾人生活补贴10月发放批次尚未锁定" in notes


def test_totals_equal_the_sums_of_their_parts(district_workbook):
    _, workbook = district_workbook
    for name in SHEETS:
        cells = _cells(workbook[name])
        for path, value in cells["合计"].items():
            if isinstance(value, int | float) and "人均" not in path and "标准" not in path:
                assert value == pytest.approx(cells["城市"][path] + cells["农村"][path]), (name, path)
    dibao = _cells(workbook["城乡低保"])
    for row in dibao.values():
        persons = row["保障人数（人）/合计"]
        assert persons == sum(row[k] for k in row if k.startswith("保障人数（人）/按年龄分/"))
        assert persons == sum(row[k] for k in row if k.startswith("按劳动能力分（人）/"))
        assert row["保障户数（户）"] == sum(row[k] for k in row if k.startswith("按致贫原因分（户）/"))
        spending = [k for k in row if k.startswith("本月支出（元）/") and not k.endswith("/合计")]
        assert row["本月支出（元）/合计"] == pytest.approx(sum(row[k] for k in spending))


def test_street_users_report_counts_only_their_street(
    dataset, make_user, media, django_capture_on_commit_callbacks
):
    street_chief = make_user("科长", region="street1")
    job = _request(street_chief, {"month": "2026-10"}, django_capture_on_commit_callbacks)
    assert job.status == ReportJob.Status.DONE, job.error
    workbook = load_workbook(job.file.path)
    assert workbook["城乡低保"]["A2"].value == "填报单位：绿园区测试街道1"
    dibao = _cells(workbook["城乡低保"])
    assert dibao["合计"]["保障户数（户）"] == 2 and dibao["农村"]["保障户数（户）"] == 0
    assert dibao["合计"]["本月退出/户数"] == 0  # H4 lives in street 2
    assert dibao["合计"]["本月支出（元）/合计"] == 1580
    assert _cells(workbook["特困人员"])["合计"]["供养人数（人）/合计"] == 1
    assert _cells(workbook["临时救助"])["合计"]["本年累计/救助人次/合计"] == 1


def test_sections_use_a_bounded_number_of_queries(dataset, make_user, django_assert_max_num_queries):
    chief = make_user("科长", region="district")
    with django_assert_max_num_queries(20):
        build_statistics(chief, M)


# --- the total check ----------------------------------------------------------------------------------------------


@pytest.fixture
def broken_section():
    def build(ctx):
        table = StatisticsTable(
            title="故意出错的测试表",
            unit="人",
            columns=[Col("合计", "total"), Col("分项", children=[Col("甲", "a"), Col("乙", "b")])],
        )
        table.add_row("row", "测试数据", {"total": 120, "a": 100, "b": 18})
        table.check_row_sums("total", ["a", "b"])
        return table

    register_statistics_section("test_broken", "坏表", build, order=999)
    yield
    unregister_statistics_section("test_broken")


def test_a_total_that_is_not_the_sum_of_its_parts_fails_the_job_naming_the_cell(
    dataset, broken_section, make_user, media, django_capture_on_commit_callbacks
):
    chief = make_user("科长", region="district")
    job = _request(chief, {"month": "2026-10"}, django_capture_on_commit_callbacks)
    assert job.status == ReportJob.Status.FAILED
    assert job.error == "坏表!B5 合计 120 ≠ 分项之和 118"
    assert not job.file


def test_month_parameter_is_validated(make_user, regions):
    from django.core.exceptions import ValidationError

    chief = make_user("科长", region="district")
    for bad in ("", "2026-13", "2099-01"):
        with pytest.raises(ValidationError):
            services.report_request(report_type="monthly_statistics", params={"month": bad}, actor=chief)
    assert not ReportJob.objects.exists()


# --- LibreOffice ----------------------------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_workbook_opens_in_libreoffice_with_chinese_headers_and_totals(district_workbook, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice is missing: .ci/run installs the Debian package libreoffice-calc-nogui")
    job, _ = district_workbook
    source = tmp_path / "stats.xlsx"
    source.write_bytes(job.file.read())
    out = tmp_path / "out"
    # Token 12 = -1: every sheet to its own CSV, named <file>-<sheet>.csv (LibreOffice 7.2+).
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    for name in SHEETS:
        assert (out / f"stats-{name}.csv").exists(), sorted(p.name for p in out.iterdir())
    rows = list(csv.reader(io.StringIO((out / "stats-城乡低保.csv").read_text(encoding="utf-8"))))
    assert rows[0][0] == "城乡最低生活保障情况月报表"
    assert rows[2][:3] == ["城乡", "保障户数（户）", "保障人数（人）"]
    assert rows[4][4] == "老年人（60周岁及以上）"
    total = next(r for r in rows if r and r[0] == "合计")
    assert total[1] == "4" and total[2] == "7"
    spending_col = rows[3].index("合计", 20)  # 本月支出 合计 (the first 合计 of the third header row)
    assert Decimal(total[spending_col].replace(",", "")) == Decimal("2331.00")


# --- dashboard ------------------------------------------------------------------------------------------------------


def test_bar_chart_scales_to_the_largest_value():
    chart = bar_chart([("甲", 10), ("乙", 5), ("丙", 0)])
    widths = [r["width"] for r in chart["rows"]]
    assert widths[0] == 170 and widths[1] == 85 and widths[2] == 0
    assert bar_chart([("甲", 0)])["empty"]


def test_dashboard_shows_this_months_figures_with_bounded_queries(
    client, dataset, make_user, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2026, 10, 20))
    cache.clear()
    chief = make_user("科长", region="district")
    client.force_login(chief)
    with django_assert_max_num_queries(32):
        page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="assistance_caseload"' in page and 'data-panel="assistance_spending"' in page
    assert "<svg" in page and 'data-bar="城市低保" data-value="5"' in page
    assert 'data-bar="特困人员" data-value="2"' in page
    # 城市低保 spending this month: 1,580.00; the total includes 临时救助 1,000.00.
    assert "1,580.00" in page
    total = Decimal("1580") + 751 + 1100 + 533 + 188 + 500 + 1000
    assert f"¥{total:,.2f}" in page

    # The figures are cached per scope and day: the second view runs none of the panel queries; with the
    # cache emptied (a restart) the database snapshot serves them in one query; without a snapshot either
    # every panel's queries run again.
    with django_assert_max_num_queries(30) as first:
        client.get(reverse("dashboard"))
    cache.clear()
    with django_assert_max_num_queries(40) as from_snapshot:
        client.get(reverse("dashboard"))
    assert len(from_snapshot.captured_queries) == len(first.captured_queries) + 1
    cache.clear()
    FiguresSnapshot.objects.all().delete()
    with django_assert_max_num_queries(40) as computed:
        client.get(reverse("dashboard"))
    assert len(first.captured_queries) + 5 <= len(computed.captured_queries)

    # A community caseworker sees the caseload of their community but not the spending panel.
    worker = make_user("社区经办人", region="community11")
    client.force_login(worker)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="assistance_caseload"' in page and 'data-panel="assistance_spending"' not in page
    assert 'data-bar="城市低保" data-value="3"' in page


def test_panel_figures_equal_the_report(dataset, make_user):
    chief = make_user("科长", region="district")
    figures = assistance_reports.caseload_panel(chief, datetime.date(2026, 10, 5))
    by_label = {r["label"]: r for r in figures["rows"]}
    assert by_label["城市低保"]["households"] == 2 and by_label["城市低保"]["persons"] == 5
    assert by_label["城市低保"]["new"] == 1 and by_label["城市低保"]["exited"] == 1
    assert by_label["重度残疾人护理补贴"]["persons"] == 2
