"""The left navigation, by bureau. Apps add their entries with `register_nav`; each entry names the
permission a user needs to see it, so the menu shows only what the user's roles allow. A bureau's group
names its section (业务科室, `section_code`): a user whose only roles are district roles (科室经办人, 科长)
sees it only if they hold one of them in that section. Community and street users, 局领导, 系统管理员 and
superusers see every group (their permissions still filter the items)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from .sections import DISTRICT_ROLES, user_section_codes


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
    section_code: str = ""


_SECTIONS: dict[str, NavSection] = {}


def register_nav(
    section_key: str, section_label: str, item: NavItem, order: int = 100, *, section_code: str = ""
) -> None:
    """Add `item` to the menu group `section_key`; `section_code` names the bureau's section (业务科室) the
    group belongs to (e.g. "assistance"), "" for a group every role shares."""
    section = _SECTIONS.setdefault(section_key, NavSection(section_key, section_label, order))
    if section_code and not section.section_code:
        section.section_code = section_code
    if all(i.url_name != item.url_name for i in section.items):
        section.items.append(item)


@dataclass(frozen=True)
class NavGroup:
    """A bureau's menu group, declared once: every page of the bureau registers its entry through it, so
    the group's key, label, order and section are not repeated (and cannot drift) from file to file."""

    key: str
    label: str
    order: int = 100
    section_code: str = ""

    def register(self, *items: NavItem) -> None:
        for item in items:
            register_nav(self.key, self.label, item, self.order, section_code=self.section_code)


def _hidden_sections(user) -> set[str] | None:
    """The section codes whose groups are hidden from the user, or None when nothing is hidden: only a
    user whose roles are all district roles is limited to the sections they work in."""
    if user.is_superuser:
        return None
    roles = set(user.role_names)
    if not roles or not roles <= set(DISTRICT_ROLES):
        return None
    mine = user_section_codes(user)
    return {s.section_code for s in _SECTIONS.values() if s.section_code and s.section_code not in mine}


def navigation_for(user) -> list[NavSection]:
    perms = user.get_all_permissions()
    hidden = _hidden_sections(user) or set()
    result = []
    for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
        if section.section_code in hidden:
            continue
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
            result.append(NavSection(section.key, section.label, section.order, items, section.section_code))
    return result
