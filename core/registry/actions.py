"""Buttons bureau apps put on the household and person pages ("申请低保", "申请特困" …) without the registry
importing any bureau: an app registers an action in its AppConfig.ready(); the page shows the ones the
user's permissions allow, each linking to `url_name` with `?household=<pk>` (or `?person=<pk>`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class RecordAction:
    label: str
    url_name: str
    permission: str | None = None
    icon: str = "plus-lg"
    order: int = 100


_ACTIONS: dict[str, list[RecordAction]] = {"household": [], "person": []}


def register_action(target: str, action: RecordAction) -> None:
    actions = _ACTIONS[target]
    if all(a.url_name != action.url_name for a in actions):
        actions.append(action)
        actions.sort(key=lambda a: a.order)


def actions_for(target: str, obj, user) -> list[tuple[RecordAction, str]]:
    """(action, url) pairs the user may use on this household or person."""
    result = []
    for action in _ACTIONS[target]:
        if action.permission and not user.has_perm(action.permission):
            continue
        try:
            url = f"{reverse(action.url_name)}?{target}={obj.pk}"
        except NoReverseMatch:
            continue
        result.append((action, url))
    return result
