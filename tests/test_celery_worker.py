"""A real Celery worker over Redis runs the monthly recalculation against the test database, and a report
job survives its worker being killed mid-build: failed after a silence, then built by a fresh worker on 重试.

The worker is a subprocess (`celery -A config worker --pool=solo`) with its own queue and name, so other
test sessions sharing the Redis server cannot take its tasks. It imports this module (`--include`) to get
the test calculator (and, in the worker only, the slow report type) registered below."""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.result import AsyncResult, EagerResult
from django.conf import settings
from django.urls import reverse

from core.benefits import services
from core.benefits.calculators import FixedStandardCalculator, register_calculator
from core.benefits.models import BenefitType, PaymentLine, PaymentRun, Standard
from core.benefits.tasks import recalculate_run, recalculate_run_by_street
from reports import services as report_services
from reports.models import ReportJob
from reports.registry import BuildContext, ReportParamsForm, ReportResult, register_report, unregister_report

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/15"
MARCH = datetime.date(2026, 3, 1)

pytestmark = [
    pytest.mark.celery_worker,
    # The worker sees only committed data; serialized_rollback restores the roles the flush removes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@register_calculator("test_worker_fixed")
class WorkerFixedCalculator(FixedStandardCalculator):
    label = "测试定额（后台任务）"


SLOW_REPORT = "test_worker_slow"
SLOW_REPORT_ENV = "MINZHENG_TEST_SLOW_REPORT"


class _NoParams(ReportParamsForm):
    pass


def build_slow_report(ctx: BuildContext) -> ReportResult:
    """The first attempt reports progress every 0.2 s for two minutes (long enough to kill its worker);
    a retry writes its file at once."""
    if ReportJob.objects.get(pk=ctx.job_id).attempt == 1:
        for step in range(600):
            ctx.progress(1 + step // 10, "慢慢生成")
            time.sleep(0.2)
    ctx.output.write(b"done")
    return ReportResult(filename="slow.txt", content_type="text/plain", record_count=1)


def _register_slow_report() -> None:
    register_report(SLOW_REPORT, "测试慢报表", build_slow_report, "workflow.view_case", _NoParams)


if os.environ.get(SLOW_REPORT_ENV):  # the worker process; the test process registers it in a fixture
    _register_slow_report()


def _redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1):
            return True
    except OSError:
        return False


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _reset_app_connections(app) -> None:
    """Drop the connection pools and result backend the app cached under the eager configuration (earlier
    tests in this process), so the next call uses the broker and backend configured now."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    pools.reset()  # kombu's global producer/connection pools would keep handing out the closed ones
    app.__dict__.pop("amqp", None)
    app.__dict__.pop("control", None)
    app._backend_cache = None
    app._local = threading.local()


def _skip_without_redis_and_postgresql() -> None:
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}; the real-worker test needs it")
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a worker process cannot see the in-memory SQLite test database; run with PostgreSQL")


@pytest.fixture(scope="module")
def celery_worker_process():
    """Start a worker on a private queue, wait until it answers a ping, stop it at teardown (once for the
    module: the tests share the worker; each has its own committed data, flushed after it)."""
    _skip_without_redis_and_postgresql()
    with _celery_worker(f"benefits-test-{os.getpid()}-{int(time.time())}") as (app, _process):
        yield app


@contextmanager
def _celery_worker(tag: str, **extra_env: str):
    """A worker named after `tag` consuming the queue `tag`, with the app in this process sending there;
    yields (app, the worker's process: `uv` leading its own process group). Stopped on exit unless the
    test killed it already."""
    from config.celery_app import app

    worker_name = f"{tag}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": tag,  # the parts a task sends itself stay on this worker's queue
        "BENEFITS_PART_SIZE": "1",  # one task per street, so the chord has two parts here
        "DATABASE_URL": _test_database_url(),
        **extra_env,
    }
    log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            "uv",
            "run",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-l",
            "warning",
            "-n",
            worker_name,
            "-Q",
            tag,
            "--include",
            "tests.test_celery_worker",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so teardown stops uv and celery together
    )

    saved = {
        key: app.conf[key]
        for key in ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    }
    app.conf.update(
        broker_url=REDIS_URL, result_backend=REDIS_URL, task_always_eager=False, task_default_queue=tag
    )
    _reset_app_connections(app)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"the Celery worker exited with {process.returncode}:\n{Path(log.name).read_text()}"
                )
            if app.control.ping(destination=[worker_name], timeout=1.0):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not answer a ping in 90 s:\n{Path(log.name).read_text()}")
        yield app, process
    finally:
        app.conf.update(saved)
        _reset_app_connections(app)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
        os.unlink(log.name)


def _committed_entitlements(regions) -> BenefitType:
    from tests.factories import household_with_members

    bt = BenefitType.objects.create(code="test_worker_fixed", name="测试定额（后台任务）")
    Standard.objects.create(benefit_type=bt, amount=Decimal("250"), effective_from=datetime.date(2020, 1, 1))
    for region in ("community11", "community12", "community21"):
        household = household_with_members(regions[region], size=1)
        services.entitlement_create(
            benefit_type=bt,
            household=household,
            region_code=household.region_code,
            area_type=household.area_type,
            start_month=MARCH,
        )
    return bt


def test_worker_recalculates_a_run(regions, celery_worker_process):
    # Given committed entitlements
    bt = _committed_entitlements(regions)
    # When the worker runs the recalculation (twice: the task is safe to repeat)
    result = recalculate_run.delay("test_worker_fixed", "2026-03")
    assert not isinstance(result, EagerResult)
    summary = result.get(timeout=60)
    again = recalculate_run.delay("test_worker_fixed", "2026-03").get(timeout=60)
    # Then the lines exist in the test database
    run = PaymentRun.objects.get(benefit_type=bt, month=MARCH)
    assert summary["run_id"] == again["run_id"] == run.pk
    assert summary["line_count"] == again["line_count"] == 3
    assert PaymentLine.objects.filter(run=run).count() == 3
    assert run.total_amount == Decimal("750.00")


def test_worker_recalculates_street_by_street(regions, celery_worker_process):
    # Given committed entitlements in two streets
    bt = _committed_entitlements(regions)
    # When the worker starts the per-street recalculation: a task of both streets, then the chord's callback
    started = recalculate_run_by_street.delay("test_worker_fixed", "2026-03").get(timeout=60)
    assert started["parts"] == 2
    summary = AsyncResult(started["finish_id"], app=celery_worker_process).get(timeout=60)
    # Then the callback summed both streets — one task recalculated both, pipelined on the worker — and
    # stamped the run
    run = PaymentRun.objects.get(benefit_type=bt, month=MARCH)
    assert summary["run_id"] == run.pk and summary["parts"] == 2 and summary["tasks"] == 1
    assert summary["line_count"] == run.line_count == 3
    assert run.total_amount == Decimal("750.00") and run.calculated_at is not None
    assert PaymentLine.objects.filter(run=run).count() == 3


def test_worker_takes_the_dashboard_figures_again(client, make_user, celery_worker_process):
    """An expired snapshot of the dashboard's figures is shown with its time while the worker computes it
    again (core.portal.dashboard.scope_figures → portal.refresh_scope_figures)."""
    from django.core.cache import cache
    from django.utils import timezone

    from core.portal.models import FiguresSnapshot

    chief = make_user("科长", region="district")
    client.force_login(chief)
    client.get(reverse("dashboard"))
    kept = FiguresSnapshot.objects.count()
    assert kept >= 2  # the headline counts and the panels a 科长 sees
    old = timezone.now() - datetime.timedelta(minutes=10)
    FiguresSnapshot.objects.update(computed_at=old)
    cache.clear()  # as after a restart
    page = client.get(reverse("dashboard")).content.decode()
    assert f"统计为 {timezone.localtime(old):%H:%M} 的数字" in page
    deadline = time.monotonic() + 60
    while FiguresSnapshot.objects.filter(computed_at=old).exists():
        if time.monotonic() > deadline:
            pytest.fail("the worker did not take the dashboard's figures again in 60 s")
        time.sleep(0.2)
    assert FiguresSnapshot.objects.count() == kept
    assert not FiguresSnapshot.objects.filter(computed_at__lte=old).exists()


def test_worker_imports_a_ledger_the_web_process_received(make_user, regions, celery_worker_process):
    """The upload kept on the job is read by the worker (the shared media storage), and the households are
    written there; the page's process only sees the job finish."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.registry.models import Household
    from tests.factories import valid_id_number
    from tests.test_household_import import member, xlsx

    caseworker = make_user("社区经办人", region="community11")
    content = xlsx([member("1", regions["community11"], "后台导入户主", id_number=valid_id_number())])
    job = report_services.report_request(
        report_type="household_import",
        params={},
        files={"file": SimpleUploadedFile("台账.xlsx", content)},
        actor=caseworker,
    )
    deadline = time.monotonic() + 60
    while not ReportJob.objects.get(pk=job.pk).is_finished:
        if time.monotonic() > deadline:
            pytest.fail("the worker did not finish the import in 60 s")
        time.sleep(0.2)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE, job.error
    assert Household.objects.get(members__name="后台导入户主").head.name == "后台导入户主"


@pytest.fixture
def slow_report():
    _register_slow_report()
    yield SLOW_REPORT
    unregister_report(SLOW_REPORT)


def _take_unacked(queue: str) -> int:
    """Remove the messages of `queue` that kombu's Redis transport holds as delivered but unacknowledged;
    how many there were."""
    import json

    import redis

    client = redis.Redis.from_url(REDIS_URL)
    taken = 0
    for tag, payload in client.hgetall("unacked").items():
        if json.loads(payload)[2] == queue:  # [message, exchange, routing key]
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
            taken += 1
    return taken


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def test_a_job_whose_worker_is_killed_fails_and_succeeds_on_retry(client, make_user, slow_report, settings):
    """SIGKILL the worker mid-build: the job is failed once silent (with 重试), and a fresh worker on the
    same queue builds it on retry — the killed attempt's message (unacked, acks_late) never builds over it."""
    _skip_without_redis_and_postgresql()
    user = make_user("社区经办人")
    client.force_login(user)
    tag = f"reports-kill-test-{os.getpid()}-{int(time.time())}"
    worker_env = {SLOW_REPORT_ENV: "1"}

    # Given a job building in a real worker (the first attempt reports progress for two minutes)
    with _celery_worker(tag, **worker_env) as (_app, process):
        job = report_services.report_request(report_type=SLOW_REPORT, params={}, actor=user)
        _wait_for(
            lambda: ReportJob.objects.filter(
                pk=job.pk, status=ReportJob.Status.RUNNING, progress__gte=2
            ).exists(),
            60,
            "the worker to start building the job",
        )
        # When the worker is killed mid-job
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
    # The task was acknowledged late: its message is still held by the broker as unacknowledged (the
    # broker would deliver it again; removed here so that no later worker of this Redis database does)
    assert _take_unacked(tag) == 1

    job.refresh_from_db()
    assert job.status == ReportJob.Status.RUNNING  # nobody is left to say otherwise …
    # … until the job has been silent longer than the stale timeout: the page's poll fails it
    settings.REPORT_JOB_STALE_SECONDS = 2
    time.sleep(2.5)
    row = client.get(reverse("reports:job_status", kwargs={"pk": job.pk})).content.decode()
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED and job.error == report_services.STALE_ERROR
    assert job.can_retry and "重试" in row and "hx-get" not in row

    # Then 重试 with a fresh worker on the same queue builds it
    with _celery_worker(tag, **worker_env):
        response = client.post(reverse("reports:job_retry", kwargs={"pk": job.pk}))
        assert response.status_code == 302
        _wait_for(
            lambda: ReportJob.objects.filter(pk=job.pk, status=ReportJob.Status.DONE).exists(),
            60,
            "the retried job to be built",
        )
    job.refresh_from_db()
    assert job.attempt == 2 and job.record_count == 1 and job.file and job.error == ""
    row = client.get(reverse("reports:job_status", kwargs={"pk": job.pk})).content.decode()
    assert "已完成" in row and reverse("reports:job_download", kwargs={"pk": job.pk}) in row
    job.file.delete(save=False)
