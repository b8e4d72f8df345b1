"""Celery task of the 特困 lifecycle: ids in, the services, safe to run twice (each check is idempotent)."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from ..review.tasks import _scheduler_account
from . import lifecycle

logger = logging.getLogger(__name__)


@shared_task(name="assistance.tekun_daily_checks")
def tekun_daily_checks(on_date_iso: str | None = None, actor_id: int | None = None) -> dict[str, int]:
    """Daily (CELERY_BEAT_SCHEDULE): open the yearly reviews due within `tekun.review_lead_days`, the
    re-judgements of minors reaching 16/18 (or whose school continuation ran out) and the re-assessments of
    persons whose registry self-care assessment disagrees with the tier paid. Returns how many of each."""
    on_date = datetime.date.fromisoformat(on_date_iso) if on_date_iso else timezone.localdate()
    users = get_user_model().objects
    actor = users.filter(pk=actor_id, is_active=True).first() if actor_id else _scheduler_account()
    if actor is None:
        logger.warning("no account to open 特困 to-dos with; checks skipped")
        return {}
    return {
        "reviews": len(lifecycle.tekun_reviews_open(actor=actor, on_date=on_date)),
        "minors": len(lifecycle.tekun_minors_detect(actor=actor, on_date=on_date)),
        "care": len(lifecycle.tekun_care_changes_detect(actor=actor, on_date=on_date)),
    }
