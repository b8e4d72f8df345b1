"""Every write of the reports app: request a job, build it (called by the Celery task), log a download."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import tempfile
from typing import Any

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.accounts.models import AccessLog
from core.registry.querysets import user_scope_prefix

from .models import ReportJob
from .registry import BuildContext, ReportError, get_report_type

logger = logging.getLogger(__name__)

# The Celery task that builds a job (reports/tasks.py).
BUILD_REPORT_TASK = "reports.build_report"

# Shown when a builder fails for a reason it did not explain; the traceback goes to the log.
UNEXPECTED_ERROR = "生成报表时发生系统错误，请稍后重试；如仍失败，请联系系统管理员（任务编号 {job_id}）。"


@transaction.atomic
def report_request(*, report_type: str, params: dict[str, Any], actor) -> ReportJob:
    """Validate the parameters, create the job row and queue its build once the row is committed."""
    definition = get_report_type(report_type)
    if definition is None:
        raise ValidationError("未知的报表类型")
    if not definition.allowed_for(actor):
        raise PermissionDenied("您没有生成该报表的权限")
    prefix = user_scope_prefix(actor)
    if prefix is None:
        raise PermissionDenied("您的账号未设置数据范围，不能生成报表")
    form = definition.params_form(data=params, user=actor)
    if not form.is_valid():
        raise ValidationError(form.errors)
    description = form.describe()
    job = ReportJob.objects.create(
        report_type=definition.code,
        title=f"{definition.label}（{description}）" if description else definition.label,
        parameters=form.params(),
        requested_by=actor,
        region_code=prefix,
        message="等待生成",
    )
    transaction.on_commit(lambda: _enqueue_build(job.pk))
    return job


def _enqueue_build(job_id: int) -> None:
    # By the task's name through the Celery app: tasks.py imports this module, never the other way round
    # (ReportsConfig.ready imports tasks.py, so the task is registered in the web process too). The
    # registered task object is used — not send_task — so eager mode (tests, no broker) still runs it.
    current_app.tasks[BUILD_REPORT_TASK].delay(job_id)


def _set_progress(job_id: int, percent: int, message: str = "") -> None:
    # A plain UPDATE outside the builder's work, so a polling page sees it at once.
    fields = {"progress": max(0, min(int(percent), 99))}
    if message:
        fields["message"] = message[:200]
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(**fields)


def report_build(*, job_id: int) -> ReportJob:
    """Build one job's file. Safe to run twice: a finished job is left as it is.

    A `ReportError` fails the job with its Chinese message; any other exception is logged with its
    traceback and fails the job with a general message — never silently."""
    job = ReportJob.objects.select_related("requested_by").get(pk=job_id)
    if job.is_finished:
        return job
    definition = get_report_type(job.report_type)
    now = timezone.now()
    ReportJob.objects.filter(pk=job.pk).update(
        status=ReportJob.Status.RUNNING, started_at=now, progress=0, message="正在生成", error=""
    )
    job.status, job.started_at = ReportJob.Status.RUNNING, now
    try:
        if definition is None:
            raise ReportError("该报表类型已停用，无法生成")
        if not definition.allowed_for(job.requested_by):
            raise ReportError("申请人已没有生成该报表的权限")
        with tempfile.TemporaryFile() as output:
            last = {"percent": -1}

            def progress(percent: int, message: str = "") -> None:
                if int(percent) != last["percent"] or message:
                    last["percent"] = int(percent)
                    _set_progress(job.pk, percent, message)

            context = BuildContext(
                job_id=job.pk, params=job.parameters, user=job.requested_by, output=output, progress=progress
            )
            result = definition.builder(context)
            output.seek(0)
            extension = result.filename.rsplit(".", 1)[-1] if "." in result.filename else "bin"
            stored_name = f"job{job.pk}_{secrets.token_hex(8)}.{extension}"
            job.file.save(stored_name, File(output), save=False)
    except ReportError as exc:
        return _fail(job, exc.message)
    except Exception:
        logger.exception("report job %s (%s) failed", job.pk, job.report_type)
        return _fail(job, UNEXPECTED_ERROR.format(job_id=job.pk))
    job.status = ReportJob.Status.DONE
    job.progress = 100
    job.message = "已完成"
    job.filename = result.filename
    job.content_type = result.content_type
    job.record_count = result.record_count
    job.contains_personal_data = result.contains_personal_data
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "progress",
            "message",
            "file",
            "filename",
            "content_type",
            "record_count",
            "contains_personal_data",
            "finished_at",
        ]
    )
    return job


def _fail(job: ReportJob, error: str) -> ReportJob:
    logger.warning("report job %s failed: %s", job.pk, error)
    job.status = ReportJob.Status.FAILED
    job.error = error
    job.message = "生成失败"
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "message", "finished_at"])
    return job


def report_download_record(*, job: ReportJob, actor, ip: str | None = None) -> None:
    """A file with full ID or bank numbers leaves the system: log it (个人信息查阅记录)."""
    if not job.contains_personal_data:
        return
    AccessLog.objects.create(
        user=actor,
        action=AccessLog.Action.EXPORT,
        fields="身份证号码、银行账号",
        detail=f"下载报表：{job.title}"[:300],
        record_count=job.record_count,
        ip_address=_clean_ip(ip),
    )


def _clean_ip(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None
