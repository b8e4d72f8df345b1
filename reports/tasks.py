"""Celery tasks of the reports app: they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name=services.BUILD_REPORT_TASK)
def build_report(job_id: int, attempt: int | None = None) -> dict:
    job = services.report_build(job_id=job_id, attempt=attempt)
    return {"job_id": job.pk, "attempt": job.attempt, "status": job.status, "error": job.error}


@shared_task(name="reports.fail_stale_jobs")
def fail_stale_jobs() -> int:
    """Beat (every 5 minutes): fail running jobs whose worker was lost (services.report_jobs_fail_stale)."""
    return services.report_jobs_fail_stale()


@shared_task(name="reports.purge_old_uploads")
def purge_old_uploads() -> int:
    """Beat (daily): delete imports' uploads left by failed or cancelled attempts nobody retried
    (services.report_uploads_purge)."""
    return services.report_uploads_purge()
