"""The left navigation, by bureau. Apps add their entries with `register_nav`; each entry names the
permission a user needs to see it, so the menu shows only what the user's roles allow."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass
class NavItem:
    label: str
    url_name: str
    icon: str = "circle"
    permission: str | None = None
    url: str = ""


@dataclass
class NavSection:
    key: str
    label: str
    order: int = 100
    items: list[NavItem] = field(default_factory=list)


_SECTIONS: dict[str, NavSection] = {}


def register_nav(section_key: str, section_label: str, item: NavItem, order: int = 100) -> None:
    section = _SECTIONS.setdefault(section_key, NavSection(section_key, section_label, order))
    if all(i.url_name != item.url_name for i in section.items):
        section.items.append(item)


def navigation_for(user) -> list[NavSection]:
    perms = user.get_all_permissions()
    result = []
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        items = []
        for item in section.items:
            if item.permission and not (user.is_superuser or item.permission in perms):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append(NavItem(item.label, item.url_name, item.icon, item.permission, url))
        if items:
            result.append(NavSection(section.key, section.label, section.order, items))
    return result
