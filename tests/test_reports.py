"""Report jobs (报表中心), the payment roster (花名册) and PDF documents (公示名单)."""

from __future__ import annotations

import csv
import datetime
import gc
import io
import logging
import shutil
import subprocess
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.db.utils import DataError
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from core.accounts.models import AccessLog
from core.benefits.models import BenefitType, Entitlement, PaymentLine, PaymentRun, Standard
from core.workflow import services as workflow_services
from reports import payment_roster, services
from reports.models import ReportJob
from reports.payment_roster import HEADERS, build_payment_roster, roster_lines, stream_rows, write_roster_xlsx
from reports.registry import BuildContext, ReportError, ReportParamsForm, register_report, unregister_report
from tests.factories import household_with_members

MONTH = datetime.date(2026, 11, 1)


def _make_lines(run: PaymentRun, community, count: int, households: list) -> list[PaymentLine]:
    """`count` lines in one community: varied amounts, one of them a 补发 line. The households hold several
    entitlements each, so they are fixed-term (a household has one open-ended entitlement per type); the
    roster reads the lines only."""
    entitlements = Entitlement.objects.bulk_create(
        Entitlement(
            benefit_type=run.benefit_type,
            household=households[i % len(households)],
            region_code=community.code,
            area_type=community.area_type,
            start_month=datetime.date(2026, 1, 1),
            end_month=run.month,
        )
        for i in range(count)
    )
    lines = [
        PaymentLine(
            run=run,
            entitlement=e,
            household=e.household,
            region_code=community.code,
            line_type=PaymentLine.LineType.BACK_PAY if i == 1 else PaymentLine.LineType.REGULAR,
            for_month=datetime.date(2026, 9, 1) if i == 1 else run.month,
            covered_persons=1 + i % 3,
            base_amount=Decimal("300.00") + i,
            increment_amount=Decimal("60.50") if i % 2 else Decimal("0.00"),
            other_amount=Decimal("10.00") if i % 5 == 0 else Decimal("0.00"),
            amount=Decimal("300.00") + i + (Decimal("60.50") if i % 2 else 0) + (10 if i % 5 == 0 else 0),
            change=PaymentLine.Change.NEW if i == 0 else PaymentLine.Change.UNCHANGED,
        )
        for i, e in enumerate(entitlements)
    ]
    return PaymentLine.objects.bulk_create(lines)


def _households(community, n=2):
    result = []
    for i in range(n):
        household = household_with_members(community, size=2)
        household.bank_name = "吉林银行绿园支行"
        household.bank_account = f"62170000123456{i:05d}"
        household.account_holder = "张代领" if i == 0 else ""
        household.save(update_fields=["bank_name", "bank_account", "account_holder"])
        result.append(household)
    return result


@pytest.fixture
def dibao(db):
    benefit, _ = BenefitType.objects.get_or_create(code="report_test", defaults={"name": "测试最低生活保障"})
    Standard.objects.create(
        benefit_type=benefit,
        area_type="urban",
        amount=Decimal("600"),
        effective_from=datetime.date(2021, 7, 1),
    )
    return benefit


@pytest.fixture
def roster_run(dibao, regions):
    """A run with lines in three communities of two streets (street 1: 3 + 2 lines, street 2: 4 lines)."""
    run = PaymentRun.objects.create(benefit_type=dibao, month=MONTH, status=PaymentRun.Status.LOCKED)
    for key, count in (("community11", 3), ("community12", 2), ("community22", 4)):
        _make_lines(run, regions[key], count, _households(regions[key], 2))
    lines = PaymentLine.objects.filter(run=run)
    run.line_count = lines.count()
    run.total_amount = sum(line.amount for line in lines)
    run.save(update_fields=["line_count", "total_amount"])
    return run


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _request(actor, report_type, params, capture):
    with capture(execute=True):
        job = services.report_request(report_type=report_type, params=params, actor=actor)
    job.refresh_from_db()
    return job


def _rows(job_or_path):
    path = job_or_path.file.path if isinstance(job_or_path, ReportJob) else job_or_path
    sheet = load_workbook(path, read_only=True).worksheets[0]
    return [list(r) for r in sheet.iter_rows(values_only=True)]


# --- jobs --------------------------------------------------------------------------------------------


def test_roster_job_runs_through_the_task_to_done(
    make_user, roster_run, media, django_capture_on_commit_callbacks
):
    chief = make_user("科长", region="district")

    job = _request(
        chief, "payment_roster", {"run": roster_run.pk, "street": ""}, django_capture_on_commit_callbacks
    )

    assert job.status == ReportJob.Status.DONE, job.error
    assert job.progress == 100
    assert job.started_at and job.finished_at
    assert job.region_code == "220106"
    assert job.record_count == 9
    assert job.contains_personal_data
    assert job.filename == "测试最低生活保障发放花名册_2026年11月_全区.xlsx"
    assert job.file.name.startswith("reports/") and job.file.name.endswith(".xlsx")
    assert (media / job.file.name).exists()
    assert "测试最低生活保障 2026年11月 · 全区" in job.title


class _BrokenForm(ReportParamsForm):
    pass


@pytest.fixture
def broken_reports():
    def explained(ctx: BuildContext):
        ctx.progress(30, "读取数据")
        raise ReportError("所选月份尚未计算发放批次，无法生成报表")

    def crashing(ctx: BuildContext):
        raise ZeroDivisionError("boom")

    register_report("test_explained", "测试报表", explained, "workflow.view_case", _BrokenForm)
    register_report("test_crashing", "测试报表", crashing, "workflow.view_case", _BrokenForm)
    yield
    unregister_report("test_explained")
    unregister_report("test_crashing")


def test_failing_builder_marks_the_job_failed_with_its_chinese_reason(
    make_user, broken_reports, media, django_capture_on_commit_callbacks
):
    user = make_user("社区经办人")

    job = _request(user, "test_explained", {}, django_capture_on_commit_callbacks)

    assert job.status == ReportJob.Status.FAILED
    assert job.error == "所选月份尚未计算发放批次，无法生成报表"
    assert not job.file
    assert job.finished_at is not None


def test_unexpected_exception_is_logged_and_shown_as_a_general_error(
    make_user, broken_reports, media, django_capture_on_commit_callbacks, caplog
):
    user = make_user("社区经办人")

    with caplog.at_level(logging.ERROR, logger="reports.services"):
        job = _request(user, "test_crashing", {}, django_capture_on_commit_callbacks)

    assert job.status == ReportJob.Status.FAILED
    assert job.error.startswith("生成报表时发生系统错误") and str(job.pk) in job.error
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def test_building_a_finished_job_again_changes_nothing(
    make_user, roster_run, media, django_capture_on_commit_callbacks
):
    chief = make_user("科长", region="district")
    job = _request(chief, "payment_roster", {"run": roster_run.pk}, django_capture_on_commit_callbacks)

    again = services.report_build(job_id=job.pk)

    assert again.status == ReportJob.Status.DONE and again.file.name == job.file.name


def test_request_validates_parameters_in_the_users_scope(make_user, roster_run):
    from django.core.exceptions import PermissionDenied, ValidationError

    street_chief = make_user("科长", region="street1")
    with pytest.raises(ValidationError) as exc:
        services.report_request(
            report_type="payment_roster",
            params={"run": roster_run.pk, "street": "220106002000"},
            actor=street_chief,
        )
    assert "不在您的数据范围内" in str(exc.value)
    with pytest.raises(ValidationError):
        services.report_request(report_type="payment_roster", params={}, actor=street_chief)
    with pytest.raises(PermissionDenied):
        services.report_request(
            report_type="payment_roster", params={"run": roster_run.pk}, actor=make_user("社区经办人")
        )
    assert not ReportJob.objects.exists()


# --- scope and download ------------------------------------------------------------------------------


def test_street_users_roster_holds_only_their_street(
    make_user, roster_run, media, django_capture_on_commit_callbacks
):
    street_chief = make_user("科长", region="street1")

    job = _request(street_chief, "payment_roster", {"run": roster_run.pk}, django_capture_on_commit_callbacks)

    assert job.status == ReportJob.Status.DONE, job.error
    data = [r for r in _rows(job)[3:] if len(r) > 3 and r[3]]  # lines have an ID number
    assert len(data) == 5 == job.record_count
    assert {r[0] for r in data} == {"测试街道1"}
    assert job.region_code == "220106001"
    assert "测试街道2" not in str(_rows(job))


def test_download_is_scoped_and_logged(
    client, make_user, roster_run, media, django_capture_on_commit_callbacks
):
    street1 = make_user("科长", region="street1")
    street2 = make_user("科长", region="street2")
    district_chief = make_user("科长", region="district")
    job2 = _request(street2, "payment_roster", {"run": roster_run.pk}, django_capture_on_commit_callbacks)
    url = reverse("reports:job_download", kwargs={"pk": job2.pk})

    client.force_login(street1)
    assert client.get(url).status_code == 404
    assert client.get(reverse("reports:job_status", kwargs={"pk": job2.pk})).status_code == 404
    assert not AccessLog.objects.exists()

    client.force_login(district_chief)  # a district 科长 sees every job in the district
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content)[:2] == b"PK"
    log = AccessLog.objects.get()
    assert log.user == district_chief and log.action == AccessLog.Action.EXPORT
    assert log.record_count == 4 and "花名册" in log.detail


def test_report_centre_lists_jobs_and_polls_until_done(client, make_user, roster_run, media):
    chief = make_user("科长", region="district")
    queued = ReportJob.objects.create(
        report_type="payment_roster",
        title="排队的花名册",
        requested_by=chief,
        region_code="220106",
        progress=40,
    )
    client.force_login(chief)

    page = client.get(reverse("reports:job_list")).content.decode()
    assert "报表中心" in page and "排队的花名册" in page
    assert f'hx-get="{reverse("reports:job_status", kwargs={"pk": queued.pk})}"' in page
    assert "40%" in page

    worker_job = ReportJob.objects.create(
        report_type="notice_list",
        title="社区的公示名单",
        requested_by=make_user("社区经办人"),
        region_code="220106001001",
    )
    assert "社区的公示名单" not in page  # 我的报表 by default
    everything = client.get(reverse("reports:job_list"), {"scope": "all"}).content.decode()
    assert "社区的公示名单" in everything and "申请人" in everything
    client.force_login(worker_job.requested_by)
    assert "排队的花名册" not in client.get(reverse("reports:job_list"), {"scope": "all"}).content.decode()
    client.force_login(chief)

    ReportJob.objects.filter(pk=queued.pk).update(status=ReportJob.Status.FAILED, error="测试失败原因")
    row = client.get(reverse("reports:job_status", kwargs={"pk": queued.pk})).content.decode()
    assert "hx-get" not in row and "测试失败原因" in row


def test_request_form_submits_a_job(client, make_user, roster_run, media, django_capture_on_commit_callbacks):
    chief = make_user("科长", region="district")
    client.force_login(chief)
    url = reverse("reports:job_request", kwargs={"code": "payment_roster"})
    form = client.get(url).content.decode()
    assert "测试街道1" in form and "全区" in form

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"run": roster_run.pk, "street": "220106001000"})

    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert job.status == ReportJob.Status.DONE and job.parameters == {
        "run": roster_run.pk,
        "street": "220106001000",
    }
    page = client.get(reverse("reports:job_list")).content.decode()
    assert reverse("reports:job_download", kwargs={"pk": job.pk}) in page

    response = client.post(url, {"run": "", "street": ""})
    assert response.status_code == 200 and "请选择发放批次" in response.content.decode()


def test_navigation_shows_the_report_centre_to_those_who_can_request_reports(make_user):
    from core.accounts.navigation import navigation_for

    def labels(user):
        return {(s.label, i.label) for s in navigation_for(user) for i in s.items}

    assert ("统计报表", "报表中心") in labels(make_user("科长", region="district"))
    assert ("统计报表", "报表中心") in labels(make_user("社区经办人"))
    assert ("统计报表", "报表中心") not in labels(make_user("系统管理员", region="district"))


# --- the roster ---------------------------------------------------------------------------------------


def test_roster_title_says_发放_once(make_user, roster_run, media, django_capture_on_commit_callbacks):
    roster_run.title = "测试最低生活保障2026年11月发放"  # as payment runs are titled
    roster_run.save(update_fields=["title"])
    job = _request(
        make_user("科长", region="district"),
        "payment_roster",
        {"run": roster_run.pk},
        django_capture_on_commit_callbacks,
    )
    title = load_workbook(job.file.path).worksheets[0]["A1"].value
    assert title == "长春市绿园区民政局测试最低生活保障2026年11月发放花名册"


def test_roster_workbook_content_and_totals(make_user, roster_run, media, django_capture_on_commit_callbacks):
    chief = make_user("科长", region="district")
    job = _request(chief, "payment_roster", {"run": roster_run.pk}, django_capture_on_commit_callbacks)
    workbook = load_workbook(job.file.path)
    sheet = workbook.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]

    # Title and header
    assert rows[0][0] == "长春市绿园区民政局测试最低生活保障发放花名册"
    assert "2026年11月" in rows[1][0] and "已锁定" in rows[1][0]
    assert rows[2] == HEADERS
    assert sheet.freeze_panes == "A4"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$3"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage

    # A line: names, full numbers, money as numbers with the ¥ format
    first = rows[3]
    line = (
        PaymentLine.objects.filter(run=roster_run)
        .select_related("household__head")
        .order_by("region_code", "id")[0]
    )
    assert first[:4] == ["测试街道1", "测试社区1-1", line.household.head.name, line.household.head.id_number]
    assert first[4] == "测试最低生活保障（城镇）"
    assert first[5] == line.covered_persons
    assert Decimal(str(first[9])) == line.amount
    assert first[10] == "2026年11月" and first[11] == "吉林银行绿园支行"
    assert first[12] == line.household.bank_account and first[13] == "张代领" and first[14] == "新增"
    assert sheet.cell(row=4, column=10).number_format == "#,##0.00"
    assert rows[4][14] == "补发（2026年9月）"

    # Per-street totals equal the sums in the database; the district total equals the run's total
    by_label = {r[0]: r for r in rows if r[0] and str(r[0]).endswith(("小计", "合计"))}
    for code, name in (("220106001", "测试街道1"), ("220106002", "测试街道2")):
        lines = PaymentLine.objects.filter(run=roster_run, region_code__startswith=code)
        total = by_label[f"{name} 小计"]
        assert Decimal(str(total[9])) == sum(x.amount for x in lines)
        assert Decimal(str(total[6])) == sum(x.base_amount for x in lines)
        assert total[5] == sum(x.covered_persons for x in lines)
        assert total[2] == f"共 {lines.count()} 笔"
    district = by_label["全区合计"]
    assert Decimal(str(district[9])) == roster_run.total_amount
    assert district[2] == f"共 {roster_run.line_count} 笔"


def test_roster_builder_queries_do_not_grow_with_lines(make_user, dibao, regions):
    chief = make_user("科长", region="district")
    counts = []
    for month, n in ((datetime.date(2026, 10, 1), 5), (datetime.date(2026, 9, 1), 50)):
        run = PaymentRun.objects.create(benefit_type=dibao, month=month)
        households = _households(regions["community11"], 2)
        _make_lines(run, regions["community11"], n, households)
        out = io.BytesIO()
        ctx = BuildContext(job_id=0, params={"run": run.pk}, user=chief, output=out)
        with CaptureQueriesContext(connection) as queries:
            result = build_payment_roster(ctx)
        assert result.record_count == n
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 6


# The roster's lines are read ahead by a thread on its own connection, which sees only committed rows:
# outside a transaction (a report job), so these tests commit their data (transaction=True).


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "roster-reader"]


def _export(user, run) -> tuple[list[list], list[str]]:
    """The roster's rows and the SQL run on this thread's connection while exporting it."""
    out = io.BytesIO()
    with CaptureQueriesContext(connection) as queries:
        write_roster_xlsx(roster_lines(user, run), out)
    out.seek(0)
    return _rows(out), [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_roster_read_ahead_keeps_the_users_scope_and_totals(make_user, roster_run):
    street_chief = make_user("科长", region="street1")

    rows, own_sql = _export(street_chief, roster_run)

    assert not connection.in_atomic_block
    assert not any("COALESCE" in sql for sql in own_sql), "the lines were read on the caller's connection"
    assert not _reader_threads()
    lines = list(PaymentLine.objects.filter(run=roster_run, region_code__startswith="220106001"))
    assert len(lines) == 5
    data = [r for r in rows[3:] if len(r) > 3 and r[3]]  # lines have an ID number
    assert len(data) == len(lines)
    assert {r[0] for r in data} == {"测试街道1"} and "测试街道2" not in str(rows)
    assert sorted(Decimal(str(r[9])) for r in data) == sorted(x.amount for x in lines)
    by_label = {r[0]: r for r in rows if r and r[0] and str(r[0]).endswith(("小计", "合计"))}
    assert set(by_label) == {"测试街道1 小计", "合计"}
    for total in by_label.values():
        assert total[2] == f"共 {len(lines)} 笔"
        assert total[5] == sum(x.covered_persons for x in lines)
        for column, name in enumerate(("base_amount", "increment_amount", "other_amount", "amount"), start=6):
            assert Decimal(str(total[column])) == sum(getattr(x, name) for x in lines), name


@pytest.mark.django_db(transaction=True)
def test_roster_read_ahead_matches_reading_in_the_callers_thread(make_user, roster_run, monkeypatch):
    chief = make_user("科长", region="district")
    ahead, _ = _export(chief, roster_run)
    monkeypatch.setattr(payment_roster, "stream_rows", lambda queryset: queryset.iterator())
    plain, _ = _export(chief, roster_run)
    assert ahead == plain
    assert len([r for r in ahead[3:] if len(r) > 3 and r[3]]) == roster_run.line_count


def _failing_on(queryset, line_id):
    """The queryset, made to fail in PostgreSQL (division by zero) when it reaches line `line_id`."""
    return queryset.filter(
        RawSQL("1 / (benefits_paymentline.id - %s) <> 0", (line_id,), output_field=BooleanField())
    )


@pytest.mark.django_db(transaction=True)
def test_an_error_while_reading_ahead_is_raised_in_the_caller(roster_run):
    lines = PaymentLine.objects.filter(run=roster_run).order_by("id")
    ids = list(lines.values_list("id", flat=True))
    received = []

    with pytest.raises(DataError):
        for row in stream_rows(_failing_on(lines.values_list("id"), ids[5]), chunk_size=2):
            received.append(row)

    assert len(received) < len(ids)
    assert not _reader_threads()


# openpyxl's write-only generators complain when an aborted workbook is collected: expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.django_db(transaction=True)
def test_a_roster_job_fails_rather_than_truncating_when_reading_fails(
    make_user, roster_run, media, monkeypatch, django_capture_on_commit_callbacks
):
    chief = make_user("科长", region="district")
    last = PaymentLine.objects.filter(run=roster_run).order_by("region_code", "id").last()
    real = payment_roster.roster_queryset
    monkeypatch.setattr(payment_roster, "roster_queryset", lambda *args: _failing_on(real(*args), last.pk))

    job = _request(chief, "payment_roster", {"run": roster_run.pk}, django_capture_on_commit_callbacks)

    assert job.status == ReportJob.Status.FAILED and not job.file
    assert not _reader_threads()
    gc.collect()  # the aborted workbook, while its warning is ignored


@pytest.mark.django_db(transaction=True)
def test_stopping_early_stops_the_reader(roster_run):
    rows = stream_rows(
        PaymentLine.objects.filter(run=roster_run).order_by("id").values_list("id"), chunk_size=1
    )
    assert next(rows) and next(rows)
    assert _reader_threads()
    rows.close()
    assert not _reader_threads()


# --- PDF -------------------------------------------------------------------------------------------


@pytest.fixture
def open_notice(make_user, regions):
    worker = make_user("社区经办人")
    household = household_with_members(regions["community11"], size=1)
    case = workflow_services.case_create(
        case_type="generic", applicant_household=household, region=regions["community11"], actor=worker
    )
    today = timezone.localdate()
    workflow_services.notice_open(case=case, start_date=today, days=7, place="社区公示栏", actor=worker)
    return worker, case


def test_notice_list_pdf_has_chinese_text_and_embedded_cjk_font(client, open_notice, regions, tmp_path):
    worker, case = open_notice
    client.force_login(worker)

    response = client.get(reverse("reports:notice_list_pdf"), {"community": regions["community11"].code})

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    compact = "".join(text.split())
    for words in ("公示名单", "测试社区1-1", case.applicant_name, case.number, "社区公示栏", "第1页共1页"):
        assert words in compact, words
    pdf = tmp_path / "notices.pdf"
    pdf.write_bytes(response.content)
    if shutil.which("pdffonts") is None:
        pytest.fail("pdffonts is missing: .ci/run installs poppler-utils")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto" in line and "CJK" in line]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk), fonts  # the "emb" column


def test_notice_list_pdf_is_scoped(client, open_notice, make_user, regions):
    other = make_user("社区经办人", region="community21")
    client.force_login(other)
    response = client.get(reverse("reports:notice_list_pdf"), {"community": regions["community11"].code})
    assert response.status_code == 404
    response = client.get(reverse("reports:notice_list_pdf"))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert open_notice[1].number not in text and "暂无正在公示的案件" in "".join(text.split())


@pytest.mark.parametrize(
    ("url_name", "report_code"), [("notice_list_pdf", "notice_list"), ("posted_list_pdf", "posted_list")]
)
def test_a_wide_scope_s_whole_list_is_built_in_the_report_centre(
    client,
    open_notice,
    make_user,
    regions,
    media,
    monkeypatch,
    url_name,
    report_code,
    django_capture_on_commit_callbacks,
):
    """A district's whole list would outlast the web server's timeout: the link leads to the report centre's
    form for the same list (nothing submitted by the GET), while one community's list — and a scope of few
    communities — still opens at once."""
    from reports import views

    monkeypatch.setattr(views, "INLINE_LIST_MAX_COMMUNITIES", 2)
    url = reverse(f"reports:{url_name}")
    street_user = make_user("街道审核员", region="street1")  # 2 communities
    client.force_login(street_user)
    assert client.get(url)["Content-Type"] == "application/pdf"

    district_user = make_user("街道审核员", region="district")  # 4 communities
    client.force_login(district_user)
    jobs_before = ReportJob.objects.count()
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(reverse("reports:job_request", args=[report_code]), 302)]
    page = response.content.decode()
    assert "您的数据范围内有 4 个社区（村），整份名单需在后台生成" in page and "提交生成" in page
    assert ReportJob.objects.count() == jobs_before

    one = client.get(url, {"community": regions["community21"].code})
    assert one.status_code == 200 and one["Content-Type"] == "application/pdf"
    assert client.get(url, {"community": "220199001001"}).status_code == 404

    job = _request(district_user, report_code, {"community": ""}, django_capture_on_commit_callbacks)
    assert job.status == ReportJob.Status.DONE, job.error
    assert job.content_type == "application/pdf"


def test_notice_list_as_a_job(open_notice, media, django_capture_on_commit_callbacks):
    worker, case = open_notice
    job = _request(worker, "notice_list", {"community": ""}, django_capture_on_commit_callbacks)
    assert job.status == ReportJob.Status.DONE, job.error
    assert job.content_type == "application/pdf" and job.filename.endswith(".pdf")
    assert job.record_count == 1 and not job.contains_personal_data
    assert case.number in "".join(PdfReader(job.file.path).pages[0].extract_text().split())


# --- LibreOffice ---------------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_roster_opens_in_libreoffice(
    make_user, roster_run, media, tmp_path, django_capture_on_commit_callbacks
):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice is missing: .ci/run installs the Debian package libreoffice-calc-nogui")
    chief = make_user("科长", region="district")
    job = _request(chief, "payment_roster", {"run": roster_run.pk}, django_capture_on_commit_callbacks)
    source = tmp_path / "roster.xlsx"
    source.write_bytes(job.file.read())
    out = tmp_path / "out"

    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )

    rows = list(csv.reader((out / "roster.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[2][: len(HEADERS)] == HEADERS
    district = next(r for r in rows if r and r[0] == "全区合计")
    amount = Decimal(district[9].replace("¥", "").replace(",", ""))
    assert amount == roster_run.total_amount


def test_roster_money_cells_show_two_decimals(
    make_user, roster_run, media, django_capture_on_commit_callbacks
):
    """Every amount of the 花名册 — lines, street totals, grand total — is formatted to the fen."""
    chief = make_user("科长", region="district")
    job = _request(chief, "payment_roster", {"run": roster_run.pk}, django_capture_on_commit_callbacks)
    sheet = load_workbook(media / job.file.name).active
    money_columns = [i + 1 for i, h in enumerate(HEADERS) if "金额" in h]
    assert money_columns
    cells = [sheet.cell(row=r, column=c) for r in range(4, sheet.max_row + 1) for c in money_columns]
    amounts = [c for c in cells if isinstance(c.value, int | float)]
    assert amounts
    assert {c.number_format for c in amounts} == {payment_roster.MONEY_FORMAT}
    assert payment_roster.MONEY_FORMAT == "#,##0.00"
