"""Celery tasks of the portal: the dashboard's figures taken again off the request path."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from .dashboard import _PROVIDERS, refresh_figures
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


@shared_task(name="portal.warm_dashboard_figures")
def warm_dashboard_figures() -> int:
    """Before the working day (beat, 06:30): compute today's figures of every scope whose dashboard was
    seen yesterday, as the user whose request computed them then — so that a scope's first request of the
    day reads a snapshot too. Scopes already computed today and users no longer active are skipped; past
    days' snapshots pruned. Returns how many scopes were computed."""
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    done_today = {(s.scope, s.name) for s in FiguresSnapshot.objects.filter(day=today).only("key")}
    names_by_scope: dict[str, set[str]] = {}
    user_of_scope: dict[str, object] = {}
    snapshots = (
        FiguresSnapshot.objects.filter(day=yesterday, computed_for__is_active=True)
        .select_related("computed_for")
        .defer("value")
    )
    for snapshot in snapshots:
        if (snapshot.scope, snapshot.name) in done_today or snapshot.name not in _PROVIDERS:
            continue
        names_by_scope.setdefault(snapshot.scope, set()).add(snapshot.name)
        user_of_scope.setdefault(snapshot.scope, snapshot.computed_for)
    for scope, names in sorted(names_by_scope.items()):
        refresh_figures(user_of_scope[scope], today, sorted(names))
    FiguresSnapshot.prune(today)
    logger.info("dashboard figures warmed for %d scopes", len(names_by_scope))
    return len(names_by_scope)
