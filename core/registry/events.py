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


# Household changes (an income or asset recorded, a member joining or leaving, a disability or illness
# corrected): not life events of their own, but what a bureau paying an amount fixed by decision must hear
# of (core.benefits.checks). Handlers are called `handler(household_ids, what, actor)` inside the
# recording service's transaction.
_household_subscribers: list[Callable] = []


def subscribe_household_change(handler: Callable) -> None:
    if handler not in _household_subscribers:
        _household_subscribers.append(handler)


def publish_household_change(household_ids, what: str, actor) -> None:
    ids = sorted({hid for hid in household_ids if hid is not None})
    if not ids:
        return
    for handler in list(_household_subscribers):
        handler(ids, what, actor)
