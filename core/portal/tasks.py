"""Celery tasks of the portal: the dashboard's figures taken again off the request path."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from .dashboard import refresh_figures
from .models import FiguresSnapshot

logger = logging.getLogger(__name__)


@shared_task(name="portal.refresh_scope_figures")
def refresh_scope_figures(names: list[str], user_id: int, day: str) -> list[str]:
    """Compute the figures `names` of the user's scope for `day` again (core.portal.dashboard.scope_figures
    asks for it when the snapshots it showed had expired) and prune past days' snapshots. Returns the names
    computed (none when the user is gone or inactive)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        logger.info("dashboard figures for user %s not refreshed: no active user", user_id)
        return []
    today = datetime.date.fromisoformat(day)
    computed = refresh_figures(user, today, names)
    FiguresSnapshot.prune(today)
    return sorted(computed)
