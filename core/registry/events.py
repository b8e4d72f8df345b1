"""Life events cross bureaus without bureaus importing each other: the registry publishes, apps subscribe.

A subscriber is called inside the publishing service's transaction, so a failing subscriber rolls the
whole event back (a death is never half-recorded)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

_subscribers: dict[str, list[Callable]] = defaultdict(list)


def subscribe(kind: str, handler: Callable) -> None:
    """Register `handler(event: LifeEvent, actor)` for a LifeEventKind value. Call from AppConfig.ready()."""
    if handler not in _subscribers[kind]:
        _subscribers[kind].append(handler)


def publish(event, actor) -> None:
    for handler in list(_subscribers[event.kind]):
        handler(event, actor)


def subscribers(kind: str) -> list[Callable]:
    return list(_subscribers[kind])
