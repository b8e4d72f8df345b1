"""Which report jobs a user may see: their own, or — for a section chief or bureau leader — every job in
their scope. Always through `visible_to`, so a job whose data lies outside the user's region is a 404."""

from __future__ import annotations

from django.db.models import QuerySet

from core.accounts.models import Role

from .models import ReportJob


def can_see_all_jobs(user) -> bool:
    return bool(user.is_superuser or user.has_role(Role.SECTION_CHIEF, Role.BUREAU_LEADER))


def jobs_for(user, *, mine_only: bool = True, status: str = "", report_type: str = "") -> QuerySet[ReportJob]:
    jobs = ReportJob.objects.visible_to(user).select_related("requested_by")
    if mine_only or not can_see_all_jobs(user):
        jobs = jobs.filter(requested_by=user)
    if status:
        jobs = jobs.filter(status=status)
    if report_type:
        jobs = jobs.filter(report_type=report_type)
    return jobs.order_by("-created_at", "-id")


def job_get(user, pk: int) -> ReportJob:
    """One job the user may see; raises ReportJob.DoesNotExist otherwise."""
    return jobs_for(user, mine_only=False).get(pk=pk)
