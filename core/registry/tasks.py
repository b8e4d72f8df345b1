"""Celery tasks of the registry. They call services and are safe to run twice."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="registry.detect_birthdays")
def detect_birthdays(on_date: str | None = None) -> int:
    """Daily: publish 年满18周岁 / 年满80周岁 for everyone who reached that age (idempotent)."""
    day = datetime.date.fromisoformat(on_date) if on_date else timezone.localdate()
    created = services.life_events_detect_birthdays(on_date=day)
    logger.info("birthday life events on %s: %d created", day, len(created))
    return len(created)
