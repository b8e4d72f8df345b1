"""A real Celery worker over Redis runs the monthly recalculation against the test database.

The worker is a subprocess (`celery -A config worker --pool=solo`) with its own queue and name, so other
test sessions sharing the Redis server cannot take its tasks. It imports this module (`--include`) to get
the test calculator registered below."""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.result import AsyncResult, EagerResult
from django.conf import settings

from core.benefits import services
from core.benefits.calculators import FixedStandardCalculator, register_calculator
from core.benefits.models import BenefitType, PaymentLine, PaymentRun, Standard
from core.benefits.tasks import recalculate_run, recalculate_run_by_street

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


@pytest.fixture(scope="module")
def celery_worker_process():
    """Start a worker on a private queue, wait until it answers a ping, stop it at teardown (once for the
    module: the tests share the worker; each has its own committed data, flushed after it)."""
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}; the real-worker test needs it")
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a worker process cannot see the in-memory SQLite test database; run with PostgreSQL")

    from config.celery_app import app

    tag = f"benefits-test-{os.getpid()}-{int(time.time())}"
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
        yield app
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
    # When the worker starts the per-street recalculation: one task per street, then the chord's callback
    started = recalculate_run_by_street.delay("test_worker_fixed", "2026-03").get(timeout=60)
    assert started["parts"] == 2
    summary = AsyncResult(started["finish_id"], app=celery_worker_process).get(timeout=60)
    # Then the callback summed both streets and stamped the run
    run = PaymentRun.objects.get(benefit_type=bt, month=MARCH)
    assert summary["run_id"] == run.pk and summary["parts"] == 2
    assert summary["line_count"] == run.line_count == 3
    assert run.total_amount == Decimal("750.00") and run.calculated_at is not None
    assert PaymentLine.objects.filter(run=run).count() == 3
