"""Every write of the reports app: request a job, build it (called by the Celery task), log a download."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import secrets
import tempfile
import time
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.accounts.models import AccessLog
from core.registry.querysets import user_scope_prefix

from .models import UPLOAD_PURGED_MESSAGE, ReportJob
from .registry import BuildContext, ReportError, ReportResult, get_report_type

logger = logging.getLogger(__name__)

# The Celery task that builds a job (reports/tasks.py).
BUILD_REPORT_TASK = "reports.build_report"

# Shown when a builder fails for a reason it did not explain; the traceback goes to the log.
UNEXPECTED_ERROR = "生成报表时发生系统错误，请稍后重试；如仍失败，请联系系统管理员（任务编号 {job_id}）。"

# A running job whose build went silent (the worker was killed or lost): failed, 重试 offered.
STALE_ERROR = "生成任务长时间没有进展（后台进程可能已中断），已终止。请点击“重试”重新生成。"

# A build that reports progress without its percentage changing still marks the job alive this often.
HEARTBEAT_SECONDS = 5


class _BuildStopped(Exception):
    """The job was cancelled, failed as stale or retried while this build ran: stop without writing."""


@transaction.atomic
def report_request(*, report_type: str, params: dict[str, Any], actor, files=None) -> ReportJob:
    """Validate the parameters, create the job row and queue its build once the row is committed. An
    import's file (`files`: the request's FILES) is kept on the job for its builder."""
    definition = get_report_type(report_type)
    if definition is None:
        raise ValidationError("未知的报表类型")
    if not definition.allowed_for(actor):
        raise PermissionDenied("您没有生成该报表的权限")
    prefix = user_scope_prefix(actor)
    if prefix is None:
        raise PermissionDenied("您的账号未设置数据范围，不能生成报表")
    form = definition.params_form(data=params, files=files, user=actor)
    if not form.is_valid():
        raise ValidationError(form.errors)
    description = form.describe()
    upload = form.upload()
    job = ReportJob(
        report_type=definition.code,
        title=f"{definition.label}（{description}）" if description else definition.label,
        parameters=form.params(),
        requested_by=actor,
        region_code=prefix,
        message="等待处理" if upload else "等待生成",
    )
    if upload is not None:
        extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else "bin"
        job.upload.save(f"upload_{secrets.token_hex(8)}.{extension}", upload, save=False)
        job.upload_name = upload.name[:200]
    job.save()
    transaction.on_commit(lambda: _enqueue_build(job.pk, job.attempt))
    return job


def _enqueue_build(job_id: int, attempt: int) -> None:
    # By the task's name through the Celery app: tasks.py imports this module, never the other way round
    # (ReportsConfig.ready imports tasks.py, so the task is registered in the web process too). The
    # registered task object is used — not send_task — so eager mode (tests, no broker) still runs it.
    current_app.tasks[BUILD_REPORT_TASK].delay(job_id, attempt)


def _running(job_id: int, attempt: int):
    """The job, if this attempt of it is still the one running (not cancelled, failed as stale or retried)."""
    return ReportJob.objects.filter(pk=job_id, attempt=attempt, status=ReportJob.Status.RUNNING)


def _set_progress(job_id: int, attempt: int, percent: int, message: str = "") -> bool:
    # A plain UPDATE outside the builder's work, so a polling page sees it at once. False when the job is
    # no longer this attempt's to build.
    fields = {"progress": max(0, min(int(percent), 99)), "heartbeat_at": timezone.now()}
    if message:
        fields["message"] = message[:200]
    return _running(job_id, attempt).update(**fields) == 1


def report_build(*, job_id: int, attempt: int | None = None) -> ReportJob:
    """Build one attempt of a job's file. Safe to run twice: a finished job, or a message of an earlier
    attempt (delivered again after its worker was lost), is left as it is; a running job is rebuilt.

    A `ReportError` fails the job with its Chinese message; any other exception is logged with its
    traceback and fails the job with a general message — never silently. A job cancelled or failed as
    stale while it builds stops at its next progress report and keeps its status."""
    job = ReportJob.objects.select_related("requested_by").get(pk=job_id)
    attempt = job.attempt if attempt is None else attempt
    if job.is_finished or job.attempt != attempt:
        return job
    definition = get_report_type(job.report_type)
    now = timezone.now()
    started = ReportJob.objects.filter(
        pk=job.pk, attempt=attempt, status__in=(ReportJob.Status.QUEUED, ReportJob.Status.RUNNING)
    ).update(
        status=ReportJob.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        progress=0,
        message="正在生成",
        error="",
    )
    if not started:  # cancelled or retried just now
        job.refresh_from_db()
        return job
    job.status, job.started_at = ReportJob.Status.RUNNING, now
    try:
        if definition is None:
            raise ReportError("该报表类型已停用，无法生成")
        if not definition.allowed_for(job.requested_by):
            raise ReportError("申请人已没有生成该报表的权限")
        with tempfile.TemporaryFile() as output, _opened(job.upload) as upload:
            last = {"percent": -1, "at": time.monotonic()}

            def progress(percent: int, message: str = "") -> None:
                beat = time.monotonic() - last["at"] >= HEARTBEAT_SECONDS
                if int(percent) != last["percent"] or message or beat:
                    last["percent"], last["at"] = int(percent), time.monotonic()
                    if not _set_progress(job.pk, attempt, percent, message):
                        raise _BuildStopped

            finished_by_builder = []

            def finish(result: ReportResult) -> None:
                # Inside the builder's transaction: the job row is locked until the data commits, and a job
                # no longer running (cancelled meanwhile) rolls the data back.
                if not _running(job.pk, attempt).select_for_update().exists():
                    raise _BuildStopped
                _save_output(job, output, result)
                _done(job, attempt, result)
                finished_by_builder.append(result)

            context = BuildContext(
                job_id=job.pk,
                params=job.parameters,
                user=job.requested_by,
                output=output,
                progress=progress,
                upload=upload,
                upload_name=job.upload_name,
                finish=finish,
            )
            try:
                result = definition.builder(context)
            except ReportError as exc:
                if exc.result is not None:  # what the user should read row by row (an import's error list)
                    _save_output(job, output, exc.result)
                raise
            if not finished_by_builder:
                _save_output(job, output, result)
    except _BuildStopped:
        logger.info("report job %s attempt %s stopped: no longer running", job.pk, attempt)
        job.refresh_from_db()
        return job
    except ReportError as exc:
        failed = _fail(job, attempt, exc.message, exc.result if job.file else None)
        if failed.status == ReportJob.Status.FAILED and exc.result is not None:
            _drop_upload(failed)  # refused row by row: never retried, a corrected file comes as a new job
        return failed
    except Exception:
        logger.exception("report job %s (%s) failed", job.pk, job.report_type)
        return _fail(job, attempt, UNEXPECTED_ERROR.format(job_id=job.pk))
    if not finished_by_builder and not _done(job, attempt, result):
        # cancelled or failed as stale while the file was written: drop the file
        job.file.delete(save=False)
    job.refresh_from_db()
    if job.status == ReportJob.Status.DONE:
        _drop_upload(job)
    return job


def _drop_upload(job: ReportJob) -> None:
    """An import's uploaded file, once it can no longer be needed (imported, or refused row by row): it
    holds every ID number and bank account of the ledger in plain text, which the database keeps only
    encrypted (个人信息保护法 第十九条: kept no longer than the purpose needs). Its name stays on the job."""
    if job.upload:
        job.upload.delete(save=False)
        ReportJob.objects.filter(pk=job.pk).update(upload="")


def report_uploads_purge(*, now=None) -> int:
    """Delete the uploads of imports that failed or were cancelled more than settings.REPORT_UPLOAD_KEEP_DAYS
    ago and were not retried (beat: `reports.purge_old_uploads`, daily). An upload holds the ledger's ID
    numbers and bank accounts in plain text: kept while 重试 may need it, not for ever. The job row, its
    file name and any error list stay; 重试 is no longer offered (ReportJob.can_retry) and the job says
    why. Returns the number of uploads deleted."""
    now = now or timezone.now()
    limit = now - timedelta(days=settings.REPORT_UPLOAD_KEEP_DAYS)
    purged = 0
    stale = (
        ReportJob.objects.exclude(upload="")
        .filter(status__in=(ReportJob.Status.FAILED, ReportJob.Status.CANCELLED), finished_at__lt=limit)
        .only("pk", "upload")
    )
    for job in stale.iterator(chunk_size=200):
        with transaction.atomic():
            # Retried meanwhile (queued again, or running): its upload is needed — skip it.
            locked = ReportJob.objects.select_for_update().filter(
                pk=job.pk,
                status__in=(ReportJob.Status.FAILED, ReportJob.Status.CANCELLED),
                finished_at__lt=limit,
            )
            if not locked.exists():
                continue
            job.upload.delete(save=False)
            locked.update(upload="", message=UPLOAD_PURGED_MESSAGE)
            purged += 1
    if purged:
        logger.info(
            "%s import upload(s) older than %s days deleted", purged, settings.REPORT_UPLOAD_KEEP_DAYS
        )
    return purged


@contextlib.contextmanager
def _opened(upload):
    """The job's uploaded file open for reading, or None for a job without one."""
    if not upload:
        yield None
        return
    try:
        handle = upload.open("rb")
    except FileNotFoundError:
        raise ReportError("上传的文件已不存在，请重新提交") from None
    with handle:
        yield handle


def _save_output(job: ReportJob, output, result: ReportResult) -> None:
    output.seek(0)
    extension = result.filename.rsplit(".", 1)[-1] if "." in result.filename else "bin"
    job.file.save(f"job{job.pk}_{secrets.token_hex(8)}.{extension}", File(output), save=False)


def _done(job: ReportJob, attempt: int, result: ReportResult) -> bool:
    return bool(
        _running(job.pk, attempt).update(
            status=ReportJob.Status.DONE,
            progress=100,
            message="已完成",
            file=job.file.name,
            filename=result.filename,
            content_type=result.content_type,
            record_count=result.record_count,
            contains_personal_data=result.contains_personal_data,
            finished_at=timezone.now(),
        )
    )


def _fail(job: ReportJob, attempt: int, error: str, result: ReportResult | None = None) -> ReportJob:
    logger.warning("report job %s failed: %s", job.pk, error)
    fields = {
        "status": ReportJob.Status.FAILED,
        "error": error,
        "message": "生成失败",
        "finished_at": timezone.now(),
    }
    if result is not None:
        fields.update(
            file=job.file.name,
            filename=result.filename,
            content_type=result.content_type,
            record_count=result.record_count,
            contains_personal_data=result.contains_personal_data,
        )
    if not _running(job.pk, attempt).update(**fields) and result is not None:
        job.file.delete(save=False)
    job.refresh_from_db()
    return job


def report_jobs_fail_stale(*, job_ids: list[int] | None = None) -> int:
    """Fail every running job (or those of `job_ids`) that has reported no progress for
    settings.REPORT_JOB_STALE_SECONDS — its worker was killed or lost — so the page stops waiting and
    offers 重试. Called by the page's poll and by the beat task `reports.fail_stale_jobs`."""
    now = timezone.now()
    limit = now - timedelta(seconds=settings.REPORT_JOB_STALE_SECONDS)
    stale = ReportJob.objects.filter(status=ReportJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit)
    )
    if job_ids is not None:
        stale = stale.filter(pk__in=job_ids)
    count = stale.update(
        status=ReportJob.Status.FAILED, message="生成失败", error=STALE_ERROR, finished_at=now
    )
    if count:
        logger.warning(
            "%s report job(s) silent for %ss failed as stale", count, settings.REPORT_JOB_STALE_SECONDS
        )
    return count


def _own_job_for_update(job_id: int, actor) -> ReportJob:
    job = ReportJob.objects.select_for_update().get(pk=job_id)
    if job.requested_by_id != actor.pk:
        raise PermissionDenied("只有申请人可以重试或取消该报表")
    return job


@transaction.atomic
def report_retry(*, job_id: int, actor) -> ReportJob:
    """Queue a failed or cancelled job again (a new attempt), with its parameters, for its requester."""
    job = _own_job_for_update(job_id, actor)
    if job.upload_purged:
        raise ValidationError(UPLOAD_PURGED_MESSAGE)
    if not job.can_retry:
        raise ValidationError("只有失败或已取消的报表可以重试；导入文件有误的，请改正后重新上传")
    definition = get_report_type(job.report_type)
    if definition is None:
        raise ValidationError("该报表类型已停用，无法重新生成")
    if not definition.allowed_for(actor):
        raise PermissionDenied("您没有生成该报表的权限")
    job.attempt += 1
    if job.file:  # an earlier attempt's error list: the new attempt writes its own, or none
        job.file.delete(save=False)
    job.status = ReportJob.Status.QUEUED
    job.progress = 0
    job.message = "等待重新生成"
    job.error = ""
    job.started_at = job.finished_at = job.heartbeat_at = None
    job.save(
        update_fields=[
            "attempt",
            "file",
            "status",
            "progress",
            "message",
            "error",
            "started_at",
            "finished_at",
            "heartbeat_at",
        ]
    )
    attempt = job.attempt
    transaction.on_commit(lambda: _enqueue_build(job.pk, attempt))
    logger.info("report job %s retried by %s (attempt %s)", job.pk, actor, attempt)
    return job


@transaction.atomic
def report_cancel(*, job_id: int, actor) -> ReportJob:
    """Cancel a queued or running job: a worker that picks it up skips it, a running build stops at its
    next progress report."""
    job = _own_job_for_update(job_id, actor)
    if not job.can_cancel:
        raise ValidationError("该报表已结束，不能取消")
    job.status = ReportJob.Status.CANCELLED
    job.message = "已取消"
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "message", "finished_at"])
    logger.info("report job %s cancelled by %s", job.pk, actor)
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
        region_code=job.region_code,
    )


def _clean_ip(ip: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((ip or "").strip()))
    except ValueError:
        return None
