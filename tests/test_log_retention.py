"""Issue 12, item 11: logs are kept at least six months (网络安全法 第二十一条, 等保). The access log's
rows never change and none younger than 180 days is deleted; the transition log is never deleted; the
application log, with LOG_DIR, is one file per day kept LOG_RETENTION_DAYS (≥ 180) days, and a shorter
retention refuses to start."""

import datetime
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from config.logging import DailyFileHandler
from core.accounts.models import ACCESS_LOG_RETENTION_DAYS, AccessLog
from core.workflow.models import TransitionLog
from tests.production import production_env


@pytest.fixture
def access_row(make_user):
    return AccessLog.objects.create(
        user=make_user("社区经办人"),
        action=AccessLog.Action.REVEAL,
        fields="身份证号码",
        region_code="220106001001",
    )


@pytest.mark.django_db
def test_access_log_rows_younger_than_retention_are_not_deleted(access_row):
    assert ACCESS_LOG_RETENTION_DAYS >= 180
    with pytest.raises(PermissionDenied):
        AccessLog.objects.filter(pk=access_row.pk).delete()
    with pytest.raises(PermissionDenied):
        AccessLog.objects.all().delete()
    with pytest.raises(PermissionDenied):
        access_row.delete()
    assert AccessLog.objects.filter(pk=access_row.pk).exists()


@pytest.mark.django_db
def test_access_log_rows_never_change(access_row):
    with pytest.raises(PermissionDenied):
        AccessLog.objects.filter(pk=access_row.pk).update(fields="")
    access_row.fields = ""
    with pytest.raises(PermissionDenied):
        access_row.save()
    access_row.refresh_from_db()
    assert access_row.fields == "身份证号码"


@pytest.mark.django_db
def test_access_log_rows_past_retention_may_be_archived(access_row):
    # auto_now_add set "at" on insert; the row is dated back through the database, as after 181 days.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AccessLog._meta.db_table} SET at = %s WHERE id = %s",
            [timezone.now() - datetime.timedelta(days=ACCESS_LOG_RETENTION_DAYS + 1), access_row.pk],
        )
    AccessLog.objects.filter(pk=access_row.pk).delete()
    assert not AccessLog.objects.filter(pk=access_row.pk).exists()


def test_transition_log_is_never_deleted():
    with pytest.raises(PermissionDenied):
        TransitionLog.objects.all().delete()


def test_no_code_prunes_the_audit_logs():
    """Nothing in the application deletes access-log or transition-log rows (the tests aside)."""
    base = Path(settings.BASE_DIR)
    offenders = []
    for path in base.rglob("*.py"):
        parts = path.relative_to(base).parts
        if parts[0] in {".venv", "tests", "staticfiles", "benchmarks"} or "migrations" in parts:
            continue
        text = path.read_text(encoding="utf-8")
        for model in ("AccessLog", "TransitionLog"):
            for line in text.splitlines():
                if model in line and ".delete(" in line:
                    offenders.append(f"{path.relative_to(base)}: {line.strip()}")
    assert not offenders, offenders


# ---------------------------------------------------------------------------------------------------
# The application log
# ---------------------------------------------------------------------------------------------------


class FixedDayHandler(DailyFileHandler):
    day = datetime.date(2026, 7, 1)

    def _today(self):
        return self.day


def test_daily_file_handler_keeps_180_days(tmp_path):
    for days_ago in (1, 179, 180, 181, 400):
        (
            tmp_path / f"minzheng-{FixedDayHandler.day - datetime.timedelta(days=days_ago):%Y-%m-%d}.log"
        ).write_text("x")
    (tmp_path / "other.log").write_text("not ours")
    handler = FixedDayHandler(str(tmp_path), name="minzheng", retention_days=180)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test_log_retention")
    logger.addHandler(handler)
    try:
        logger.warning("第一行")
        handler.day += datetime.timedelta(days=1)
        logger.warning("第二天")
    finally:
        logger.removeHandler(handler)
        handler.close()
    # On 07-02 the files older than 180 days (before 01-03) are gone; 01-03 is exactly 180 days old.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "minzheng-2026-01-03.log",
        "minzheng-2026-06-30.log",
        "minzheng-2026-07-01.log",
        "minzheng-2026-07-02.log",
        "other.log",
    ]
    assert (tmp_path / "minzheng-2026-07-01.log").read_text(encoding="utf-8") == "第一行\n"
    assert (tmp_path / "minzheng-2026-07-02.log").read_text(encoding="utf-8") == "第二天\n"


def test_daily_file_handler_refuses_a_short_retention(tmp_path):
    with pytest.raises(ValueError, match="180"):
        DailyFileHandler(str(tmp_path), retention_days=90)


def _production(**overrides):
    env = production_env(**overrides)
    code = "import django, logging; django.setup(); logging.getLogger('minzheng.test').warning('已启动')"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_short_log_retention_refuses_to_start(tmp_path):
    result = _production(LOG_DIR=str(tmp_path), LOG_RETENTION_DAYS="30")
    assert result.returncode != 0
    assert "LOG_RETENTION_DAYS 不得少于 180 天" in result.stderr


def test_log_dir_gets_the_days_file(tmp_path):
    result = _production(LOG_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "已启动" in result.stdout  # standard output too
    (day_file,) = tmp_path.glob("minzheng-*.log")
    assert "WARNING [minzheng.test]" in day_file.read_text(encoding="utf-8")
