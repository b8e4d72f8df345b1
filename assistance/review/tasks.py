"""Celery tasks of 低保 dynamic management: ids in, a service call, safe to run twice."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)
# The account that opens the scheduled reviews when no actor is given: a superuser, else a district-level
# 科室经办人 (the section that runs dynamic management).
SCHEDULER_ROLE = "科室经办人"


def _scheduler_account():
    users = get_user_model().objects.filter(is_active=True)
    return (
        users.filter(is_superuser=True).order_by("pk").first()
        or users.filter(groups__name=SCHEDULER_ROLE, region__code__endswith="000000").order_by("pk").first()
    )


@shared_task(name="assistance.schedule_dibao_reviews")
def schedule_dibao_reviews(on_date_iso: str | None = None, actor_id: int | None = None) -> int:
    """Open the 低保 reviews due within 30 days (daily, CELERY_BEAT_SCHEDULE). Returns how many opened."""
    on_date = datetime.date.fromisoformat(on_date_iso) if on_date_iso else timezone.localdate()
    users = get_user_model().objects
    actor = users.filter(pk=actor_id, is_active=True).first() if actor_id else _scheduler_account()
    if actor is None:
        logger.warning("no account to open dibao reviews with; scheduling skipped")
        return 0
    return len(services.dibao_reviews_schedule(on_date=on_date, actor=actor))
