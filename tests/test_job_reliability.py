"""Background jobs that go wrong: a report job whose worker was lost is failed after a silence and may be
retried or cancelled; a recalculation's failure in the worker reaches the run page; under eager Celery (the
embedded default) the page says a report is ready, not that it is being generated."""

from __future__ import annotations

import datetime
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.benefits import services as benefit_services
from core.benefits import tasks as benefit_tasks
from core.benefits.calculators import FixedStandardCalculator, register_calculator
from core.benefits.exceptions import PaymentRunLocked
from core.benefits.models import BenefitType, PaymentRun, Standard
from reports import services, tasks
from reports.models import ReportJob
from reports.registry import BuildContext, ReportParamsForm, ReportResult, register_report, unregister_report
from tests.factories import household_with_members

MARCH = datetime.date(2026, 3, 1)


class _NoParams(ReportParamsForm):
    pass


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def quick_report():
    """A report type that writes a small text file at once."""

    def build(ctx: BuildContext) -> ReportResult:
        ctx.progress(50, "写入")
        ctx.output.write("测试内容".encode())
        return ReportResult(filename="测试.txt", content_type="text/plain", record_count=1)

    register_report("test_quick", "测试快速报表", build, "workflow.view_case", _NoParams)
    yield "test_quick"
    unregister_report("test_quick")


def _job(user, status=ReportJob.Status.RUNNING, **fields) -> ReportJob:
    return ReportJob.objects.create(
        report_type="test_quick",
        title="测试快速报表",
        requested_by=user,
        region_code=user.region.code,
        status=status,
        **fields,
    )


# --- a report job whose worker went silent ------------------------------------------------------------


def test_a_silent_running_job_is_failed_by_the_poll_with_a_retry_offered(
    client, make_user, quick_report, settings
):
    settings.REPORT_JOB_STALE_SECONDS = 60
    user = make_user("社区经办人")
    now = timezone.now()
    lost = _job(
        user, progress=30, started_at=now - timedelta(seconds=300), heartbeat_at=now - timedelta(seconds=61)
    )
    alive = _job(
        user, progress=30, started_at=now - timedelta(seconds=300), heartbeat_at=now - timedelta(seconds=5)
    )
    client.force_login(user)

    row = client.get(reverse("reports:job_status", kwargs={"pk": lost.pk})).content.decode()

    lost.refresh_from_db()
    assert lost.status == ReportJob.Status.FAILED and lost.error == services.STALE_ERROR
    assert lost.finished_at is not None
    assert "hx-get" not in row  # the poll stops
    assert "长时间没有进展" in row and "重试" in row
    assert reverse("reports:job_retry", kwargs={"pk": lost.pk}) in row
    row = client.get(reverse("reports:job_status", kwargs={"pk": alive.pk})).content.decode()
    alive.refresh_from_db()
    assert alive.status == ReportJob.Status.RUNNING and "hx-get" in row and "取消" in row


def test_the_beat_task_fails_silent_jobs_without_a_page_open(make_user, quick_report, settings):
    settings.REPORT_JOB_STALE_SECONDS = 60
    user = make_user("社区经办人")
    lost = _job(user, started_at=timezone.now() - timedelta(seconds=120))  # never reported progress
    queued = _job(user, status=ReportJob.Status.QUEUED)

    assert tasks.fail_stale_jobs() == 1

    lost.refresh_from_db()
    queued.refresh_from_db()
    assert lost.status == ReportJob.Status.FAILED and "重试" in lost.error
    assert queued.status == ReportJob.Status.QUEUED  # waiting for a worker is not silence


def test_retry_queues_the_job_again_and_it_succeeds(
    client, make_user, quick_report, media, django_capture_on_commit_callbacks
):
    user = make_user("社区经办人")
    failed = _job(user, status=ReportJob.Status.FAILED, error=services.STALE_ERROR, progress=30)
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:job_retry", kwargs={"pk": failed.pk}), follow=True)

    failed.refresh_from_db()
    assert failed.status == ReportJob.Status.DONE and failed.attempt == 2
    assert failed.error == "" and failed.record_count == 1 and failed.file
    assert (media / failed.file.name).read_bytes() == "测试内容".encode()
    assert response.status_code == 200
    page = client.get(reverse("reports:job_list")).content.decode()
    assert reverse("reports:job_download", kwargs={"pk": failed.pk}) in page


def test_a_message_of_an_earlier_attempt_builds_nothing(make_user, quick_report, media):
    user = make_user("社区经办人")
    job = _job(user, status=ReportJob.Status.FAILED, error="x")
    job = services.report_retry(job_id=job.pk, actor=user)  # attempt 2 queued (not run: on_commit held)

    # The broker delivers attempt 1's message again (its worker was lost; acks_late)
    again = tasks.build_report(job.pk, 1)

    job.refresh_from_db()
    assert again["status"] == ReportJob.Status.QUEUED and job.status == ReportJob.Status.QUEUED
    assert job.attempt == 2 and not job.file


def test_only_the_requester_retries_and_only_a_finished_job(client, make_user, quick_report):
    user = make_user("社区经办人")
    chief = make_user("科长", region="district")
    failed = _job(user, status=ReportJob.Status.FAILED, error="x")
    running = _job(user)

    client.force_login(chief)  # sees every job in the district, retries none of them
    assert client.post(reverse("reports:job_retry", kwargs={"pk": failed.pk})).status_code == 403
    client.force_login(user)
    response = client.post(reverse("reports:job_retry", kwargs={"pk": running.pk}), follow=True)
    assert "只有失败或已取消的报表可以重试" in response.content.decode()
    running.refresh_from_db()
    failed.refresh_from_db()
    assert running.attempt == failed.attempt == 1
    assert client.get(reverse("reports:job_retry", kwargs={"pk": failed.pk})).status_code == 405


def test_cancel_a_queued_job_the_worker_then_skips_it(client, make_user, quick_report, media):
    user = make_user("社区经办人")
    queued = _job(user, status=ReportJob.Status.QUEUED)
    client.force_login(user)

    response = client.post(reverse("reports:job_cancel", kwargs={"pk": queued.pk}), follow=True)

    queued.refresh_from_db()
    assert queued.status == ReportJob.Status.CANCELLED and queued.finished_at is not None
    content = response.content.decode()
    assert "已取消" in content and reverse("reports:job_retry", kwargs={"pk": queued.pk}) in content
    tasks.build_report(queued.pk, 1)  # the worker picks the message up afterwards
    queued.refresh_from_db()
    assert queued.status == ReportJob.Status.CANCELLED and not queued.file
    response = client.post(reverse("reports:job_cancel", kwargs={"pk": queued.pk}), follow=True)
    assert "该报表已结束，不能取消" in response.content.decode()


def test_cancel_stops_a_running_build_at_its_next_progress(make_user, media):
    user = make_user("社区经办人")
    reached = []

    def build(ctx: BuildContext) -> ReportResult:
        ctx.progress(10, "读取")
        services.report_cancel(job_id=ctx.job_id, actor=user)  # the user's click, meanwhile
        ctx.progress(60, "写入")
        reached.append("after")
        return ReportResult(filename="x.txt")

    register_report("test_cancelled", "测试报表", build, "workflow.view_case", _NoParams)
    try:
        job = ReportJob.objects.create(
            report_type="test_cancelled", requested_by=user, region_code=user.region.code
        )
        services.report_build(job_id=job.pk)
    finally:
        unregister_report("test_cancelled")

    job.refresh_from_db()
    assert job.status == ReportJob.Status.CANCELLED and not job.file and reached == []


# --- eager Celery (the embedded default): the job is built inside the request ----------------------------


@pytest.mark.django_db(transaction=True)
def test_under_eager_celery_the_page_says_the_report_is_ready(client, make_user, quick_report, media):
    user = make_user("社区经办人")
    client.force_login(user)
    url = reverse("reports:job_request", kwargs={"code": "test_quick"})
    token = re.search(r'name="form_token" value="([^"]+)"', client.get(url).content.decode()).group(1)

    # As the browser submits it: with the form's token, so the view runs in the token's transaction
    response = client.post(url, {"form_token": token}, follow=True)

    job = ReportJob.objects.get(report_type="test_quick")
    assert job.status == ReportJob.Status.DONE
    content = response.content.decode()
    assert "“测试快速报表”已生成" in content
    assert "正在后台生成" not in content


# --- recalculation: a worker's failure reaches the run page ------------------------------------------


@register_calculator("test_reliability_fixed")
class ReliabilityCalculator(FixedStandardCalculator):
    label = "测试定额（可靠性）"


@pytest.fixture
def fixed_type(regions):
    bt = BenefitType.objects.create(code="test_reliability_fixed", name="测试定额（可靠性）")
    Standard.objects.create(benefit_type=bt, amount=Decimal("250"), effective_from=datetime.date(2020, 1, 1))
    household = household_with_members(regions["community11"], size=1)
    benefit_services.entitlement_create(
        benefit_type=bt,
        household=household,
        region_code=household.region_code,
        area_type=household.area_type,
        start_month=MARCH,
    )
    return bt


def test_a_recalculation_failing_in_the_worker_is_shown_on_the_run_page(
    client, make_user, fixed_type, monkeypatch
):
    chief = make_user("科长", region="district")
    client.force_login(chief)
    sent = []

    class _Pending:  # a worker's AsyncResult before the worker has run the task
        def ready(self):
            return False

    monkeypatch.setattr(benefit_tasks.recalculate_run, "delay", lambda *args: sent.append(args) or _Pending())

    # The 科长 asks for March's run: the draft run exists at once, its page says the calculation waits
    response = client.post(
        reverse("benefits:run_create"), {"benefit_type": fixed_type.code, "month": "2026-03"}
    )
    run = PaymentRun.objects.get(benefit_type=fixed_type, month=MARCH)
    assert response.url == reverse("benefits:run_detail", args=[run.pk])
    page = client.get(response.url).content.decode()
    assert "等待计算" in page and "计算结果或失败原因将显示在本页" in page

    # Meanwhile the run is locked (calculated earlier by another task), then the worker runs the request
    benefit_services.payment_run_recalculate(benefit_type=fixed_type, month=MARCH, actor=chief)
    benefit_services.payment_run_lock(run=run, actor=chief)
    with pytest.raises(PaymentRunLocked):
        benefit_tasks.recalculate_run(*sent[0])

    run.refresh_from_db()
    assert run.calc_state == PaymentRun.CalcState.FAILED and "已锁定" in run.calc_error
    page = client.get(reverse("benefits:run_detail", args=[run.pk])).content.decode()
    assert "最近一次计算失败" in page and "已锁定，不能重新计算" in page


def test_a_successful_worker_recalculation_clears_the_state(client, make_user, fixed_type):
    chief = make_user("科长", region="district")
    run = benefit_services.payment_run_queue_recalculation(benefit_type=fixed_type, month=MARCH, actor=chief)
    assert run.calc_state == PaymentRun.CalcState.QUEUED

    benefit_tasks.recalculate_run(fixed_type.code, "2026-03", chief.pk)

    run.refresh_from_db()
    assert run.calc_state == PaymentRun.CalcState.IDLE and run.calc_error == "" and run.line_count == 1
    client.force_login(chief)
    page = client.get(reverse("benefits:run_detail", args=[run.pk])).content.decode()
    assert 'id="calc-state"' not in page


def test_a_recalculation_whose_worker_was_lost_is_shown_failed(client, make_user, fixed_type, settings):
    settings.BENEFITS_RECALC_STALE_SECONDS = 60
    chief = make_user("科长", region="district")
    run = benefit_services.payment_run_queue_recalculation(benefit_type=fixed_type, month=MARCH, actor=chief)
    PaymentRun.objects.filter(pk=run.pk).update(
        calc_state=PaymentRun.CalcState.RUNNING, calc_requested_at=timezone.now() - timedelta(seconds=61)
    )
    client.force_login(chief)

    page = client.get(reverse("benefits:run_detail", args=[run.pk])).content.decode()

    run.refresh_from_db()
    assert run.calc_state == PaymentRun.CalcState.FAILED
    assert "最近一次计算失败" in page and "后台进程可能已中断" in page
