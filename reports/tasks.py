"""Celery tasks of the reports app: they take ids and call a service."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name=services.BUILD_REPORT_TASK)
def build_report(job_id: int) -> dict:
    job = services.report_build(job_id=job_id)
    return {"job_id": job.pk, "status": job.status, "error": job.error}
