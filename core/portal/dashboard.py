"""Panels on the dashboard (工作台) contributed by bureau apps — core imports no bureau.

A bureau app registers a panel from its own module (imported by its AppConfig.ready):

    from core.portal.dashboard import bar_chart, register_dashboard_panel

    def gaoling_panel(user, today):          # figures for the user's scope only (visible_to(user))
        return {"chart": bar_chart([("80—89岁", 120), ("90—99岁", 31)])}

    register_dashboard_panel("gaoling", gaoling_panel, template="eldercare/dashboard/gaoling.html",
                             permission="benefits.view_entitlement", order=30)

The dashboard is the most visited page: a panel's context is kept per (panel, scope prefix, day), so every
user of one street shares the figures of that street. A provider must therefore depend only on the user's
scope (not on who the user is) and return picklable values. The figures are kept twice (scope_figures): in
the shared cache for `cache_seconds`, and as a snapshot in the database (models.FiguresSnapshot) that
outlives a restart or an emptied cache. An expired snapshot is still shown — the page
says when it was taken — while a Celery task takes it again; only a scope's first request of the day
computes the figures while the user waits."""

from __future__ import annotations

import datetime
import logging
import pickle  # noqa: S403 — only to name its error; the snapshots are read in models.FiguresSnapshot
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.registry.querysets import user_scope_prefix

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SECONDS = 300
#: How long a background refresh of one scope's figures keeps others from asking for the same.
REFRESH_GUARD_SECONDS = 120


@dataclass(frozen=True)
class DashboardPanel:
    name: str
    provider: Callable[[Any, datetime.date], dict[str, Any]]
    template: str
    permission: tuple[str, ...]
    order: int = 100
    cache_seconds: int = DEFAULT_CACHE_SECONDS

    def allowed_for(self, user) -> bool:
        return bool(user.is_authenticated) and user.has_perms(self.permission)


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict[str, Any]
    computed_at: datetime.datetime | None = None


@dataclass(frozen=True)
class Figures:
    """What a provider returned for a scope and day, and when it was computed."""

    value: Any
    day: datetime.date
    computed_at: datetime.datetime


_PANELS: dict[str, DashboardPanel] = {}
#: Every provider scope_figures may have to run again in the background, by name (panels and others).
_PROVIDERS: dict[str, tuple[Callable[[Any, datetime.date], Any], int]] = {}


def register_scope_figures(
    name: str, provider: Callable[[Any, datetime.date], Any], cache_seconds: int = DEFAULT_CACHE_SECONDS
) -> None:
    """Name figures that depend on the user's scope only (like the dashboard's headline counts), so that
    scope_figures can keep them and a background task can take them again. A name holds no colon."""
    if ":" in name:
        raise ValueError(f"figures name without a colon expected: {name!r}")
    _PROVIDERS[name] = (provider, cache_seconds)


def register_dashboard_panel(
    name: str,
    provider: Callable[[Any, datetime.date], dict[str, Any]],
    *,
    template: str,
    permission: str | Iterable[str] = (),
    order: int = 100,
    cache_seconds: int = DEFAULT_CACHE_SECONDS,
) -> DashboardPanel:
    """Register a panel; the same name again replaces it (app reloads in tests)."""
    perms = (permission,) if isinstance(permission, str) else tuple(permission)
    panel = DashboardPanel(name, provider, template, perms, order, cache_seconds)
    _PANELS[name] = panel
    register_scope_figures(name, provider, cache_seconds)
    return panel


def unregister_dashboard_panel(name: str) -> None:
    _PANELS.pop(name, None)
    _PROVIDERS.pop(name, None)


def dashboard_panels() -> list[DashboardPanel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.name))


def panels_for(user, today: datetime.date, extra: Iterable[str] = ()) -> tuple[list[RenderedPanel], dict]:
    """The panels the user may see, with their (kept) figures for the user's scope, and the figures of the
    `extra` registered names (e.g. the headline counts) read with them: ([RenderedPanel], {name: Figures})."""
    if user_scope_prefix(user) is None:
        return [], {}
    panels = [panel for panel in dashboard_panels() if panel.allowed_for(user)]
    figures = scope_figures(user, today, [*extra, *(panel.name for panel in panels)])
    rendered = [
        RenderedPanel(panel.name, panel.template, figures[panel.name].value, figures[panel.name].computed_at)
        for panel in panels
    ]
    return rendered, {name: figures[name] for name in extra}


def _key(name: str, prefix: str, today: datetime.date) -> str:
    return f"dashboard:{name}:{prefix or 'all'}:{today.isoformat()}"


def scope_figures(user, today: datetime.date, names: Iterable[str]) -> dict[str, Figures]:
    """The registered figures `names` of the user's scope for `today`, each with the time it was computed.

    1. the shared cache (Redis in production), each kept its `cache_seconds` — one round trip;
    2. else the snapshot in the database (FiguresSnapshot) — one query for all: younger than
       `cache_seconds`, put back in the shared cache for the rest of that time; older, shown as it is
       while a Celery task computes it again (refresh_scope_figures; one task a scope at a time);
    3. else (a scope's first request of the day) computed now and kept in both — one upsert for all."""
    from .models import FiguresSnapshot

    names = list(names)
    prefix = user_scope_prefix(user) or ""
    keys = {name: _key(name, prefix, today) for name in names}
    kept = cache.get_many(keys.values())
    result = {name: kept[keys[name]] for name in names if isinstance(kept.get(keys[name]), Figures)}
    missing = [name for name in names if name not in result]
    if not missing:
        return result
    snapshots = FiguresSnapshot.objects.filter(key__in=[keys[name] for name in missing])
    found = {snapshot.key: snapshot for snapshot in snapshots}
    now = timezone.now()
    stale, compute = [], []
    for name in missing:
        snapshot = found.get(keys[name])
        figures = _unpickled(snapshot) if snapshot is not None else None
        if figures is None:
            compute.append(name)
            continue
        result[name] = figures
        age = (now - figures.computed_at).total_seconds()
        seconds = _PROVIDERS[name][1]
        if age < seconds:
            cache.set(keys[name], figures, max(1, int(seconds - age)))
        else:
            stale.append(name)
    if stale and cache.add(f"dashboard:refreshing:{prefix or 'all'}", True, REFRESH_GUARD_SECONDS):
        from .tasks import refresh_scope_figures

        args = (stale, user.pk, today.isoformat())
        transaction.on_commit(lambda: refresh_scope_figures.delay(*args))
    if compute:
        result.update(_compute(user, today, prefix, compute))
    return result


def _unpickled(snapshot) -> Figures | None:
    """The snapshot's figures, or None when they cannot be read back — kept by an earlier release whose
    classes have since changed (a deploy during the day): then they are computed again, as if missing."""
    try:
        return snapshot.figures()
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError, ValueError):
        logger.warning("dashboard snapshot %s unreadable, computed again", snapshot.key, exc_info=True)
        return None


def _compute(user, today: datetime.date, prefix: str, names: list[str]) -> dict[str, Figures]:
    """Run the providers of `names` for the user's scope and keep what they return in both stores."""
    from .models import FiguresSnapshot

    computed = {name: Figures(_PROVIDERS[name][0](user, today), today, timezone.now()) for name in names}
    FiguresSnapshot.keep({_key(name, prefix, today): figures for name, figures in computed.items()}, user)
    for name, figures in computed.items():
        cache.set(_key(name, prefix, today), figures, _PROVIDERS[name][1])
    return computed


def refresh_figures(user, today: datetime.date, names: Iterable[str]) -> dict[str, Figures]:
    """Compute the figures `names` of the user's scope again and keep them (the background task's work)."""
    prefix = user_scope_prefix(user) or ""
    try:
        return _compute(user, today, prefix, [name for name in names if name in _PROVIDERS])
    finally:
        cache.delete(f"dashboard:refreshing:{prefix or 'all'}")


# --- server-side charts ---------------------------------------------------------------------------------

# Geometry of a horizontal bar chart in SVG user units: label column, bar area, value text.
CHART_WIDTH = 360
LABEL_WIDTH = 118
BAR_AREA = 170
BAR_HEIGHT = 12
ROW_GAP = 8


def bar_chart(
    items: Iterable[tuple[str, int | Decimal]],
    *,
    second: Iterable[int | Decimal] | None = None,
    money: bool = False,
) -> dict[str, Any]:
    """Coordinates for an inline-SVG horizontal bar chart (the template only draws them).

    `second` adds a second bar per row (e.g. 退出 beside 新增), drawn thinner below the first."""
    items = list(items)
    seconds = list(second) if second is not None else None
    values = [v for _, v in items] + (seconds or [])
    top = max((v for v in values if v), default=0)
    row_height = BAR_HEIGHT * (2 if seconds is not None else 1) + ROW_GAP
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * row_height + ROW_GAP // 2
        row = {
            "label": label,
            "value": value,
            "text": _format(value, money),
            "y": y,
            "text_y": y + BAR_HEIGHT - 2,
            "width": _scaled(value, top),
        }
        row["text_x"] = LABEL_WIDTH + 8 + row["width"]
        if seconds is not None:
            other = seconds[i]
            row["second"] = {
                "value": other,
                "text": _format(other, money),
                "y": y + BAR_HEIGHT,
                "text_y": y + 2 * BAR_HEIGHT - 2,
                "width": _scaled(other, top),
            }
            row["second"]["text_x"] = LABEL_WIDTH + 8 + row["second"]["width"]
        rows.append(row)
    return {
        "rows": rows,
        "width": CHART_WIDTH,
        "height": max(row_height * len(rows), row_height),
        "label_width": LABEL_WIDTH,
        "bar_x": LABEL_WIDTH + 4,
        "bar_height": BAR_HEIGHT - 2,
        "empty": not top,
    }


def _scaled(value, top) -> int:
    if not top or not value or value < 0:
        return 0
    return max(1, round(BAR_AREA * float(value) / float(top)))


def _format(value, money: bool) -> str:
    if money:
        return f"{Decimal(value):,.2f}"
    return f"{int(value):,}"
