"""Panels on the dashboard (工作台) contributed by bureau apps — core imports no bureau.

A bureau app registers a panel from its own module (imported by its AppConfig.ready):

    from core.portal.dashboard import bar_chart, register_dashboard_panel

    def gaoling_panel(user, today):          # figures for the user's scope only (visible_to(user))
        return {"chart": bar_chart([("80—89岁", 120), ("90—99岁", 31)])}

    register_dashboard_panel("gaoling", gaoling_panel, template="eldercare/dashboard/gaoling.html",
                             permission="benefits.view_entitlement", order=30)

The dashboard is the most visited page: a panel's context is cached per (panel, scope prefix, day) for
`cache_seconds`, so every user of one street shares the figures of that street. A provider must therefore
depend only on the user's scope (not on who the user is) and return picklable values."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache

from core.registry.querysets import user_scope_prefix

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SECONDS = 300


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


_PANELS: dict[str, DashboardPanel] = {}


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
    return panel


def unregister_dashboard_panel(name: str) -> None:
    _PANELS.pop(name, None)


def dashboard_panels() -> list[DashboardPanel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.name))


def panels_for(user, today: datetime.date) -> list[RenderedPanel]:
    """The panels the user may see, with their (cached) figures for the user's scope."""
    if user_scope_prefix(user) is None:
        return []
    result = []
    for panel in dashboard_panels():
        if not panel.allowed_for(user):
            continue
        context = scope_cached(panel.name, user, today, panel.provider, panel.cache_seconds)
        result.append(RenderedPanel(panel.name, panel.template, context))
    return result


def scope_cached(
    name: str,
    user,
    today: datetime.date,
    provider: Callable[[Any, datetime.date], Any],
    seconds: int = DEFAULT_CACHE_SECONDS,
) -> Any:
    """`provider(user, today)`, cached per (name, the user's scope prefix, day) for `seconds`: figures that
    depend only on the scope, shared by every user of it (the panels, the dashboard's headline counts)."""
    prefix = user_scope_prefix(user)
    key = f"dashboard:{name}:{prefix or 'all'}:{today.isoformat()}"
    value = cache.get(key)
    if value is None:
        value = provider(user, today)
        cache.set(key, value, seconds)
    return value


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
